"""The long-lived objects of one server: database sessions, blob store, live hub, pipelines.

Built in the app's lifespan (never at import time) and reached through ``deps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from courtroom_api.config import Settings
from courtroom_api.live.hub import EventHub


@dataclass(slots=True)
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]  # for sessions that write (see models.db.session_factory)
    secret: str
    hub: EventHub
    blobs: Any  # models.blobs.LocalBlobStore (the BlobStore protocol plus local paths)
    hearings: Any = None  # courtroom_api.live.lifecycle.HearingRunner registry, set in the lifespan
    display: dict[int, Any] = field(default_factory=dict)  # hearing id → schemas.DisplayState
    transcription: Any = None  # courtroom_api.live.transcription.TranscriptionService
    throttle: Any = None  # courtroom_api.auth.throttle.LoginThrottle
    reserve: Any = None  # capture.reserve.DiskReserve on the recordings disk

    @property
    def upload_tmp_dir(self) -> Path:
        return Path(self.settings.upload_tmp_dir)

    @property
    def renditions_dir(self) -> Path:
        return Path(self.settings.cache_dir) / "renditions"


def build_services(settings: Settings) -> Services:
    from capture.reserve import DiskReserve
    from courtroom_api.auth.throttle import LoginThrottle
    from courtroom_api.auth.tokens import load_secret
    from courtroom_api.blobstore import open_blob_store
    from courtroom_api.live.transcription import TranscriptionService
    from models.db import make_engine, session_factory

    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    reserve = DiskReserve(settings.recordings_dir, settings.capture.disk_reserve_mb * 2**20)
    reserve.ensure()
    engine = make_engine(settings.database_url, echo=settings.database.echo, pool_size=settings.database_pool_size)
    return Services(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        write_sessions=session_factory(engine, write=True),
        secret=load_secret(settings),
        hub=EventHub(keep_idle_s=settings.live_stream_keep_seconds),
        blobs=open_blob_store(settings),
        transcription=TranscriptionService(settings),
        throttle=LoginThrottle(settings.auth.login_failures_per_name, settings.auth.login_failures_per_address,
                               settings.auth.login_window_seconds),
        reserve=reserve,
    )
