"""The live pipeline of one hearing: capture → recorder (first) → transcriber → attribution → hub.

Three tasks per hearing: *capture* (source → recorder → channel health → fan-out), *feed* (the
transcriber's bounded subscription → the shared scheduler) and *events* (scheduler events →
attribution → persisted finals → hub). Only the capture task is essential: when transcription
fails, an alarm is published and recording carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from courtroom_api import sealed_ranges
from courtroom_api.errors import ConflictError
from courtroom_api.exports.records import SEALED_TEXT
from courtroom_api.live import events as ev
from courtroom_api.live.attribution import LiveAttribution, load_occupants
from courtroom_api.live.filing import (
    Filed,
    create_or_resume_recording,
    file_empty_recording,
    file_final,
    file_recording,
    final_values,
    lock_recording,
    note_recording_failed,
    set_segment_seq,
)
from courtroom_api.live.unfiled import FinalsBacklog, Unfiled, file_held, reason
from courtroom_api.schemas import HearingStart
from courtroom_api.services import Services

log = logging.getLogger(__name__)
TRANSCRIBER_QUEUE_CHUNKS = 512
LATER = ("it stays on the server and is finished at the server's next start or with "
         "`courtroom recordings file-pending`")


def resolve_profile(services: Services, hearing_id: int, plan: HearingStart) -> Any:
    """The hearing's hardware profile, with the source replaced as the start request asks."""
    from courtroom_api.profiles import load_room_profile
    from hardware.errors import HardwareError
    from hardware.profiles import is_live_input
    from hardware.types import AudioSourceSpec
    from models import Hearing

    with services.sessions() as session:
        hearing = session.get(Hearing, hearing_id)
        if hearing is None:
            raise ConflictError(f"hearing {hearing_id} no longer exists")
        name = plan.profile or (hearing.courtroom.profile_name if hearing.courtroom else None)
    if name is None:  # never the bundled demo: its sample would be filed as this hearing
        raise ConflictError(f"hearing {hearing_id} has no courtroom: assign one")
    try:
        profile = load_room_profile(name, services.settings.profiles_dir)
    except HardwareError as exc:
        raise ConflictError(str(exc)) from exc
    if plan.source == "file":
        if not plan.url or not Path(plan.url).is_file():
            raise ConflictError(f"file source {plan.url!r} does not exist on the server")
        _check_file_source(plan.url, profile)
        profile = replace(profile, source=AudioSourceSpec(kind="replay", url=plan.url, speed=plan.speed))
    elif plan.source == "stream":
        if not plan.url:
            raise ConflictError("a stream source needs a url")
        if not is_live_input(plan.url):  # recorded over and over, faster than real time
            raise ConflictError(f"stream source {plan.url!r} is not a live stream: a file on the server "
                                'is replayed with source "file"')
        profile = replace(profile, source=AudioSourceSpec(kind="ffmpeg", url=plan.url))
    elif plan.source == "device":
        profile = replace(profile, source=AudioSourceSpec(kind="device", device=plan.device))
    elif profile.source.kind == "replay":
        # The room's own replay (the demo's sample) is checked as a file named in the start is.
        if not profile.source.url or not Path(profile.source.url).is_file():
            raise ConflictError(f"profile {profile.name!r} replays {profile.source.url!r}, which does not exist "
                                "on the server")
        _check_file_source(profile.source.url, profile)
        if plan.speed != 1.0:
            profile = replace(profile, source=replace(profile.source, speed=plan.speed))
    return profile


def _check_file_source(url: str, profile: Any) -> None:
    """A file to replay must be audio with the profile's channels, one a seat: refused before the hearing
    starts (it used to start, record nothing, and be used up by the stop that ended it)."""
    from capture.errors import CaptureError
    from capture.ffmpeg_source import probe

    try:
        found = probe(url)
    except CaptureError as exc:
        raise ConflictError(f"file source is not audio the server can read: {exc}") from exc
    if found.channels != profile.channel_count:
        raise ConflictError(f"file source has {found.channels} channel(s); profile {profile.name!r} records "
                            f"{profile.channel_count} (one a seat)")


class HearingPipeline:
    """Owns one hearing's recorder and tasks; started and stopped by ``lifecycle.HearingRunners``."""

    def __init__(self, services: Services, hearing_id: int, plan: HearingStart) -> None:
        self.services, self.hearing_id, self.plan = services, hearing_id, plan
        self.directory = services.settings.hearing_recording_dir(hearing_id)
        self.stream = None  # type: Any
        self.recorder: Any = None
        self.recording_id = 0
        self.transcribing = False
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._fanout: Any = None
        self.capture_error: str | None = None
        self.backlog = FinalsBacklog(
            self.directory, lambda item: file_held(services, hearing_id, item), self._on_filed, self._on_unsaved)
        self._retry: asyncio.Task[None] | None = None
        self._disk: asyncio.Task[None] | None = None
        self.closing: asyncio.Task[None] | None = None  # see _hold
        self.finalize_when_closed = True  # False while a recess's close is held: the recording goes on later

    # -- start ------------------------------------------------------------------------------------
    async def start(self, *, resumed: bool = False, after_recess: bool = False) -> None:
        """Open (or, its directory holding one, continue) the recording and start the tasks. ``after_recess``:
        the hearing was paused, and the time since its recording was closed is a gap noted as a recess."""
        from capture.fanout import FanOut
        from capture.health import ChannelHealth
        from capture.recorder import RECESS_GAP, RESTART_GAP, Recorder, RecorderOptions

        profile = await asyncio.to_thread(resolve_profile, self.services, self.hearing_id, self.plan)
        self.profile = profile
        cap = self.services.settings.capture
        opts = RecorderOptions.for_profile(
            profile, segment_seconds=cap.segment_seconds, journal_seconds=cap.journal_seconds,
            subtype=cap.flac_subtype, max_pending_seconds=cap.max_pending_seconds, retry_seconds=cap.retry_seconds)
        reserve = self.services.reserve
        if reserve is not None:
            await asyncio.to_thread(reserve.ensure)  # (made again if a full disk took it and space is back)
        self.recorder = await asyncio.to_thread(
            partial(Recorder, self.directory, profile.sample_rate, profile.channel_count, opts, reserve=reserve,
                    resume_reason=RECESS_GAP if after_recess else RESTART_GAP))
        if self.recorder.resumed and profile.source.kind == "replay":
            # A file replayed as the room's audio goes on where the room's time is (its outage a gap),
            # not from its start again: the recording would hold its first minutes twice.
            at = self.recorder.next_sample / profile.sample_rate
            profile = self.profile = replace(profile, source=replace(profile.source, start_s=at))
        self.recording_id, last_seq = await asyncio.to_thread(
            create_or_resume_recording, self.services, self.hearing_id, profile, self.recorder)
        held = await asyncio.to_thread(self.backlog.load)  # finals a killed process could not file
        self.stream = self.services.hub.get(self.hearing_id)
        if self.stream is None or self.stream.closed:
            sealed = await asyncio.to_thread(sealed_ranges.of_hearing, self.services, self.hearing_id)
            self.stream = self.services.hub.stream(self.hearing_id, start_seq=max(last_seq, self.backlog.max_seq),
                                                   sealed_ranges=sealed)
        if held:
            self._on_unsaved(True, self.backlog.message(f"{held} left by the previous run"))
        self._retry = asyncio.create_task(self.backlog.run(), name=f"refile-{self.hearing_id}")
        occupants = await asyncio.to_thread(load_occupants, self.services, self.hearing_id)
        self.seats = LiveAttribution(profile, occupants)
        self._fanout = FanOut(on_event=self._on_capture_event)
        health = ChannelHealth.for_profile(profile)
        subscription = self._fanout.subscribe("transcriber", maxsize=TRANSCRIBER_QUEUE_CHUNKS)
        self._tasks.append(asyncio.create_task(self._capture(health), name=f"capture-{self.hearing_id}"))
        self._disk = asyncio.create_task(self._watch_disk(profile, cap), name=f"disk-{self.hearing_id}")
        self._tasks.append(asyncio.create_task(self._transcribe(subscription), name=f"transcribe-{self.hearing_id}"))
        status = "resumed" if resumed or self.recorder.resumed else "started"
        self.stream.publish("status", {"status": status, "profile": profile.room_id,
                                       "source": profile.source.kind, "seats": ev.seat_table(profile)})

    def _on_capture_event(self, event: Any) -> None:
        """Meters, alarms and capture reports from the capture stage, onto the hub (event loop)."""
        if self.stream is None:
            return
        type_, data = ev.capture_event(event)
        self.stream.publish(type_, data)

    async def _capture(self, health: Any) -> None:
        from capture.pipeline import PipelineOptions, run_capture
        from capture.sources import open_source

        profile = self.profile
        finite = profile.source.kind == "replay"
        try:
            await run_capture(
                lambda: open_source(profile, queue_chunks=self.services.settings.capture.queue_chunks),
                self.recorder, fanout=self._fanout, health=health, on_event=self._on_capture_event,
                options=PipelineOptions(retry=not finite, reopen_ended=not finite,
                                        retry_seconds=self.services.settings.capture.retry_seconds),
                stop=self._stop,
            )
            if not self._stop.is_set():
                self.stream.publish("status", {"status": "source_ended"})
        except Exception as exc:  # supervisor: report; what was recorded stays recorded
            log.exception("capture of hearing %s failed", self.hearing_id)
            self.capture_error = str(exc)
            self.stream.publish("alarm", {"kind": "capture_failed", "active": True, "message": str(exc)})
        finally:
            self._fanout.close()

    async def _watch_disk(self, profile: Any, cap: Any) -> None:
        """Every few seconds: raise or clear the low-disk alarm (see ``live.disk``)."""
        import shutil

        from courtroom_api.live.disk import BYTES_PER_SAMPLE, DiskAlarm, recording_minutes_left

        alarm = DiskAlarm(cap.disk_warn_minutes)
        byte_rate = profile.sample_rate * profile.channel_count * BYTES_PER_SAMPLE.get(cap.flac_subtype, 3)
        while True:
            try:
                free = shutil.disk_usage(self.directory).free
            except OSError as exc:
                log.warning("free space of %s unknown: %s", self.directory, exc)
            else:
                recorded_s = self.recorder.next_sample / profile.sample_rate
                change = alarm.update(free, recording_minutes_left(free, byte_rate, recorded_s))
                if change is not None:
                    (log.warning if change["active"] else log.info)("hearing %s: %s", self.hearing_id,
                                                                     change["message"])
                    self.stream.publish("alarm", change)
            await asyncio.sleep(cap.disk_check_seconds)

    async def _transcribe(self, subscription: Any) -> None:
        """Feed the shared transcriber and publish its events; a failure here never stops recording."""
        room = f"hearing-{self.hearing_id}"
        try:
            from courtroom_api.live.transcription import case_vocabulary, room_options

            scheduler = await self.services.transcription.scheduler()
            vocabulary = await asyncio.to_thread(case_vocabulary, self.services, self.hearing_id)
            online, gate = room_options(self.services.settings, vocabulary)
            scheduler.open_room(room, ev.seat_specs(self.profile), self.profile.channel_count, online, gate)
        except Exception as exc:  # supervisor: transcription is optional, the recording is not
            self._transcription_failed(exc)
            async for _ in subscription:  # keep draining so the fan-out never counts drops
                pass
            return
        self.transcribing = True
        events = asyncio.create_task(self._publish_events(scheduler, room))
        lag = asyncio.create_task(self._watch_lag(scheduler, room))
        drain: asyncio.Future[Any] | None = None
        try:
            async for chunk in subscription:
                # The attribution ring first, so a final's audio is always there when it is attributed.
                if self.seats.feed(chunk) and (drain is None or drain.done()):
                    drain = asyncio.ensure_future(asyncio.to_thread(self.seats.drain))
                scheduler.feed(room, chunk)
        except Exception as exc:  # supervisor
            self._transcription_failed(exc)
            # Nothing reads it any more: left subscribed, its full queue raised "consumer is behind" every
            # 100 chunks for the rest of the hearing (715 false alarms an hour).
            self._fanout.unsubscribe(subscription)
        finally:
            lag.cancel()
            with contextlib.suppress(Exception):
                await scheduler.close_room(room)
            await events

    async def _watch_lag(self, scheduler: Any, room: str) -> None:
        """Once a second: raise or clear the transcription-lag and failing-decode alarms (see ``live.lag``)."""
        from courtroom_api.live.lag import DecodeFailureAlarm, LagAlarm

        t = self.services.settings.transcribe
        alarm, failing = LagAlarm(t.lag_alarm_s, t.lag_alarm_s / 2), DecodeFailureAlarm()
        while True:
            await asyncio.sleep(1.0)
            failures = scheduler.room_failures(room)
            for change in (alarm.update(scheduler.room_lag_s(room)),
                           failing.update(failures.consecutive, failures.last_error)):
                if change is not None:
                    self.stream.publish("alarm", change)

    def _transcription_failed(self, exc: Exception) -> None:
        log.exception("transcription of hearing %s failed; recording continues", self.hearing_id, exc_info=exc)
        self.stream.publish("alarm", {"kind": "transcription_failed", "active": True,
                                      "message": f"transcription stopped ({exc}); recording continues"})

    async def _publish_events(self, scheduler: Any, room: str) -> None:
        try:
            async for event in scheduler.events(room):
                if event.kind == "partial":  # partials keep the transcriber's seat: cheap, replaced soon
                    attribution = self.seats.fallback(event.segment)
                    self.stream.publish("transcript.partial", ev.transcript_data(event, attribution),
                                        span=(event.segment.start, event.segment.end))
                    continue
                attribution = await asyncio.to_thread(self.seats.attribute, event.segment)
                await self._file_and_publish(event, attribution)
        except Exception as exc:  # supervisor
            self._transcription_failed(exc)

    async def _file_and_publish(self, event: Any, attribution: Any) -> None:
        """Persist first so the live event can name its segment, then record the seq it got.

        When the dossier refuses (or earlier finals are still held), the final goes out without a
        segment id and waits in the backlog; the live transcript never stops for the database.
        """
        values = final_values(event, attribution)
        filed, error = None, "earlier finals are still waiting"
        if not self.backlog.pending:
            try:
                filed = await asyncio.to_thread(file_final, self.services, self.hearing_id, values)
            except Exception as exc:  # held and retried below
                log.warning("final of hearing %s not filed: %s", self.hearing_id, exc)
                error = reason(exc)
        segment_id = filed.segment_id if filed is not None else None
        # Filed sealed: marked so and redacted whatever the stream knows (a range sealed while this waited for
        # the seal's lock reaches the stream only after the seal commits).
        data, redacted = ev.as_filed(ev.transcript_data(event, attribution, segment_id=segment_id),
                                     filed is not None and filed.sealed)
        published = self.stream.publish(f"transcript.{event.kind}", data, redacted=redacted,
                                        span=(values["start_s"], values["end_s"]))
        if segment_id is None:
            self.backlog.hold(Unfiled(published.seq, values=values), error)
            return
        try:
            await asyncio.to_thread(set_segment_seq, self.services, segment_id, published.seq)
        except Exception as exc:  # the row is in; its seq is set later
            self.backlog.hold(Unfiled(published.seq, segment_id=segment_id), reason(exc))

    def _on_filed(self, seq: int, filed: Filed) -> None:
        """A held final reached the dossier: terminals attach the segment id to the line they show. One
        of a sealed range was filed sealed: it goes out again as sealed, as a line sealed on screen does
        (those who may not see it get it redacted; it went out whole if the seal came after it). Sealed as
        the dossier says, not as the stream's copy of the ranges does, which learns a seal after it commits."""
        if self.stream is None:
            return
        segment_id = filed.segment_id
        self.stream.publish("transcript.filed", {"seq": seq, "segment_id": segment_id})
        data = self.stream.final_data(seq) if filed.sealed else None
        if data is not None:
            self.stream.seal(segment_id, SEALED_TEXT)  # its replay too
            data, redacted = ev.as_filed({**data, "segment_id": segment_id, "change": "sealed"}, True)
            self.stream.publish("transcript.revised", data, redacted=redacted, segment_id=segment_id)

    def _on_unsaved(self, active: bool, message: str) -> None:
        if self.stream is not None:
            self.stream.publish("alarm", {"kind": "transcript_not_saved", "active": active, "message": message,
                                          "held": len(self.backlog.pending)})

    async def _settle_backlog(self) -> None:
        """At stop: one last try for held finals; what is still refused stays in the spill file."""
        if self._retry is not None:
            self._retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry
        if self.backlog.pending and not await self.backlog.flush():
            log.error("hearing %s stops with %d finals not filed; kept in %s",
                      self.hearing_id, len(self.backlog.pending), self.backlog.path)

    async def _recording_problem(self, action: str, kind: str, exc: Exception, what: str,
                                 then: str = LATER) -> None:
        """The stop could not finish the recording: the hearing still closes; audit it and tell the clerk."""
        log.error("recording of hearing %s %s: %s", self.hearing_id, what, exc, exc_info=exc)
        with contextlib.suppress(Exception):  # the database may be what failed
            await asyncio.to_thread(note_recording_failed, self.services, self.hearing_id, self.recording_id,
                                    action, reason(exc))
        cause = reason(exc, hide=(str(self.directory), "the hearing's recording directory"))  # no server paths
        self.stream.publish("alarm", {"kind": kind, "active": True, "message": (
            f"the recording {what} ({cause}); {then}")})

    async def _file_empty(self, chain_head: str) -> None:
        try:
            await asyncio.to_thread(file_empty_recording, self.services, self.hearing_id, self.recording_id,
                                    chain_head)
        except Exception as exc:  # the closed recording stays on disk; the next sweep closes its row
            await self._recording_problem("recording.file_failed", "recording_not_filed", exc,
                                          "held no audio and could not be closed in the dossier")
            return
        self.stream.publish("status", {"status": "recording_empty", "recording_id": self.recording_id,
                                       "duration_s": 0.0, "chain_head": chain_head})

    async def abandon(self) -> None:
        """After a start that failed: its tasks ended and its recorder closed. A new recording that recorded
        nothing is removed (the next start begins a new one, not a resume with a gap at 0:00); one that was
        resumed, or holds audio, stays as it is."""
        self._stop.set()
        if self._fanout is not None:
            self._fanout.close()
        for task in (*self._tasks, self._disk, self._retry):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if self.recorder is None or self.recorder.closed:
            return
        try:
            if not await asyncio.to_thread(self.recorder.discard):
                await asyncio.to_thread(self.recorder.close)
        except Exception:  # what it holds stays on disk; the next start resumes it
            log.exception("hearing %s: the recording of a failed start could not be closed", self.hearing_id)

    # -- stop -------------------------------------------------------------------------------------
    async def stop(self, *, finalize: bool) -> None:
        """Stop capture, flush transcription; with ``finalize`` file the recording in the dossier."""
        stopped_at = time.time()  # a source down by now (failed, or a file that ended) is a gap up to here
        self._stop.set()
        if self._fanout is not None:
            self._fanout.close()
        for task in self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=120)
        if self._disk is not None:
            self._disk.cancel()
        await self._settle_backlog()
        if self.recorder is None:
            return
        # Not part of the recess (or restart) that follows, nor left out at the end: the hearing went on.
        await asyncio.to_thread(self.recorder.outage_until, stopped_at)
        if not finalize:
            try:
                await asyncio.to_thread(self.recorder.close)
            except Exception as exc:  # a full disk: the audio it refused is kept, as a stop keeps it
                if self.recorder.closed or not await self._hold(exc, recess=True):
                    raise
            if self.stream is not None:  # what still holds in the recess: finals or audio held, a failed filing
                still = {"recording_held", "finalize_failed", "recording_not_filed"}
                self.stream.clear_alarms("recess: nothing is recorded", keep=frozenset(
                    still | ({"transcript_not_saved"} if self.backlog.pending else set())))
            return
        await self._finalize_and_file()

    async def _finalize_and_file(self) -> None:
        from capture.errors import EmptyRecordingError

        try:
            final = await asyncio.to_thread(self.recorder.finalize)
        except EmptyRecordingError as empty:  # stopped before any audio arrived: no files to file
            await self._file_empty(empty.chain_head)
            return
        except Exception as exc:  # e.g. a full disk: what is on disk stays there, hash-chained
            if not self.recorder.closed and self.closing is None and await self._hold(exc):
                return
            await self._recording_problem("recording.finalize_failed", "finalize_failed", exc, "could not be finalized")
            return
        try:
            await asyncio.to_thread(file_recording, self.services, self.hearing_id, self.recording_id, final)
        except Exception as exc:  # the finalized files stay on disk, verified
            await self._recording_problem("recording.file_failed", "recording_not_filed", exc,
                                          "was finalized on the server but not filed in the dossier")
            return
        self.stream.publish("status", {"status": "recording_filed", "recording_id": self.recording_id,
                                       "duration_s": round(final.duration_s, 3), "chain_head": final.chain_head})

    async def _hold(self, exc: Exception, *, recess: bool = False) -> bool:
        """The close failed (a full disk): the audio the disk refused is only in this process's memory, and
        reopening the directory later commits only the journal (which stops when the disk fills: a minute
        of the hearing lost without a trace). The recorder is kept and closed as soon as the disk takes it
        (``closing``); the directory stays locked so that no other filing touches it meanwhile. A
        ``recess``'s recording is only written then (the hearing goes on with it), unless the hearing is
        ended meanwhile (``finalize_when_closed``)."""
        try:
            fd = await asyncio.to_thread(lock_recording, self.directory)
        except OSError:
            fd = None
        if fd is None:
            return False
        self.finalize_when_closed = not recess
        held = f"the server holds its last {self.recorder.held_seconds:.0f} s in memory and "
        if recess:
            await self._recording_problem(
                "recording.close_failed", "recording_held", exc, "could not be written for the recess",
                then=held + ("writes them as soon as the disk takes it: free space on the recordings disk, and "
                             "do not restart the server before they are written"))
        else:
            await self._recording_problem(
                "recording.finalize_failed", "finalize_failed", exc, "could not be finalized",
                then=held + ("files it as soon as the disk takes it: free space on the recordings disk, and do "
                             "not restart the server before it is filed"))
        self.closing = asyncio.create_task(self._close_when_written(fd, "recording_held" if recess else
                                                                    "finalize_failed"),
                                           name=f"closing-{self.hearing_id}")
        return True

    async def _close_when_written(self, fd: int, alarm: str) -> None:
        try:
            while not self.recorder.closed:
                await asyncio.sleep(self.services.settings.capture.retry_seconds)
                with contextlib.suppress(Exception):  # still refused: tried again
                    await asyncio.to_thread(self.recorder.close)
            log.warning("hearing %s: the recording its stop could not write is on disk now", self.hearing_id)
            done = "the audio the server held is on disk now"
            if not self.finalize_when_closed:  # in recess still: written, to be continued (no await before
                # the lock goes, so a stop from now on finds the recording closed and files it itself)
                self.stream.publish("alarm", {"kind": alarm, "active": False, "message": done})
                return
            # The hearing's stream is closed: a console that reconnects (after=its last seq) gets these two,
            # not a finalize_failed alarm that stays on for good.
            self.stream.publish("alarm", {"kind": alarm, "active": False,
                                          "message": f"{done}; the recording is filed"})
            await self._finalize_and_file()
        finally:
            if not self.recorder.closed:
                log.error("hearing %s: %.1f s of its recording never reached the disk and are lost with this "
                          "process", self.hearing_id, self.recorder.held_seconds)
            os.close(fd)
