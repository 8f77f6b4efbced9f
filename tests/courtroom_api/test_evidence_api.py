"""Evidence through the API: upload, refusal leaving nothing behind, Range, renditions, display."""

import hashlib
import io

import pytest
from evidence_files import audio_bytes, pdf_bytes, png_bytes, wav_bytes
from PIL import Image

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _upload(world, who, data, mime, filename, **params):
    params = {"title": filename, "filename": filename, **params}
    return world.client.post(f"/api/cases/{world.ids['case']}/evidence", params=params, content=data,
                             headers={**world.auth(who), "Content-Type": mime})


def _stored_files(world) -> set:
    blobs = world.data_dir / "blobs"
    tmp = world.data_dir / "tmp"
    return {p for root in (blobs, tmp) if root.exists() for p in root.rglob("*") if p.is_file()}


def test_upload_list_download_with_range(world) -> None:
    data = wav_bytes(1.0)
    r = _upload(world, "party", data, "audio/wav", "call.wav")
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["sha256" if "sha256" in ev else "blob_sha256"] == hashlib.sha256(data).hexdigest()
    assert ev["kind"] == "audio" and ev["exhibit_number"].startswith("P-")  # the plaintiff's exhibit
    listed = world.client.get(f"/api/cases/{world.ids['case']}/evidence", headers=world.auth("terminal")).json()
    assert ev["id"] in [x["id"] for x in listed]
    url = f"/api/evidence/{ev['id']}/content"
    full = world.client.get(url, headers=world.auth("party"))
    assert full.status_code == 200 and full.content == data and full.headers["accept-ranges"] == "bytes"
    assert full.headers["x-content-type-options"] == "nosniff"  # a browser does not second-guess the checked type
    part = world.client.get(url, headers={**world.auth("party"), "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = world.client.get(url, headers={**world.auth("party"), "Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]
    bad = world.client.get(url, headers={**world.auth("party"), "Range": f"bytes={len(data)}-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{len(data)}"
    other = world.client.get(url, headers=world.auth("other_party"))
    assert other.status_code == 404


def test_audio_in_mp4_webm_and_rf64_is_filed_as_audio_and_played_with_range(world, tmp_path) -> None:
    """A voice memo in .mp4, a browser's recording in .webm and the recorder's own RF64 WAV were refused
    (no video stream, audio/webm not accepted, RF64 unrecognised); filed as audio, a player gets them
    with their audio type and seeks in them."""
    for suffix, mime, filed_as in ((".mp4", "audio/mp4", "audio/mp4"), (".webm", "audio/webm", "audio/webm"),
                                   (".wav", "audio/wav", "audio/wav")):
        data = audio_bytes(tmp_path, suffix)
        r = _upload(world, "party", data, mime, f"memo{suffix}")
        assert r.status_code == 201, (suffix, r.text)
        assert (r.json()["kind"], r.json()["mime_type"]) == ("audio", filed_as)
        url = f"/api/evidence/{r.json()['id']}/content"
        part = world.client.get(url, headers={**world.auth("judge"), "Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == data[100:200], suffix
        assert part.headers["content-type"] == filed_as and part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    refused = _upload(world, "party", audio_bytes(tmp_path, ".webm"), "video/webm", "memo.webm")
    assert refused.status_code == 422 and "declare it audio/webm" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("data", "mime", "filename", "status", "message"),
    [
        (png_bytes(), PDF, "contract.pdf", 422, "content is image/png"),
        (pdf_bytes()[:60], PDF, "contract.pdf", 422, "corrupt PDF"),
        (b"\x00" * 5000, PDF, "contract.pdf", 422, "unrecognised"),
        (b"%PDF-" + b"x" * 2_100_000, PDF, "big.pdf", 413, "limit of 2000000 bytes"),
    ],
)
def test_bad_uploads_refused_with_nothing_stored(world, data, mime, filename, status, message) -> None:
    before_files = _stored_files(world)
    before = world.client.get(f"/api/cases/{world.ids['case']}/evidence", headers=world.auth("clerk")).json()
    r = _upload(world, "clerk", data, mime, filename)
    assert r.status_code == status and message in r.json()["detail"], r.text
    after = world.client.get(f"/api/cases/{world.ids['case']}/evidence", headers=world.auth("clerk")).json()
    assert after == before
    assert _stored_files(world) == before_files


def test_oversized_stream_without_length_is_cut_off(world) -> None:
    before_files = _stored_files(world)

    def body():
        yield b"%PDF-1.4\n"
        for _ in range(40):
            yield b"0" * 100_000

    r = world.client.post(f"/api/cases/{world.ids['case']}/evidence", params={"title": "x", "filename": "x.pdf"},
                          content=body(), headers={**world.auth("clerk"), "Content-Type": PDF})
    assert r.status_code == 413
    assert _stored_files(world) == before_files


def test_exhibit_numbers_go_past_numbers_given_by_hand_and_never_collide(world) -> None:
    """The server numbers a clerk's exhibits C-1, C-2, …: after one numbered by hand past them, or one
    renumbered, it goes on after the highest; uploads at the same moment each get their own number."""
    import re
    import threading

    def highest() -> int:
        listed = world.client.get(f"/api/cases/{world.ids['case']}/evidence", headers=world.auth("clerk")).json()
        return max([int(m[1]) for x in listed if (m := re.fullmatch(r"C-(\d+)", x["exhibit_number"]))], default=0)

    top = highest()
    png = png_bytes((40, 30))
    by_hand = _upload(world, "clerk", png, "image/png", "plan.png", exhibit_number=f"C-{top + 2}")
    assert by_hand.status_code == 201, by_hand.text
    auto = _upload(world, "clerk", png, "image/png", "plan2.png")
    assert auto.status_code == 201 and auto.json()["exhibit_number"] == f"C-{top + 3}", auto.text
    moved = world.client.patch(f"/api/evidence/{auto.json()['id']}", json={"exhibit_number": f"C-{top + 9}"},
                               headers=world.auth("clerk"))
    assert moved.status_code == 200, moved.text
    after = _upload(world, "clerk", png, "image/png", "plan3.png")
    assert after.json()["exhibit_number"] == f"C-{top + 10}", after.text
    taken = _upload(world, "clerk", png, "image/png", "plan4.png", exhibit_number=f"C-{top + 10}")
    assert taken.status_code == 409 and f"C-{top + 10}" in taken.json()["detail"]

    start, results = threading.Barrier(6), [None] * 6

    def upload(i: int) -> None:
        start.wait()
        results[i] = _upload(world, "clerk", png_bytes((40 + i, 30)), "image/png", f"page{i}.png")

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [201] * 6, [r.text for r in results]
    assert sorted(r.json()["exhibit_number"] for r in results) == sorted(f"C-{top + 11 + i}" for i in range(6))


def test_an_exhibit_number_is_the_same_however_written(world) -> None:
    """A number is filed trimmed, full-width forms as ASCII; one differing from a filed number only in case,
    blanks or full-width forms is refused (409) naming the number filed; a blank number or title is 422."""
    first = _upload(world, "clerk", png_bytes((33, 61)), "image/png", "a.png", exhibit_number=" Ｑ－１\u3000")
    assert first.status_code == 201 and first.json()["exhibit_number"] == "Q-1", first.text
    for written in ("q-1", "Q-1 ", " Q-1", "Q-1\u3000", "Ｑ－1", "ｑ－１"):
        r = _upload(world, "clerk", png_bytes((34, 61)), "image/png", "b.png", exhibit_number=written)
        assert r.status_code == 409 and "'Q-1'" in r.json()["detail"], (written, r.text)
    for params in ({"exhibit_number": " "}, {"exhibit_number": "\u3000"}, {"title": " "}, {"title": "\u3000"}):
        r = _upload(world, "clerk", png_bytes((35, 61)), "image/png", "c.png", **params)
        assert r.status_code == 422, (params, r.text)
    other = _upload(world, "clerk", png_bytes((36, 61)), "image/png", "d.png", exhibit_number="Q-2").json()
    patch = world.client.patch
    clerk = world.auth("clerk")
    renumbered = patch(f"/api/evidence/{other['id']}", json={"exhibit_number": "ｑ－１ "}, headers=clerk)
    assert renumbered.status_code == 409 and "'Q-1'" in renumbered.json()["detail"], renumbered.text
    for body in ({"exhibit_number": " "}, {"title": " "}):
        assert patch(f"/api/evidence/{other['id']}", json=body, headers=clerk).status_code == 422, body
    itself = patch(f"/api/evidence/{first.json()['id']}", json={"exhibit_number": " q-1"}, headers=clerk)
    assert itself.status_code == 200 and itself.json()["exhibit_number"] == "q-1", itself.text


def test_auto_numbers_go_on_after_a_large_number_given_by_hand(world) -> None:
    """After a hand-given D-999999999 the defendant's next exhibits are D-1000000000, D-1000000001, …
    (they were all refused: 'exhibit number None is already used'); one that would not fit is refused
    naming it, and the side goes on once the large number is renumbered."""
    case, who = world.ids["other_case"], world.auth("other_party")

    def upload(i: int, **params):  # type: ignore[no-untyped-def]
        return world.client.post(f"/api/cases/{case}/evidence", params={"title": "receipt", **params},
                                 content=png_bytes((37 + i, 62)), headers={**who, "Content-Type": "image/png"})

    assert upload(0, exhibit_number="D-999999999").status_code == 201
    assert [upload(i).json().get("exhibit_number") for i in (1, 2)] == ["D-1000000000", "D-1000000001"]
    huge = upload(3, exhibit_number="D-" + "9" * 48)
    assert huge.status_code == 201, huge.text
    refused = upload(4)
    assert refused.status_code == 409 and "D-1" + "0" * 48 in refused.json()["detail"], refused.text
    world.client.patch(f"/api/evidence/{huge.json()['id']}", json={"exhibit_number": "D-huge"},
                       headers=world.auth("clerk"))
    assert upload(5).json().get("exhibit_number") == "D-1000000002"


def _at_once(world, uploads: list[tuple[bytes, str]]) -> list:
    """Upload ``(png, exhibit number)`` pairs as the clerk, all at the same moment."""
    import threading

    start, results = threading.Barrier(len(uploads)), [None] * len(uploads)

    def upload(i: int) -> None:
        start.wait()
        results[i] = _upload(world, "clerk", uploads[i][0], "image/png", f"photo{i}.png", exhibit_number=uploads[i][1])

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(len(uploads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_uploads_refused_for_a_number_taken_meanwhile_leave_no_file(world) -> None:
    """Eight uploads at once under one new exhibit number: one is filed, the others are refused (409), and
    the files the refused ones had already stored are taken back; the same file sent eight times at once
    under one number (a double-clicked upload) is filed once and its file stays."""
    services = world.client.app.state.services
    datas = [png_bytes((70 + i, 31)) for i in range(8)]
    results = _at_once(world, [(d, "R-7") for d in datas])
    assert sorted(r.status_code for r in results) == [201] + [409] * 7, [r.text for r in results]
    for data, r in zip(datas, results, strict=True):
        stored = services.blobs.exists(hashlib.sha256(data).hexdigest())
        assert stored == (r.status_code == 201), (r.status_code, stored)

    same = png_bytes((90, 31))
    results = _at_once(world, [(same, "R-8")] * 8)
    filed = [r.json() for r in results if r.status_code == 201]
    assert len(filed) == 1 and sorted(r.status_code for r in results) == [201] + [409] * 7
    content = world.client.get(f"/api/evidence/{filed[0]['id']}/content", headers=world.auth("clerk"))
    assert content.status_code == 200 and content.content == same


def test_image_renditions_tiles_and_pdf_pages(world) -> None:
    img = _upload(world, "clerk", png_bytes((600, 400)), "image/png", "site-map.png").json()
    h = world.auth("party")
    scaled = world.client.get(f"/api/evidence/{img['id']}/rendition", params={"max_px": 300}, headers=h)
    assert Image.open(io.BytesIO(scaled.content)).size == (300, 200)
    info = world.client.get(f"/api/evidence/{img['id']}/tiles", headers=h).json()
    tile = world.client.get(f"/api/evidence/{img['id']}/tiles/{info['max_level']}/2/1", headers=h)
    assert tile.status_code == 200 and Image.open(io.BytesIO(tile.content)).size == (88, 144)
    assert world.client.get(f"/api/evidence/{img['id']}/tiles/{info['max_level']}/9/9", headers=h).status_code == 404
    pdf = _upload(world, "clerk", pdf_bytes(3), PDF, "contract.pdf").json()
    assert world.client.get(f"/api/evidence/{pdf['id']}/pages", headers=h).json()["pages"] == 3
    page = world.client.get(f"/api/evidence/{pdf['id']}/pages/2", params={"width": 400}, headers=h)
    assert page.status_code == 200 and Image.open(io.BytesIO(page.content)).size[0] == 400


def test_sealed_evidence_only_for_bench(world) -> None:
    ev = _upload(world, "clerk", png_bytes((50, 50)), "image/png", "medical.png", sealed="true").json()
    assert ev["sealed"] is True
    for role, code in (("judge", 200), ("clerk", 200), ("party", 404), ("appeal_judge", 404), ("terminal", 404)):
        assert world.client.get(f"/api/evidence/{ev['id']}/content", headers=world.auth(role)).status_code == code
    listed = world.client.get(f"/api/cases/{world.ids['case']}/evidence", headers=world.auth("party")).json()
    assert ev["id"] not in [x["id"] for x in listed]
    shown = world.client.put(f"/api/hearings/{world.ids['hearing']}/display", json={"evidence_id": ev["id"]},
                             headers=world.auth("judge"))
    assert shown.status_code == 409


def test_a_word_exhibit_is_kept_for_download_and_not_put_on_the_screens(world) -> None:
    from evidence_files import docx_bytes

    data = docx_bytes()
    docx = _upload(world, "party", data, DOCX, "lease.docx").json()
    display = f"/api/hearings/{world.ids['hearing']}/display"
    before = world.client.get(display, headers=world.auth("party")).json()
    shown = world.client.put(display, json={"evidence_id": docx["id"], "page": 1}, headers=world.auth("judge"))
    assert shown.status_code == 422 and "file it as a PDF" in shown.json()["detail"], shown.text
    assert world.client.get(display, headers=world.auth("party")).json() == before  # the screens kept theirs
    got = world.client.get(f"/api/evidence/{docx['id']}/content", headers=world.auth("party"))
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-disposition"].endswith("-lease.docx")  # saved, it opens in Word
    pdf = _upload(world, "party", pdf_bytes(1), PDF, "lease.pdf").json()
    assert world.client.put(display, json={"evidence_id": pdf["id"], "page": 1},
                            headers=world.auth("judge")).status_code == 200
    world.client.put(display, json=before, headers=world.auth("judge"))


def test_media_players_asking_head_first_get_the_headers_of_get(world) -> None:
    """Players and download managers ask HEAD for the size, type and Range support before fetching."""
    h = world.auth("party")
    audio = _upload(world, "clerk", wav_bytes(0.5), "audio/wav", "head.wav").json()
    image = _upload(world, "clerk", png_bytes((300, 200)), "image/png", "head.png").json()
    pdf = _upload(world, "clerk", pdf_bytes(2), PDF, "head.pdf").json()
    paths = [f"/api/evidence/{audio['id']}", f"/api/evidence/{audio['id']}/content",
             f"/api/evidence/{image['id']}/rendition?max_px=100", f"/api/evidence/{image['id']}/tiles",
             f"/api/evidence/{image['id']}/tiles/0/0/0", f"/api/evidence/{pdf['id']}/pages",
             f"/api/evidence/{pdf['id']}/pages/1?width=200"]
    for path in paths:
        got, head = world.client.get(path, headers=h), world.client.head(path, headers=h)
        assert head.status_code == got.status_code == 200, (path, head.status_code)
        for name in ("content-type", "content-length", "etag", "accept-ranges", "content-disposition"):
            assert head.headers.get(name) == got.headers.get(name), (path, name)
    content = f"/api/evidence/{audio['id']}/content"
    head = world.client.head(content, headers=h)
    assert head.content == b"" and int(head.headers["content-length"]) == audio["size_bytes"]
    part = world.client.head(content, headers={**h, "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == b"" and part.headers["content-length"] == "100"
    assert part.headers["content-range"] == f"bytes 100-199/{audio['size_bytes']}"
    link = world.client.post("/api/auth/media-links", json={"path": content}, headers=h).json()["url"]
    assert world.client.head(link).status_code == 200  # a player's signed link (no bearer header)
    assert world.client.head(f"/api/evidence/{audio['id']}/content").status_code == 401
    assert "head" not in world.client.get("/openapi.json").json()["paths"]["/api/evidence/{evidence_id}/content"]
def test_a_party_cannot_file_sealed_evidence(world) -> None:
    """A party asking to file an exhibit sealed is refused (403) with nothing stored: filed unsealed
    instead, it was shown to the other side and the terminals."""
    before_files = _stored_files(world)
    listed = world.client.get(f"/api/cases/{world.ids['case']}/evidence", headers=world.auth("clerk")).json()
    r = _upload(world, "party", png_bytes((52, 52)), "image/png", "diagnosis.png", sealed="true")
    assert r.status_code == 403 and "sealed" in r.json()["detail"], r.text
    assert world.client.get(f"/api/cases/{world.ids['case']}/evidence", headers=world.auth("clerk")).json() == listed
    assert _stored_files(world) == before_files
    mine = _upload(world, "party", png_bytes((53, 52)), "image/png", "receipt.png").json()
    sealing = world.client.patch(f"/api/evidence/{mine['id']}", json={"sealed": True}, headers=world.auth("party"))
    assert sealing.status_code == 403
    assert world.client.get(f"/api/evidence/{mine['id']}", headers=world.auth("party")).json()["sealed"] is False


def _next_of(ws, type_: str) -> dict:
    while True:
        event = ws.receive_json()
        if event["type"] == type_:
            return event


def test_sealing_the_exhibit_on_display_takes_it_off_the_party_screens(world) -> None:
    """The judge shows an exhibit, then seals it: the party screens go blank at once, GET display names it
    to no one, and neither a screen opened later nor one replaying the hearing is sent it; audited."""
    c, judge = world.client, world.auth("judge")
    hid = c.post(f"/api/cases/{world.ids['case']}/hearings", json={"courtroom_id": world.ids["room"]},
                 headers=world.auth("clerk")).json()["id"]
    ev, nxt = (_upload(world, "judge", png_bytes((64, 48 + i)), "image/png", "scene.png").json() for i in range(2))
    assert c.put(f"/api/hearings/{hid}/display", json={"evidence_id": ev["id"]}, headers=judge).status_code == 200
    blank = {"evidence_id": None, "page": None, "zoom": None}
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['party']}") as party_ws:
        assert _next_of(party_ws, "display")["data"]["evidence_id"] == ev["id"]
        sealed = c.patch(f"/api/evidence/{ev['id']}", json={"sealed": True}, headers=judge)
        assert sealed.status_code == 200, sealed.text
        for role in ("party", "terminal", "judge"):
            assert c.get(f"/api/hearings/{hid}/display", headers=world.auth(role)).json() == blank, role
        with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['party']}") as later:
            assert _next_of(later, "display")["data"] == blank
        # The next exhibit shown: the open screen went blank before it (and a missing push fails, not hangs).
        c.put(f"/api/hearings/{hid}/display", json={"evidence_id": nxt["id"]}, headers=judge)
        assert _next_of(party_ws, "display")["data"] == blank
        assert _next_of(party_ws, "display")["data"]["evidence_id"] == nxt["id"]
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['terminal']}&after=0") as replay:
        last_seq, seen = _next_of(replay, "hello")["data"]["last_seq"], []
        while not seen or seen[-1]["seq"] < last_seq:
            seen.append(replay.receive_json())
    shown = [e["data"]["evidence_id"] for e in seen if e["type"] == "display"]
    assert shown == [None, None, nxt["id"]], seen  # the showing (redacted), the blanking, the next one
    audit = c.get("/api/audit", params={"object": f"hearing:{hid}", "action": "display.set"}, headers=judge).json()
    assert audit[1]["details"]["evidence_id"] is None and "sealed" in audit[1]["details"]["reason"], audit
