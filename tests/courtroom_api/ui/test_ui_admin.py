"""The administrator's page: an admin lands there, sees the users, the courtrooms and the audit trail,
adds and disables users (each audited), and is refused the clerk console, which is not theirs."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import expect
from ui_harness import api_token, login, screenshots
from ui_seed import PASSWORD


def _fresh_login(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"  # the server is shared by the session's tests


def test_an_admin_lands_on_the_admin_page_with_users_courtrooms_and_audit(page, ui_server) -> None:
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/admin")
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("header h1")).to_contain_text("系统管理")
    for who in ("judge", "clerk", "appeal", "admin"):
        expect(page.locator(f"#user-rows tr[data-login='{who}']")).to_have_count(1)
    terminal = page.locator("#user-rows tr[data-login='terminal_a']")
    expect(terminal).to_contain_text("终端 · 第一法庭 · 原告席")
    expect(terminal).to_contain_text("启用中")
    room = page.locator(f"#courtroom-rows tr[data-courtroom-id='{ui_server.ids['room_1']}']")
    expect(room).to_contain_text("第一法庭")
    expect(room).to_contain_text("示范人民法院")
    expect(room.locator(".profile")).to_have_text("demo")
    # the trail, newest first: this login is on it
    own_login = page.locator(f"#audit-rows tr[data-action='auth.login'][data-object='user:{ui_server.ids['user_admin']}']")
    expect(own_login.first).to_be_visible()
    page.click("#audit-verify")
    expect(page.locator("#audit-verify-result")).to_contain_text("哈希链完整")
    screenshots(page, "admin")
    page.click("#lang-toggle")
    expect(page.locator("#audit-verify-result")).to_contain_text("Chain intact")
    expect(page.locator("#users-panel h2")).to_have_text("Users")
    expect(terminal).to_contain_text("Terminal · 第一法庭 · Plaintiff side")
    page.click("#lang-toggle")


def test_adding_disabling_and_ending_a_users_logins_is_shown_and_audited(page, ui_server) -> None:
    login(page, "admin", "/admin")
    new = _fresh_login("clerk")
    page.fill("#new-login", new)
    page.fill("#new-name", "钱书记员")
    page.fill("#new-password", "a-long-password")
    page.select_option("#new-role", "clerk")
    expect(page.locator("#new-courtroom")).to_be_hidden()  # a clerk is bound to no room
    page.click("#add-user-go")
    row = page.locator(f"#user-rows tr[data-login='{new}']")
    expect(row).to_contain_text("钱书记员")
    expect(row).to_contain_text("书记员")
    expect(page.locator("#new-login")).to_have_value("")
    user_id = row.get_attribute("data-user-id")
    created = page.locator(f"#audit-rows tr[data-action='user.create'][data-object='user:{user_id}']")
    expect(created).to_have_count(1)
    expect(created).to_contain_text(f"user:{ui_server.ids['user_admin']}:admin")
    expect(created).to_contain_text(new)

    row.locator("[data-action='admin.disable']").click()
    expect(row).to_have_attribute("data-active", "false")
    expect(row).to_contain_text("已停用")
    row.locator("[data-action='admin.enable']").click()
    expect(row).to_have_attribute("data-active", "true")
    row.locator("[data-action='admin.revoke']").click()
    expect(page.locator(f"#audit-rows tr[data-action='user.revoke_tokens'][data-object='user:{user_id}']")).to_have_count(1)
    # the trail filtered to this user: its creation, the two edits and the revocation, nothing else
    page.fill("#audit-object", f"user:{user_id}")
    page.click("#audit-filter button[type=submit]")
    expect(page.locator(f"#audit-rows tr:not([data-object='user:{user_id}'])")).to_have_count(0)  # (the whole trail went)
    expect(page.locator("#audit-rows tr")).to_have_count(4)
    expect(page.locator("#audit-rows tr").first).to_have_attribute("data-action", "user.revoke_tokens")
    # the user signs in with the password set here
    with httpx.Client(base_url=ui_server.base_url) as client:
        resp = client.post("/api/auth/token", data={"username": new, "password": "a-long-password"})
    assert resp.status_code == 200, resp.text


def test_adding_a_terminal_binds_it_to_the_room_picked(page, ui_server) -> None:
    login(page, "admin", "/admin")
    new = _fresh_login("term")
    page.fill("#new-login", new)
    page.fill("#new-password", "a-long-password")
    page.select_option("#new-role", "terminal")
    page.select_option("#new-courtroom", str(ui_server.ids["room_2"]))
    page.select_option("#new-side", "defendant")
    page.click("#add-user-go")
    expect(page.locator(f"#user-rows tr[data-login='{new}']")).to_contain_text("终端 · 第二法庭 · 被告席")


def test_the_audit_trail_pages_back_and_filters_by_action(page, ui_server) -> None:
    with httpx.Client(base_url=ui_server.base_url) as client:
        auth = {"Authorization": f"Bearer {api_token(client, 'admin')}"}
        made = client.post("/api/users", headers=auth, json={"login": _fresh_login("party"), "password": "a-long-password",
                                                             "role": "party"})
        assert made.status_code == 201, made.text
        user_id = made.json()["id"]
        for _ in range(55):  # more than a page of the trail: 50
            assert client.post(f"/api/users/{user_id}/unlock", headers=auth).status_code == 204
    login(page, "admin", "/admin")
    page.fill("#audit-object", f"user:{user_id}")
    page.fill("#audit-action", "user.unlock")
    page.click("#audit-filter button[type=submit]")
    rows = page.locator("#audit-rows tr")
    # (the whole trail shown before is 50 rows too: wait for the filtered one)
    expect(page.locator(f"#audit-rows tr:not([data-object='user:{user_id}'][data-action='user.unlock'])")).to_have_count(0)
    expect(rows).to_have_count(50)
    page.click("#audit-more")
    expect(rows).to_have_count(55)
    expect(page.locator("#audit-more")).to_be_hidden()
    ids = rows.evaluate_all("rs => rs.map(r => Number(r.dataset.eventId))")
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 55  # newest first, none twice
    page.fill("#audit-action", "no.such.action")
    page.click("#audit-filter button[type=submit]")
    expect(page.locator("#audit-none")).to_be_visible()
    expect(rows).to_have_count(0)


def test_the_audit_trails_older_page_tapped_twice_is_shown_once(page, ui_server) -> None:
    """更早的记录 tapped twice while its page loads reads that page once (each tap read it, and appended
    the same 50 rows again)."""
    with httpx.Client(base_url=ui_server.base_url) as client:
        auth = {"Authorization": f"Bearer {api_token(client, 'admin')}"}
        made = client.post("/api/users", headers=auth, json={"login": _fresh_login("party"), "password": "a-long-password",
                                                             "role": "party"})
        assert made.status_code == 201, made.text
        user_id = made.json()["id"]
        for _ in range(120):  # more than two pages of the trail: 50 each
            assert client.post(f"/api/users/{user_id}/unlock", headers=auth).status_code == 204
    login(page, "admin", "/admin")
    page.fill("#audit-object", f"user:{user_id}")
    page.click("#audit-filter button[type=submit]")
    rows = page.locator("#audit-rows tr")
    expect(page.locator(f"#audit-rows tr:not([data-object='user:{user_id}'])")).to_have_count(0)
    expect(rows).to_have_count(50)
    older: list[str] = []
    page.on("request", lambda r: older.append(r.url) if "/api/audit" in r.url and "before_id=" in r.url else None)
    page.locator("#audit-more").dblclick()
    expect(rows).to_have_count(100)
    assert len(older) == 1, older  # (a second tap sends its request before the first is answered)
    ids = rows.evaluate_all("rs => rs.map(r => Number(r.dataset.eventId))")
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 100
    expect(page.locator("#audit-more")).to_be_enabled()


@pytest.mark.parametrize("path", ["/clerk", "/bench", "/party", "/search", "/transcript?hearing=1"])
def test_the_pages_of_hearings_refuse_an_admin(page, ui_server, path) -> None:
    """An administrator may read no transcript, evidence or search (the API refuses them): the bench, the
    party screen, search and the transcript page let them in and showed only 403s."""
    login(page, "admin", "/admin")
    page.goto(path)
    page.wait_for_url("**/login?denied=*")
    expect(page.locator("#login-error")).to_have_text("当前账号无权使用该终端")
    # refused before it called the API: no 403s on the console (the page fixture checks)
