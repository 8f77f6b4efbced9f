"""Courtroom profiles: TOML files describing a room's audio source, channel map and terminals.

A profile is validated completely on load; every error names the file, the line and the field::

    room_id = "civil-4ch"
    name = "Civil courtroom, 4 microphones"
    sample_rate = 16000

    [source]
    kind = "device"          # device | ffmpeg (a live stream) | replay (a recorded file)
    device = "pulse"         # sounddevice name or index (device); url = "..." for ffmpeg / replay

    [[channels]]
    channel = 0
    seat = "judge"
    role = "presiding_judge"
    gain_db = 0.0
    label = "审判长 Presiding judge"

    [[terminals]]
    id = "bench"
    kind = "bench"           # bench | party (needs side = "...") | clerk

Relative file paths in ``source.url`` are resolved against the profile's directory; for the
bundled profiles (``hardware/profiles/*.toml``) against the ``hardware`` package, so the demo
profile refers to ``samples/demo_hearing.flac``.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hardware.errors import ProfileError, ProfileNotFoundError
from hardware.toml_lines import KeyPath, find_line
from hardware.types import (
    MAX_CHANNELS,
    MAX_SEAT_CHARS,
    MIXDOWN_SEAT,
    SEAT_ROLES,
    TERMINAL_SIDES,
    AudioSourceSpec,
    CourtroomProfile,
    SeatChannel,
    Terminal,
)

PACKAGE_DIR = Path(__file__).resolve().parent
PROFILES_DIR = PACKAGE_DIR / "profiles"

_TOP_KEYS = {"room_id", "name", "sample_rate", "source", "channels", "terminals"}
_SOURCE_KEYS = {"kind", "device", "url", "speed"}
_CHANNEL_KEYS = {"channel", "seat", "role", "gain_db", "label"}
_TERMINAL_KEYS = {"id", "kind", "side"}


class _Checker:
    """Reads typed values out of the parsed TOML, raising ProfileError with file and line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, key: KeyPath, message: str) -> ProfileError:
        name = ".".join(f"[{k}]" if isinstance(k, int) else str(k) for k in key).replace(".[", "[")
        return ProfileError(self.path, name, message, find_line(self.text, key))

    def table(self, data: Any, key: KeyPath, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, "must be a table")
        for extra in sorted(set(data) - allowed):
            raise self.fail(key + (extra,), f"unknown field (allowed: {', '.join(sorted(allowed))})")
        return data

    def get(self, data: dict[str, Any], key: KeyPath, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        name = key[-1]
        if name not in data:
            if default is ...:
                raise self.fail(key, "is required")
            return default
        value = data[name]
        # bool is an int in Python; a profile saying `channel = true` is still wrong.
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(key, f"must be {_kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(key, f"must be {_kind_name(kind)}, got {value!r}")
        return value

    def text_field(self, data: dict[str, Any], key: KeyPath, default: Any = ...) -> str:
        value = self.get(data, key, str, default)
        if value is not None and isinstance(value, str) and not value.strip() and default is ...:
            raise self.fail(key, "must not be empty")
        return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: "an integer", float: "a number", str: "a string", list: "an array", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _resolve_url(url: str, base: Path) -> str:
    if "://" in url or url.startswith(("rtsp:", "http:", "https:")):
        return url
    candidate = Path(url).expanduser()
    return str(candidate if candidate.is_absolute() else (base / candidate).resolve())


def is_live_input(url: str) -> bool:
    """Whether ffmpeg reads ``url`` as a live input: a stream URL, or a named pipe or device node on this
    machine. A file (or a path that is nothing yet) is not: it ends, and a live source that ends is
    reopened as a stream that dropped, so the file would be recorded again and again, faster than real
    time. A recorded file is replayed (kind "replay"), paced and finite."""
    if url.startswith("file:"):
        return False
    if "://" in url or url.startswith(("rtsp:", "http:", "https:")):
        return True
    path = Path(url)
    return path.exists() and not path.is_file()


def _parse_source(c: _Checker, data: dict[str, Any], base: Path) -> AudioSourceSpec:
    src = c.table(c.get(data, ("source",), dict), ("source",), _SOURCE_KEYS)
    kind = c.text_field(src, ("source", "kind"))
    if kind not in ("device", "ffmpeg", "replay"):
        raise c.fail(("source", "kind"), f"must be one of device, ffmpeg, replay; got {kind!r}")
    speed = float(c.get(src, ("source", "speed"), (int, float), 1.0))
    if not (math.isfinite(speed) and speed > 0):  # TOML has nan and inf
        raise c.fail(("source", "speed"), f"must be a finite number > 0, got {speed}")
    if kind == "device":
        device = c.get(src, ("source", "device"), (str, int))
        if isinstance(device, int) and device < 0:
            raise c.fail(("source", "device"), f"device index must be >= 0, got {device}")
        return AudioSourceSpec(kind="device", device=device, speed=speed)
    url = c.text_field(src, ("source", "url"))
    if kind == "ffmpeg" and not is_live_input(_resolve_url(url, base)):
        raise c.fail(("source", "url"), f"{url!r} is not a live stream (rtsp://, http://, … or a named pipe); "
                     'a recorded file is replayed with kind = "replay"')
    return AudioSourceSpec(kind=kind, url=_resolve_url(url, base), speed=speed)  # type: ignore[arg-type]


def _parse_channel(c: _Checker, item: Any, i: int) -> SeatChannel:
    key: KeyPath = ("channels", i)
    ch = c.table(item, key, _CHANNEL_KEYS)
    channel = c.get(ch, key + ("channel",), int)
    if not 0 <= channel < MAX_CHANNELS:  # a typo'd index would size every buffer by it
        raise c.fail(key + ("channel",), f"must be >= 0 and < {MAX_CHANNELS}, got {channel}")
    gain = float(c.get(ch, key + ("gain_db",), (int, float), 0.0))
    if not -40.0 <= gain <= 40.0:
        raise c.fail(key + ("gain_db",), f"must be between -40 and +40 dB, got {gain}")
    role = c.text_field(ch, key + ("role",))
    if role not in SEAT_ROLES:
        raise c.fail(key + ("role",), f"must be one of {', '.join(sorted(SEAT_ROLES))}; got {role!r}")
    try:
        seat = seat_name(c.text_field(ch, key + ("seat",)))
    except ValueError as exc:
        raise c.fail(key + ("seat",), str(exc)) from None
    return SeatChannel(
        channel=channel,
        seat=seat,
        role=role,
        gain_db=gain,
        label=c.get(ch, key + ("label",), str, ""),
    )


def seat_name(name: str) -> str:
    """A seat's name as seats are matched, or ValueError saying why it cannot be one (a profile's
    ``seat`` and ``courtroom transcribe --seats`` are checked alike)."""
    # Seats are matched by name (seat assignments, attribution): "judge " or a decomposed "témoin"
    # must be the same seat as "judge" and "témoin", not a second one.
    seat = unicodedata.normalize("NFC", name.strip())
    if len(seat) > MAX_SEAT_CHARS:
        raise ValueError(f"must be at most {MAX_SEAT_CHARS} characters (the dossier's limit), got {len(seat)}")
    if seat == MIXDOWN_SEAT:
        raise ValueError(f"{MIXDOWN_SEAT!r} is reserved for the recording's listening mix; name the seat otherwise")
    return seat


def seat_taken(seat: str, earlier: Sequence[SeatChannel]) -> str | None:
    """Why ``seat`` cannot be another channel's as well (None: no earlier channel has it): every line of
    both channels would be credited to the one occupant."""
    other = next((o for o in earlier if o.seat == seat), None)
    return None if other is None else f"seat {seat!r} is already on channel {other.channel}"


def _parse_channels(c: _Checker, data: dict[str, Any]) -> tuple[SeatChannel, ...]:
    items = c.get(data, ("channels",), list)
    if not items:
        raise c.fail(("channels",), "at least one channel is required")
    seats: list[SeatChannel] = []
    for i, item in enumerate(items):
        seat = _parse_channel(c, item, i)
        for other in seats:
            if other.channel == seat.channel:
                raise c.fail(("channels", i, "channel"), f"channel {seat.channel} is already mapped to seat {other.seat!r}")
        if taken := seat_taken(seat.seat, seats):
            raise c.fail(("channels", i, "seat"), taken)
        seats.append(seat)
    return tuple(seats)


def _parse_terminals(c: _Checker, data: dict[str, Any], seats: tuple[SeatChannel, ...]) -> tuple[Terminal, ...]:
    terminals: list[Terminal] = []
    for i, item in enumerate(c.get(data, ("terminals",), list, [])):
        key: KeyPath = ("terminals", i)
        t = c.table(item, key, _TERMINAL_KEYS)
        tid = c.text_field(t, key + ("id",))
        kind = c.text_field(t, key + ("kind",))
        if kind not in ("bench", "party", "clerk"):
            raise c.fail(key + ("kind",), f"must be one of bench, party, clerk; got {kind!r}")
        side = c.get(t, key + ("side",), str, None)
        if kind == "party" and not side:
            raise c.fail(key + ("side",), "a party screen needs the side it serves (e.g. 'plaintiff')")
        if side is not None and side not in TERMINAL_SIDES:
            raise c.fail(key + ("side",), f"must be one of {', '.join(sorted(TERMINAL_SIDES))}; got {side!r}")
        if any(o.id == tid for o in terminals):
            raise c.fail(key + ("id",), f"terminal id {tid!r} is used twice")
        terminals.append(Terminal(id=tid, kind=kind, side=side))  # type: ignore[arg-type]
    return tuple(terminals)


def parse_profile(text: str, path: Path, base_dir: Path | None = None) -> CourtroomProfile:
    """Parse and validate a profile's TOML text; ``path`` is used in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message carries "(at line N, column M)".
        found = re.search(r"at line (\d+)", str(exc))
        raise ProfileError(path, "<syntax>", str(exc), int(found.group(1)) if found else None) from exc
    c = _Checker(path, text)
    c.table(data, (), _TOP_KEYS)
    room_id = c.text_field(data, ("room_id",))
    rate = c.get(data, ("sample_rate",), int)
    if not 8000 <= rate <= 192000:
        raise c.fail(("sample_rate",), f"must be between 8000 and 192000 Hz, got {rate}")
    base = base_dir if base_dir is not None else path.resolve().parent
    source = _parse_source(c, data, base)
    channels = _parse_channels(c, data)
    return CourtroomProfile(
        room_id=room_id,
        name=c.get(data, ("name",), str, room_id),
        source=source,
        sample_rate=rate,
        channels=channels,
        terminals=_parse_terminals(c, data, channels),
        path=path,
    )


def list_profiles() -> list[str]:
    """Names of the bundled profiles (e.g. ``demo``, ``civil-4ch``, ``criminal-8ch``)."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path) -> CourtroomProfile:
    """Load a bundled profile by name, or any profile file by path, validating it fully."""
    candidate = Path(name_or_path)
    bundled = PROFILES_DIR / f"{name_or_path}.toml"
    if isinstance(name_or_path, str) and bundled.is_file():
        path, base = bundled, PACKAGE_DIR
    elif candidate.is_file():
        path = candidate
        base = PACKAGE_DIR if candidate.resolve().parent == PROFILES_DIR else candidate.resolve().parent
    else:
        raise ProfileNotFoundError(
            f"no courtroom profile {str(name_or_path)!r}: not a bundled profile "
            f"({', '.join(list_profiles())}) and no such file"
        )
    return parse_profile(_read_text(path), path, base)


def _read_text(path: Path) -> str:
    """The profile's text; an unreadable or non-UTF-8 file is a ProfileError naming it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(path, "<file>", f"cannot be read: {exc.strerror or exc}") from exc
    try:
        return raw.decode("utf-8-sig")  # a BOM (Windows Notepad's UTF-8) was a syntax error at line 1, column 1
    except UnicodeDecodeError as exc:  # e.g. saved as GBK by an editor in a Chinese locale
        line = raw[: exc.start].count(b"\n") + 1
        raise ProfileError(path, "<encoding>", f"is not UTF-8 (byte {raw[exc.start]:#04x}); save it as UTF-8",
                           line) from exc
