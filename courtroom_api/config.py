"""The one settings object of the system.

Built by :func:`get_settings` (never at import time) from ``COURTROOM_*`` environment variables,
e.g. ``COURTROOM_DATABASE__URL`` or ``COURTROOM_TRANSCRIBE__MODEL``. Each pipeline package gets
plain values from its section; no package below the API reads the environment itself.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from transcribe.glossary import COURT_TERMS

# Heartbeats a server may miss (a busy database, a slow disk) before its lease counts as abandoned.
LEASE_STALE_HEARTBEATS = 3


class DatabaseSettings(BaseModel):
    # Empty means: an embedded SQLite file under the data directory.
    url: str = ""
    echo: bool = False


class StorageSettings(BaseModel):
    # Content-addressed blobs (evidence, finalized recordings) live under data_dir/blobs.
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, ge=1)


class CaptureSettings(BaseModel):
    # Bounded: a setting the recorder cannot work with is refused when the server starts, not found out
    # when a hearing records nothing (an unknown FLAC subtype) or cannot keep up (0 s segments).
    segment_seconds: float = Field(default=10.0, ge=1, le=3600)
    journal_seconds: float = Field(default=1.0, gt=0, le=60)
    meter_hz: float = Field(default=10.0, gt=0, le=100)
    dead_channel_seconds: float = Field(default=30.0, gt=0)
    queue_chunks: int = Field(default=256, ge=1)
    flac_subtype: Literal["PCM_16", "PCM_24"] = "PCM_16"
    # While the disk refuses writes, closed segments wait in memory this long, then become gaps.
    max_pending_seconds: float = Field(default=60.0, ge=0)
    retry_seconds: float = Field(default=1.0, gt=0)  # between attempts to reopen a failed source / rewrite to a full disk
    # The clerk is warned when the recordings disk holds less than this much more of a hearing
    # (its finalize included; see courtroom_api/live/disk.py), checked every disk_check_seconds.
    disk_warn_minutes: float = Field(default=60.0, ge=0)
    # Space kept allocated on the recordings disk and given up at the first write a full disk refuses,
    # so the held audio and the next minutes are stored while space is freed (capture/reserve.py;
    # 256 MiB: about an hour of a 4-seat room). 0: none.
    disk_reserve_mb: int = Field(default=256, ge=0)
    disk_check_seconds: float = Field(default=10.0, gt=0)


def _whisper_language(code: str) -> str:
    """A language code Whisper knows ("zh", "en", …), or ValueError naming what it is."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if code.strip().lower() not in _LANGUAGE_CODES:
        raise ValueError(f"unknown language {code!r}: a Whisper language code such as zh or en, or auto to detect")
    return code.strip().lower()


class TranscribeSettings(BaseModel):
    # Model name (base, tiny.en, a directory under models_dir) or a CTranslate2 directory path.
    model: str = "base"
    # Extra directory scanned for CTranslate2 Whisper models (a court installs larger ones here).
    models_dir: Path | None = None
    language: str | None = None
    compute_type: str = "int8"
    # The live decode pool: ``workers`` decodes at once, each on its own model replica with ``cpu_threads``
    # threads (a batch transcription uses workers x cpu_threads threads). On 2 cores two one-thread
    # decodes beat one two-thread decode: a decoder step is too small to split well over two threads,
    # and one seat's utterance-end decode no longer holds up another seat's (bench/RESULTS.md).
    cpu_threads: int = Field(default=1, ge=1)
    workers: int = Field(default=2, ge=1)
    hotwords: list[str] = Field(default_factory=list)
    # The words of court procedure (法庭, 原告, 质证 …), prompted before each case's names and the hotwords.
    glossary: list[str] = Field(default_factory=lambda: list(COURT_TERMS))
    # Languages a court speaks: detection (language unset) only chooses between these.
    languages: list[str] = Field(default_factory=lambda: ["zh", "en"])
    beam_size: int = Field(default=5, ge=1)
    # Seat gate: a channel carries its own seat's speech when louder than activity_dbfs and within
    # bleed_margin_db of the loudest channel (bleed from neighbouring microphones is ~15-25 dB down).
    activity_dbfs: float = -48.0
    bleed_margin_db: float = 10.0
    # Streaming cadence: decode each stream every min_cadence_s, stretched up to max under load.
    min_cadence_s: float = Field(default=0.4, gt=0)
    max_cadence_s: float = Field(default=6.0, gt=0)
    # The clerk is alarmed when a room's live transcript is this far behind its audio (cleared at half).
    lag_alarm_s: float = Field(default=10.0, gt=0)

    @field_validator("language")
    @classmethod
    def _known_language(cls, code: str | None) -> str | None:
        """"auto" (or empty) is detection, as in `courtroom transcribe --language auto`; it, or a code
        Whisper does not know, was accepted at start and then failed every live decode."""
        if code is None or code.strip().lower() in ("", "auto"):
            return None
        return _whisper_language(code)

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, codes: list[str]) -> list[str]:
        return [_whisper_language(code) for code in codes]

    @field_validator("compute_type")
    @classmethod
    def _runnable_compute_type(cls, compute_type: str) -> str:
        """float16 on a CPU, or a typo: refused at start, not reported as a damaged model at the first hearing."""
        from transcribe.model_store import compute_type_problem

        if problem := compute_type_problem(compute_type):
            raise ValueError(problem)
        return compute_type

    @model_validator(mode="after")
    def _cadence_range(self) -> TranscribeSettings:
        if self.max_cadence_s < self.min_cadence_s:  # the scheduler would stretch a stream's cadence downwards
            raise ValueError(f"COURTROOM_TRANSCRIBE__MAX_CADENCE_S ({self.max_cadence_s}) is below "
                             f"COURTROOM_TRANSCRIBE__MIN_CADENCE_S ({self.min_cadence_s})")
        return self


class DiarizeSettings(BaseModel):
    # Cosine similarity to a voiceprint needed to name a participant (calibrated in
    # diarize/voiceprints.py: same speaker 0.73-0.93, different 0.26-0.62).
    enrol_threshold: float = 0.65
    clustering_threshold: float = 0.6
    segmentation_step: float = 0.5  # hop of pyannote's 10 s windows, as a fraction of them
    live_window_s: float = 30.0  # context of each live diarization of a shared channel
    live_hop_s: float = 10.0  # how often live labels are produced on a shared channel
    torch_threads: int = 1


class AuthSettings(BaseModel):
    # A random secret is generated into data_dir on first start when this is empty.
    secret_key: str = ""
    token_minutes: int = Field(default=12 * 60, ge=1)
    # Lifetime of a signed media link (?mt=) for <audio>/<video>/<img>; the pages renew it on expiry.
    media_link_seconds: int = Field(default=300, ge=1)
    # An open live WebSocket re-checks its token and access this often (a revoked login, a disabled
    # user or withdrawn case access ends the stream).
    live_recheck_seconds: float = Field(default=30.0, gt=0)
    # Password guessing: after this many failed logins of one name (or from one address) within the
    # window, logins are refused (429) until the oldest failure is older than the window.
    login_failures_per_name: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=30, ge=1)
    login_window_seconds: float = Field(default=900.0, gt=0)


class Settings(BaseSettings):
    """Everything configurable, grouped by the package it configures."""

    model_config = SettingsConfigDict(env_prefix="COURTROOM_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    demo: bool = False
    # The court's own courtroom profiles (NAME.toml), chosen by name as the bundled ones are.
    profiles_dir: Path | None = None
    # The court's local time: the court record prints its times in it (the dossier stores UTC only).
    timezone: str = "Asia/Shanghai"
    # A hearing's live stream (its ring of events for reconnecting screens) is let go this long after it
    # was last used once its hearing ended, or once the viewers of a hearing not yet started left.
    live_stream_keep_seconds: float = Field(default=300.0, ge=0)
    # Threads for blocking work, each holding at most one database connection at a time: sync routes and
    # dependencies run on anyio's thread limiter (request_threads; Starlette's default is 40), and
    # asyncio.to_thread (live sockets' access checks, the pipelines' filing) on the event loop's default
    # executor (background_threads). The connection pool holds as many as both (database_pool_size): 15
    # behind them, many screens reloading at once got 500s after waiting 30 s for a connection.
    request_threads: int = Field(default=40, ge=1)
    background_threads: int = Field(default=16, ge=1)
    # One server a database (courtroom_api/server_lease.py): the server refreshes its lease this often; a
    # holder not seen for LEASE_STALE_HEARTBEATS of them is taken to be dead, and its lease is taken over.
    lease_heartbeat_seconds: float = Field(default=5.0, gt=0, le=300)

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    capture: CaptureSettings = Field(default_factory=CaptureSettings)
    transcribe: TranscribeSettings = Field(default_factory=TranscribeSettings)
    diarize: DiarizeSettings = Field(default_factory=DiarizeSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        """A misspelt zone was taken for UTC: court records printed 8 hours off."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            if available_timezones():  # (a machine with no zone data at all keeps record.court_zone's UTC)
                raise ValueError(f"unknown time zone {name!r}: an IANA name such as Asia/Shanghai") from None
        return name

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.data_dir / 'courtroom.sqlite3').resolve()}"

    @property
    def lease_stale_seconds(self) -> float:
        """How long a lease's holder may go unseen before another server takes it over."""
        return LEASE_STALE_HEARTBEATS * self.lease_heartbeat_seconds

    @property
    def database_pool_size(self) -> int:
        """Connections kept in the pool: one for every thread that may hold a session."""
        return self.request_threads + self.background_threads

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    def hearing_recording_dir(self, hearing_id: int) -> Path:
        """Where a hearing's recording (and its held finals) live."""
        return self.recordings_dir / f"hearing-{hearing_id}"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def upload_tmp_dir(self) -> Path:
        """Where uploads arrive before they are checked and stored."""
        return self.data_dir / "tmp" / "uploads"


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment; keyword overrides win (used by tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def cached_settings() -> Settings:
    """The process-wide settings for the running server (built on first use, not at import)."""
    return get_settings()
