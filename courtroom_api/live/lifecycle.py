"""Hearing lifecycle: start → live pipeline → (recess → start again) → stop → filed in the dossier; resume
after a restart.

The DB side (status, times, audit) lives here; the audio pipeline of one hearing lives in
:mod:`courtroom_api.live.pipeline` and is driven by a :class:`HearingRunners` registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from capture.errors import RecorderError
from courtroom_api import record
from courtroom_api.access import audit, load_hearing
from courtroom_api.auth.policy import Action, Principal
from courtroom_api.errors import ConflictError, StorageFullError
from courtroom_api.live.filing import file_pending_recordings, hearing_stream
from courtroom_api.live.late_filing import file_stopped_recording
from courtroom_api.live.unfiled import reason
from courtroom_api.schemas import DisplayState, HearingStart
from courtroom_api.services import Services
from models.enums import HearingStatus

log = logging.getLogger(__name__)
# Audited, and committed, before a recess or a stop closes the pipeline: a server killed before the hearing
# was marked paused or ended completes the request at its next start instead of recording on.
PAUSE_REQUESTED, STOP_REQUESTED = "hearing.pause_requested", "hearing.stop_requested"


class HearingRunners:
    """The live pipelines of this process, one per running hearing."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._running: dict[int, Any] = {}  # hearing id → pipeline.HearingPipeline
        self._stopping: dict[int, asyncio.Event] = {}  # hearing id → set once its stop has finished
        # Stopped hearings whose recording the disk refused at the stop: their pipelines keep its audio in
        # memory and file it once the disk takes it (HearingPipeline.closing).
        self._closing: dict[int, Any] = {}
        self._starting: set[int] = set()
        self._filing: dict[int, asyncio.Task[None]] = {}  # ended hearings whose recording is filed when it can be
        self._leaving: dict[int, Any] = {}  # hearing id → its pipeline while its stop closes the recording
        self._lock = asyncio.Lock()

    def get(self, hearing_id: int) -> Any:
        return self._running.get(hearing_id)

    def recorder_of(self, hearing_id: int) -> Any:
        """The recorder of the hearing's pipeline in this process while it may hold audio not yet on disk
        (running, stopping, or holding what its stop could not write); None otherwise."""
        pipeline = (self._running.get(hearing_id) or self._leaving.get(hearing_id)
                    or self._closing.get(hearing_id))
        return getattr(pipeline, "recorder", None)

    def running_ids(self) -> set[int]:
        return set(self._running)

    def busy_ids(self) -> set[int]:
        """Hearings whose pipeline is starting, running, stopping or holding its recording: their held
        finals are theirs to file (a sweep loading the same spill file meanwhile rewrote it from a stale
        list and lost the finals the stop was still holding)."""
        return set(self._running) | self._starting | set(self._stopping) | set(self._closing)

    async def start(self, hearing_id: int, plan: HearingStart, *, resumed: bool = False,
                    after_recess: bool = False) -> None:
        from courtroom_api.live.pipeline import HearingPipeline

        async with self._lock:
            if hearing_id in self._running:
                raise ConflictError(f"hearing {hearing_id} is already running in this server")
            if hearing_id in self._closing:  # a recess on a full disk: its recording is not all written yet
                raise StorageFullError(f"hearing {hearing_id}'s recording is still held in the server's memory "
                                       "until the recordings disk takes it: free space on it, then start again")
            pipeline = HearingPipeline(self.services, hearing_id, plan)
            self._starting.add(hearing_id)
            try:
                await pipeline.start(resumed=resumed, after_recess=after_recess)
            except Exception:  # nothing left behind: a retry would resume a recording it never made
                await pipeline.abandon()
                raise
            finally:
                self._starting.discard(hearing_id)
            self._running[hearing_id] = pipeline

    async def stop(self, hearing_id: int, *, finalize: bool = True) -> bool:
        """Begin a hearing's stop: its pipeline, if it runs here, is stopped (finalizing takes seconds;
        without ``finalize``, a recess, its recording is only closed: every second of it on disk, to be
        continued). False when another request is stopping (or pausing) it: this one waits until that stop
        is through (``stop_done``) and leaves the closing to it. True: the caller closes it, then calls
        ``stop_done``."""
        async with self._lock:
            other = self._stopping.get(hearing_id)
            if other is None:
                self._stopping[hearing_id] = asyncio.Event()
                pipeline = self._running.pop(hearing_id, None)
        if other is not None:
            await other.wait()
            return False
        if pipeline is not None:
            self._leaving[hearing_id] = pipeline
            try:
                await pipeline.stop(finalize=finalize)
            except BaseException:
                self.stop_done(hearing_id)
                raise
            finally:
                self._leaving.pop(hearing_id, None)
            if pipeline.closing is not None:
                self._closing[hearing_id] = pipeline
                pipeline.closing.add_done_callback(lambda _: self._closing.pop(hearing_id, None))
        return True

    def held_seconds(self, hearing_id: int) -> float | None:
        """Seconds of the hearing's recording its stop (or recess) could not write and this process holds
        until the disk takes them; None when it holds none."""
        pipeline = self._closing.get(hearing_id)
        if pipeline is None or pipeline.closing.done():
            return None
        return float(pipeline.recorder.held_seconds)

    def finalize_when_written(self, hearing_id: int) -> bool:
        """The hearing ends while its recess's recording is held: it is finalized and filed once written.
        False when nothing is held (the caller files what is on disk)."""
        pipeline = self._closing.get(hearing_id)
        if pipeline is None or pipeline.closing.done():
            return False
        pipeline.finalize_when_closed = True
        return True

    def filing(self, hearing_id: int, task: asyncio.Task[None] | None) -> None:
        """Keep the task that files an ended hearing's recording once it can be (``late_filing``)."""
        if task is not None:
            self._filing[hearing_id] = task
            task.add_done_callback(lambda _: self._filing.pop(hearing_id, None))

    def stop_done(self, hearing_id: int) -> None:
        event = self._stopping.pop(hearing_id, None)
        if event is not None:
            event.set()

    async def resume_interrupted(self) -> None:
        """Hearings left in progress by a previous process continue recording into the same hearing."""
        from capture.finalize import is_finalized
        from models import Hearing
        from models.enums import HearingStatus

        with self.services.sessions() as session:
            ids = list(session.scalars(select(Hearing.id).where(Hearing.status == HearingStatus.IN_PROGRESS)))
            plans = {hid: _last_plan(session, hid) for hid in ids}
            requests = {hid: _cut_off_request(session, hid) for hid in ids}
        for hid, plan in plans.items():
            try:  # supervisor: one hearing failing to resume (a damaged manifest…) must not stop the others
                if await asyncio.to_thread(is_finalized, self.services.settings.hearing_recording_dir(hid)):
                    # Its stop ran up to the finalize, then could not mark the hearing ended (the database
                    # failed): a finalized recording cannot be continued, so the stop is completed instead.
                    await asyncio.to_thread(_close_stopped, self.services, hid)
                    log.warning("hearing %s was stopped before the restart; closed now", hid)
                    continue
                if (request := requests[hid]) is not None:  # the bench ended it or called a recess: no more recording
                    await asyncio.to_thread(_complete_request, self.services, hid, request)
                    log.warning("hearing %s: its %s, cut off by the restart, is completed now", hid, request)
                    continue
                await self.start(hid, plan, resumed=True)
                log.warning("hearing %s resumed after a restart", hid)
            except Exception as exc:
                log.exception("hearing %s could not be resumed", hid)
                # The bench and the clerk see it: the hearing shows in progress while nothing records.
                stream = await asyncio.to_thread(hearing_stream, self.services, hid)
                # A recess and a start record again (a stop would end the hearing for good); the recess ends it.
                stream.publish("alarm", {"kind": "resume_failed", "active": True, "message": (
                    f"recording did not resume after the server restarted ({_public(self.services, hid, exc)}); "
                    "call a recess (休庭), then start the hearing again, or call the court's administrator")})

    async def shutdown(self) -> None:
        """Server shutdown: pipelines stop without closing their hearings, which resume on restart."""
        async with self._lock:
            running, self._running = list(self._running.values()), {}
        for task in list(self._filing.values()):  # what is on disk is filed at the next start
            task.cancel()
        for pipeline in list(self._closing.values()):  # a last few tries; what the disk still refuses is lost
            task = pipeline.closing
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(task), 3 * self.services.settings.capture.retry_seconds)
            if not task.done() and not pipeline.recorder.closed:
                task.cancel()
            with contextlib.suppress(BaseException):  # closed: it finalizes and files before the server exits
                await task
        for pipeline in running:
            try:  # one recorder's close failing (a full disk) must not leave the others running
                await pipeline.stop(finalize=False)
            except Exception:
                log.exception("hearing %s did not stop cleanly at shutdown; it resumes at the next start",
                              pipeline.hearing_id)


def _close_stopped(services: Services, hearing_id: int) -> None:
    _mark_ended(services, "system", hearing_id,
                reason="its recording was finalized before a restart; the stop had not been recorded")


def _cut_off_request(session: Any, hearing_id: int) -> str | None:
    """The recess or stop asked for last and never completed (the server died first), else None."""
    from models import AuditEvent

    last = session.scalar(select(AuditEvent.action).where(
        AuditEvent.object == f"hearing:{hearing_id}",
        AuditEvent.action.in_(("hearing.start", "hearing.pause", "hearing.stop", PAUSE_REQUESTED, STOP_REQUESTED)),
    ).order_by(AuditEvent.id.desc()).limit(1))
    return last if last in (PAUSE_REQUESTED, STOP_REQUESTED) else None


def _complete_request(services: Services, hearing_id: int, request: str) -> None:
    """A stop cut off by a restart ends the hearing (the start-up sweep closes, finalizes and files its
    recording: ``file_pending_recordings``); a recess, pauses it (a start goes on with the recording)."""
    why = "requested before the server restarted; completed after it"
    if request == STOP_REQUESTED:
        _mark_ended(services, "system", hearing_id, reason=f"the stop was {why}")
    else:
        _mark_paused(services, "system", hearing_id, reason=f"the recess was {why}")


def _note_request(services: Services, user: Principal, hearing_id: int, action: str) -> None:
    with services.write_sessions() as session:
        audit(session, user, action, f"hearing:{hearing_id}")
        session.commit()


def _last_plan(session: Any, hearing_id: int) -> HearingStart:
    """The plan the hearing was last started with (its audit entry), to go on with after a restart or a recess."""
    from models import AuditEvent

    start = session.scalar(select(AuditEvent).where(
        AuditEvent.object == f"hearing:{hearing_id}", AuditEvent.action == "hearing.start"
    ).order_by(AuditEvent.id.desc()).limit(1))
    return HearingStart.model_validate((start.details or {}).get("plan", {}) if start else {})


def _mark_started(services: Services, user: Principal, hearing_id: int,
                  plan: HearingStart) -> tuple[tuple[Any, Any, Any], HearingStart]:
    """Mark it in progress; returns what a failed start puts back (its status, opening time, the case's
    status) and the plan with its profile named (a resume after a restart uses the profile the hearing
    started with, not one the courtroom was given since: that one may have other channels). After a recess
    a start that names nothing (the bench's 开庭 sends ``{}``) goes on with the plan it started with."""
    from models import Case
    from models.base import utcnow
    from models.enums import CaseStatus, HearingStatus

    with services.write_sessions() as session:
        # Two starts at once (the bench's 开庭 and the clerk's button): the second waits for the first to
        # commit and then finds the hearing in progress. Unlocked (PostgreSQL), both passed the check and
        # the loser's revert marked the running hearing as scheduled, so that it could not be stopped.
        hearing = load_hearing(session, user, hearing_id, Action.CONTROL_HEARING, for_update=True)
        if hearing.status not in (HearingStatus.SCHEDULED, HearingStatus.PAUSED):
            raise ConflictError(f"hearing {hearing_id} is {hearing.status}; only a scheduled or paused hearing can start")
        # Its finals will go into the record: not into a signed and locked one, and a signature given
        # during a recess is voided (it would not be on the whole record).
        require_open_case(hearing.case)
        recess = hearing.status == HearingStatus.PAUSED
        if recess and not plan.model_fields_set:
            plan = _last_plan(session, hearing_id)  # (after a recess, the source it started with)
        room_profile = hearing.courtroom.profile_name if hearing.courtroom else None
        profile = plan.profile or room_profile
        if profile is None:  # it used to record the bundled demo sample as this hearing
            raise ConflictError(f"hearing {hearing_id} has no courtroom: assign one")
        _require_room_free(session, hearing, profile, plan.source)
        # The case's row before the chain's lock, as a stop and a case edit take them.
        session.get(Case, hearing.case_id, with_for_update={"key_share": True}, populate_existing=True)
        record.ensure_unlocked(session, hearing_id, user, why="the hearing resumed after the record was signed")
        prior = (hearing.status, hearing.started_at, hearing.case.status)
        plan = plan.model_copy(update={"profile": profile})
        hearing.status = HearingStatus.IN_PROGRESS
        hearing.started_at = hearing.started_at or utcnow()
        hearing.case.status = CaseStatus.IN_HEARING
        audit(session, user, "hearing.start", f"hearing:{hearing_id}", plan=plan.model_dump(),
              **({"after_recess": True} if recess else {}))
        session.commit()
        return prior, plan


def require_open_case(case: Any) -> None:
    """A closed or archived case's record is complete: it takes no new hearing and none of its starts."""
    from models.enums import CaseStatus

    if case.status in (CaseStatus.CLOSED, CaseStatus.ARCHIVED):
        raise ConflictError(f"case {case.case_number} is {case.status}: a closed case holds no more hearings")


def _require_room_free(session: Any, hearing: Any, profile: str, source: str = "profile") -> None:
    """One hearing at a time in a courtroom: its microphones are one array, its screens show one hearing,
    and two recordings of one room's audio would file each party's words in two dossiers. A start naming
    another room's profile (or a hearing with no room naming one) records that room's array: it must be
    free too, unless the start records a file or a stream, which is no room's array."""
    from sqlalchemy import select

    from models import Courtroom, Hearing
    from models.enums import HearingStatus

    rooms = [hearing.courtroom_id] if hearing.courtroom_id is not None else []
    if source in ("profile", "device") and (hearing.courtroom is None or profile != hearing.courtroom.profile_name):
        rooms += session.scalars(select(Courtroom.id).where(Courtroom.profile_name == profile)
                                 .order_by(Courtroom.id)).all()
    for room_id in sorted(set(rooms)):
        # The room's row locked (PostgreSQL; in id order, as every start takes them): two starts of different
        # hearings in one room at once, the second waits and then sees the first in progress.
        room = session.get(Courtroom, room_id, with_for_update=True, populate_existing=True)
        other = session.scalar(select(Hearing.id).where(
            Hearing.courtroom_id == room_id, Hearing.id != hearing.id,
            Hearing.status == HearingStatus.IN_PROGRESS).limit(1))
        if other is not None:
            raise ConflictError(f"courtroom {room.name} is in use: hearing {other} is in progress there; "
                                "stop it first")


def _revert_start(services: Services, hearing_id: int, error: str, prior: tuple[Any, Any, Any]) -> None:
    """A start that failed: the hearing as it was (scheduled, or still in recess; its opening time is not
    the failed attempt's)."""
    from models import Hearing

    with services.write_sessions() as session:
        hearing = session.get_one(Hearing, hearing_id)
        hearing.status, hearing.started_at, hearing.case.status = prior
        audit(session, "system", "hearing.start_failed", f"hearing:{hearing_id}", error=error)
        session.commit()


def _hearing_public(services: Services, hearing_id: int) -> Any:
    from models import Hearing

    with services.sessions() as session:
        return session.get(Hearing, hearing_id)


async def start_hearing(services: Services, user: Principal, hearing_id: int, plan: HearingStart) -> Any:
    """Mark the hearing started (or going on after a recess), then start its pipeline; on failure the hearing
    is as it was (scheduled, or in recess)."""
    prior, plan = await asyncio.to_thread(_mark_started, services, user, hearing_id, plan)
    try:
        # After a recess the same recording goes on, as after a restart; the time between is its gap.
        await services.hearings.start(hearing_id, plan, after_recess=prior[0] == HearingStatus.PAUSED)
    except Exception as exc:
        await asyncio.to_thread(_revert_start, services, hearing_id, str(exc), prior)
        if isinstance(exc, RecorderError):  # the recording could not begin: a clear answer, not a 500
            log.warning("hearing %s could not start recording: %s", hearing_id, exc)
            error = StorageFullError if _disk_full(exc) else ConflictError
            raise error(_public(services, hearing_id, exc)) from exc
        raise
    return await asyncio.to_thread(_hearing_public, services, hearing_id)


def _public(services: Services, hearing_id: int, exc: BaseException) -> str:
    """A recording error's text for the bench and the clerk: no server paths (the log has them)."""
    return str(exc).replace(str(services.settings.hearing_recording_dir(hearing_id)), "the hearing's recording directory")


def _disk_full(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        exc = exc.__cause__
    return False


def _check_stoppable(services: Services, user: Principal, hearing_id: int, *, paused_too: bool = True) -> None:
    with services.sessions() as session:
        hearing = load_hearing(session, user, hearing_id, Action.CONTROL_HEARING)
        if hearing.status == HearingStatus.PAUSED and paused_too:
            return
        if hearing.status != HearingStatus.IN_PROGRESS:
            raise ConflictError(f"hearing {hearing_id} is {hearing.status}, not in progress")


def _status(services: Services, hearing_id: int) -> Any:
    from models import Hearing

    with services.sessions() as session:
        return session.get_one(Hearing, hearing_id).status


def _mark_ended(services: Services, user: Principal | str, hearing_id: int, **details: str) -> bool:
    """Close the hearing in the dossier; returns whether its display went blank with it (``display.end``)."""
    from courtroom_api.live import display
    from models import Hearing
    from models.base import utcnow
    from models.enums import CaseStatus

    with services.write_sessions() as session:
        hearing = session.get_one(Hearing, hearing_id)
        hearing.status = HearingStatus.ENDED
        hearing.ended_at = utcnow()
        others = session.scalar(select(Hearing.id).where(
            Hearing.case_id == hearing.case_id, Hearing.id != hearing_id,
            Hearing.status.in_((HearingStatus.IN_PROGRESS, HearingStatus.PAUSED))).limit(1))
        # In hearing until its last running hearing ends; a case closed meanwhile stays closed.
        if others is None and hearing.case.status == CaseStatus.IN_HEARING:
            hearing.case.status = CaseStatus.ADJOURNED
        audit(session, user, "hearing.stop", f"hearing:{hearing_id}", **details)
        blanked = display.end(services, session, user, hearing_id)
        session.commit()
    return blanked


async def stop_hearing(services: Services, user: Principal, hearing_id: int) -> Any:
    """Stop the pipeline (recording finalized and filed, transcript persisted), then close the hearing. A
    hearing in recess has no pipeline: its closed recording is finalized and filed below."""
    await asyncio.to_thread(_check_stoppable, services, user, hearing_id)
    await asyncio.to_thread(_note_request, services, user, hearing_id, STOP_REQUESTED)
    ran = services.hearings.get(hearing_id) is not None
    if not await services.hearings.stop(hearing_id):
        # The bench's 闭庭 and the clerk's stop at once: the first closes the hearing once its recording is
        # filed; closing it here as well would end the live stream before the stop's last finals. The other
        # was the judge's 休庭: the hearing is in recess now, and this stop ends it.
        ran = False
        if (await asyncio.to_thread(_status, services, hearing_id) != HearingStatus.PAUSED
                or not await services.hearings.stop(hearing_id)):
            raise ConflictError(f"hearing {hearing_id} was being stopped by another request; it is stopped now")
    try:
        blanked = await asyncio.to_thread(_mark_ended, services, user, hearing_id)
        await _file_recording(services, hearing_id, ran=ran)
        stream = services.hub.get(hearing_id)
        if stream is not None:
            if blanked:  # the screens and the bench's banner leave the exhibit before the stream ends
                stream.publish("display", DisplayState().model_dump())
            stream.end_alarm("resume_failed", "the hearing has ended; its recording is filed")
            stream.publish("status", {"status": "ended"})
            stream.close()
    finally:
        services.hearings.stop_done(hearing_id)
    return await asyncio.to_thread(_hearing_public, services, hearing_id)


async def _file_recording(services: Services, hearing_id: int, *, ran: bool) -> None:
    """At the stop, after its pipeline's (``ran``) own filing: a hearing with no pipeline here (in recess,
    or its resume after a restart failed) still has its recording open: it is closed, finalized and filed
    now, not at the next restart, and tried again until filed (with an alarm) when the disk refuses; one
    whose recess could not write all of it is filed by the server once the disk takes the rest."""
    if services.hearings.finalize_when_written(hearing_id):
        return
    if ran:  # the pipeline raised its own alarm for what it could not file: one more try here
        for line in await asyncio.to_thread(file_pending_recordings, services, hearing_id):
            log.warning("at the stop of hearing %s: %s", hearing_id, line)
        return
    stream = await asyncio.to_thread(hearing_stream, services, hearing_id)
    services.hearings.filing(hearing_id, await file_stopped_recording(services, hearing_id, stream))


@dataclass(frozen=True, slots=True)
class Recess:
    """A recess that began: the paused hearing, and the seconds at the end of its recording that the full
    recordings disk refused and this process holds in memory until space is freed (None: all on disk)."""

    hearing: Any
    held_s: float | None = None

    @property
    def warning(self) -> str | None:
        """What the bench and the clerk are told when the recording is held; None when it is not."""
        if self.held_s is None:
            return None
        return (f"the hearing is in recess, but the recordings disk is full: the server holds the recording's "
                f"last {self.held_s:.0f} s in memory until space is freed on it, then writes them (do not "
                "restart the server meanwhile)")


def _mark_paused(services: Services, user: Principal | str, hearing_id: int, **details: str) -> None:
    from models import Hearing

    with services.write_sessions() as session:
        hearing = session.get_one(Hearing, hearing_id, with_for_update=True)
        hearing.status = HearingStatus.PAUSED  # the case stays in hearing: a recess is part of the hearing
        audit(session, user, "hearing.pause", f"hearing:{hearing_id}", **details)
        session.commit()


async def pause_hearing(services: Services, user: Principal, hearing_id: int) -> Recess:
    """A recess: capture and live transcription stop, the recording is closed but not finalized (every second
    recorded is on disk, the finals filed or held in the spill file) and the hearing is paused; its live
    stream stays open. A start goes on with the same recording, the recess a gap in it. On a full recordings
    disk the recess still begins: the audio the disk refused is held in memory and written once it takes it
    (``Recess.held_s``; a start waits for it)."""
    await asyncio.to_thread(_check_stoppable, services, user, hearing_id, paused_too=False)
    await asyncio.to_thread(_note_request, services, user, hearing_id, PAUSE_REQUESTED)
    directory = str(services.settings.hearing_recording_dir(hearing_id))
    try:
        paused = await services.hearings.stop(hearing_id, finalize=False)
    except RecorderError as exc:  # the disk refused the close: in progress still, and its stop files what is on disk
        cause = reason(exc, hide=(directory, "the hearing's recording directory"))
        raise (StorageFullError if _disk_full(exc) else ConflictError)(
            f"the recording could not be closed for the recess ({cause}); end the hearing to file it") from exc
    if not paused:
        raise ConflictError(f"hearing {hearing_id} was being stopped by another request")
    try:
        await asyncio.to_thread(_mark_paused, services, user, hearing_id)
        stream = await asyncio.to_thread(hearing_stream, services, hearing_id)
        stream.end_alarm("resume_failed", "the hearing is in recess; a start records again")
        stream.publish("status", {"status": "paused"})
    finally:
        services.hearings.stop_done(hearing_id)
    # The recess began either way: audio the full disk refused is held, not an error (a 507 told the judge
    # the 休庭 had failed while the hearing was paused and the parties told so).
    held = services.hearings.held_seconds(hearing_id)
    return Recess(await asyncio.to_thread(_hearing_public, services, hearing_id), held)
