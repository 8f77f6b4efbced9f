"""Find a CJK font at run time (Debian's fonts-noto-cjk) for the PDF court record."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from courtroom_api.errors import ExportError

SEARCH_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
# Preferred files, best first; any *CJK* .ttc/.otf found is the fallback.
PREFERRED = ("NotoSansCJK-Regular.ttc", "NotoSerifCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf")


@dataclass(frozen=True, slots=True)
class CjkFont:
    path: Path
    collection_index: int  # face inside a .ttc (the Simplified Chinese one)


def _sc_index(path: Path) -> int:
    """Index of the Simplified-Chinese face of a TrueType collection (0 for single fonts)."""
    if path.suffix.lower() != ".ttc":
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    for i, font in enumerate(collection.fonts):
        name = font["name"].getDebugName(1) or ""
        if name.endswith(" SC"):
            return i
    return 0


@lru_cache(maxsize=1)
def find_cjk_font() -> CjkFont:
    """The installed CJK font; raises :class:`ExportError` naming the package to install."""
    candidates: list[Path] = []
    for root in SEARCH_DIRS:
        if root.is_dir():
            candidates += [p for p in root.rglob("*") if "CJK" in p.name and p.suffix.lower() in (".ttc", ".otf")]
    if not candidates:
        raise ExportError(
            "no CJK font found under /usr/share/fonts; install it with `apt-get install fonts-noto-cjk`"
        )
    rank = {name: i for i, name in enumerate(PREFERRED)}
    best = min(candidates, key=lambda p: (rank.get(p.name, len(PREFERRED)), "Bold" in p.name, str(p)))
    return CjkFont(best, _sc_index(best))
