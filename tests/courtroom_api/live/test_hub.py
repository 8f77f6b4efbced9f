import asyncio
import json

import pytest

from courtroom_api.errors import SubscriberClosedError
from courtroom_api.live.hub import EventHub, HearingStream


async def test_seq_is_monotonic_and_every_viewer_gets_every_event() -> None:
    stream = EventHub().stream(1)
    subs = [stream.subscribe() for _ in range(5)]
    for i in range(20):
        stream.publish("transcript.final", {"text": f"line {i}"})
    for sub in subs:
        got = [json.loads((await sub.next()).wire) for _ in range(20)]
        assert [g["seq"] for g in got] == list(range(1, 21))
        assert got[-1]["data"]["text"] == "line 19"


async def test_reconnect_after_n_gets_everything_durable_after_n() -> None:
    stream = HearingStream(7)
    for i in range(10):
        stream.publish("transcript.partial", {"text": f"p{i}"})
        stream.publish("transcript.final", {"text": f"f{i}"})
    sub = stream.subscribe(after=10)
    got = []
    while sub.pending:
        got.append(json.loads((await sub.next()).wire))
    assert [g["seq"] for g in got] == [12, 14, 16, 18, 20]
    assert all(g["type"] == "transcript.final" for g in got)


async def test_slow_client_drops_partials_but_never_finals_and_others_unaffected() -> None:
    stream = HearingStream(1)
    slow = stream.subscribe(max_queue=8)
    fast = stream.subscribe(max_queue=8)
    seen_fast = []
    for i in range(100):
        stream.publish("transcript.partial", {"i": i})
        if i % 25 == 0:
            stream.publish("transcript.final", {"i": i})
        while fast.pending:
            seen_fast.append(await fast.next())
    assert len(seen_fast) == 104  # the fast client lost nothing
    assert slow.closed_reason is None
    slow_events = []
    while slow.pending:
        slow_events.append(await slow.next())
    finals = [e for e in slow_events if e.type == "transcript.final"]
    assert len(finals) == 4  # every final kept
    assert slow.dropped == 104 - len(slow_events)
    assert [e.seq for e in slow_events] == sorted(e.seq for e in slow_events)


async def test_client_that_cannot_keep_up_with_finals_is_disconnected_and_resumes() -> None:
    stream = HearingStream(1)
    slow = stream.subscribe(max_queue=4)
    first = None
    for i in range(10):
        stream.publish("transcript.final", {"i": i})
        if i == 0:
            first = await slow.next()
    assert first is not None and first.seq == 1
    assert slow.lagged and stream.subscriber_count == 0
    with pytest.raises(SubscriberClosedError) as err:
        await slow.next()
    assert err.value.last_seq == 1
    again = stream.subscribe(after=err.value.last_seq)
    assert [(await again.next()).seq for _ in range(9)] == list(range(2, 11))


async def test_sealed_content_is_redacted_for_viewers_who_may_not_see_it() -> None:
    stream = HearingStream(1)
    clerk = stream.subscribe(may_see_sealed=True)
    party = stream.subscribe()
    stream.publish("transcript.final", {"text": "secret"}, redacted={"text": "[sealed]"})
    ev_c, ev_p = await clerk.next(), await party.next()
    assert json.loads(ev_c.wire_for(clerk.may_see_sealed))["data"]["text"] == "secret"
    assert json.loads(ev_p.wire_for(party.may_see_sealed))["data"]["text"] == "[sealed]"


async def test_waiting_viewer_wakes_on_publish_and_ends_on_close() -> None:
    stream = HearingStream(1)
    sub = stream.subscribe()
    task = asyncio.create_task(sub.next())
    await asyncio.sleep(0.01)
    stream.publish("alarm", {"channel": 2, "kind": "dead"})
    assert (await asyncio.wait_for(task, 1)).type == "alarm"
    stream.close()
    with pytest.raises(SubscriberClosedError):
        await asyncio.wait_for(sub.next(), 1)


async def test_evicted_ring_tells_reconnecting_client_to_reset() -> None:
    stream = HearingStream(1, ring_size=5)
    for i in range(20):
        stream.publish("transcript.final", {"i": i})
    sub = stream.subscribe(after=3)
    first = await sub.next()
    assert first.type == "reset"
    assert [(await sub.next()).seq for _ in range(5)] == [16, 17, 18, 19, 20]


async def test_new_screen_gets_current_display_state() -> None:
    stream = HearingStream(1)
    stream.publish("display", {"exhibit": "P-1", "page": 2})
    stream.publish("display", {"exhibit": "P-2", "page": 1})
    sub = stream.subscribe()
    assert json.loads((await sub.next()).wire)["data"]["exhibit"] == "P-2"


async def test_client_ahead_of_a_restarted_stream_is_told_to_reset() -> None:
    stream = HearingStream(1, start_seq=40)  # a restart: seq continues after the last persisted final
    sub = stream.subscribe(after=57)
    reset = await sub.next()
    assert reset.type == "reset" and "restarted" in reset.wire
    stream.publish("transcript.final", {"i": 1})
    assert (await sub.next()).seq == 41


def test_a_range_seal_redacts_the_lines_of_its_time_sent_before_and_after_it() -> None:
    """A final of a sealed stretch that was sent before it was filed (held) is redacted in replays once the
    range is sealed; finals and partials of that time published later go out redacted; others do not.
    A held final's data, to send it again sealed once filed, is there while the ring holds it."""
    stream = HearingStream(1)
    held = stream.publish("transcript.final", {"segment_id": None, "start": 6.4, "end": 7.6, "text": "住址机密路",
                                               "words": [{"text": "住址"}]})
    outside = stream.publish("transcript.final", {"segment_id": 3, "start": 8.6, "end": 9.6, "text": "休庭"})
    assert stream.set_sealed_ranges([(6.0, 8.0)], "【不公开】") == 1
    late = stream.publish("transcript.final", {"segment_id": 4, "start": 7.999, "end": 8.5, "text": "电话号码"})
    partial = stream.publish("transcript.partial", {"start": 5.0, "end": 6.2, "text": "身份证号"})
    after = stream.publish("transcript.final", {"segment_id": 5, "start": 8.0, "end": 8.5, "text": "继续"})
    # data's times are rounded: the line's own (as the dossier has them, and seals) decide
    precise = stream.publish("transcript.final", {"segment_id": 6, "start": 8.0, "end": 8.5, "text": "尾音"},
                             span=(7.9996, 8.5))
    for event, text in ((held, "住址机密路"), (late, "电话号码"), (partial, "身份证号"), (precise, "尾音")):
        assert json.loads(event.wire_for(False))["data"] == {**json.loads(event.wire)["data"], "text": "【不公开】",
                                                             "words": []}
        assert json.loads(event.wire_for(True))["data"]["text"] == text
    assert outside.wire_for(False) == outside.wire and after.wire_for(False) == after.wire
    stream.publish("transcript.filed", {"seq": held.seq, "segment_id": 9})
    assert stream.final_data(held.seq) == json.loads(held.wire)["data"]
    assert stream.final_data(stream.last_seq + 1) is None
    stream.set_sealed_ranges([], "【不公开】")  # unsealed: later lines go out whole, earlier stay redacted
    assert stream.publish("transcript.final", {"start": 6.5, "end": 7.0, "text": "公开"}).redacted_wire is None
    assert held.wire_for(False) != held.wire


async def _drain(sub) -> list[tuple[int, str, str]]:
    got = []
    while sub.pending:
        event = json.loads((await sub.next()).wire)
        got.append((event["seq"], event["type"], event["data"].get("kind", "")))
    return got


async def test_a_new_viewer_gets_the_alarms_in_force_and_not_those_cleared() -> None:
    """A console opened or reloaded after an alarm was raised showed the hearing without it."""
    stream = HearingStream(1)
    stream.publish("alarm", {"kind": "resume_failed", "active": True, "message": "did not resume"})
    stream.publish("alarm", {"kind": "dead_channel", "active": True, "channel": 0})
    stream.publish("alarm", {"kind": "dead_channel", "active": True, "channel": 1})
    stream.publish("alarm", {"kind": "dead_channel", "active": False, "channel": 1})
    stream.publish("alarm", {"kind": "disk_full", "active": True, "frames": 10})
    stream.publish("alarm", {"kind": "write_resumed", "active": False, "clears": ["disk_full", "write_error"]})
    stream.publish("alarm", {"kind": "disk_low", "active": True, "value": 9.0})
    stream.publish("alarm", {"kind": "disk_low", "active": True, "value": 4.0})  # its latest report
    stream.publish("meter", {"time_s": 1.0})
    got = await _drain(stream.subscribe())
    assert got == [(1, "alarm", "resume_failed"), (2, "alarm", "dead_channel"), (8, "alarm", "disk_low")]


async def test_a_reconnect_from_before_a_restart_is_reset_and_gets_the_alarms() -> None:
    """After a restart the stream numbers on from the last saved final: a console reconnecting with its old
    seq landed inside the new numbering and missed the alarm, with no reset."""
    before = HearingStream(1)
    for _ in range(15):
        before.publish("meter", {})
    stream = HearingStream(1, start_seq=10)  # the server restarted; the last saved final was seq 10
    stream.publish("alarm", {"kind": "resume_failed", "active": True})
    stream.publish("status", {"status": "resumed"})
    for _ in range(9):
        stream.publish("meter", {})
    sub = stream.subscribe(after=15, epoch=before.epoch)
    reset = json.loads((await sub.next()).wire)
    assert reset["type"] == "reset" and reset["data"]["last_seq"] == 21 and reset["data"]["epoch"] == stream.epoch
    assert await _drain(sub) == [(11, "alarm", "resume_failed")]
    stream.publish("meter", {})
    assert (await sub.next()).seq == 22
    same = stream.subscribe(after=12, epoch=stream.epoch)  # this stream's own seq: no reset
    stream.publish("transcript.final", {"text": "x"})
    assert await _drain(same) == [(23, "transcript.final", "")]


def test_an_empty_partial_reaches_a_slow_client_and_is_never_sealed() -> None:
    """An empty partial takes a seat's provisional line back (its utterance was dropped): no later partial
    or final of that seat may come to replace it. It was dropped as a partial is for a client whose queue
    is full, and one at a time of a sealed range went out as a 【不公开】 line that nothing took back."""
    stream = HearingStream(1)
    stream.set_sealed_ranges([(30.0, 50.0)], "【不公开】")
    slow = stream.subscribe(max_queue=4)
    for i in range(4):
        stream.publish("transcript.final", {"start": 10.0 + i, "end": 11.0 + i, "text": f"f{i}", "channel": 1})
    back = stream.publish("transcript.partial", {"start": 41.0, "end": 41.0, "text": "", "channel": 3})
    assert back.wire_for(False) == back.wire
    # Its queue full of finals: not dropped, the client resumes after its last seq and gets it then.
    assert slow.lagged and slow.dropped == 0
    assert list(stream.subscribe(after=4)._queue) == [back]
