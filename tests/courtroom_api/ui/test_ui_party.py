"""Party screens: follow the bench, zoom and pan, own case only (through the UI and the API)."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect
from ui_harness import ConsoleLog, api_token, login, screenshots, watch


def _zoom(page) -> float:
    return float(page.locator("#party-viewer .zoom-viewport").get_attribute("data-zoom") or 0)


def _new_page(browser, ui_server, console: ConsoleLog, size=(1920, 1080)):
    ctx = browser.new_context(base_url=ui_server.base_url, viewport={"width": size[0], "height": size[1]},
                              has_touch=True)
    page = ctx.new_page()
    watch(page, console)
    return ctx, page


def test_exhibit_shown_on_the_bench_appears_on_the_party_screen(browser, ui_server) -> None:
    console = ConsoleLog()
    ids = ui_server.ids
    party_ctx, party = _new_page(browser, ui_server, console, (1280, 800))
    bench_ctx, bench = _new_page(browser, ui_server, console)
    try:
        login(party, "terminal_a", "/party")
        expect(party.locator("#party-waiting")).to_be_visible()
        expect(party.locator("#binding")).to_contain_text("第一法庭 · 原告席")
        login(bench, "judge", "/bench")
        bench.click("#layout-switch")
        bench.click("button[role=tab][data-pane=evidence]")
        bench.click(f"#bench-evidence-list [data-evidence-id='{ids['evidence_drawing']}']")
        bench.click("#show-to-parties")
        expect(bench.locator("#showing-banner")).to_be_visible()
        expect(party.locator("#party-viewer")).to_have_attribute("data-evidence-id", str(ids["evidence_drawing"]))
        expect(party.locator("#party-viewer .zoom-content img")).to_be_visible()
        # The bench zooms in: the party screen follows to the same region.
        for _ in range(3):
            bench.click("#bench-viewer [data-action='ev.zoomin']")
        party.wait_for_function(
            "() => Number(document.querySelector('#party-viewer .zoom-viewport').dataset.zoom) > 2.5")
        screenshots(party, "party-following")
        screenshots(bench, "bench-evidence-showing")
        # A multi-page document: the page turned on the bench is the page on the party screen.
        bench.click(f"#bench-evidence-list [data-evidence-id='{ids['evidence_contract']}']")
        bench.click("#bench-viewer [data-action='ev.next']")
        expect(party.locator("#party-viewer")).to_have_attribute("data-evidence-id", str(ids["evidence_contract"]))
        expect(party.locator("#party-viewer")).to_have_attribute("data-page", "2")
        bench.click("#show-to-parties")  # stop showing
        expect(party.locator("#party-waiting")).to_be_visible()
        # Stopped while the party screen is still loading the exhibit (a large scan): when it arrives
        # late, it is not painted after all.
        held: list = []
        party.route(f"**/api/evidence/{ids['evidence_drawing']}/content*", lambda route: held.append(route))
        bench.click(f"#bench-evidence-list [data-evidence-id='{ids['evidence_drawing']}']")
        bench.click("#show-to-parties")
        expect(bench.locator("#showing-banner")).to_be_visible()
        for _ in range(100):
            if held:
                break
            party.wait_for_timeout(100)
        assert held, "the party screen never asked for the exhibit"
        bench.click("#show-to-parties")  # stop showing
        expect(party.locator("#party-waiting")).to_be_visible()
        with party.expect_request_finished(lambda r: "/content" in r.url):
            held[0].continue_()
        party.wait_for_timeout(500)  # the image is decoded and would be painted now
        expect(party.locator("#party-waiting")).to_be_visible()
        expect(party.locator("#party-viewer .zoom-content img")).to_have_count(0)
        assert party.locator("#party-viewer").get_attribute("data-evidence-id") is None
    finally:
        party_ctx.close()
        bench_ctx.close()
    assert not console.unexpected(), console.unexpected()


def test_party_pinch_zoom_pan_and_buttons(page, ui_server) -> None:
    login(page, "party_a", "/party")
    page.click("#follow-bench")  # look around on one's own
    page.click(f"#party-evidence-list [data-evidence-id='{ui_server.ids['evidence_drawing']}']")
    expect(page.locator("#party-viewer")).to_have_attribute("data-evidence-id", str(ui_server.ids["evidence_drawing"]))
    page.wait_for_selector(f"#party-viewer .zoom-content img[data-path$='/{ui_server.ids['evidence_drawing']}/content']")
    vp = page.locator("#party-viewer .zoom-viewport")
    z0 = _zoom(page)
    assert abs(z0 - 1.0) < 0.01
    page.click("#party-viewer [data-action='ev.zoomin']")
    assert _zoom(page) > 1.4
    page.click("#party-viewer [data-action='ev.fit']")
    assert abs(_zoom(page) - 1.0) < 0.01
    # Two-finger pinch, as pointer events with two pointer ids spreading apart.
    box = vp.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.evaluate(
        """([cx, cy]) => {
          const vp = document.querySelector('#party-viewer .zoom-viewport');
          const ev = (type, id, x, y) => vp.dispatchEvent(new PointerEvent(type, {pointerId: id, clientX: x, clientY: y,
            pointerType: 'touch', isPrimary: id === 1, bubbles: true}));
          ev('pointerdown', 1, cx - 20, cy); ev('pointerdown', 2, cx + 20, cy);
          for (let i = 1; i <= 10; i++) { ev('pointermove', 1, cx - 20 - 10 * i, cy); ev('pointermove', 2, cx + 20 + 10 * i, cy); }
          ev('pointerup', 1, cx - 120, cy); ev('pointerup', 2, cx + 120, cy);
        }""",
        [cx, cy],
    )
    pinched = _zoom(page)
    assert 4.0 < pinched < 7.0, pinched  # fingers went from 40 px to 240 px apart: about 6x
    # One-finger pan moves the page under the finger.
    before = page.locator("#party-viewer .zoom-content").get_attribute("style")
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 150, cy - 80, steps=5)
    page.mouse.up()
    assert page.locator("#party-viewer .zoom-content").get_attribute("style") != before
    assert abs(_zoom(page) - pinched) < 0.01
    # The wheel zooms too (desktop use of the same screen).
    page.mouse.wheel(0, 300)
    assert _zoom(page) < pinched
    screenshots(page, "party-zoomed")


def test_party_plays_audio_evidence_with_seeking(page, ui_server) -> None:
    media_statuses: list[int] = []
    page.on("response", lambda r: media_statuses.append(r.status) if "mt=" in r.url else None)
    login(page, "party_a", "/party")
    page.click("#follow-bench")
    evidence_id = ui_server.ids["evidence_audio"]
    page.click(f"#party-evidence-list [data-evidence-id='{evidence_id}']")
    audio = page.locator("#party-viewer audio")
    expect(audio).to_be_visible()
    page.wait_for_function("() => document.querySelector('#party-viewer audio').readyState >= 1")
    # Streamed through a signed media link (not downloaded whole into a blob: URL), with Range.
    src = page.evaluate("() => document.querySelector('#party-viewer audio').src")
    assert f"/api/evidence/{evidence_id}/content?mt=" in src, src
    assert 206 in media_statuses, media_statuses
    duration = page.evaluate("() => document.querySelector('#party-viewer audio').duration")
    assert 1.5 < duration < 2.5
    page.evaluate("() => { document.querySelector('#party-viewer audio').currentTime = 1.2; }")
    page.wait_for_function("() => Math.abs(document.querySelector('#party-viewer audio').currentTime - 1.2) < 0.05")


def test_party_plays_video_evidence_with_seeking(page, ui_server) -> None:
    login(page, "party_a", "/party")
    page.click("#follow-bench")
    page.click(f"#party-evidence-list [data-evidence-id='{ui_server.ids['evidence_video']}']")
    expect(page.locator("#party-viewer video")).to_be_visible()
    page.wait_for_function("() => document.querySelector('#party-viewer video').readyState >= 1")
    assert 1.5 < page.evaluate("() => document.querySelector('#party-viewer video').duration") < 2.5
    page.evaluate("() => { document.querySelector('#party-viewer video').currentTime = 1.5; }")
    page.wait_for_function("() => Math.abs(document.querySelector('#party-viewer video').currentTime - 1.5) < 0.11")
    page.click("#party-viewer [data-action='ev.back']")  # the touch-sized seek buttons
    page.wait_for_function("() => document.querySelector('#party-viewer video').currentTime === 0")
    screenshots(page, "party-video")


def test_party_sees_only_its_own_case_in_the_ui(page, ui_server, console) -> None:
    ids = ui_server.ids
    console.allowed.append("404")  # the refused request for the other case's hearing
    login(page, "party_a", "/party")
    listed = page.locator("#party-evidence-list [data-evidence-id]")
    expect(listed).to_have_count(4)
    shown = {listed.nth(i).get_attribute("data-evidence-id") for i in range(4)}
    assert str(ids["evidence_b"]) not in shown
    screenshots(page, "party")
    # Pointing the screen at the other case's hearing shows nothing of it.
    page.goto(f"/party?hearing={ids['hearing_b']}")
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#party-evidence-list [data-evidence-id]")).to_have_count(0)
    expect(page.locator(".toast-error")).to_be_visible()


def test_party_cannot_reach_another_cases_evidence_through_the_api(ui_server) -> None:
    ids = ui_server.ids
    with httpx.Client(base_url=ui_server.base_url) as client:
        for login_name in ("party_a", "terminal_a"):
            auth = {"Authorization": f"Bearer {api_token(client, login_name)}"}
            for path in (f"/api/evidence/{ids['evidence_b']}", f"/api/evidence/{ids['evidence_b']}/content",
                         f"/api/cases/{ids['case_b']}/evidence", f"/api/hearings/{ids['hearing_b']}/display"):
                resp = client.get(path, headers=auth)
                assert resp.status_code in (403, 404), (login_name, path, resp.status_code)
            # …while its own case's evidence is there.
            assert client.get(f"/api/evidence/{ids['evidence_drawing']}/content", headers=auth).status_code == 200


def _file_docx(ui_server) -> tuple[int, bytes]:
    """A Word exhibit for case A, filed through the API as the clerk."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # (tests/courtroom_api: evidence_files)
    from evidence_files import docx_bytes

    data = docx_bytes()
    with httpx.Client(base_url=ui_server.base_url, timeout=60) as client:
        resp = client.post(f"/api/cases/{ui_server.ids['case_a']}/evidence", content=data,
                           params={"title": "租赁合同", "filename": "lease.docx"},
                           headers={"Authorization": f"Bearer {api_token(client, 'clerk')}",
                                    "Content-Type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"]), data


def test_a_word_exhibit_is_offered_for_download_and_not_shown_to_the_parties(browser, ui_server) -> None:
    console = ConsoleLog()
    ids = ui_server.ids
    docx_id, data = _file_docx(ui_server)
    party_ctx, party = _new_page(browser, ui_server, console, (1280, 800))
    bench_ctx, bench = _new_page(browser, ui_server, console)
    try:
        login(party, "party_a", "/party")
        party.click("#follow-bench")
        party.click(f"#party-evidence-list [data-evidence-id='{docx_id}']")
        expect(party.locator("#party-viewer")).to_have_attribute("data-evidence-id", str(docx_id))
        expect(party.locator("#party-viewer .ev-toolbar")).to_be_hidden()  # no pages to turn
        with party.expect_download() as saved:
            party.click("#party-viewer [data-action='ev.download']")
        assert open(saved.value.path(), "rb").read() == data
        assert saved.value.suggested_filename.endswith(".docx")
        # The bench showing the plan opens the Word file: showing stops and the judge is told why.
        login(bench, "judge", "/bench")
        bench.click("#layout-switch")
        bench.click("button[role=tab][data-pane=evidence]")
        bench.click(f"#bench-evidence-list [data-evidence-id='{ids['evidence_drawing']}']")
        bench.click("#show-to-parties")
        expect(bench.locator("#showing-banner")).to_be_visible()
        bench.click(f"#bench-evidence-list [data-evidence-id='{docx_id}']")
        expect(bench.locator(".toast-error")).to_contain_text("PDF")
        expect(bench.locator("#showing-banner")).to_be_hidden()
        expect(bench.locator("#bench-viewer [data-action='ev.download']")).to_be_visible()
        bench.click("#show-to-parties")  # refused on the bench: nothing is sent
        expect(bench.locator("#showing-banner")).to_be_hidden()
        with httpx.Client(base_url=ui_server.base_url) as client:
            shown = client.get(f"/api/hearings/{ids['hearing_live']}/display",
                               headers={"Authorization": f"Bearer {api_token(client, 'judge')}"}).json()
        assert shown["evidence_id"] is None
    finally:
        party_ctx.close()
        bench_ctx.close()
    assert not console.unexpected(), console.unexpected()
def test_an_exhibit_sealed_while_on_the_party_screen_leaves_it(page, ui_server) -> None:
    """Sealed while the bench shows it (a following screen), or while the party looks at it on its own:
    the viewer empties and the waiting line is back."""
    from ui_files import drawing_png

    ids = ui_server.ids
    with httpx.Client(base_url=ui_server.base_url, timeout=60) as client:
        judge = {"Authorization": f"Bearer {api_token(client, 'judge')}"}

        viewer = page.locator("#party-viewer")

        def upload(label: str) -> int:
            resp = client.post(f"/api/cases/{ids['case_a']}/evidence", content=drawing_png(label, (400, 300)),
                               params={"title": label, "filename": "sealed.png"},
                               headers={**judge, "Content-Type": "image/png"})
            assert resp.status_code == 201, resp.text
            return int(resp.json()["id"])

        def seal(evidence_id: int) -> None:
            resp = client.patch(f"/api/evidence/{evidence_id}", json={"sealed": True}, headers=judge)
            assert resp.status_code == 200, resp.text

        def on_screen(evidence_id: int) -> None:  # its image loaded (sealed before, the load is refused: 404)
            expect(viewer).to_have_attribute("data-evidence-id", str(evidence_id))
            page.wait_for_function("(id) => [...document.querySelectorAll('#party-viewer .zoom-content img')].some("
                                   "(img) => (img.dataset.path || '').endsWith(`/${id}/content`) && img.complete "
                                   "&& img.naturalWidth > 0)", arg=evidence_id)

        shown, looked_at = upload("证人住址图"), upload("证人病历")
        login(page, "party_a", f"/party?hearing={ids['hearing_live']}")
        client.put(f"/api/hearings/{ids['hearing_live']}/display", json={"evidence_id": shown}, headers=judge)
        on_screen(shown)
        seal(shown)
        expect(page.locator("#party-waiting")).to_be_visible()
        expect(viewer).not_to_have_attribute("data-evidence-id", str(shown))
        page.click("#follow-bench")  # look around on one's own
        page.click(f"#party-evidence-list [data-evidence-id='{looked_at}']")
        on_screen(looked_at)
        seal(looked_at)
        expect(page.locator("#party-waiting")).to_be_visible()
        expect(viewer).not_to_have_attribute("data-evidence-id", str(looked_at))
        expect(page.locator(f"#party-evidence-list [data-evidence-id='{looked_at}']")).to_have_count(0)


def test_an_exhibit_sealed_after_the_hearing_ended_leaves_the_party_screen(page, ui_server) -> None:
    """The hearing followed has ended, so no live stream tells the screen of a seal: the sealed exhibit stayed
    on screen and in the list, tappable. The screen reads its exhibits again now and then."""
    from ui_files import drawing_png

    ids = ui_server.ids
    page.clock.install()  # the screen's look-up every 20 s, without waiting for it
    with httpx.Client(base_url=ui_server.base_url, timeout=60) as client:
        judge = {"Authorization": f"Bearer {api_token(client, 'judge')}"}
        resp = client.post(f"/api/cases/{ids['case_a']}/evidence", content=drawing_png("证人住址图", (400, 300)),
                           params={"title": "证人住址图", "filename": "address.png"},
                           headers={**judge, "Content-Type": "image/png"})
        assert resp.status_code == 201, resp.text
        sealed = int(resp.json()["id"])
        login(page, "party_a", f"/party?hearing={ids['hearing_earlier']}")
        expect(page.locator("body")).to_have_attribute("data-live", "ended")
        page.click("#follow-bench")
        page.click(f"#party-evidence-list [data-evidence-id='{sealed}']")
        expect(page.locator("#party-viewer")).to_have_attribute("data-evidence-id", str(sealed))
        # Its image loaded before the seal (sealed first, its load is refused: a console error).
        page.wait_for_function("(id) => [...document.querySelectorAll('#party-viewer .zoom-content img')].some("
                               "(img) => (img.dataset.path || '').endsWith(`/${id}/content`) && img.complete "
                               "&& img.naturalWidth > 0)", arg=sealed)
        resp = client.patch(f"/api/evidence/{sealed}", json={"sealed": True}, headers=judge)
        assert resp.status_code == 200, resp.text
    page.clock.fast_forward(25_000)
    expect(page.locator(f"#party-evidence-list [data-evidence-id='{sealed}']")).to_have_count(0)
    expect(page.locator("#party-waiting")).to_be_visible()
    expect(page.locator("#party-viewer")).not_to_have_attribute("data-evidence-id", str(sealed))
