"""A clerk's change while a live hearing writes: it waits its turn, it does not fail."""


def test_a_change_waits_for_a_live_hearings_write_instead_of_failing(world, another_writer) -> None:
    services = world.client.app.state.services
    case_id = world.ids["case"]
    cause = world.client.get(f"/api/cases/{case_id}", headers=world.auth("clerk")).json()["cause_of_action"]
    # Reads the caller and the case, then writes the case and the audit chain: on SQLite a deferred
    # transaction doing that while another writer holds the lock failed at once ("database is locked").
    with another_writer(services.write_sessions, 0.4):
        r = world.client.patch(f"/api/cases/{case_id}", json={"cause_of_action": cause},
                               headers=world.auth("clerk"))
    assert r.status_code == 200, r.text
    assert r.json()["cause_of_action"] == cause


def test_a_hearing_started_twice_at_once_is_started_once(world) -> None:
    """The judge's 开庭 on the bench and the clerk's start at the same moment (eight threads here, on the
    real database): one marks the hearing started, every other is refused (409) by the hearing's state,
    so none gets as far as a failed pipeline start whose revert would mark the running hearing scheduled
    (on PostgreSQL both used to pass the check)."""
    import threading

    from courtroom_api.auth.policy import Principal
    from courtroom_api.errors import ConflictError
    from courtroom_api.live.lifecycle import _mark_ended, _mark_started
    from courtroom_api.schemas import HearingStart

    c = world.client
    services = c.app.state.services
    hid = c.post(f"/api/cases/{world.ids['case']}/hearings", json={"courtroom_id": world.ids["room"]},
                 headers=world.auth("clerk")).json()["id"]
    clerk = Principal(user_id=world.ids["user_clerk"], login="clerk", role="clerk")
    start, outcomes = threading.Barrier(8), ["" for _ in range(8)]

    def mark(i: int) -> None:
        start.wait()
        try:
            _mark_started(services, clerk, hid, HearingStart(source="file", url="/nonexistent.flac"))
            outcomes[i] = "started"
        except ConflictError as exc:
            outcomes[i] = "in_progress" if "in_progress" in str(exc) else str(exc)

    threads = [threading.Thread(target=mark, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["in_progress"] * 7 + ["started"], outcomes
    audit = c.get("/api/audit", params={"object": f"hearing:{hid}"}, headers=world.auth("judge")).json()
    assert [a["action"] for a in audit].count("hearing.start") == 1
    assert c.get(f"/api/hearings/{hid}", headers=world.auth("clerk")).json()["status"] == "in_progress"
    _mark_ended(services, clerk, hid)  # no pipeline runs it: leave the shared court as it was


def test_a_hearing_cancelled_while_it_starts_is_either_cancelled_or_started(world) -> None:
    """A clerk cancels the hearing the judge is starting: whichever comes first wins and the other is
    refused, so a running hearing is never marked cancelled (four starts and four cancellations at once)."""
    import threading

    from courtroom_api.auth.policy import Principal
    from courtroom_api.errors import ConflictError
    from courtroom_api.live.lifecycle import _mark_ended, _mark_started
    from courtroom_api.schemas import HearingStart

    c = world.client
    services = c.app.state.services
    hid = c.post(f"/api/cases/{world.ids['case']}/hearings", json={"courtroom_id": world.ids["room"]},
                 headers=world.auth("clerk")).json()["id"]
    judge = Principal(user_id=world.ids["user_judge"], login="judge", role="judge")
    start, started, cancelled = threading.Barrier(8), [False] * 4, [0] * 4

    def begin(i: int) -> None:
        start.wait()
        try:
            _mark_started(services, judge, hid, HearingStart(source="file", url="/nonexistent.flac"))
            started[i] = True
        except ConflictError:
            pass

    def cancel(i: int) -> None:
        start.wait()
        cancelled[i] = c.patch(f"/api/hearings/{hid}", json={"status": "cancelled"},
                               headers=world.auth("clerk")).status_code

    threads = [threading.Thread(target=f, args=(i,)) for i in range(4) for f in (begin, cancel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(cancelled) <= {200, 409}, cancelled
    status = c.get(f"/api/hearings/{hid}", headers=world.auth("clerk")).json()["status"]
    if any(started):
        assert started.count(True) == 1 and 200 not in cancelled and status == "in_progress", (started, cancelled)
        _mark_ended(services, judge, hid)
    else:
        assert 200 in cancelled and status == "cancelled", (started, cancelled)


def test_a_sign_off_racing_the_start_never_leaves_a_running_hearing_signed(world, another_writer) -> None:
    """The clerk signs as the judge opens the hearing: the start and then the sign-off wait on the audit
    chain (another writer holds it). Whichever wins, the running hearing ends up unsigned: either the
    sign-off sees it in progress (409) or the start voids the signature. On PostgreSQL the sign-off read
    the state before the start committed and then signed the running hearing's record."""
    import threading
    import time

    from courtroom_api.auth.policy import Principal
    from courtroom_api.live.lifecycle import _mark_ended, _mark_started
    from courtroom_api.schemas import HearingStart

    c = world.client
    services = c.app.state.services
    hid = c.post(f"/api/cases/{world.ids['case']}/hearings", json={"courtroom_id": world.ids["room"]},
                 headers=world.auth("clerk")).json()["id"]
    judge = Principal(user_id=world.ids["user_judge"], login="judge", role="judge")
    out: dict[str, object] = {}
    start = threading.Thread(target=lambda: out.setdefault("start", _mark_started(
        services, judge, hid, HearingStart(source="file", url="/nonexistent.flac"))))
    sign = threading.Thread(target=lambda: out.setdefault("sign", c.post(
        f"/api/hearings/{hid}/signoff", json={"note": ""}, headers=world.auth("clerk"))))
    with another_writer(services.write_sessions, 2.0):
        start.start()
        time.sleep(0.5)  # the start holds the hearing and waits for the chain
        sign.start()
        time.sleep(0.5)
    start.join(30)
    sign.join(30)
    try:
        assert c.get(f"/api/hearings/{hid}", headers=world.auth("clerk")).json()["status"] == "in_progress"
        signed = out["sign"]
        assert signed.status_code in (200, 409), signed.text  # type: ignore[attr-defined]
        state = c.get(f"/api/hearings/{hid}/record", headers=world.auth("clerk")).json()
        assert state["signatures"] == [] and not state["locked"], (signed.text, state)  # type: ignore[attr-defined]
    finally:
        _mark_ended(services, judge, hid)


def test_the_audit_check_is_not_fooled_by_an_event_written_while_it_reads(world) -> None:
    """An event committed while the chain is being verified (the court at work during the nightly check):
    the check reads the chain and its head as of one moment and says intact. On PostgreSQL it read the
    head first and the events after the commit, and reported an untouched chain as tampered with."""
    from sqlalchemy import event

    from models.audit import append_event

    services = world.client.app.state.services
    engine, fired = services.engine, []

    def write_meanwhile(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if fired or "FROM audit_events" not in statement or "ORDER BY audit_events.id" not in statement:
            return
        fired.append(statement)
        with services.write_sessions() as s:
            append_event(s, actor="system", action="segment.file", obj="segment:0")
            s.commit()

    event.listen(engine, "before_cursor_execute", write_meanwhile)
    try:
        r = world.client.get("/api/audit/verify", headers=world.auth("admin"))
    finally:
        event.remove(engine, "before_cursor_execute", write_meanwhile)
    assert fired, "the chain's events were not read"
    assert r.status_code == 200 and r.json()["ok"], r.text
    assert world.client.get("/api/audit/verify", headers=world.auth("admin")).json()["ok"]


def test_a_case_stays_in_hearing_while_any_of_its_hearings_runs(world) -> None:
    """Two hearings of one case in two rooms at once: the first to end left the case 'adjourned' while the
    other still ran; a case closed meanwhile was reopened as 'adjourned' by the stop."""
    from courtroom_api.auth.policy import Principal
    from courtroom_api.live.lifecycle import _mark_ended, _mark_started
    from courtroom_api.schemas import HearingStart

    c, clerk_h = world.client, world.auth("clerk")
    services = c.app.state.services
    clerk = Principal(user_id=world.ids["user_clerk"], login="clerk", role="clerk")
    case = c.post("/api/cases", headers=clerk_h, json={"case_number": "(2024)两庭1号", "court_id": 1}).json()["id"]
    a, b = (c.post(f"/api/cases/{case}/hearings", json={"courtroom_id": world.ids[room]}, headers=clerk_h).json()["id"]
            for room in ("room", "other_room"))
    plan = HearingStart(source="file", url="/nonexistent.flac")
    try:
        _mark_started(services, clerk, a, plan)
        _mark_started(services, clerk, b, plan)
        _mark_ended(services, clerk, a)
        assert c.get(f"/api/cases/{case}", headers=clerk_h).json()["status"] == "in_hearing"
        _mark_ended(services, clerk, b)
        assert c.get(f"/api/cases/{case}", headers=clerk_h).json()["status"] == "adjourned"
        third = c.post(f"/api/cases/{case}/hearings", json={"courtroom_id": world.ids["room"]}, headers=clerk_h).json()
        _mark_started(services, clerk, third["id"], plan)
        assert c.patch(f"/api/cases/{case}", json={"status": "closed"}, headers=clerk_h).status_code == 200
        _mark_ended(services, clerk, third["id"])
        assert c.get(f"/api/cases/{case}", headers=clerk_h).json()["status"] == "closed"
    finally:
        for hid in (a, b):
            if c.get(f"/api/hearings/{hid}", headers=clerk_h).json()["status"] == "in_progress":
                _mark_ended(services, clerk, hid)


def test_a_read_as_of_one_moment_takes_no_second_connection(world) -> None:
    """The record's state and the audit check read in one snapshot: on PostgreSQL a second session, while
    the request's own still held its connection, so each such request took two pooled connections and
    fifteen at once emptied the pool (twelve 500s after 30 s)."""
    from models import Hearing
    from models.db import one_snapshot

    services = world.client.app.state.services
    pool = services.engine.pool
    with services.sessions() as session:
        session.get(Hearing, world.ids["hearing"], populate_existing=True)  # the request's read so far
        before = pool.checkedout()
        with one_snapshot(session) as snapshot:
            assert snapshot.get(Hearing, world.ids["hearing"]) is not None
            assert pool.checkedout() <= before, (pool.status(), before)


def _paused_after(monkeypatch, reached, name: str = "signed_heads"):  # type: ignore[no-untyped-def]
    """A writer pauses once ``record.<name>`` has taken the audit chain's lock (an edit of what records
    print reading the signed heads, a start checking the signatures) until the other writer has taken
    its first locks: the window in which the two cross."""
    import time

    from courtroom_api import record

    original = getattr(record, name)

    def paused(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = original(*args, **kwargs)
        reached.set()
        time.sleep(0.6)
        return out

    monkeypatch.setattr(record, name, paused)


def _at_once(first, second) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """``first`` and ``second`` (an HTTP call, or a call returning None) in two threads (``second`` waits
    for the pause in ``first``); what each came to: a status code, "ok", or the error."""
    import threading

    out: dict[str, object] = {}

    def run(name: str, call) -> None:  # type: ignore[no-untyped-def]
        try:
            result = call()
            out[name] = "ok" if result is None else result.status_code
        except Exception as exc:  # a deadlock surfaces here as OperationalError
            out[name] = f"{type(exc).__name__}: {exc}".splitlines()[0]

    threads = [threading.Thread(target=run, args=(name, call)) for name, call in (("first", first), ("second", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def test_an_edit_of_a_printed_head_and_a_stop_a_start_or_a_seal_at_once_both_go_through(world, monkeypatch) -> None:
    """A clerk edits a case, a courtroom or seats someone while the hearing stops, starts or is sealed:
    on PostgreSQL the edit took the audit chain's lock before its row, the other its row before the
    chain, and one of the two died as "deadlock detected" (a stop left the hearing running). Now both
    lock their rows first, so one waits for the other."""
    import threading

    from courtroom_api.auth.policy import Principal
    from courtroom_api.live.lifecycle import _mark_ended, _mark_started
    from courtroom_api.schemas import HearingStart

    c, clerk, judge = world.client, world.auth("clerk"), world.auth("judge")
    services = c.app.state.services
    who = Principal(user_id=world.ids["user_clerk"], login="clerk", role="clerk")
    room = c.post("/api/courtrooms", json={"court_id": world.ids["court"], "name": "第十一法庭", "profile_name": "demo"},
                  headers=world.auth("admin")).json()["id"]
    case = c.post("/api/cases", json={"case_number": "(2024)吉2424民初909号", "court_id": world.ids["court"],
                                      "cause_of_action": "借款合同纠纷"}, headers=clerk).json()["id"]
    party = c.post(f"/api/cases/{case}/participants", json={"name": "钱七", "role": "plaintiff"},
                   headers=clerk).json()["id"]
    hid = c.post(f"/api/cases/{case}/hearings", json={"courtroom_id": room}, headers=clerk).json()["id"]
    plan = HearingStart(source="file", url="/nonexistent.flac")

    def after(reached: threading.Event, call):  # type: ignore[no-untyped-def]
        return lambda: (reached.wait(10), call())[1]

    # A case edit and the stop (the case's status: adjourned).
    _mark_started(services, who, hid, plan)
    reached = threading.Event()
    _paused_after(monkeypatch, reached)
    out = _at_once(lambda: c.patch(f"/api/cases/{case}", json={"filed_on": "2024-05-01"}, headers=clerk),
                   after(reached, lambda: (_mark_ended(services, who, hid), None)[1]))
    assert out == {"first": 200, "second": "ok"}, out
    assert c.get(f"/api/hearings/{hid}", headers=clerk).json()["status"] == "ended"

    # A courtroom's new name and a start in it (the room's row: one hearing at a time).
    from models import Hearing

    with services.write_sessions() as s:  # to start it again
        s.get_one(Hearing, hid).status = "scheduled"
        s.commit()
    reached = threading.Event()
    _paused_after(monkeypatch, reached)
    out = _at_once(lambda: c.patch(f"/api/courtrooms/{room}", json={"name": "第十一法庭(新)"}, headers=world.auth("admin")),
                   after(reached, lambda: (_mark_started(services, who, hid, plan), None)[1]))
    assert out == {"first": 200, "second": "ok"}, out

    # A seat and a range seal of the hearing (the hearing's row, through the new seat's foreign key).
    reached = threading.Event()
    _paused_after(monkeypatch, reached)
    out = _at_once(lambda: c.post(f"/api/hearings/{hid}/seats", json={"seat": "plaintiff", "participant_id": party,
                                                                     "from_s": 3}, headers=clerk),
                   after(reached, lambda: c.post(f"/api/hearings/{hid}/seal",
                                                 json={"start_s": 20, "end_s": 30, "reason": "隐私"}, headers=judge)))
    assert out == {"first": 201, "second": 200}, out
    _mark_ended(services, who, hid)
    with services.write_sessions() as s:
        s.get_one(Hearing, hid).status = "scheduled"
        s.commit()

    # Another hearing moved into the room while this one starts there (the room's row, through the move's
    # foreign key).
    other = c.post(f"/api/cases/{case}/hearings", json={"courtroom_id": world.ids["room"]}, headers=clerk).json()["id"]
    reached = threading.Event()
    _paused_after(monkeypatch, reached)
    out = _at_once(lambda: c.patch(f"/api/hearings/{other}", json={"courtroom_id": room}, headers=clerk),
                   after(reached, lambda: (_mark_started(services, who, hid, plan), None)[1]))
    assert out == {"first": 200, "second": "ok"}, out
    _mark_ended(services, who, hid)
    with services.write_sessions() as s:
        s.get_one(Hearing, hid).status = "scheduled"
        s.commit()

    # The start holds the chain (checking signatures) when a case edit comes: the case's row is the start's.
    monkeypatch.undo()
    reached = threading.Event()
    _paused_after(monkeypatch, reached, "ensure_unlocked")
    out = _at_once(lambda: (_mark_started(services, who, hid, plan), None)[1],
                   after(reached, lambda: c.patch(f"/api/cases/{case}", json={"filed_on": "2024-05-02"},
                                                  headers=clerk)))
    assert out == {"first": "ok", "second": 200}, out
    _mark_ended(services, who, hid)


def test_two_logins_differing_only_in_case_added_at_once_are_not_both_made(world, monkeypatch) -> None:
    """Two administrators adding `Twin-Race` and `twin-race` at the same moment: each checked that no
    case twin existed before either was inserted, and both were made (PostgreSQL; found in review), so
    the spelling `TWIN-RACE` signed in as neither. The check is made under the audit chain's lock."""
    import threading

    from models import logins

    c, admin = world.client, world.auth("admin")
    reached, second_checked = threading.Event(), threading.Event()
    original = logins.login_holder

    def paused(session, login):  # type: ignore[no-untyped-def]
        out = original(session, login)
        if login == "Twin-Race":
            reached.set()
            second_checked.wait(1.5)  # (the second reaches its own check meanwhile, unless it must wait)
        else:
            second_checked.set()
        return out

    monkeypatch.setattr(logins, "login_holder", paused)
    body = {"password": "twin race horse", "role": "clerk"}
    out = _at_once(lambda: c.post("/api/users", json={"login": "Twin-Race", **body}, headers=admin),
                   lambda: (reached.wait(10), c.post("/api/users", json={"login": "twin-race", **body},
                                                     headers=admin))[1])
    assert out == {"first": 201, "second": 409}, out
