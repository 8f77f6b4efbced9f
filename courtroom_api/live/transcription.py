"""The process's one transcription scheduler (one loaded model serving every hearing).

Started lazily on the first hearing (the model loads in a worker thread), closed at shutdown.
Loaded models are cached per process, so several apps in one process (tests) share one.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from courtroom_api.config import Settings

_MODELS: dict[tuple[str, str, int, int], Any] = {}
_MODELS_LOCK = threading.Lock()


def _decoder(settings: Settings) -> Any:
    from transcribe.decoder import Decoder
    from transcribe.model_store import ModelStore, load_model

    t = settings.transcribe
    store = ModelStore(Path(settings.cache_dir), t.models_dir, t.model)
    path = store.resolve(t.model)
    key = (str(path), t.compute_type, t.cpu_threads, t.workers)
    with _MODELS_LOCK:
        if key not in _MODELS:  # one replica per decode worker, or the workers queue inside CTranslate2
            _MODELS[key] = load_model(store, str(path), cpu_threads=t.cpu_threads, compute_type=t.compute_type,
                                      num_workers=t.workers)
    return Decoder(_MODELS[key], t.model)


def case_vocabulary(services: Any, hearing_id: int) -> tuple[str, ...]:
    """Words the transcriber is prompted with for this hearing: its case's party and participant names
    and cause of action (Whisper spells 张伟 and 借款合同纠纷 right when it has seen them)."""
    from sqlalchemy import select

    from models import Hearing, Participant

    with services.sessions() as session:
        hearing = session.get(Hearing, hearing_id)
        if hearing is None:
            return ()
        names = session.scalars(select(Participant.name).where(Participant.case_id == hearing.case_id)
                                .order_by(Participant.id))
        words = [*names, hearing.case.cause_of_action or ""]
    return tuple(dict.fromkeys(w.strip() for w in words if w and w.strip()))


def gate_options(settings: Settings) -> Any:
    """The seat gate (GateOptions) of the transcribe settings: a live hearing's and `courtroom transcribe`'s,
    so a recording is transcribed from the speech its room was heard with live."""
    from transcribe.seats import GateOptions

    t = settings.transcribe
    return GateOptions(activity_dbfs=t.activity_dbfs, bleed_margin_db=t.bleed_margin_db)


def room_options(settings: Settings, vocabulary: tuple[str, ...] = ()) -> tuple[Any, Any]:
    """(OnlineOptions, GateOptions) of a hearing's room, from the transcribe settings."""
    from transcribe.glossary import with_glossary
    from transcribe.online import OnlineOptions

    t = settings.transcribe
    online = OnlineOptions(language=t.language, languages=tuple(t.languages), final_beam_size=t.beam_size,
                           vocabulary=with_glossary(t.glossary, vocabulary, t.hotwords))
    return online, gate_options(settings)


class TranscriptionService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._scheduler: Any = None
        self._lock = asyncio.Lock()

    async def scheduler(self) -> Any:
        """The running scheduler, started on first use (raises if no model can be loaded)."""
        from transcribe.scheduler import SchedulerOptions, TranscriptionScheduler

        async with self._lock:
            if self._scheduler is None:
                decoder = await asyncio.to_thread(_decoder, self.settings)
                t = self.settings.transcribe
                scheduler = TranscriptionScheduler(decoder, SchedulerOptions(
                    workers=t.workers, min_cadence_s=t.min_cadence_s, max_cadence_s=t.max_cadence_s))
                await scheduler.__aenter__()
                self._scheduler = scheduler
            return self._scheduler

    async def close(self) -> None:
        async with self._lock:
            if self._scheduler is not None:
                await self._scheduler.__aexit__(None, None, None)
                self._scheduler = None
