"""The small endpoints the bench adds: court notes (private to their author) and statute search."""

from __future__ import annotations

import httpx
import pytest
from ui_harness import api_token


@pytest.fixture
def client(ui_server):
    with httpx.Client(base_url=ui_server.base_url, timeout=30) as c:
        yield c


def _auth(client, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, user)}"}


def test_court_notes_are_private_to_their_author(client, ui_server) -> None:
    ids = ui_server.ids
    judge, other = _auth(client, "judge"), _auth(client, "judge2")
    made = client.post(f"/api/cases/{ids['case_a']}/notes", headers=judge,
                       json={"text": "合议前核对：被告称已还款", "hearing_id": ids["hearing_earlier"]})
    assert made.status_code == 201, made.text
    note = made.json()
    assert note["text"] == "合议前核对：被告称已还款" and note["hearing_id"] == ids["hearing_earlier"]
    mine = client.get(f"/api/cases/{ids['case_a']}/notes", headers=judge).json()
    assert note["id"] in [n["id"] for n in mine]
    assert note["id"] not in [n["id"] for n in client.get(f"/api/cases/{ids['case_a']}/notes", headers=other).json()]
    assert client.patch(f"/api/notes/{note['id']}", headers=other, json={"text": "x"}).status_code == 404
    assert client.delete(f"/api/notes/{note['id']}", headers=other).status_code == 404
    for user in ("clerk", "party_a", "appeal", "terminal_a"):
        assert client.get(f"/api/cases/{ids['case_a']}/notes", headers=_auth(client, user)).status_code == 403, user
    edited = client.patch(f"/api/notes/{note['id']}", headers=judge, json={"text": "已核对收据"})
    assert edited.status_code == 200 and edited.json()["text"] == "已核对收据"
    assert client.delete(f"/api/notes/{note['id']}", headers=judge).status_code == 204
    assert client.patch(f"/api/notes/{note['id']}", headers=judge, json={"text": "x"}).status_code == 404


def test_court_note_refuses_a_hearing_of_another_case(client, ui_server) -> None:
    ids = ui_server.ids
    resp = client.post(f"/api/cases/{ids['case_a']}/notes", headers=_auth(client, "judge"),
                       json={"text": "错挂的笔记", "hearing_id": ids["hearing_b"]})
    assert resp.status_code == 422, resp.text


def test_court_notes_are_audited_without_their_text(client, ui_server) -> None:
    judge = _auth(client, "judge")
    made = client.post(f"/api/cases/{ui_server.ids['case_a']}/notes", headers=judge, json={"text": "绝密的心证"})
    assert made.status_code == 201
    events = client.get("/api/audit", params={"object": f"note:{made.json()['id']}"}, headers=judge).json()
    # SQLite reuses the id of a deleted newest row, so earlier events may name the same object.
    newest = max(events, key=lambda e: e["id"])
    assert newest["action"] == "note.create" and newest["details"]["chars"] == 5
    assert "绝密" not in str(events)
    assert "OK" in ui_server.cli("audit", "verify").stdout


def test_statute_search_and_full_text(client, ui_server) -> None:
    assert client.get("/api/statutes", params={"q": "违约金"}).status_code == 401
    auth = _auth(client, "appeal")
    hits = client.get("/api/statutes", params={"q": "违约金"}, headers=auth).json()
    assert hits and hits[0]["article"] == "第五百八十五条" and "<mark>违约金</mark>" in hits[0]["snippet"]
    assert all("违约金" in h["snippet"].replace("<mark>", "").replace("</mark>", "") for h in hits)
    english = client.get("/api/statutes", params={"q": "borrower"}, headers=auth).json()
    assert {h["article"] for h in english} == {"Article 675"}
    one = client.get(f"/api/statutes/{hits[0]['id']}", headers=auth).json()
    assert one["text"].startswith("当事人可以约定一方违约时")
    assert client.get("/api/statutes/999999", headers=auth).status_code == 404
    for junk in ("\x00", "\x15违约", "！？"):  # control characters and bare punctuation: no error
        resp = client.get("/api/statutes", params={"q": junk}, headers=auth)
        assert resp.status_code == 200, (junk, resp.text)
    assert client.get("/api/statutes", params={"q": "\x15违约金"}, headers=auth).json()
