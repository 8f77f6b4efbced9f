"""Finals the dossier refuses are held on disk, retried in order, filed once, on both databases."""

from __future__ import annotations

import json

from sqlalchemy import select

from courtroom_api.live.filing import Filed, file_final
from courtroom_api.live.unfiled import SPILL_NAME, FinalsBacklog, Unfiled, file_held, reason, refile_leftovers


def _values(text: str, start: float) -> dict:
    return {"start_s": start, "end_s": start + 1.5, "text": text,
            "words": [{"start": start, "end": start + 1.5, "word": text, "probability": 0.9}],
            "language": "zh", "channel": 0, "seat": "judge", "role": "presiding_judge", "participant_id": None,
            "confidence": 0.9, "engine": "test", "model": "test"}


def _rows(services, hearing_id: int, seqs: list[int]) -> list[tuple[int, int, str]]:
    from models import TranscriptSegment

    with services.sessions() as s:
        return [(r.id, r.seq, r.text) for r in s.scalars(select(TranscriptSegment).where(
            TranscriptSegment.hearing_id == hearing_id, TranscriptSegment.seq.in_(seqs)).order_by(TranscriptSegment.id))]


def _new_hearing(world) -> int:
    """A hearing of its own, so the shared world's transcripts stay as other tests expect."""
    from models import Hearing

    with world.client.app.state.services.write_sessions() as s:
        hearing = Hearing(case_id=world.ids["case"], courtroom_id=world.ids["room"], title="held finals")
        s.add(hearing)
        s.commit()
        return int(hearing.id)


def _late_audits(services, hearing_id: int) -> list[tuple[int, int]]:
    from models import AuditEvent

    with services.sessions() as s:
        return [(e.details["segment_id"], e.details["seq"]) for e in s.scalars(select(AuditEvent).where(
            AuditEvent.action == "transcript.filed_late", AuditEvent.object == f"hearing:{hearing_id}"
        ).order_by(AuditEvent.id))]


async def test_refused_finals_are_held_on_disk_and_filed_in_order_once_it_recovers(
        world, refusing_writes, tmp_path) -> None:
    services = world.client.app.state.services
    hid = _new_hearing(world)
    seqs = [9101, 9102, 9103]
    filed, alarms = [], []
    backlog = FinalsBacklog(tmp_path, lambda u: file_held(services, hid, u),
                            lambda seq, done: filed.append((seq, done.segment_id)), lambda a, m: alarms.append((a, m)))
    with refusing_writes(services.engine, "transcript_segments"):
        try:
            file_final(services, hid, _values("第一句。", 100.0))
            raise AssertionError("the trigger did not refuse the insert")
        except Exception as exc:
            error = reason(exc)
        assert error == "the dossier refuses writes (test)"
        for i, seq in enumerate(seqs):
            backlog.hold(Unfiled(seq, values=_values(f"第{i + 1}句。", 100.0 + 2 * i)), error)
        spilled = [json.loads(line) for line in (tmp_path / SPILL_NAME).read_text().splitlines()]
        assert [u["seq"] for u in spilled] == seqs and spilled[0]["values"]["text"] == "第1句。"
        assert alarms == [(True, "transcript not saved to the dossier (the dossier refuses writes (test)); "
                                 "held on the server and retried")]
        assert not await backlog.flush()  # still refused: nothing filed, nothing dropped
        assert len(backlog.pending) == 3 and filed == [] and (tmp_path / SPILL_NAME).is_file()
    assert await backlog.flush()
    rows = _rows(services, hid, seqs)
    assert [(seq, text) for _, seq, text in rows] == [(9101, "第1句。"), (9102, "第2句。"), (9103, "第3句。")]
    assert filed == [(seq, sid) for sid, seq, _ in rows]
    assert not (tmp_path / SPILL_NAME).exists() and backlog.pending == []
    assert alarms[-1][0] is False
    assert _late_audits(services, hid) == [(sid, seq) for sid, seq, _ in rows]

    # A crash after the commit but before the spill file was updated replays a filed final: it is
    # recognised by its seq, not filed twice.
    (tmp_path / SPILL_NAME).write_text(json.dumps({"seq": 9102, "values": _values("第2句。", 102.0)}) + "\n")
    again: list = []
    replay = FinalsBacklog(tmp_path, lambda u: file_held(services, hid, u),
                           lambda seq, done: again.append((seq, done.segment_id)), lambda a, m: None)
    assert replay.load() == 1 and await replay.flush()
    assert again == [(9102, rows[1][0])] and len(_rows(services, hid, seqs)) == 3


async def test_a_filed_final_whose_seq_was_refused_gets_it_later(world, tmp_path) -> None:
    services = world.client.app.state.services
    hid = _new_hearing(world)
    sid = file_final(services, hid, _values("没有序号的一句。", 200.0)).segment_id
    backlog = FinalsBacklog(tmp_path, lambda u: file_held(services, hid, u), lambda seq, s: None,
                            lambda a, m: None)
    backlog.hold(Unfiled(9201, segment_id=sid), "database is locked")
    assert await backlog.flush()
    assert _rows(services, hid, [9201]) == [(sid, 9201, "没有序号的一句。")]


async def test_held_finals_of_a_stopped_hearing_are_filed_at_start_up(world) -> None:
    services = world.client.app.state.services
    hid = _new_hearing(world)
    directory = services.settings.recordings_dir / f"hearing-{hid}"
    directory.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"seq": 9301, "values": _values("休庭前最后一句。", 300.0)}), '{"seq": 93']  # torn last line
    (directory / SPILL_NAME).write_text("\n".join(lines) + "\n")
    await refile_leftovers(services, running=set())
    assert [(seq, text) for _, seq, text in _rows(services, hid, [9301])] == [(9301, "休庭前最后一句。")]
    assert not (directory / SPILL_NAME).exists()
    # A running hearing's spill file is its pipeline's to file, not the sweep's.
    (directory / SPILL_NAME).write_text(json.dumps({"seq": 9302, "values": _values("x", 302.0)}) + "\n")
    await refile_leftovers(services, running={hid})
    assert _rows(services, hid, [9302]) == [] and (directory / SPILL_NAME).is_file()
    (directory / SPILL_NAME).unlink()


async def test_a_line_torn_by_a_crash_is_dropped_from_the_spill_file_not_counted_as_held(world, tmp_path) -> None:
    """A kill in the middle of writing the first held final leaves a torn line: it holds no final, so it
    does not keep the record from being signed, and the next held final is not glued onto it."""
    from courtroom_api.live.unfiled import held_finals

    services = world.client.app.state.services
    hid = _new_hearing(world)
    directory = services.settings.hearing_recording_dir(hid)
    directory.mkdir(parents=True, exist_ok=True)
    spill = directory / SPILL_NAME
    spill.write_text('{"seq": 4, "values": {"start_s": 1.0, "te')  # torn: no end, no newline
    assert held_finals(services, hid) == 0
    backlog = FinalsBacklog(directory, lambda item: Filed(1), lambda seq, done: None, lambda active, msg: None)
    assert backlog.load() == 0 and not spill.exists()
    spill.write_text(json.dumps({"seq": 5, "values": _values("第一句。", 0.0)}) + "\n" + '{"seq": 6, "val')
    backlog = FinalsBacklog(directory, lambda item: Filed(1), lambda seq, done: None, lambda active, msg: None)
    assert backlog.load() == 1 and held_finals(services, hid) == 1
    backlog.hold(Unfiled(7, values=_values("第二句。", 2.0)), "database is locked")
    assert [json.loads(line)["seq"] for line in spill.read_text().splitlines()] == [5, 7]


async def test_held_finals_of_a_stopped_hearing_are_filed_without_a_restart(world) -> None:
    """A stop that found the database refusing its last finals left them in the spill file until the
    next server start, and the record could not be signed until then: the server's refiler files them
    while it runs (every 30 s; here every 0.1 s), and leaves a running hearing's to its pipeline."""
    import asyncio

    from courtroom_api.live.unfiled import held_finals, refile_until_done

    services = world.client.app.state.services
    hid = _new_hearing(world)
    directory = services.settings.hearing_recording_dir(hid)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SPILL_NAME).write_text(json.dumps({"seq": 9401, "values": _values("闭庭前的一句。", 400.0)}) + "\n")
    assert held_finals(services, hid) == 1
    refiler = asyncio.create_task(refile_until_done(services, every_s=0.1))
    try:
        for _ in range(100):
            if held_finals(services, hid) == 0:
                break
            await asyncio.sleep(0.1)
    finally:
        refiler.cancel()
    assert [(seq, text) for _, seq, text in _rows(services, hid, [9401])] == [(9401, "闭庭前的一句。")]
    assert not (directory / SPILL_NAME).exists()


async def test_the_refiler_leaves_a_stopping_hearings_held_finals_to_its_stop(world) -> None:
    """A stop takes the pipeline off the running list, then waits up to two minutes for its last finals:
    the sweep took the hearing for stopped, loaded its spill file and rewrote it from a stale list, and a
    final the stop was still holding was lost. A stopping hearing's file is left alone until its stop
    is through."""
    import asyncio

    from courtroom_api.live.unfiled import refile_until_done

    services = world.client.app.state.services
    hid = _new_hearing(world)
    directory = services.settings.hearing_recording_dir(hid)
    directory.mkdir(parents=True, exist_ok=True)
    spill = directory / SPILL_NAME
    spill.write_text(json.dumps({"seq": 9501, "values": _values("最后陈述。", 500.0)}) + "\n")
    services.hearings._stopping[hid] = asyncio.Event()  # its stop is under way
    refiler = asyncio.create_task(refile_until_done(services, every_s=0.05))
    try:
        await asyncio.sleep(0.5)
        assert spill.is_file() and _rows(services, hid, [9501]) == []
        services.hearings.stop_done(hid)
        for _ in range(100):
            if not spill.exists():
                break
            await asyncio.sleep(0.05)
    finally:
        refiler.cancel()
        services.hearings._stopping.pop(hid, None)
    assert [(seq, text) for _, seq, text in _rows(services, hid, [9501])] == [(9501, "最后陈述。")]


async def test_the_refiler_leaves_a_hearing_in_recess_its_held_finals_to_file_when_it_goes_on(world) -> None:
    """Finals the dossier refused before a recess were filed by the sweep during it, on no stream: the
    screens never got their segment ids nor the alarm's end. They are left to the hearing, which files
    them on its stream when it goes on; an ended hearing's are swept as before."""
    import asyncio

    from courtroom_api.live.unfiled import held_finals, refile_until_done
    from models import Hearing
    from models.enums import HearingStatus

    services = world.client.app.state.services
    paused, ended = _new_hearing(world), _new_hearing(world)
    for hid, status in ((paused, HearingStatus.PAUSED), (ended, HearingStatus.ENDED)):
        with services.write_sessions() as s:
            s.get_one(Hearing, hid).status = status
            s.commit()
        directory = services.settings.hearing_recording_dir(hid)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / SPILL_NAME).write_text(json.dumps({"seq": 9500 + hid, "values": _values("休庭。", 500.0)}) + "\n")
    refiler = asyncio.create_task(refile_until_done(services, every_s=0.05))
    try:
        for _ in range(200):  # one sweep through every spill file
            if held_finals(services, ended) == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        refiler.cancel()
    assert held_finals(services, ended) == 0 and held_finals(services, paused) == 1
    assert _rows(services, paused, [9500 + paused]) == []
    (services.settings.hearing_recording_dir(paused) / SPILL_NAME).unlink()
    with services.write_sessions() as s:
        s.get_one(Hearing, paused).status = HearingStatus.ENDED
        s.commit()
