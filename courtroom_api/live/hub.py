"""Per-hearing live event hub: sequence numbers, replay after N, bounded per-client queues.

Every event of a hearing (transcript partial/final/revised, level meter, channel alarm, display
state) gets a per-hearing monotonic ``seq``. The wire text is serialized once at publish time and
shared by every viewer, so fan-out cost is a queue append per viewer.

Back-pressure policy (a slow or dead client never slows capture or other clients):
- *droppable* events (partials, meters) are superseded by later ones: when a client's queue is full
  the oldest droppable event is evicted, or the new droppable event is dropped;
- *durable* events (finals, revisions, alarms, display changes, and an empty partial: it takes a seat's
  provisional line back, nothing later supersedes it) are never dropped: a client whose
  queue is full of them is disconnected and resumes with ``after=<last seq it received>``.
Durable events are kept in a bounded ring so a reconnecting terminal gets everything after N.
Sealing a segment redacts its events in the ring (and in queues not yet sent), so a viewer who may
not see sealed content never gets the text again by replaying from an earlier seq. A stream also
knows the hearing's range seals: a transcript event of a sealed time is redacted when it is published
(a final that comes after the seal: held and retried, or transcription behind the audio), and one in
the ring when the range is sealed (a final held unfiled, so no segment of it was there to seal).
Sealing an exhibit redacts the display events that showed it the same way.

A new viewer is sent the state now before what follows: the display and the alarms in force (the latest
report of each alarm kind and channel, those cleared left out), so a console opened, reloaded or
reconnected after a reset shows an alarm raised before it came. Each stream has an ``epoch`` (named in
``hello`` and ``reset``): a stream made after a restart numbers on from the last saved final, so a seq
from the previous stream can fall inside the new numbering; a reconnect naming another epoch is reset.

A stream that is over (its hearing ended) or holds nothing (a scheduled hearing's viewers came and
went) is let go once nobody has used it for ``keep_idle_s``: a terminal reconnecting soon after the end
still gets its last events, a later one the dossier (a fresh stream, numbered on from it).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from courtroom_api.errors import SubscriberClosedError
from courtroom_api.exports.records import SEALED_TEXT
from courtroom_api.live.events import scrub

# Event types whose later instances supersede earlier ones.
DROPPABLE_TYPES = frozenset({"transcript.partial", "meter"})
# Event types that show a line's text at a time of the recording (data ``start``/``end``), before it is filed.
TIMED_TYPES = frozenset({"transcript.partial", "transcript.final", "transcript.revised"})


@dataclass(slots=True, eq=False)
class LiveEvent:
    """One published event with its wire text (and a redacted variant for sealed content)."""

    seq: int
    type: str
    wire: str
    emitted_at: float
    redacted_wire: str | None = None  # what viewers who may not see sealed content get (set when sealed)
    segment_id: int | None = None  # the transcript segment a transcript event is about, once filed
    span: tuple[float, float] | None = None  # (start, end) of a partial's or final's line, seconds
    durable: bool = False  # of a droppable type, yet nothing later supersedes it (an empty partial)

    @property
    def droppable(self) -> bool:
        return self.type in DROPPABLE_TYPES and not self.durable

    def wire_for(self, may_see_sealed: bool) -> str:
        if self.redacted_wire is not None and not may_see_sealed:
            return self.redacted_wire
        return self.wire


def _encode(seq: int, type_: str, emitted_at: float, data: Mapping[str, Any]) -> str:
    return json.dumps(
        {"seq": seq, "type": type_, "t": round(emitted_at, 6), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


def _redacted(wire: str, text: str) -> str:
    """``wire`` with its transcript text and words replaced by ``text`` (a sealed line's placeholder)."""
    event = json.loads(wire)
    event["data"] = {**event["data"], "text": text, "words": []}
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(slots=True, eq=False)
class Subscriber:
    """One viewer's bounded queue. Filled by :meth:`HearingStream.publish`, drained by the socket."""

    max_queue: int
    may_see_sealed: bool = False
    last_seq: int = 0  # the last seq handed to the client
    dropped: int = 0  # droppable events dropped for this client
    closed_reason: str | None = None
    lagged: bool = False  # closed because it could not keep up with durable events
    _queue: deque[LiveEvent] = field(default_factory=deque)
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, event: LiveEvent) -> None:
        """Queue an event without ever blocking the publisher."""
        if self.closed_reason is not None:
            return
        if len(self._queue) >= self.max_queue and not self._make_room(event):
            return
        self._queue.append(event)
        self._wakeup.set()

    def _make_room(self, event: LiveEvent) -> bool:
        """Evict the oldest droppable event; returns False when ``event`` must not be queued."""
        for i, queued in enumerate(self._queue):
            if queued.droppable:
                del self._queue[i]
                self.dropped += 1
                return True
        if event.droppable:
            self.dropped += 1
            return False
        self.lagged = True
        self.close(f"client fell behind ({self.max_queue} undelivered durable events)")
        return False

    def close(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
        self._wakeup.set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def next(self) -> LiveEvent:
        """The next event; raises :class:`SubscriberClosedError` once closed and drained.

        A client closed because it fell behind gets nothing more, so it resumes exactly after the
        last event it received.
        """
        while True:
            if self.closed_reason is not None and (not self._queue or self.lagged):
                raise SubscriberClosedError(self.closed_reason, self.last_seq)
            if self._queue:
                event = self._queue.popleft()
                self.last_seq = event.seq
                return event
            self._wakeup.clear()
            await self._wakeup.wait()


class HearingStream:
    """The event stream of one hearing."""

    def __init__(self, hearing_id: int, *, ring_size: int = 10_000, start_seq: int = 0,
                 sealed_ranges: Sequence[tuple[float, float]] = (), sealed_text: str = SEALED_TEXT) -> None:
        self.hearing_id = hearing_id
        self._sealed_ranges, self._sealed_text = list(sealed_ranges), sealed_text
        self._seq = self._start_seq = start_seq
        self._touched = time.monotonic()  # last subscribe, unsubscribe, publish, close or lookup
        self._ring: deque[LiveEvent] = deque(maxlen=ring_size)
        self._subscribers: set[Subscriber] = set()
        self._latest_display: LiveEvent | None = None
        self._alarms: dict[tuple[str, object], LiveEvent] = {}  # in force, by (kind, channel)
        self.epoch = secrets.token_hex(8)  # this stream's identity: its seqs mean nothing to another's
        self.closed = False

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def has_display(self) -> bool:
        """A display event was published here (new subscribers are sent the latest)."""
        return self._latest_display is not None

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(
        self, type_: str, data: Mapping[str, Any], *, redacted: Mapping[str, Any] | None = None,
        segment_id: int | None = None, span: tuple[float, float] | None = None,
    ) -> LiveEvent:
        """Assign the next seq, serialize once, hand to every subscriber. Never blocks.

        ``segment_id``: the transcript segment the event shows (a final's ``data["segment_id"]`` by default).
        ``span``: a partial's or final's (start, end) as the dossier has them (``data``'s are rounded), for
        range seals; ``data["start"]``, ``data["end"]`` by default.
        """
        if type_ == "alarm" and isinstance(data.get("message"), str):
            # Every viewer gets it, a party's screen and a room's terminal too: no stream password, no
            # server path (the server's log has the whole text). What a new viewer is sent is this too.
            data = {**data, "message": scrub(data["message"])}
        self._seq += 1
        self.touch()
        now = time.time()
        if segment_id is None and type_ == "transcript.final":
            segment_id = data.get("segment_id")
        # An empty partial takes its seat's provisional line back: no later partial or final of the seat need
        # come to replace it, and it has no text of a time to seal.
        takes_back = type_ == "transcript.partial" and data.get("text") == ""
        span = None if takes_back else span if span is not None and type_ in TIMED_TYPES else _span(type_, data)
        if redacted is None and span is not None and self._in_sealed_range(span):
            redacted = {**data, "text": self._sealed_text, "words": []}
        event = LiveEvent(
            seq=self._seq,
            type=type_,
            wire=_encode(self._seq, type_, now, data),
            emitted_at=now,
            redacted_wire=_encode(self._seq, type_, now, redacted) if redacted is not None else None,
            segment_id=segment_id,
            span=span,
            durable=takes_back,
        )
        if type_ == "transcript.filed":  # a held final reached the dossier: it now names its segment
            self._attach(int(data["seq"]), int(data["segment_id"]))
        if not event.droppable:
            self._ring.append(event)
        if type_ == "display":
            self._latest_display = event
        elif type_ == "alarm":
            self._note_alarm(data, event)
        for sub in tuple(self._subscribers):
            sub.offer(event)
            if sub.closed_reason is not None:
                self._subscribers.discard(sub)
        return event

    def _note_alarm(self, data: Mapping[str, Any], event: LiveEvent) -> None:
        """Keep the alarms in force: a report raises its kind (on its channel), ``active: false`` ends it,
        and ``clears`` ends those kinds on the same channel (as the clerk console reads them)."""
        channel = data.get("channel")
        for kind in data.get("clears") or ():
            self._alarms.pop((str(kind), channel), None)
        key = (str(data.get("kind")), channel)
        if data.get("active") is False or data.get("clears"):
            self._alarms.pop(key, None)
        else:
            self._alarms[key] = event

    def clear_alarms(self, message: str, *, keep: frozenset[str] = frozenset()) -> None:
        """End every alarm in force but those of the kinds in ``keep`` (each on its seat or channel), as if
        its raiser had cleared it: a recess stops what raised them, and the pipeline that goes on after it
        starts knowing of none, so nothing else would (a new console showed a full disk all recess and after)."""
        for (kind, _), event in list(self._alarms.items()):
            if kind not in keep:
                raised = json.loads(event.wire)["data"]
                where = {key: raised[key] for key in ("seat", "channel") if key in raised}
                self.publish("alarm", {"kind": kind, "active": False, "message": message, **where})

    def end_alarm(self, kind: str, message: str) -> bool:
        """End the alarm of ``kind`` (not a seat's or a channel's) if it is in force; False if it is not."""
        if (kind, None) not in self._alarms:
            return False
        self.publish("alarm", {"kind": kind, "active": False, "message": message})
        return True

    def _attach(self, seq: int, segment_id: int) -> None:
        for event in reversed(self._ring):
            if event.seq == seq:
                event.segment_id = segment_id
                return
            if event.seq < seq:
                return

    def seal(self, segment_id: int, text: str) -> int:
        """Redact the transcript events of a segment sealed now (replays, and queues not yet sent):
        viewers who may not see sealed content get ``text`` and no words. Returns how many."""
        redacted = 0
        for event in self._ring:
            if event.segment_id == segment_id:
                event.redacted_wire = _redacted(event.wire, text)
                redacted += 1
        return redacted

    def set_sealed_ranges(self, ranges: Sequence[tuple[float, float]], text: str) -> int:
        """The hearing's range seals are now ``ranges``: later events of those times are redacted to
        ``text``, and so are those in the ring (replays, queues not yet sent). Returns how many were
        redacted now. (Events of a time unsealed stay redacted, as a segment's do.)"""
        self._sealed_ranges, self._sealed_text = list(ranges), text
        redacted = 0
        for event in self._ring:
            if event.redacted_wire is None and event.span is not None and self._in_sealed_range(event.span):
                event.redacted_wire = _redacted(event.wire, text)
                redacted += 1
        return redacted

    def _in_sealed_range(self, span: tuple[float, float]) -> bool:
        start, end = span
        return any(end > a and start < b for a, b in self._sealed_ranges)  # as a range seal picks its lines

    def final_data(self, seq: int) -> dict[str, Any] | None:
        """The data of event ``seq`` as published, while the ring holds it: a held final filed sealed since
        goes out again as sealed with it."""
        for event in reversed(self._ring):
            if event.seq == seq:
                return dict(json.loads(event.wire)["data"])
            if event.seq < seq:
                return None
        return None

    def redact_display(self, evidence_id: int, blank: Mapping[str, Any]) -> int:
        """Redact the display events that show an exhibit sealed now (replays, queues not yet sent, the
        state a new screen is sent first): viewers who may not see sealed items get ``blank``. Returns how many."""
        events = [e for e in self._ring if e.type == "display"]
        if self._latest_display is not None and self._latest_display not in events:
            events.append(self._latest_display)  # evicted from the ring, still sent to new screens
        redacted = 0
        for event in events:
            if json.loads(event.wire)["data"].get("evidence_id") == evidence_id:
                event.redacted_wire = _encode(event.seq, event.type, event.emitted_at, blank)
                redacted += 1
        return redacted

    def subscribe(self, *, after: int | None = None, epoch: str | None = None, max_queue: int = 256,
                  may_see_sealed: bool = False) -> Subscriber:
        """A new subscriber; with ``after`` it first gets every durable event with seq > after.

        When the ring no longer reaches back to ``after``, or ``after`` is a seq of another stream (``epoch``
        is not this stream's: the server restarted), the client gets a ``reset`` event first and should
        reload the persisted transcript over REST; the alarms in force follow it. A new subscriber
        (no ``after``) gets the display state and the alarms in force first.
        """
        sub = Subscriber(max_queue=max_queue, may_see_sealed=may_see_sealed)
        self.touch()
        if after is not None:
            other = epoch is not None and epoch != self.epoch
            oldest = self._ring[0].seq if self._ring else self._seq + 1
            if other or (after + 1 < oldest and after < self._seq) or after > self._seq:
                # Evicted events, or a client of an earlier stream (the server restarted and only persisted
                # finals carried the seq over): reload over REST, then follow. No REST read has alarms.
                sub._queue.append(self._reset_event(after, oldest, other))
                sub._queue.extend(self._alarms.values())
            if other:  # its seqs are not this stream's: nothing here is "after" them
                sub.last_seq = self._seq
            else:
                sub._queue.extend(e for e in self._ring if e.seq > after)
                sub.last_seq = after
        else:
            if self._latest_display is not None:
                # A new screen shows what is on display now.
                sub._queue.append(self._latest_display)
            sub._queue.extend(self._alarms.values())
        if self.closed:
            sub.close("hearing stream closed")
        else:
            self._subscribers.add(sub)
        return sub

    def _reset_event(self, after: int, oldest: int, other: bool) -> LiveEvent:
        if other:
            reason = "a seq of another stream (server restarted)"
        else:
            reason = "ahead of this stream (server restarted)" if after > self._seq else "events were evicted"
        data = {"after": after, "oldest_available": oldest, "last_seq": self._seq, "epoch": self.epoch,
                "reason": reason}
        return LiveEvent(seq=after, type="reset", wire=_encode(after, "reset", time.time(), data), emitted_at=time.time())

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)
        self.touch()
        sub.close("unsubscribed")

    def touch(self) -> None:
        """Someone used the stream now: it is kept for the hub's ``keep_idle_s`` from here."""
        self._touched = time.monotonic()

    def unused_for(self, seconds: float, now: float) -> bool:
        """Over (or holding nothing) and unused for ``seconds``. Never while a viewer is on it, nor while
        it is open and has events (a live hearing's, or one whose resume failed: its alarm)."""
        if self._subscribers or not (self.closed or self._seq == self._start_seq):
            return False
        return now - self._touched >= seconds

    def close(self) -> None:
        """End of the hearing: subscribers drain what they have and then end."""
        self.closed = True
        self.touch()
        for sub in tuple(self._subscribers):
            sub.close("hearing stream closed")
        self._subscribers.clear()


def _span(type_: str, data: Mapping[str, Any]) -> tuple[float, float] | None:
    """(start, end) of a partial's or final's line, or None."""
    start, end = data.get("start"), data.get("end")
    if type_ not in TIMED_TYPES or not isinstance(start, int | float) or not isinstance(end, int | float):
        return None
    return float(start), float(end)


class EventHub:
    """All live hearings' streams of one server process."""

    def __init__(self, *, ring_size: int = 10_000, keep_idle_s: float = 300.0) -> None:
        self._streams: dict[int, HearingStream] = {}
        self._ring_size = ring_size
        self.keep_idle_s = keep_idle_s

    def stream(self, hearing_id: int, *, start_seq: int = 0,
               sealed_ranges: Sequence[tuple[float, float]] = ()) -> HearingStream:
        """The hearing's stream, created on first use (``start_seq`` continues after a restart, and
        ``sealed_ranges`` are the hearing's range seals in the dossier)."""
        stream = self.get(hearing_id)
        if stream is None or stream.closed:
            stream = HearingStream(hearing_id, ring_size=self._ring_size, start_seq=start_seq,
                                   sealed_ranges=sealed_ranges)
            self._streams[hearing_id] = stream
        return stream

    def get(self, hearing_id: int) -> HearingStream | None:
        """The hearing's stream if this process has one. A lookup counts as a use: the caller (a pipeline
        starting, a route publishing) gets it kept while it holds it."""
        self._let_go_idle()
        stream = self._streams.get(hearing_id)
        if stream is not None:
            stream.touch()
        return stream

    def streams(self) -> list[HearingStream]:
        """Every stream this process holds (open or over)."""
        return list(self._streams.values())

    def _let_go_idle(self) -> None:
        """Drop the streams nobody has used for ``keep_idle_s`` (ended hearings' with their rings of
        finals, scheduled hearings' that their viewers left): a server running for weeks kept them all."""
        now = time.monotonic()
        for hearing_id, stream in list(self._streams.items()):
            if stream.unused_for(self.keep_idle_s, now) and self._streams.get(hearing_id) is stream:
                self._streams.pop(hearing_id, None)

    def close(self, hearing_id: int) -> None:
        stream = self._streams.get(hearing_id)
        if stream is not None:
            stream.close()
