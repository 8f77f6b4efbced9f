import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.blobs import BlobStore, LocalBlobStore
from models.errors import BlobNotFoundError, BlobTooLargeError


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_open_and_address_is_sha256(tmp_path: Path) -> None:
    store: BlobStore = LocalBlobStore(tmp_path)
    data = "庭审录音 evidence".encode() * 1000
    ref = store.put_stream(data[i : i + 4096] for i in range(0, len(data), 4096))
    assert ref.sha256 == hashlib.sha256(data).hexdigest() and ref.size == len(data)
    assert store.exists(ref.sha256) and store.size(ref.sha256) == len(data)
    with store.open(ref.sha256) as f:
        assert f.read() == data
    path = LocalBlobStore(tmp_path).path(ref.sha256)
    assert path == tmp_path / ref.sha256[:2] / ref.sha256[2:4] / ref.sha256
    assert _files(tmp_path) == [path]  # no temporary file left behind


def test_write_once_same_content_same_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    first = store.put_bytes(b"exhibit 1")
    path = store.path(first.sha256)
    inode = path.stat().st_ino
    assert store.put_bytes(b"exhibit 1") == first
    assert path.stat().st_ino == inode  # not replaced
    assert not path.stat().st_mode & 0o222  # read-only (a hint only: root ignores modes)
    assert store.put_bytes(b"exhibit 2").sha256 != first.sha256


def test_size_limit_aborts_and_leaves_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, max_bytes=1000)
    assert store.put_bytes(b"x" * 1000).size == 1000  # exactly the limit is fine
    before = _files(tmp_path)
    with pytest.raises(BlobTooLargeError):
        store.put_stream(iter([b"y" * 600, b"y" * 600]))
    assert _files(tmp_path) == before


def test_failing_stream_leaves_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)

    def broken() -> Iterator[bytes]:
        yield b"partial upload"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_stream(broken())
    assert _files(tmp_path) == []
    assert not store.exists(hashlib.sha256(b"partial upload").hexdigest())


def test_a_lock_refused_leaves_neither_a_descriptor_nor_a_file(tmp_path: Path, monkeypatch) -> None:
    # The temporary file was created, then flock raised (ENOLCK): its descriptor and file stayed.
    import errno
    import fcntl
    import os

    store = LocalBlobStore(tmp_path)

    def refused(fd: int, op: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(fcntl, "flock", refused)
    with pytest.raises(OSError, match="No locks available"):
        store.put_bytes(b"exhibit 3")
    assert len(os.listdir("/proc/self/fd")) == before
    assert _files(tmp_path) == []


def test_concurrent_puts_of_the_same_content(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    data = b"same recording" * 10_000
    refs, errors = [], []

    def put() -> None:
        try:
            refs.append(store.put_bytes(data))
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(refs)) == 1
    assert _files(tmp_path) == [store.path(refs[0].sha256)]


@pytest.mark.parametrize("address", ["0" * 64, "../../etc/passwd", "A" * 64, "abc"])
def test_unknown_or_malformed_address(tmp_path: Path, address: str) -> None:
    store = LocalBlobStore(tmp_path)
    assert not store.exists(address)
    with pytest.raises(BlobNotFoundError):
        store.open(address)
    with pytest.raises(BlobNotFoundError):
        store.size(address)


def test_discard_removes_and_a_put_racing_a_discard_never_fails(tmp_path: Path) -> None:
    """A refused upload's blob is taken back while another put of the same content runs: the put stores
    it again (or finds it) and never fails halfway."""
    store = LocalBlobStore(tmp_path)
    ref = store.put_bytes(b"refused upload")
    store.discard(ref.sha256)
    assert not store.exists(ref.sha256) and _files(tmp_path) == []
    store.discard(ref.sha256)  # absent: nothing to do

    data, errors, done = b"same photo" * 1000, [], threading.Event()

    def put() -> None:
        try:
            for _ in range(300):
                store.put_bytes(data)
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    def discard() -> None:
        while not done.is_set():
            store.discard(hashlib.sha256(data).hexdigest())

    putters = [threading.Thread(target=put) for _ in range(4)]
    discarder = threading.Thread(target=discard)
    discarder.start()
    for t in putters:
        t.start()
    for t in putters:
        t.join()
    done.set()
    discarder.join()
    assert errors == []
