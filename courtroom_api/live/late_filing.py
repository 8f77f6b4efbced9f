"""The recording of a hearing ended with no pipeline in this process (in recess, or its resume after a
restart failed): closed, finalized and filed at its stop, and, when that fails (a full disk), retried
until it is filed, as a running hearing's stop keeps trying (``HearingPipeline._hold``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from courtroom_api.live.filing import (
    file_pending_recordings,
    note_recording_failed,
    recording_lost,
    unfiled_recording,
)
from courtroom_api.services import Services

log = logging.getLogger(__name__)
MAX_RETRY_S = 60.0


def _unfiled(services: Services, hearing_id: int) -> int | None:
    with services.sessions() as session:
        return unfiled_recording(session, hearing_id)


def _file(services: Services, hearing_id: int) -> tuple[int | None, str]:
    """One filing attempt: the recording still unfiled (None once filed) and why, in one line with no
    server path."""
    lines = file_pending_recordings(services, hearing_id)
    for line in lines:
        log.warning("at the stop of hearing %s: %s", hearing_id, line)
    directory = str(services.settings.hearing_recording_dir(hearing_id))
    why = next((line.split("NOT filed: ", 1)[1] for line in lines if "NOT filed: " in line), "")
    return _unfiled(services, hearing_id), why.replace(directory, "the hearing's recording directory")[:160]


async def file_stopped_recording(services: Services, hearing_id: int, stream: Any) -> asyncio.Task[None] | None:
    """File the ended hearing's recording now; when it cannot be (a full disk), raise the alarm, audit it
    and return the task that tries again every ``capture.retry_seconds`` until it is filed."""
    recording_id, why = await asyncio.to_thread(_file, services, hearing_id)
    if recording_id is None:
        return None
    with contextlib.suppress(Exception):  # the database may be what failed
        await asyncio.to_thread(note_recording_failed, services, hearing_id, recording_id,
                                "recording.finalize_failed", why)
    if await asyncio.to_thread(recording_lost, services, hearing_id):
        stream.publish("alarm", {"kind": "finalize_failed", "active": True, "message": (
            "the recording cannot be filed: the hearing's recording directory holds none (lost with its disk?); "
            "its record can be signed without it")})
        return None  # (nothing to try again: every try failed the same way, a warning a second for good)
    stream.publish("alarm", {"kind": "finalize_failed", "active": True, "message": (
        f"the recording could not be finalized ({why}); it stays on the server and is filed as soon as it "
        "can be: free space on the recordings disk")})
    return asyncio.create_task(_retry(services, hearing_id, stream), name=f"filing-{hearing_id}")


async def _retry(services: Services, hearing_id: int, stream: Any) -> None:
    delay = services.settings.capture.retry_seconds
    while True:
        await asyncio.sleep(delay)
        delay = min(2 * delay, MAX_RETRY_S)  # (a disk freed within a minute is seen within a minute)
        try:  # supervisor: a database down meanwhile is tried again too
            recording_id, _ = await asyncio.to_thread(_file, services, hearing_id)
            if recording_id is not None and await asyncio.to_thread(recording_lost, services, hearing_id):
                log.error("the recording of hearing %s is gone from the server: no more filing tries", hearing_id)
                return
        except Exception:
            log.exception("filing the recording of hearing %s failed; tried again", hearing_id)
            continue
        if recording_id is None:
            break
    # The hearing's stream is closed: a console that reconnects (after=its last seq) is told.
    stream.publish("alarm", {"kind": "finalize_failed", "active": False, "message": "the recording is filed"})
