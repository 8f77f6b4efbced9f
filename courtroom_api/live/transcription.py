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

_MODELS: dict[tuple[str, str, int], Any] = {}
_MODELS_LOCK = threading.Lock()


def _decoder(settings: Settings) -> Any:
    from transcribe.decoder import Decoder
    from transcribe.model_store import ModelStore, load_model

    t = settings.transcribe
    store = ModelStore(Path(settings.cache_dir), t.models_dir, t.model)
    path = store.resolve(t.model)
    key = (str(path), t.compute_type, t.cpu_threads)
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = load_model(store, str(path), cpu_threads=t.cpu_threads, compute_type=t.compute_type)
    return Decoder(_MODELS[key], t.model)


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
                scheduler = TranscriptionScheduler(decoder, SchedulerOptions(workers=self.settings.transcribe.workers))
                await scheduler.__aenter__()
                self._scheduler = scheduler
            return self._scheduler

    async def close(self) -> None:
        async with self._lock:
            if self._scheduler is not None:
                await self._scheduler.__aexit__(None, None, None)
                self._scheduler = None
