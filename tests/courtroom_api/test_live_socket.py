"""The hearing socket in-process: sealing and corrections reach viewers, redacted for those who may not see."""

import pytest
from test_transcript_api import _new_hearing_with_segments


def _next_of(ws, type_: str) -> dict:
    while True:
        event = ws.receive_json()
        if event["type"] == type_:
            return event


def test_sealing_reaches_viewers_redacted_and_reconnect_after_n(world) -> None:
    c = world.client
    hid, (seg, _) = _new_hearing_with_segments(world)
    token = {role: world.tokens[role] for role in ("clerk", "party")}
    with c.websocket_connect(f"/ws/hearings/{hid}?token={token['clerk']}") as clerk_ws, \
            c.websocket_connect(f"/ws/hearings/{hid}?token={token['party']}") as party_ws:
        assert clerk_ws.receive_json()["type"] == "hello" and party_ws.receive_json()["type"] == "hello"
        c.patch(f"/api/segments/{seg}", json={"text": "原告要求支付货款。", "reason": "精简"},
                headers=world.auth("clerk"))
        c.post(f"/api/segments/{seg}/seal", json={"reason": "隐私"}, headers=world.auth("judge"))
        corrected_c, sealed_c = _next_of(clerk_ws, "transcript.revised"), _next_of(clerk_ws, "transcript.revised")
        corrected_p, sealed_p = _next_of(party_ws, "transcript.revised"), _next_of(party_ws, "transcript.revised")
    assert corrected_c["data"]["text"] == corrected_p["data"]["text"] == "原告要求支付货款。"
    assert sealed_c["data"]["text"] == "原告要求支付货款。" and sealed_c["data"]["sealed"] is True
    assert "货款" not in sealed_p["data"]["text"] and sealed_p["data"]["words"] == []
    assert sealed_c["seq"] == sealed_p["seq"] == corrected_c["seq"] + 1
    with c.websocket_connect(f"/ws/hearings/{hid}?token={token['party']}&after={corrected_c['seq']}") as again:
        assert again.receive_json()["type"] == "hello"
        replayed = again.receive_json()
        assert replayed["seq"] == sealed_p["seq"] and "货款" not in replayed["data"]["text"]


def test_socket_refuses_other_case_and_bad_token(world) -> None:
    from starlette.websockets import WebSocketDisconnect

    c = world.client
    for token, code in ((world.tokens["other_party"], 4404), ("nonsense", 4401)):
        with c.websocket_connect(f"/ws/hearings/{world.ids['hearing']}?token={token}") as ws:
            try:
                ws.receive_json()
                raise AssertionError("the socket should have been closed")
            except WebSocketDisconnect as closed:
                assert closed.code == code


def _replayed(c, hid: int, token: str) -> list[dict]:
    """Every transcript event a viewer gets when it replays the hearing from the start."""
    with c.websocket_connect(f"/ws/hearings/{hid}?token={token}&after=0") as ws:
        hello = ws.receive_json()
        events = []
        while not events or events[-1]["seq"] < hello["data"]["last_seq"]:
            event = ws.receive_json()
            if event["type"] != "reset":
                events.append(event)
    return [e for e in events if e["type"] in ("transcript.final", "transcript.revised")]


def test_sealing_redacts_what_was_sent_before_from_replays(world) -> None:
    """A correction and a live final sent before the line was sealed are not replayed to a party or the
    room's terminal with their text (after=0), also once the hearing's stream has ended; the bench still
    gets them whole."""
    c = world.client
    hid, (seg, other) = _new_hearing_with_segments(world)
    stream = c.app.state.services.hub.stream(hid)
    stream.publish("transcript.final", {"kind": "final", "segment_id": other, "text": "The invoice is dated May 1.",
                                        "words": [{"start": 3.0, "end": 3.4, "text": "The", "p": 0.9}]})
    held = stream.publish("transcript.final", {"kind": "final", "segment_id": None, "text": "证人住址是长春路八号。",
                                               "words": []})
    c.patch(f"/api/segments/{seg}", json={"text": "证人电话是13912345678。", "reason": "补全"}, headers=world.auth("clerk"))
    stream.publish("transcript.filed", {"seq": held.seq, "segment_id": other})  # the held final reached the dossier
    for line in (seg, other):
        assert c.post(f"/api/segments/{line}/seal", json={"reason": "隐私"}, headers=world.auth("judge")).status_code == 200
    c.app.state.services.hub.close(hid)  # the hearing ended; its ring still serves replays
    for role in ("party", "terminal"):
        seen = " ".join(e["data"]["text"] for e in _replayed(c, hid, world.tokens[role]))
        assert "13912345678" not in seen and "May 1" not in seen and "长春路" not in seen, (role, seen)
        assert all(e["data"]["words"] == [] for e in _replayed(c, hid, world.tokens[role]))
    bench = " ".join(e["data"]["text"] for e in _replayed(c, hid, world.tokens["clerk"]))
    assert "13912345678" in bench and "May 1" in bench and "长春路" in bench


def test_an_open_socket_of_a_login_demoted_from_the_bench_gets_sealed_lines_redacted(world) -> None:
    import time

    c, admin = world.client, world.auth("admin")
    uid = c.post("/api/users", json={"login": "clerk-moved", "password": "temporary-pw", "role": "clerk"},
                 headers=admin).json()["id"]
    token = c.post("/api/auth/token", data={"username": "clerk-moved", "password": "temporary-pw"}).json()["access_token"]
    hid, (seg, _) = _new_hearing_with_segments(world)
    auth = c.app.state.services.settings.auth
    before, auth.live_recheck_seconds = auth.live_recheck_seconds, 0.2
    try:
        with c.websocket_connect(f"/ws/hearings/{hid}?token={token}") as ws:
            assert ws.receive_json()["type"] == "hello"
            assert c.patch(f"/api/users/{uid}", json={"role": "party"}, headers=admin).status_code == 200
            assert c.post(f"/api/users/{uid}/grants", json={"case_id": world.ids["case"]}, headers=admin).status_code == 201
            time.sleep(0.6)  # the socket's access has been checked again since
            c.patch(f"/api/segments/{seg}", json={"text": "证人住址是和平路。", "reason": "补全"}, headers=world.auth("clerk"))
            c.post(f"/api/segments/{seg}/seal", json={"reason": "隐私"}, headers=world.auth("judge"))
            corrected, sealed = _next_of(ws, "transcript.revised"), _next_of(ws, "transcript.revised")
    finally:
        auth.live_recheck_seconds = before
    assert corrected["data"]["text"] == "证人住址是和平路。"  # sent before the seal, as to every viewer
    assert sealed["data"]["change"] == "sealed" and "和平路" not in sealed["data"]["text"]


def _set_status(world, hid: int, status: str) -> None:  # type: ignore[no-untyped-def]
    from models import Hearing
    from models.db import make_engine, session_factory

    engine = make_engine(str(world.client.app.state.services.engine.url.render_as_string(hide_password=False)))
    with session_factory(engine)() as s:
        s.get_one(Hearing, hid).status = status
        s.commit()
    engine.dispose()


def _let_go(hub, hid: int) -> bool:  # type: ignore[no-untyped-def]
    """Whether the hub has let the hearing's stream go (a socket's end runs on the server's loop: waited for)."""
    import time

    deadline = time.monotonic() + 5
    while hub.get(hid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    return hub.get(hid) is None


def test_streams_of_ended_and_unwatched_hearings_are_let_go(world) -> None:
    """A stopped hearing's stream (its ring of finals, text and words) still serves a reconnecting screen,
    then the server lets it go once unused (every ended hearing's stayed in memory for the life of the
    process, and a viewer of a hearing not yet started left one too). A later viewer of the ended hearing
    gets the dossier: hello, reset (reload over REST), closed with 1000."""
    import gc
    import weakref

    from starlette.websockets import WebSocketDisconnect

    c, hub = world.client, world.client.app.state.services.hub
    hid, _ = _new_hearing_with_segments(world)
    _set_status(world, hid, "in_progress")
    stream = hub.stream(hid, start_seq=2)
    for i in range(50):
        stream.publish("transcript.final", {"kind": "final", "segment_id": None, "text": f"第{i}句。", "words": []})
    assert c.post(f"/api/hearings/{hid}/stop", headers=world.auth("clerk")).json()["status"] == "ended"
    assert len(_replayed(c, hid, world.tokens["clerk"])) == 50  # soon after the end: replayed from memory
    ended = weakref.ref(stream)
    del stream
    kept, hub.keep_idle_s = hub.keep_idle_s, 0.0
    try:
        assert _let_go(hub, hid)
        gc.collect()
        assert ended() is None  # nothing else holds it: its ring is freed
        with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['clerk']}&after=0") as ws:
            assert [ws.receive_json()["type"] for _ in range(3)] == ["hello", "reset", "closed"]
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 1000
        assert _let_go(hub, hid)
        scheduled, _ = _new_hearing_with_segments(world)
        with c.websocket_connect(f"/ws/hearings/{scheduled}?token={world.tokens['clerk']}") as ws:
            assert ws.receive_json()["data"]["status"] == "scheduled"
            assert hub.get(scheduled) is not None  # kept while watched: its start reaches this screen
        assert _let_go(hub, scheduled)
    finally:
        hub.keep_idle_s = kept


def test_a_socket_whose_access_check_meets_a_database_error_stays_open(world) -> None:
    """Many screens reloading at once emptied the connection pool: the 30-s access re-check's database error
    escaped and the clerk's live socket was cut without a close frame. It is checked again later now."""
    import time

    from sqlalchemy import text

    c = world.client
    services = c.app.state.services
    hid = world.ids["hearing"]
    auth = services.settings.auth
    before, auth.live_recheck_seconds = auth.live_recheck_seconds, 0.2
    try:
        with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['clerk']}") as ws:
            assert ws.receive_json()["type"] == "hello"
            with services.engine.begin() as conn:  # the database refuses the check (as an empty pool would)
                conn.execute(text("ALTER TABLE users RENAME TO users_away"))
            try:
                time.sleep(1.0)  # several re-checks fail meanwhile
            finally:
                with services.engine.begin() as conn:
                    conn.execute(text("ALTER TABLE users_away RENAME TO users"))
            services.hub.get(hid).publish("status", {"status": "probe"})
            assert _next_of(ws, "status")["data"]["status"] == "probe"  # still open, still live
    finally:
        auth.live_recheck_seconds = before


def test_the_connection_pool_holds_a_connection_for_every_worker_thread(world) -> None:
    """A pool of 5 + 10 behind Starlette's 40 request threads (and asyncio.to_thread's): 40 screens
    reloading a long transcript at once got 500s after 30 s waiting for a connection."""
    import asyncio

    import anyio.to_thread

    c = world.client
    settings = c.app.state.services.settings
    pool = c.app.state.services.engine.pool

    async def threads() -> tuple[float, int]:
        executor = asyncio.get_running_loop()._default_executor  # type: ignore[attr-defined]
        return anyio.to_thread.current_default_thread_limiter().total_tokens, executor._max_workers

    request_threads, background_threads = c.portal.call(threads)
    assert (request_threads, background_threads) == (settings.request_threads, settings.background_threads)
    assert pool.size() >= request_threads + background_threads  # type: ignore[attr-defined]
