"""The hearing socket in-process: sealing and corrections reach viewers, redacted for those who may not see."""

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
