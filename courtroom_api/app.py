"""Application factory: builds the FastAPI app for one Settings object."""

from __future__ import annotations

from fastapi import FastAPI

from courtroom_api.config import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Create the app; nothing (engines, models) is built at import time."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Smart Courtroom",
        version="0.1.0",
        description="Recording, live transcription and the electronic dossier of court hearings.",
    )
    app.state.settings = settings

    @app.get("/api/health", tags=["system"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    from courtroom_api.routes import pages

    pages.install(app)
    return app
