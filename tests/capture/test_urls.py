"""Stream URLs as shown in messages, alarms, manifests and the audit API: without their passwords."""

from __future__ import annotations

import pytest

from capture.errors import DecodeError
from capture.ffmpeg_source import probe
from capture.urls import shown_url, without_secrets


@pytest.mark.parametrize(("url", "shown"), [
    ("rtsp://camadmin:S3cretPW@10.0.0.9:554/room1", "rtsp://10.0.0.9:554/room1"),
    ("rtsp://admin:p@ss@cam/stream", "rtsp://cam/stream"),  # an unescaped @ in the password
    ("rtsp://user@cam/stream", "rtsp://cam/stream"),
    ("http://enc/live.ts?token=abc123&channel=2", "http://enc/live.ts?token=***&channel=2"),
    ("srt://enc:9000?passphrase=xyz&latency=200", "srt://enc:9000?passphrase=***&latency=200"),
    ("rtsp://cam/stream?contact=clerk@court", "rtsp://cam/stream?contact=clerk@court"),  # no user's @
    ("rtsp://cam/stream", "rtsp://cam/stream"),
    ("/srv/hearings/a.flac", "/srv/hearings/a.flac"),
])
def test_a_url_is_shown_without_its_secrets(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_secrets_leave_every_url_of_a_message() -> None:
    text = "cannot read rtsp://u:pw@cam/a: rtsp://u:pw@cam/a: refused; then http://h/x?key=k."
    assert without_secrets(text) == "cannot read rtsp://cam/a: rtsp://cam/a: refused; then http://h/x?key=***."


def test_a_stream_that_cannot_be_read_is_named_without_its_password() -> None:
    """ffmpeg repeats the URL it was given in its own report: the password went into the alarm, the
    recording's manifest (its gap reason) and the server's log."""
    with pytest.raises(DecodeError) as err:
        probe("rtsp://camadmin:S3cretPW@127.0.0.1:9/room1")
    message = str(err.value)
    assert "rtsp://127.0.0.1:9/room1" in message and "S3cretPW" not in message and "camadmin" not in message
