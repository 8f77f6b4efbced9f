"""Evidence arriving while the disk is full (a real 1 MiB tmpfs): a clear 507, nothing half-stored,
and the same upload succeeds once space is freed."""

from __future__ import annotations

from pathlib import Path

import pytest
from evidence_files import wav_bytes

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
