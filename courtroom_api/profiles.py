"""Courtroom profiles chosen by name: the bundled ones and the court's own (``Settings.profiles_dir``).

The API names profiles, never files: a room saved with a path as its profile made the server read
any file it was given and answer, at the judge's start, whether it exists and how it parses.
"""

from __future__ import annotations

import re
from pathlib import Path

from hardware.errors import ProfileNotFoundError
from hardware.profiles import list_profiles, load_profile
from hardware.types import CourtroomProfile

# Any name a file can have there (第三法庭, "room 5"), but no separator and no leading dot: a name never
# leaves its directory
MAX_FILE_NAME_BYTES = 255  # (a longer name is no file: 86 Chinese characters raised "File name too long", a 500)
NAME = re.compile(r"[^/\\\x00.][^/\\\x00]*")


def profile_names(profiles_dir: Path | None) -> list[str]:
    """Every name a courtroom may use: the bundled profiles and ``profiles_dir/*.toml``."""
    own = ({p.stem for p in profiles_dir.glob("*.toml") if NAME.fullmatch(p.stem)}
           if profiles_dir is not None and profiles_dir.is_dir() else set())
    return sorted(set(list_profiles()) | own)


def load_named(name: str, profiles_dir: Path | None) -> CourtroomProfile:
    """The profile of that name, validated: a bundled one, else the court's ``profiles_dir/NAME.toml``.
    Anything else (a path included) is a ProfileNotFoundError listing the names there are."""
    if NAME.fullmatch(name) and len(f"{name}.toml".encode()) <= MAX_FILE_NAME_BYTES:
        if name in list_profiles():
            return load_profile(name)
        if profiles_dir is not None and (profiles_dir / f"{name}.toml").is_file():
            return load_profile(profiles_dir / f"{name}.toml")
    hint = "" if profiles_dir is not None else " (a court's own profiles go in COURTROOM_PROFILES_DIR)"
    raise ProfileNotFoundError(f"no courtroom profile {name!r}: the profiles are "
                               f"{', '.join(profile_names(profiles_dir))}{hint}")


def load_room_profile(name: str, profiles_dir: Path | None) -> CourtroomProfile:
    """A room's (or a start's) profile: by name as :func:`load_named`; a path that a room was saved with
    before names were checked is still read, so that room keeps working."""
    try:
        return load_named(name, profiles_dir)
    except ProfileNotFoundError:
        if NAME.fullmatch(name):
            raise
        return load_profile(name)


def load_given_profile(name_or_path: str, profiles_dir: Path | None) -> CourtroomProfile:
    """A profile named on the command line: by name as :func:`load_named` (so the court's own profiles
    are found, as the API finds them), else the TOML file at that path."""
    try:
        return load_named(name_or_path, profiles_dir)
    except ProfileNotFoundError:
        if Path(name_or_path).is_file():
            return load_profile(name_or_path)
        raise
