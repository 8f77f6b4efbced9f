from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hardware.errors import ProfileError, ProfileNotFoundError
from hardware.profiles import PACKAGE_DIR, list_profiles, load_profile
from hardware.toml_lines import find_line

GOOD = """\
room_id = "room-7"
sample_rate = 16000

[source]
kind = "ffmpeg"
url = "rtsp://10.0.0.5/array"

[[channels]]
channel = 0
seat = "judge"
role = "presiding_judge"

[[channels]]
channel = 1
seat = "clerk"
role = "clerk"
gain_db = -3

[[terminals]]
id = "bench"
kind = "bench"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "room.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_profiles_load_with_their_channel_maps() -> None:
    assert {"demo", "civil-4ch", "criminal-8ch"} <= set(list_profiles())
    civil = load_profile("civil-4ch")
    assert [c.seat for c in civil.channels] == ["judge", "clerk", "plaintiff", "defendant"]
    assert civil.source.kind == "device" and civil.channel_count == 4
    criminal = load_profile("criminal-8ch")
    assert criminal.channel_count == 8
    assert {c.role for c in criminal.channels} >= {"presiding_judge", "prosecutor", "agent", "witness"}
    assert {t.side for t in criminal.terminals if t.kind == "party"} == {"prosecution", "defendant", "neutral"}
    demo = load_profile("demo")
    assert demo.source.kind == "replay"
    assert Path(demo.source.url or "") == PACKAGE_DIR / "samples" / "demo_hearing.flac"
    assert demo.seat_of(3) is not None and demo.seat_of(3).seat == "defendant"


def test_profile_from_a_path(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD))
    assert profile.room_id == "room-7" and profile.name == "room-7"
    assert profile.source.url == "rtsp://10.0.0.5/array"
    assert profile.channels[1].gain_db == -3.0


def test_relative_file_url_is_resolved_against_the_profile(tmp_path: Path) -> None:
    text = GOOD.replace('kind = "ffmpeg"\nurl = "rtsp://10.0.0.5/array"', 'kind = "replay"\nurl = "audio/h.flac"')
    assert load_profile(write(tmp_path, text)).source.url == str(tmp_path / "audio" / "h.flac")


@pytest.mark.parametrize(
    ("change", "field", "line", "words"),
    [
        (("channel = 1\nseat = \"clerk\"", "channel = 0\nseat = \"clerk\""), "channels[1].channel", 14, "already mapped"),
        (("channel = 1\n", "channel = -2\n"), "channels[1].channel", 14, ">= 0"),
        (("seat = \"clerk\"", "seat = \"judge\""), "channels[1].seat", 15, "already on channel 0"),
        (("channel = 1\n", "channel = \"one\"\n"), "channels[1].channel", 14, "an integer"),
        (("role = \"clerk\"\n", ""), "channels[1].role", 13, "is required"),
        (("gain_db = -3", "gain_db = 90"), "channels[1].gain_db", 17, "between -40"),
        (("gain_db = -3", "gian_db = -3"), "channels[1].gian_db", 17, "unknown field"),
        (("kind = \"ffmpeg\"", "kind = \"usb\""), "source.kind", 5, "device, ffmpeg, replay"),
        (("sample_rate = 16000", "sample_rate = 4"), "sample_rate", 2, "between 8000"),
        (("kind = \"bench\"", "kind = \"party\""), "terminals[0].side", 19, "side"),
        (("role = \"presiding_judge\"", "role = \"presiding_jugde\""), "channels[0].role", 11, "one of agent"),
        (("kind = \"bench\"", "kind = \"party\"\nside = \"plaintif\""), "terminals[0].side", 22, "one of bench"),
        (("seat = \"clerk\"", "seat = \"judge \""), "channels[1].seat", 15, "already on channel 0"),
        (("url = \"rtsp://10.0.0.5/array\"", "url = \"rtsp://10.0.0.5/array\"\nspeed = nan"), "source.speed", 7,
         "finite number > 0"),
        (("channel = 1\n", "channel = 100000000\n"), "channels[1].channel", 14, "< 256"),
        (("seat = \"clerk\"", f"seat = \"{'defence_counsel_2_' * 3}\""), "channels[1].seat", 15,
         "at most 50 characters"),
        (("seat = \"clerk\"", "seat = \" mixdown\""), "channels[1].seat", 15, "reserved for the recording's"),
    ],
)
def test_bad_profile_names_file_line_and_field(tmp_path: Path, change, field, line, words) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    err = info.value
    assert (err.field, err.line) == (field, line), str(err)
    assert words in str(err)
    assert str(err).startswith(f"{path}:{line}: field '{field}'")


def test_an_ffmpeg_source_is_a_live_stream_and_a_file_is_replayed(tmp_path: Path) -> None:
    """A file given to kind "ffmpeg" ended, was reopened as a dropped stream, and was recorded over and
    over, faster than real time (a 12 s file gave 51 s of recording in 4.5 s)."""
    (tmp_path / "h.flac").write_bytes(b"")
    for url in ("h.flac", str(tmp_path / "h.flac"), f"file://{tmp_path / 'h.flac'}", "missing.flac"):
        path = write(tmp_path, GOOD.replace("rtsp://10.0.0.5/array", url))
        with pytest.raises(ProfileError, match='kind = "replay"') as info:
            load_profile(path)
        assert str(info.value).startswith(f"{path}:6: field 'source.url'")
    for url in ("srt://10.0.0.5:9000", "http://10.0.0.5/array.ogg", "/dev/null"):  # streams, a device node
        assert load_profile(write(tmp_path, GOOD.replace("rtsp://10.0.0.5/array", url))).source.url == url


def test_empty_channel_map_and_syntax_error(tmp_path: Path) -> None:
    no_channels = "channels = []\n" + GOOD.split("[[channels]]")[0]
    with pytest.raises(ProfileError, match="at least one channel"):
        load_profile(write(tmp_path, no_channels))
    with pytest.raises(ProfileError, match=r"line 4") as info:
        load_profile(write(tmp_path, GOOD.replace("[source]", "[source")))
    assert str(info.value).startswith(f"{tmp_path / 'room.toml'}:4: ")


def test_unknown_profile() -> None:
    with pytest.raises(ProfileNotFoundError, match="civil-4ch"):
        load_profile("no-such-room")


def test_find_line_follows_arrays_of_tables() -> None:
    assert find_line(GOOD, ("channels", 1, "seat")) == 15
    assert find_line(GOOD, ("channels", 1, "label")) == 13  # absent key: its table's header
    assert find_line(GOOD, ("source", "url")) == 6
    assert find_line(GOOD, ("terminals", 0, "kind")) == 21


def test_bad_profile_normalised_seats_collide(tmp_path: Path) -> None:
    # "témoin" typed composed on one seat and decomposed on another is one seat twice.
    text = GOOD.replace('seat = "judge"', 'seat = "t\u00e9moin"').replace('seat = "clerk"', 'seat = "te\u0301moin"')
    with pytest.raises(ProfileError, match="already on channel 0") as info:
        load_profile(write(tmp_path, text))
    assert info.value.field == "channels[1].seat"
    seat = load_profile(write(tmp_path, GOOD.replace('seat = "judge"', 'seat = " te\u0301moin "'))).channels[0].seat
    assert seat == "t\u00e9moin"  # stored stripped and composed, as seat assignments name it


def test_roles_and_sides_are_the_dossier_s() -> None:
    from hardware.types import MAX_SEAT_CHARS, SEAT_ROLES, TERMINAL_SIDES
    from models import Participant, SeatAssignment, TranscriptSegment
    from models.enums import ParticipantRole, Side

    assert SEAT_ROLES == {r.value for r in ParticipantRole}
    assert TERMINAL_SIDES == {s.value for s in Side}
    # a seat the profile accepts fits every column the dossier files it in
    assert {c.seat.type.length for c in (Participant, SeatAssignment, TranscriptSegment)} == {MAX_SEAT_CHARS}


def test_a_profile_not_saved_as_utf8_is_a_profile_error_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes(GOOD.replace('seat = "clerk"', 'seat = "书记员"').encode("gbk"))
    with pytest.raises(ProfileError, match="not UTF-8") as info:
        load_profile(path)
    assert str(info.value).startswith(f"{path}:15: field '<encoding>'")
    out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "devices", "--profile", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert out.stdout.startswith(f"error: {path}:15:")


def test_a_profile_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    """Windows Notepad saves UTF-8 with a BOM: the demo profile so saved was refused as `<syntax>: Invalid
    statement (at line 1, column 1)`."""
    path = PACKAGE_DIR / "profiles" / "demo.toml"
    (tmp_path / "bom.toml").write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    saved, demo = load_profile(tmp_path / "bom.toml"), load_profile("demo")
    assert (saved.room_id, saved.channels, saved.terminals) == (demo.room_id, demo.channels, demo.terminals)
