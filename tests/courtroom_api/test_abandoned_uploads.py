"""What a server killed mid-upload leaves on the data disk (partial uploads and blobs, each up to the upload
limit) is removed when the next one starts, a real ``courtroom serve``; a blob another process is writing
beside it (`courtroom recordings file-pending`) is not."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import httpx
from api_world import PASSWORD, _seed
from live_server import LiveServer

from models.blobs import LocalBlobStore


def _wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.time() + 30
    while not condition():
        assert time.time() < deadline, what
        time.sleep(0.05)


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_a_restarted_server_removes_what_a_killed_one_was_storing(tmp_path: Path) -> None:
    from models.db import make_engine, session_factory, upgrade

    url = f"sqlite:///{tmp_path / 'courtroom.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    case = _seed(session_factory(engine))["case"]
    engine.dispose()
    srv = LiveServer(tmp_path, url, extra_env={"COURTROOM_CAPTURE__DISK_RESERVE_MB": "0"})
    uploads, blob_tmp = tmp_path / "tmp" / "uploads", tmp_path / "blobs" / "tmp"
    srv.start()
    try:
        # An upload the server is receiving when it is killed.
        auth, more = srv.token("clerk", PASSWORD), threading.Event()

        def body():  # type: ignore[no-untyped-def]
            yield b"%PDF-1.4\n" + b"0" * 65536
            more.wait(30)

        def upload() -> None:
            try:
                httpx.post(f"{srv.base}/api/cases/{case}/evidence", params={"title": "big", "filename": "big.pdf"},
                           content=body(), headers={**auth, "Content-Type": "application/pdf"}, timeout=30)
            except httpx.HTTPError:
                pass  # the server is gone

        uploading = threading.Thread(target=upload)
        uploading.start()
        _wait_for(lambda: any(p.stat().st_size > 0 for p in uploads.glob("upload-*")), "the upload never arrived")
        srv.kill()
        more.set()
        uploading.join()
        partial = _files(uploads)
        assert len(partial) == 1
        # A blob the killed server was storing, and one another process is storing now.
        blob_tmp.mkdir(parents=True, exist_ok=True)
        (blob_tmp / "incoming-killed").write_bytes(b"half a recording")
        stored, go_on = [], threading.Event()

        def chunks():  # type: ignore[no-untyped-def]
            yield b"a recording being filed" * 1000
            go_on.wait(30)
            yield b"its end"

        filing = threading.Thread(target=lambda: stored.append(LocalBlobStore(tmp_path / "blobs").put_stream(chunks())))
        filing.start()
        _wait_for(lambda: len(_files(blob_tmp)) == 2, "the blob being filed has no temporary file")
        being_filed = next(name for name in _files(blob_tmp) if name != "incoming-killed")

        srv.start()
        assert _files(uploads) == []
        assert _files(blob_tmp) == [being_filed]
        log = (tmp_path / "server.log").read_text()
        for name in (partial[0], "incoming-killed"):
            assert f"at start-up: removed {tmp_path}" in log and name in log, log[-3000:]
        go_on.set()
        filing.join()
        assert LocalBlobStore(tmp_path / "blobs").exists(stored[0].sha256) and _files(blob_tmp) == []
    finally:
        srv.stop()


def test_a_restarted_server_takes_back_an_upload_stored_but_never_filed(tmp_path: Path) -> None:
    """Killed after an upload's file was in the blob store and before its exhibit was committed, the server
    left the whole file there for good, with no exhibit: the next start removes it, and keeps the blob of
    an exhibit filed earlier with the same bytes as another upload killed at the same moment."""
    import sqlite3

    from evidence_files import png_bytes

    from models.db import make_engine, session_factory, upgrade

    db_file = tmp_path / "courtroom.sqlite3"
    url = f"sqlite:///{db_file}"
    upgrade(url)
    engine = make_engine(url)
    case = _seed(session_factory(engine))["case"]
    engine.dispose()
    srv = LiveServer(tmp_path, url, extra_env={"COURTROOM_CAPTURE__DISK_RESERVE_MB": "0"})
    store, pending = LocalBlobStore(tmp_path / "blobs"), tmp_path / "blobs" / "pending"
    filed_png, unfiled_png = png_bytes((300, 200)), png_bytes((500, 400))
    srv.start()
    try:
        judge = srv.token("judge", PASSWORD)

        def upload(data: object, title: str) -> httpx.Response | None:
            try:
                return httpx.post(f"{srv.base}/api/cases/{case}/evidence",
                                  params={"title": title, "filename": "a.png", "sealed": "true"}, content=data,
                                  headers={**judge, "Content-Type": "image/png"}, timeout=60)
            except httpx.HTTPError:
                return None  # the server is gone

        filed = upload(filed_png, "filed")
        assert filed is not None and filed.status_code == 201, filed
        filed_sha = filed.json()["blob_sha256"]
        # The uploads' last bytes come once another writer holds the database: both are stored, then wait
        # to be filed, and are killed so.
        last_bytes = threading.Event()

        def held_back(data: bytes):  # type: ignore[no-untyped-def]
            yield data[:-100]
            last_bytes.wait(30)
            yield data[-100:]

        uploads = [threading.Thread(target=upload, args=(held_back(data), title))
                   for data, title in ((unfiled_png, "never filed"), (filed_png, "filed again"))]
        for thread in uploads:
            thread.start()
        staged = tmp_path / "tmp" / "uploads"
        _wait_for(lambda: len([p for p in staged.glob("upload-*") if p.stat().st_size]) == 2,
                  "the uploads never arrived")
        db = sqlite3.connect(db_file, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        last_bytes.set()
        unfiled_sha = hashlib.sha256(unfiled_png).hexdigest()
        _wait_for(lambda: store.exists(unfiled_sha), "the upload was never stored")
        time.sleep(1)  # (the other, its blob there already, stores nothing new, and waits too)
        _wait_for(lambda: _files(tmp_path / "blobs" / "tmp") == [], "the uploads were never stored")
        srv.kill()
        assert len(_files(pending)) == 2  # each upload's marker, written before its blob was
        db.execute("ROLLBACK")
        db.close()
        for thread in uploads:
            thread.join()

        srv.start()
        assert not store.exists(unfiled_sha)
        assert store.exists(filed_sha)
        assert _files(pending) == []
        listed = httpx.get(f"{srv.base}/api/cases/{case}/evidence", headers=judge).json()
        assert [e["title"] for e in listed] == ["filed"]
        assert httpx.get(f"{srv.base}/api/evidence/{listed[0]['id']}/content", headers=judge).content == filed_png
        log = (tmp_path / "server.log").read_text()
        assert f"at start-up: removed {store.path(unfiled_sha)}" in log, log[-3000:]
    finally:
        srv.stop()


def test_the_start_up_takes_back_only_marked_blobs_no_row_refers_to(world) -> None:  # type: ignore[no-untyped-def]
    """A marked blob that a recording refers to (its file, a seat's track, the mixdown) is kept; so is one
    never marked, whatever refers to it; a marked one nothing refers to is removed, and every marker."""
    from test_sealed_audio import _recorded_hearing

    from courtroom_api.blobstore import remove_unfiled_uploads

    services = world.client.app.state.services
    store = services.blobs
    _, _, _, files = _recorded_hearing(world)
    recorded = [hashlib.sha256(data).hexdigest() for data in files.values()]
    unfiled, unmarked = store.put_bytes(b"an upload never filed").sha256, store.put_bytes(b"no marker").sha256
    for sha256 in [*recorded, unfiled]:
        store.mark_pending(sha256)
    removed = remove_unfiled_uploads(services.settings)
    assert removed == [(store.path(unfiled), len(b"an upload never filed"))]
    assert all(store.exists(sha256) for sha256 in [*recorded, unmarked]) and not store.exists(unfiled)
    assert store.pending() == {}
