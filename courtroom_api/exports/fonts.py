"""Find the fonts of the PDF court record at run time: a CJK font (Debian's fonts-noto-cjk) for the record,
and fonts for what it cannot draw (Uyghur's Arabic script, Tibetan, Mongolian: fonts-noto-core, fonts-dejavu-core)."""

from __future__ import annotations

from collections.abc import Iterable
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


@dataclass(frozen=True, slots=True)
class FallbackFont:
    path: Path
    code_points: frozenset[int]  # what its cmap maps


@dataclass(frozen=True, slots=True)
class FallbackPlan:
    fonts: tuple[Path, ...]  # best first: fpdf2 draws a character in the first of them that has it
    undrawable: frozenset[int]  # code points no installed font has


@lru_cache(maxsize=1)
def cjk_code_points() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    cjk = find_cjk_font()
    with TTFont(str(cjk.path), lazy=True, fontNumber=cjk.collection_index) as font:
        return frozenset(font.getBestCmap() or ())


def _fallback_font(path: Path) -> tuple[tuple[bool, bool, int, str], FallbackFont] | None:
    """The font at ``path`` with its sort key, ``None`` for one not to use: a bold, italic, narrow or
    monospaced face, one without outlines (a bitmap emoji font fpdf2 cannot embed), one that does not read.
    Sans faces first, Noto ones (they match the Noto CJK face) before others, then the plainest family
    (Noto Sans Arabic before Noto Sans Arabic UI)."""
    from fontTools.ttLib import TTFont

    try:
        with TTFont(str(path), lazy=True) as font:
            os2 = font.get("OS/2")
            if os2 is None or not ("glyf" in font or "CFF " in font) or font["post"].isFixedPitch:
                return None
            if os2.usWeightClass != 400 or os2.usWidthClass != 5 or os2.fsSelection & 1:
                return None
            family = font["name"].getDebugName(1) or path.stem
            code_points = frozenset(font.getBestCmap() or ())
    except Exception:  # a broken file under /usr/share/fonts must not fail every record that needs a fallback
        return None
    return ("Sans" not in family, not family.startswith("Noto"), len(family), family), FallbackFont(path, code_points)


@lru_cache(maxsize=1)
def installed_fallback_fonts() -> tuple[FallbackFont, ...]:
    """The regular upright single-face fonts installed, best first (read once: some 300 files with
    fonts-noto-core, under a second)."""
    found = [font for root in SEARCH_DIRS if root.is_dir() for path in root.rglob("*")
             if path.suffix.lower() in (".ttf", ".otf") and (font := _fallback_font(path)) is not None]
    return tuple(font for _, font in sorted(found, key=lambda item: item[0]))


def fallback_plan(code_points: Iterable[int]) -> FallbackPlan:
    """The fonts that draw the ``code_points`` the CJK font lacks, each character in the best font that has it."""
    wanted = set(code_points) - cjk_code_points()
    chosen: list[Path] = []
    for font in installed_fallback_fonts() if wanted else ():
        if found := wanted & font.code_points:
            chosen.append(font.path)
            wanted -= found
    return FallbackPlan(tuple(chosen), frozenset(wanted))
