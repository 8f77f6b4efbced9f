"""Permission matrix: every role against every kind of endpoint, including sealed items."""

import pytest

ALL = ("judge", "clerk", "party", "other_party", "appeal_judge", "admin", "terminal", "other_terminal")
BENCH = {"judge", "clerk"}
READERS = {"judge", "clerk", "party", "appeal_judge", "terminal"}  # may read case 123's transcript

# (name, method, path, json/params, roles allowed)
MATRIX = [
    ("read case", "GET", "/api/cases/{case}", None, READERS | {"admin"}),
    ("list hearings", "GET", "/api/cases/{case}/hearings", None, READERS | {"admin"}),
    ("read segments", "GET", "/api/hearings/{hearing}/segments", None, READERS),
    ("read sealed segment", "GET", "/api/segments/{sealed_segment}", None, BENCH),
    ("read revisions of sealed", "GET", "/api/segments/{sealed_segment}/revisions", None, BENCH),
    ("export vtt", "GET", "/api/hearings/{hearing}/transcript?format=vtt", None, READERS),
    ("record state", "GET", "/api/hearings/{hearing}/record", None, READERS),
    ("correct", "PATCH", "/api/segments/{english_segment}", {"text": "edited by {role}", "reason": "typo"}, BENCH),
    ("unseal nothing", "POST", "/api/segments/{english_segment}/seal", {"sealed": False, "reason": "check"}, BENCH),
    ("annotate", "POST", "/api/hearings/{hearing}/annotations", {"kind": "bookmark", "start_s": 1.0}, BENCH),
    ("display", "PUT", "/api/hearings/{hearing}/display", {}, BENCH),
    ("get display", "GET", "/api/hearings/{hearing}/display", None, READERS | {"admin"}),
    ("list evidence", "GET", "/api/cases/{case}/evidence", None, READERS),
    ("recordings", "GET", "/api/hearings/{hearing}/recordings", None, BENCH | {"party", "appeal_judge"}),
    ("search", "GET", "/api/search?q=合同", None, BENCH | {"appeal_judge"}),
    ("users", "GET", "/api/users", None, {"admin"}),
    ("revoke tokens", "POST", "/api/users/{user_spare}/revoke-tokens", None, {"admin"}),
    ("audit", "GET", "/api/audit", None, {"judge", "admin"}),
    ("create case", "POST", "/api/cases", {"case_number": "perm-{role}"}, BENCH | {"admin"}),
    ("add participant", "POST", "/api/cases/{case}/participants", {"name": "证人{role}", "role": "witness"},
     BENCH | {"admin"}),
    ("create courtroom", "POST", "/api/courtrooms", {"court_id": "{court}", "name": "room-{role}",
                                                     "profile_name": "demo"}, {"admin"}),
    ("list seats", "GET", "/api/hearings/{hearing}/seats", None, READERS | {"admin"}),
    ("assign seat", "POST", "/api/hearings/{hearing}/seats",
     {"seat": "witness", "participant_id": "{participant}", "from_s": 2.0}, BENCH),
    ("dismiss seat", "POST", "/api/hearings/{hearing}/seats/{seat_assignment}/dismiss", {"at_s": 3.0}, BENCH),
    ("unlock", "POST", "/api/hearings/{hearing}/unlock", {"reason": "r"}, {"judge"}),
]


def _fill(value, ids, role):
    if isinstance(value, str):
        out = value.format(role=role, **ids)
        return int(out) if value.startswith("{") and out.isdigit() else out
    if isinstance(value, dict):
        return {k: _fill(v, ids, role) for k, v in value.items()}
    return value


@pytest.mark.parametrize("role", ALL)
@pytest.mark.parametrize(("name", "method", "path", "body", "allowed"), MATRIX, ids=[m[0] for m in MATRIX])
def test_permission_matrix(world, role, name, method, path, body, allowed) -> None:
    url = _fill(path, world.ids, role)
    r = world.client.request(method, url, json=_fill(body, world.ids, role), headers=world.auth(role))
    if role in allowed:
        assert r.status_code not in (401, 403, 404), f"{role} {name}: {r.status_code} {r.text}"
        assert r.status_code < 500
    else:
        assert r.status_code in (403, 404), f"{role} must not {name}: got {r.status_code} {r.text}"


@pytest.mark.parametrize("role", ALL)
def test_no_token_no_access(world, role) -> None:
    assert world.client.get(f"/api/cases/{world.ids['case']}").status_code == 401


def test_sealed_text_hidden_in_lists_exports_and_search(world) -> None:
    c, ids = world.client, world.ids
    for role in ("party", "appeal_judge", "terminal"):
        segs = c.get(f"/api/hearings/{ids['hearing']}/segments", headers=world.auth(role)).json()
        assert all("机密" not in s["text"] for s in segs)
        assert any(s["sealed"] for s in segs)  # the timeline keeps the sealed slot, without its text
        vtt = c.get(f"/api/hearings/{ids['hearing']}/transcript?format=vtt", headers=world.auth(role)).text
        assert "机密" not in vtt and "现在开庭" in vtt
    clerk_vtt = c.get(f"/api/hearings/{ids['hearing']}/transcript?format=vtt", headers=world.auth("clerk")).text
    assert "机密" in clerk_vtt
    assert c.get("/api/search", params={"q": "机密"}, headers=world.auth("appeal_judge")).json() == []
    hits = c.get("/api/search", params={"q": "机密"}, headers=world.auth("judge")).json()
    assert [h["segment_id"] for h in hits] == [ids["sealed_segment"]]


@pytest.mark.parametrize("role", ["judge", "clerk"])
def test_a_sealed_line_found_by_search_says_it_is_sealed(world, role) -> None:
    """A judge or clerk copying a snippet must see that the line is sealed (the hit did not say so)."""
    c, ids = world.client, world.ids
    hits = c.get("/api/search", params={"q": "机密", "case": ids["case"]}, headers=world.auth(role)).json()
    assert [(h["segment_id"], h["sealed"]) for h in hits] == [(ids["sealed_segment"], True)]
    hits = c.get("/api/search", params={"q": "现在开庭", "case": ids["case"]}, headers=world.auth(role)).json()
    assert {h["segment_id"]: h["sealed"] for h in hits}[ids["segment"]] is False


def test_terminal_bound_to_its_courtroom(world) -> None:
    c, ids = world.client, world.ids
    assert c.get(f"/api/hearings/{ids['hearing']}", headers=world.auth("terminal")).status_code == 200
    assert c.get(f"/api/hearings/{ids['other_hearing']}", headers=world.auth("terminal")).status_code == 404
    assert c.get(f"/api/hearings/{ids['other_hearing']}", headers=world.auth("other_terminal")).status_code == 200


def test_disabled_or_demoted_user_refused_at_once(world) -> None:
    """Every request re-reads the user: a change by an admin applies to the next request."""
    c, admin = world.client, world.auth("admin")
    r = c.post("/api/users", json={"login": "appeal-temp", "password": "temporary-pw", "role": "appeal_judge"},
               headers=admin)
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]
    token = c.post("/api/auth/token", data={"username": "appeal-temp", "password": "temporary-pw"}).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    assert c.get("/api/search", params={"q": "合同"}, headers=auth).status_code == 200
    assert c.patch(f"/api/users/{user_id}", json={"role": "party"}, headers=admin).status_code == 200
    assert c.get("/api/search", params={"q": "合同"}, headers=auth).status_code == 403
    assert c.patch(f"/api/users/{user_id}", json={"role": "appeal_judge", "is_active": False},
                   headers=admin).status_code == 200
    assert c.get("/api/search", params={"q": "合同"}, headers=auth).status_code == 401
    assert c.get(f"/api/cases/{world.ids['case']}", headers=auth).status_code == 401
    assert c.patch(f"/api/users/{user_id}", json={"is_active": True}, headers=admin).status_code == 200
    # Disabling ended the login: re-enabling does not bring its token back; a new login works.
    assert c.get("/api/search", params={"q": "合同"}, headers=auth).status_code == 401
    token = c.post("/api/auth/token", data={"username": "appeal-temp", "password": "temporary-pw"}).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    assert c.get("/api/search", params={"q": "合同"}, headers=auth).status_code == 200
    # So does a new password: the tokens of the old one are refused.
    assert c.patch(f"/api/users/{user_id}", json={"password": "another-password"}, headers=admin).status_code == 200
    assert c.get("/api/search", params={"q": "合同"}, headers=auth).status_code == 401


def test_the_audit_log_does_not_show_an_administrator_what_a_seal_hides(world) -> None:
    """Who corrected a sealed line and when, yes; the text before and after, no (the judge sees it). The
    same for a sealed exhibit's new title."""
    from evidence_files import png_bytes
    from test_transcript_api import _new_hearing_with_segments

    c = world.client
    _, (seg, _) = _new_hearing_with_segments(world)
    assert c.post(f"/api/segments/{seg}/seal", json={"reason": "隐私"}, headers=world.auth("judge")).status_code == 200
    assert c.patch(f"/api/segments/{seg}", json={"text": "证人住址是幸福路十八号。", "reason": "门牌号"},
                   headers=world.auth("clerk")).status_code == 200
    r = c.post(f"/api/cases/{world.ids['case']}/evidence", params={"title": "照片", "filename": "a.png", "sealed": True},
               content=png_bytes(), headers={**world.auth("clerk"), "Content-Type": "image/png"})
    exhibit = r.json()["id"]
    assert c.patch(f"/api/evidence/{exhibit}", json={"title": "未成年人王某伤情照片"},
                   headers=world.auth("judge")).status_code == 200
    for obj, action, secret in ((f"segment:{seg}", "segment.correct", "幸福路"),
                                (f"evidence:{exhibit}", "evidence.update", "王某")):
        admin = c.get("/api/audit", params={"object": obj}, headers=world.auth("admin")).json()
        judge = c.get("/api/audit", params={"object": obj}, headers=world.auth("judge")).json()
        assert [e["action"] for e in admin] == [e["action"] for e in judge] and action in [e["action"] for e in admin]
        assert secret not in str(admin) and all(e["details"] == {"sealed": True} for e in admin)
        assert secret in str(judge)
    everything = c.get("/api/audit", params={"limit": 1000}, headers=world.auth("admin")).json()
    assert "幸福路十八号" not in str(everything) and "王某" not in str(everything)
    assert any(e["action"] == "hearing.create" and e["details"] for e in everything)  # the rest is as it was


def test_a_terminal_reaches_its_own_rooms_hearings_only_not_the_rest_of_their_cases(world) -> None:
    """Case 123 is heard in room 1; its next hearing is scheduled in room 2. Room 1's screen keeps to
    room 1's hearing and room 2's screen to room 2's, over REST as over the socket; both show the case's
    evidence (the party screens page through it)."""
    from test_transcript_api import _new_hearing_with_segments

    c, ids = world.client, world.ids
    moved, (seg, _) = _new_hearing_with_segments(world)
    assert c.patch(f"/api/hearings/{moved}", json={"courtroom_id": ids["other_room"]},
                   headers=world.auth("clerk")).status_code == 200
    for terminal, own, other in (("terminal", ids["hearing"], moved), ("other_terminal", moved, ids["hearing"])):
        auth = world.auth(terminal)
        for path in (f"/api/hearings/{other}", f"/api/hearings/{other}/segments", f"/api/hearings/{other}/annotations",
                     f"/api/hearings/{other}/transcript?format=vtt", f"/api/hearings/{other}/display"):
            assert c.get(path, headers=auth).status_code == 404, (terminal, path)
        assert c.get(f"/api/hearings/{own}/segments", headers=auth).status_code == 200
        listed = [h["id"] for h in c.get(f"/api/cases/{ids['case']}/hearings", headers=auth).json()]
        assert own in listed and other not in listed
        assert c.get(f"/api/cases/{ids['case']}/evidence", headers=auth).status_code == 200
    assert c.get(f"/api/segments/{seg}", headers=world.auth("terminal")).status_code == 404
    assert c.get(f"/api/segments/{seg}", headers=world.auth("other_terminal")).status_code == 200


def test_a_read_grant_is_read_only_and_a_grant_ends_when_it_expires(world) -> None:
    """A lawyer granted a case to read does not file evidence in it; a write grant does; a grant past its
    end reaches nothing; a grant cannot open sealed items (they are the bench's)."""
    from datetime import UTC, datetime, timedelta

    from evidence_files import png_bytes

    c, admin, case = world.client, world.auth("admin"), world.ids["case"]
    logins = {}
    for login, grant in (("reader", {"level": "read"}), ("writer", {"level": "write"}),
                         ("expired", {"level": "write", "expires_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}),
                         ("current", {"level": "read", "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()})):
        uid = c.post("/api/users", json={"login": f"lawyer-{login}", "password": "lawyer-password", "role": "party"},
                     headers=admin).json()["id"]
        r = c.post(f"/api/users/{uid}/grants", json={"case_id": case, **grant}, headers=admin)
        assert r.status_code == 201, r.text
        token = c.post("/api/auth/token", data={"username": f"lawyer-{login}", "password": "lawyer-password"}).json()
        logins[login] = {"Authorization": f"Bearer {token['access_token']}"}

    def upload(who: str) -> int:
        return c.post(f"/api/cases/{case}/evidence", params={"title": "补充证据", "filename": "a.png"}, content=png_bytes(),
                      headers={**logins[who], "Content-Type": "image/png"}).status_code

    assert c.get(f"/api/cases/{case}", headers=logins["reader"]).status_code == 200
    assert upload("reader") == 403
    assert upload("writer") == 201
    assert c.get(f"/api/cases/{case}", headers=logins["expired"]).status_code == 404 and upload("expired") == 404
    assert c.get(f"/api/cases/{case}", headers=logins["current"]).status_code == 200
    assert c.post(f"/api/cases/{case}/evidence", params={"title": "当事人证据", "filename": "b.png"}, content=png_bytes(),
                  headers={**world.auth("party"), "Content-Type": "image/png"}).status_code == 201
    spare = world.ids["user_spare"]
    for bad in ({"level": "sealed"}, {"level": "read", "expires_at": "2030-01-01T00:00:00"}):
        assert c.post(f"/api/users/{spare}/grants", json={"case_id": case, **bad}, headers=admin).status_code == 422


def test_a_grant_that_ran_out_is_renewed_by_granting_again_and_grants_are_listed(world) -> None:
    """Granting a lawyer again after the grant expired was a 409 quoting the table's unique constraint, and
    no endpoint showed or changed the grant: the lawyer stayed locked out."""
    from datetime import UTC, datetime, timedelta

    c, admin, case = world.client, world.auth("admin"), world.ids["case"]
    uid = c.post("/api/users", json={"login": "lawyer-renewed", "password": "lawyer-password", "role": "party"},
                 headers=admin).json()["id"]
    past, future = (datetime.now(UTC) + timedelta(days=d) for d in (-1, 30))
    first = c.post(f"/api/users/{uid}/grants", json={"case_id": case, "level": "read", "expires_at": past.isoformat()},
                   headers=admin)
    assert first.status_code == 201, first.text
    token = c.post("/api/auth/token", data={"username": "lawyer-renewed", "password": "lawyer-password"}).json()
    lawyer = {"Authorization": f"Bearer {token['access_token']}"}
    assert c.get(f"/api/cases/{case}", headers=lawyer).status_code == 404
    again = c.post(f"/api/users/{uid}/grants", json={"case_id": case, "level": "write", "expires_at": future.isoformat()},
                   headers=admin)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["level"] == "write"
    assert c.get(f"/api/cases/{case}", headers=lawyer).status_code == 200
    listed = c.get(f"/api/users/{uid}/grants", headers=admin)
    assert [(g["case_id"], g["level"]) for g in listed.json()] == [(case, "write")]
    assert c.get(f"/api/users/{uid}/grants", headers=world.auth("clerk")).status_code == 403
    # What a renewal leaves out stays: a write grant renewed stays write (it became read), a limited
    # grant whose level changed stays limited (it became permanent)
    later = (datetime.now(UTC) + timedelta(days=60)).isoformat()
    renewed = c.post(f"/api/users/{uid}/grants", json={"case_id": case, "expires_at": later}, headers=admin).json()
    assert renewed["level"] == "write" and renewed["expires_at"].startswith(later[:16])
    read = c.post(f"/api/users/{uid}/grants", json={"case_id": case, "level": "read"}, headers=admin).json()
    assert read["level"] == "read" and read["expires_at"] is not None and read["expires_at"].startswith(later[:16])
    events = c.get("/api/audit", params={"object": f"case:{case}", "action": "access.grant"}, headers=admin).json()
    ours = sorted((e for e in events if e["details"]["user_id"] == uid), key=lambda e: e["id"])
    assert [(e["details"]["level"], e["details"].get("before", {}).get("level")) for e in ours] == [
        ("read", None), ("write", "read"), ("write", "write"), ("read", "write")]


def test_an_empty_evidence_change_is_refused_and_not_audited(world) -> None:
    """A role that may not change evidence is refused even with nothing to change (it used to get 200 and
    an 'evidence.update' in the audit chain under its name); the bench gets 422 for an empty change."""
    from evidence_files import png_bytes

    c = world.client
    exhibit = c.post(f"/api/cases/{world.ids['case']}/evidence", params={"title": "照片", "filename": "a.png"},
                     content=png_bytes(), headers={**world.auth("clerk"), "Content-Type": "image/png"}).json()["id"]
    for role in ("party", "appeal_judge", "terminal"):
        assert c.patch(f"/api/evidence/{exhibit}", json={"title": None, "sealed": None},
                       headers=world.auth(role)).status_code == 403, role
    assert c.patch(f"/api/evidence/{exhibit}", json={}, headers=world.auth("clerk")).status_code == 422
    events = c.get("/api/audit", params={"object": f"evidence:{exhibit}"}, headers=world.auth("judge")).json()
    assert [e["action"] for e in events] == ["evidence.submit"]


def test_an_outsider_cannot_tell_an_object_of_another_case_from_one_that_does_not_exist(world) -> None:
    """Someone else's case's line, hearing or exhibit is "not found" exactly as a made-up id is, not
    "case 123 not found" (which told an outsider that it exists, and whose it is)."""
    from evidence_files import png_bytes

    c, ids = world.client, world.ids
    exhibit = c.post(f"/api/cases/{ids['case']}/evidence", params={"title": "合同", "filename": "c.png"},
                     content=png_bytes(), headers={**world.auth("clerk"), "Content-Type": "image/png"}).json()["id"]
    made_up = 999_999
    for path, real in (("/api/segments/{}", ids["segment"]), ("/api/hearings/{}", ids["hearing"]),
                       ("/api/evidence/{}", exhibit), ("/api/hearings/{}/segments", ids["hearing"])):
        theirs = c.get(path.format(real), headers=world.auth("other_party"))
        missing = c.get(path.format(made_up), headers=world.auth("other_party"))
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["detail"] == missing.json()["detail"].replace(str(made_up), str(real)), path
