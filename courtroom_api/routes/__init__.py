"""REST and WebSocket routes, one module per resource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def get_and_head(router: APIRouter, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """``@router.get(path, **options)`` that answers HEAD too: media players and download managers ask
    HEAD first (size, type, Range support) and gave up on a 405. FastAPI, unlike Starlette, adds no HEAD
    to a GET route; this one is left out of the OpenAPI schema (one operation, not two with one id)."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False, **options)
        return router.get(path, **options)(endpoint)

    return register
