"""Find the line of a key in a TOML text.

tomllib reports line numbers for syntax errors only; for a semantic error (a bad value) we
find the offending key ourselves so the user is told exactly where to look.
"""

from __future__ import annotations

import re

KeyPath = tuple[str | int, ...]

_ARRAY_HEADER = re.compile(r"^\[\[\s*([^\[\]]+?)\s*\]\]$")
_TABLE_HEADER = re.compile(r"^\[\s*([^\[\]]+?)\s*\]$")
_KEY = re.compile(r"^([A-Za-z0-9_\-\"'.\s]+?)\s*=")


def _split_key(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in key.split("."))


def find_line(text: str, path: KeyPath) -> int | None:
    """1-based line of the key at ``path`` (e.g. ``("channels", 2, "seat")``), or of its
    nearest enclosing table header when the key itself is absent; None if nothing matches."""
    counters: dict[tuple[str, ...], int] = {}
    current: KeyPath = ()
    fallback: tuple[int, int] | None = None  # (matched depth, line)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if m := _ARRAY_HEADER.match(line):
            name = _split_key(m.group(1))
            counters[name] = counters.get(name, -1) + 1
            current = name + (counters[name],)
        elif m := _TABLE_HEADER.match(line):
            current = _split_key(m.group(1))
        elif m := _KEY.match(line):
            key = current + _split_key(m.group(1))
            if key == path:
                return number
            current_depth = len(key)
            if path[:current_depth] == key and (fallback is None or current_depth > fallback[0]):
                fallback = (current_depth, number)
            continue
        else:
            continue
        depth = len(current)
        if path[:depth] == current and (fallback is None or depth > fallback[0]):
            fallback = (depth, number)
    return fallback[1] if fallback else None
