"""HTTP Range responses (single range, 206/416, Accept-Ranges) for recordings and evidence.

A range is only of the file its ETag names: a listener who resumes with ``If-Range`` after the file
changed (a sealed recording's copy is remade when another line is sealed) gets the whole new file,
not bytes of another one spliced onto what it has; ``If-Match`` with an old ETag is refused (412).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fastapi.responses import StreamingResponse
from starlette.responses import Response

from courtroom_api.errors import PreconditionFailedError, RangeNotSatisfiableError

CHUNK_BYTES = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")  # longer numbers: ignored (Python's int() refuses 4300+ digits)
_ETAG = re.compile(r'(W/)?"([^"]*)"')


@dataclass(frozen=True, slots=True)
class RangeRequest:
    """A request's ``Range`` header and the validators it is conditional on (RFC 9110 §13.1.1, §13.1.5)."""

    range: str | None = None
    if_range: str | None = None
    if_match: str | None = None
    head: bool = False  # a HEAD request: the same status and headers, no file read


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range asked for, None for the whole file.

    Multiple ranges and malformed headers are ignored (the whole file is sent, as RFC 9110 allows);
    a range that starts past the end raises :class:`RangeNotSatisfiableError`.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # suffix range: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiableError(size)
        return ByteRange(max(0, size - n), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiableError(size)
    return ByteRange(start, end)


def _strong_match(header: str, etag: str | None) -> bool:
    """Whether an ``If-Match``/``If-Range`` list names ``etag`` (strong comparison: weak tags never match)."""
    return etag is not None and any(not weak and tag == etag for weak, tag in _ETAG.findall(header))


def _wanted_range(asked: RangeRequest, size: int, etag: str | None) -> ByteRange | None:
    """The range to send, after the request's preconditions; None for the whole file."""
    if asked.if_match is not None and asked.if_match.strip() != "*" and not _strong_match(asked.if_match, etag):
        raise PreconditionFailedError("the file has changed since that ETag (If-Match): fetch it again")
    # If-Range is evaluated before Range: a stale validator (an old ETag, or a date, since no
    # Last-Modified is sent) means the client's bytes are of another file, so it gets the whole one
    if asked.range and asked.if_range is not None and not _strong_match(asked.if_range, etag):
        return None
    return parse_range(asked.range, size)


def _iter_file(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        f.seek(start)
        left = length
        while left > 0:
            chunk = f.read(min(CHUNK_BYTES, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk


def file_response(
    path: Path, *, media_type: str, asked: RangeRequest, filename: str | None = None, etag: str | None = None
) -> Response:
    """200 with the whole file or 206 with the asked range (if the request's If-Range still names
    ``etag``); 412 if its If-Match does not; streamed in chunks (none for HEAD)."""
    size = path.stat().st_size
    headers = _headers(etag, filename)
    byte_range = _wanted_range(asked, size, etag)
    start, length = (0, size) if byte_range is None else (byte_range.start, byte_range.length)
    headers["Content-Length"] = str(length)
    if byte_range is not None:
        headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
    status = 200 if byte_range is None else 206
    if asked.head:  # (a server drops the body of a HEAD answer, but streaming it would read the file)
        return Response(status_code=status, media_type=media_type, headers=headers)
    return StreamingResponse(_iter_file(path, start, length), status_code=status, media_type=media_type, headers=headers)


def bytes_response(data: bytes, *, media_type: str, asked: RangeRequest, etag: str,
                   filename: str | None = None) -> Response:
    """As :func:`file_response`, for a body made for the request (an excerpt of a recording still being
    made): ``etag`` names these bytes, so a range asked with ``If-Range`` of other ones gets them whole."""
    headers = _headers(etag, filename)
    headers["Cache-Control"] = "no-store"  # made anew each time: the next request may hear more
    byte_range = _wanted_range(asked, len(data), etag)
    body, status = (data, 200) if byte_range is None else (data[byte_range.start : byte_range.end + 1], 206)
    if byte_range is not None:
        headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{len(data)}"
    if asked.head:
        headers["Content-Length"] = str(len(body))
        return Response(status_code=status, media_type=media_type, headers=headers)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def _headers(etag: str | None, filename: str | None) -> dict[str, str]:
    headers = {"Accept-Ranges": "bytes", "X-Content-Type-Options": "nosniff"}  # served as what it was checked to be
    if etag:
        headers["ETag"] = f'"{etag}"'
    if filename:
        from urllib.parse import quote

        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    return headers
