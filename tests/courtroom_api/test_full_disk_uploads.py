"""Evidence arriving while the disk is full (a real 1 MiB tmpfs), or while the database's disk is: a clear
507, nothing half-stored, and the same upload succeeds once space is freed; evidence shown while the disk
is full is still shown."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from api_world import build_world
from evidence_files import pdf_bytes, png_bytes, wav_bytes

from courtroom_api.errors import StorageFullError
from courtroom_api.evidence.upload import stage_upload
from models.blobs import LocalBlobStore


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_evidence_into_a_full_blob_store_is_refused_with_507_and_nothing_stored(world, small_disk, fill_disk) -> None:
    services = world.client.app.state.services
    saved, services.blobs = services.blobs, LocalBlobStore(small_disk / "blobs")
    try:
        filler = fill_disk(small_disk)
        url, data = f"/api/cases/{world.ids['case']}/evidence", wav_bytes(2.0)
        before = world.client.get(url, headers=world.auth("clerk")).json()
        r = world.client.post(url, params={"title": "full.wav", "filename": "full.wav"}, content=data,
                              headers={**world.auth("clerk"), "Content-Type": "audio/wav"})
        assert r.status_code == 507, r.text
        assert r.json()["detail"].startswith("the blob store is full (No space left on device); nothing was stored")
        assert world.client.get(url, headers=world.auth("clerk")).json() == before
        assert _files(small_disk) == [filler]  # no partial blob, no temp file left
        assert not _files(world.data_dir / "tmp" / "uploads")
        filler.unlink()  # the operator frees space: the same upload now goes in
        r = world.client.post(url, params={"title": "full.wav", "filename": "full.wav"}, content=data,
                              headers={**world.auth("clerk"), "Content-Type": "audio/wav"})
        assert r.status_code == 201, r.text
        assert services.blobs.exists(r.json()["blob_sha256"])
    finally:
        services.blobs = saved


async def test_an_upload_staged_onto_a_full_disk_is_refused_and_removed(small_disk, fill_disk) -> None:
    fill_disk(small_disk)

    async def chunks():  # type: ignore[no-untyped-def]
        data = wav_bytes(2.0)
        for i in range(0, len(data), 8192):
            yield data[i:i + 8192]

    with pytest.raises(StorageFullError, match="upload space is full .*nothing was stored"):
        await stage_upload(chunks(), claimed_mime="audio/wav", filename="a.wav", limit_bytes=10**7,
                           tmp_dir=small_disk / "uploads")
    assert _files(small_disk / "uploads") == []


def test_pages_renditions_and_tiles_are_shown_while_the_cache_disk_is_full(world, tmpfs, fill_disk) -> None:
    """The rendition is made in memory; caching it on a full disk failed and the screens got a 500."""
    services = world.client.app.state.services
    clerk = world.auth("clerk")
    pdf, image = (world.client.post(f"/api/cases/{world.ids['case']}/evidence", content=data, headers={
        **clerk, "Content-Type": mime}, params={"title": name, "filename": name}).json()["id"]
        for data, mime, name in ((pdf_bytes(3), "application/pdf", "full.pdf"),
                                 (png_bytes((611, 409)), "image/png", "full.png")))
    cache = tmpfs(services.renditions_dir, "1m")  # (over the world's cache until the test ends)
    filler = fill_disk(cache)
    for path, magic in ((f"/api/evidence/{pdf}/pages/2?width=800", b"\x89PNG"),
                        (f"/api/evidence/{image}/rendition?max_px=300", b"\xff\xd8"),
                        (f"/api/evidence/{image}/tiles/0/0/0", b"\xff\xd8")):
        r = world.client.get(path, headers=world.auth("party"))
        assert r.status_code == 200 and r.content.startswith(magic), (path, r.status_code, r.text[:200])
    assert _files(cache) == [filler]  # nothing cached, no temp file left
    filler.unlink()  # space is back: the next one is cached again
    assert world.client.get(f"/api/evidence/{pdf}/pages/2?width=800", headers=world.auth("party")).status_code == 200
    assert [p.name for p in _files(cache)] == ["page-2-800.png"]


def _upload_wav(world, data: bytes, name: str):  # type: ignore[no-untyped-def]
    return world.client.post(f"/api/cases/{world.ids['case']}/evidence", params={"title": name, "filename": name},
                             content=data, headers={**world.auth("clerk"), "Content-Type": "audio/wav"})


def test_writes_onto_a_full_database_disk_are_refused_with_507(tmp_path, tmpfs, fill_disk) -> None:
    """SQLite on a real full disk (the evidence on another): "database or disk is full" was a 500 for an
    upload (its blob stored, then taken back) and for every other write."""
    disk = tmpfs(tmp_path / "database-disk", "8m")
    database = disk / "courtroom.sqlite3"
    world = build_world(tmp_path / "data", f"sqlite:///{database}")
    try:
        exhibit = _upload_wav(world, wav_bytes(0.3), "before.wav").json()["id"]
        with sqlite3.connect(database) as db:  # the log emptied: the next write needs new space on the disk
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = fill_disk(disk)
        url, data = f"/api/cases/{world.ids['case']}/evidence", wav_bytes(2.0)
        before = world.client.get(url, headers=world.auth("clerk")).json()
        r = _upload_wav(world, data, "full.wav")
        assert r.status_code == 507, r.text
        assert r.json()["detail"] == "the database's disk is full; nothing was stored; try again once space is freed"
        assert world.client.get(url, headers=world.auth("clerk")).json() == before
        services = world.client.app.state.services
        assert not services.blobs.exists(hashlib.sha256(data).hexdigest())  # the stored blob was taken back
        assert not _files(world.data_dir / "tmp" / "uploads")
        r = world.client.patch(f"/api/evidence/{exhibit}", json={"title": "renamed"}, headers=world.auth("clerk"))
        assert r.status_code == 507 and "nothing was stored" in r.json()["detail"], r.text
        filler.unlink()  # space is back: the same upload goes in
        r = _upload_wav(world, data, "full.wav")
        assert r.status_code == 201, r.text
        assert services.blobs.exists(r.json()["blob_sha256"])
    finally:
        world.client.__exit__(None, None, None)


def test_an_upload_postgresql_refuses_for_a_full_disk_is_refused_with_507(world, refusing_writes) -> None:
    """PostgreSQL says a full disk with SQLSTATE 53100 (disk_full): a 507, the blob taken back."""
    services = world.client.app.state.services
    if services.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's full disk: a real one, in the test above")
    data = wav_bytes(1.7)
    with refusing_writes(services.engine, "evidence", "INSERT", sqlstate="53100"):
        r = _upload_wav(world, data, "pg-full.wav")
    assert r.status_code == 507 and "nothing was stored" in r.json()["detail"], r.text
    assert not services.blobs.exists(hashlib.sha256(data).hexdigest())
