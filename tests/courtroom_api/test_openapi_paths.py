"""The API paths that /docs names in its own text exist: a description once sent every reader of nine
file endpoints to ``POST /api/media-links``, which answers 404 (it is ``POST /api/auth/media-links``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from courtroom_api.app import create_app
from courtroom_api.config import get_settings

# "POST /api/users/{id}/unlock", or a bare path such as the example "/api/recordings/3/mixdown".
NAMED_PATH = re.compile(r"(?:\b(GET|HEAD|POST|PUT|PATCH|DELETE) )?(/api/[^\s`'\"(),;?]*)")


def _texts(node: Any) -> Iterator[str]:
    """Every string of the document below ``node`` (descriptions, summaries, examples), not its keys."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


def _operations(path: str, paths: dict[str, dict[str, Any]]) -> set[str] | None:
    """The methods of the documented path that ``path`` names (a {parameter} stands for any segment)."""
    wanted = path.rstrip(".").split("/")
    for template, operations in paths.items():
        parts = template.split("/")
        if len(parts) == len(wanted) and all(p == w or (p.startswith("{") and w)
                                             for p, w in zip(parts, wanted, strict=True)):
            return {method.upper() for method in operations}
    return None


def test_every_api_path_the_docs_name_exists(tmp_path) -> None:
    document = TestClient(create_app(get_settings(data_dir=tmp_path))).get("/openapi.json").json()
    named, wrong = [], []
    for text in _texts(document):
        for method, path in NAMED_PATH.findall(text):
            named.append(f"{method} {path}".strip())
            operations = _operations(path, document["paths"])
            if operations is None or (method and method not in operations):
                wrong.append(f"{method} {path}: in {text!r}".strip())
    assert not wrong, "\n".join(wrong)
    assert "POST /api/auth/media-links" in named  # (the check reads the file endpoints' parameters)
