"""Signed media links (?mt=): one path, one user, a few minutes; same access checks as the bearer token."""

import pytest
from evidence_files import png_bytes, wav_bytes

from courtroom_api.auth.media import issue_media_token
from courtroom_api.auth.policy import Principal


def _upload(world, data, mime, filename, sealed=False):
    r = world.client.post(f"/api/cases/{world.ids['case']}/evidence",
                          params={"title": filename, "filename": filename, "sealed": sealed}, content=data,
                          headers={**world.auth("clerk"), "Content-Type": mime})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _link(world, who, path):
    r = world.client.post("/api/auth/media-links", json={"path": path}, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json()["url"]


@pytest.fixture(scope="module")
def wav(world):
    data = wav_bytes(1.0)
    return _upload(world, data, "audio/wav", "media-link.wav"), data


def test_link_streams_its_path_with_range(world, wav) -> None:
    evidence_id, data = wav
    url = _link(world, "party", f"/api/evidence/{evidence_id}/content")
    assert "?mt=" in url
    part = world.client.get(url, headers={"Range": "bytes=100-199"})  # no Authorization header
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert world.client.get(url).content == data


def test_link_refused_for_another_path(world, wav) -> None:
    evidence_id, _ = wav
    token = _link(world, "party", f"/api/evidence/{evidence_id}/content").split("mt=")[1]
    other = _upload(world, wav_bytes(0.5), "audio/wav", "other.wav")
    r = world.client.get(f"/api/evidence/{other}/content", params={"mt": token})
    assert r.status_code == 401
    # nor is it a bearer token for the rest of the API
    r = world.client.get(f"/api/cases/{world.ids['case']}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_expired_link_refused(world, wav) -> None:
    evidence_id, _ = wav
    path = f"/api/evidence/{evidence_id}/content"
    services = world.client.app.state.services
    party = Principal(user_id=world.ids["user_party"], login="party", role="party", token_id="t", token_issued_at=1.0)
    token, _ = issue_media_token(party, path, -60, services.secret)
    r = world.client.get(path, params={"mt": token})
    assert r.status_code == 401 and "expired" in r.text


def test_link_grants_no_more_than_the_user_has(world, wav) -> None:
    evidence_id, _ = wav
    path = f"/api/evidence/{evidence_id}/content"
    # another case's party can get a signed link, but the file endpoint still checks the case scope
    assert world.client.get(_link(world, "other_party", path)).status_code == 404
    sealed = _upload(world, png_bytes(), "image/png", "sealed.png", sealed=True)
    sealed_path = f"/api/evidence/{sealed}/rendition"
    assert world.client.get(_link(world, "party", sealed_path)).status_code == 404
    r = world.client.get(_link(world, "judge", sealed_path))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize("path", ["/api/cases/1", "/api/evidence/1/content?x=1", "/api/auth/me", "/etc/passwd"])
def test_only_file_endpoints_get_links(world, path) -> None:
    r = world.client.post("/api/auth/media-links", json={"path": path}, headers=world.auth("judge"))
    assert r.status_code == 422


def test_link_needs_login(world) -> None:
    assert world.client.post("/api/auth/media-links", json={"path": "/api/evidence/1/content"}).status_code == 401


def test_if_range_gives_the_range_only_of_the_same_file(world, wav) -> None:
    evidence_id, data = wav
    url = _link(world, "party", f"/api/evidence/{evidence_id}/content")
    etag = world.client.get(url, headers={"Range": "bytes=0-9"}).headers["etag"]
    same = world.client.get(url, headers={"Range": "bytes=100-199", "If-Range": etag})
    assert same.status_code == 206 and same.content == data[100:200]
    for stale in ('"0123abcd"', "Wed, 21 Oct 2015 07:28:00 GMT"):  # another ETag; a date (no Last-Modified is sent)
        whole = world.client.get(url, headers={"Range": "bytes=100-199", "If-Range": stale})
        assert whole.status_code == 200 and whole.content == data
    assert world.client.get(url, headers={"If-Match": '"0123abcd"'}).status_code == 412
    assert world.client.get(url, headers={"If-Match": f'"x", {etag}'}).content == data
