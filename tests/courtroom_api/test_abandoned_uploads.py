"""What a server killed mid-upload leaves on the data disk (partial uploads and blobs, each up to the upload
limit) is removed when the next one starts, a real ``courtroom serve``; a blob another process is writing
beside it (`courtroom recordings file-pending`) is not."""

from __future__ import annotations

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
