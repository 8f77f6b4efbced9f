"""The touch-terminal pages: bench, party screen, clerk console, appeal search, admin page, login.

Pages are static HTML shells with plain ES modules (no build step, no CDN); every asset is served
from ``courtroom_api/static``. Access control happens in the API the pages call, so the shells
themselves are public.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PAGES: tuple[str, ...] = ("login", "bench", "party", "clerk", "search", "transcript", "admin")

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    # no-cache: a terminal that stays on for weeks must pick up a new release on reload.
    return FileResponse(STATIC_DIR / "pages" / f"{name}.html", headers={"Cache-Control": "no-cache"})


def _register(name: str) -> None:
    def serve() -> FileResponse:
        return _page(name)

    serve.__name__ = f"page_{name}"
    router.add_api_route(f"/{name}", serve, methods=["GET"])


for _name in PAGES:
    _register(_name)


@router.get("/")
def index() -> RedirectResponse:
    return RedirectResponse("/login")


def install(app: FastAPI) -> None:
    """Mount the static assets and the page routes on the app."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
    _install_docs(app)


def _install_docs(app: FastAPI) -> None:
    """The OpenAPI docs at ``/docs`` from the Swagger UI the package ``swagger-ui-bundle-v2`` ships:
    FastAPI's own page loads it from a CDN, blank on a court's network without internet."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
