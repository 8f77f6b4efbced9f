"""Renditions of evidence for zooming screens: scaled images, deep-zoom tiles, PDF pages as images.

Results are cached on disk by (blob sha256, parameters); blobs are write-once, so a cached
rendition never goes stale, and one the cache cannot keep (a full disk) is served all the same.
All functions are CPU work: call them from a worker thread. At most
``RENDERS_AT_ONCE`` renders run at a time (each decodes a whole image or page: hundreds of MB for a
large scan), so a courtroom's screens opening a new exhibit together do not exhaust the memory.
Images are shown upright as their EXIF orientation says (a phone photo is stored sideways), transparent
parts on white and 16-bit greys over the range the scan uses.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from courtroom_api.errors import NotFoundError, ValidationFailedError

TILE_PX = 256
MAX_RENDER_PX = 4096
MAX_RENDER_PIXELS = MAX_RENDER_PX * MAX_RENDER_PX  # a rendered page: a 612 × 14400 pt page at 4096 wide was 2.7 GB
RENDERS_AT_ONCE = 2
_renders = threading.BoundedSemaphore(RENDERS_AT_ONCE)
_TRANSPOSED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TileGrid:
    """Deep-zoom pyramid of an image: level ``max_level`` is full resolution, each level below halves it."""

    width: int
    height: int
    tile_px: int
    max_level: int

    def level_size(self, level: int) -> tuple[int, int]:
        scale = 2.0 ** (level - self.max_level)
        return max(1, math.ceil(self.width * scale)), max(1, math.ceil(self.height * scale))

    def columns_rows(self, level: int) -> tuple[int, int]:
        w, h = self.level_size(level)
        return math.ceil(w / self.tile_px), math.ceil(h / self.tile_px)


class RenditionCache:
    """Disk cache of rendered bytes under ``root/<sha256>/<key>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get_or_make(self, sha256: str, key: str, make) -> bytes:  # type: ignore[no-untyped-def]
        path = self.root / sha256[:2] / sha256 / key
        if path.exists():
            return path.read_bytes()
        with _renders:
            if path.exists():  # made while this request waited its turn
                return path.read_bytes()
            data: bytes = make()
        try:
            _keep(path, data)
        except OSError as exc:  # a full disk (or a cache it cannot write): the screens still get the page
            log.warning("rendition %s of blob %s served without caching it: %s", key, sha256, exc)
        return data


def _keep(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (OSError when the disk refuses it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary file of this request's own: screens asking for the same page at once each write
    # theirs and the last rename wins (one shared ".tmp" name made some of them fail).
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def can_show(kind: str, mime: str) -> bool:
    """Whether the screens can show an exhibit: images, PDF pages, audio and video. A Word file is kept
    for download only: a page image made of it here would be a likeness of the exhibit (its fonts, images
    and tracked changes as this server draws them), not the exhibit."""
    return kind != "document" or mime == "application/pdf"


def _encode(image, fmt: str = "JPEG") -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(buf, format=fmt, quality=85)
    return buf.getvalue()


def _for_screen(image):  # type: ignore[no-untyped-def]
    """``image`` as 8-bit RGB or grey, as a viewer shows it: transparency over white (a signature or a
    diagram saved on a transparent background was black on black), a 16-bit scan stretched over the range
    it uses (cut to 8 bits it was all white). RGB, grey and CMYK images are returned as they are (a large
    JPEG photo is then reduced while it is decoded)."""
    from PIL import Image

    if image.mode in ("RGB", "L", "CMYK") and not image.has_transparency_data:  # (one colour keyed: tRNS)
        return image
    if image.mode.startswith("I") or image.mode == "F":
        shown = _eight_bit(image)
    elif image.has_transparency_data:
        with_alpha = image if image.mode in ("RGBA", "LA") else image.convert("RGBA")
        shown = Image.new("RGB", image.size, "white")
        shown.paste(with_alpha, mask=with_alpha)  # (its alpha band is the mask)
    else:
        shown = image.convert("L" if image.mode == "1" else "RGB")
    shown.info = dict(image.info)  # (its EXIF orientation among them)
    return shown


def _eight_bit(image):  # type: ignore[no-untyped-def]
    """A 16-bit (or 32-bit) grey image with its lowest value black and its highest white."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(image)  # (height, width)
    low, high = pixels.min(), pixels.max()
    if pixels.dtype == np.uint16:  # a table of 65536 greys: no wider copy of a large scan is made
        levels = np.arange(65536, dtype=np.float32)
        table = np.rint(np.clip((levels - low) * (255 / max(1, int(high) - int(low))), 0, 255)).astype(np.uint8)
        if high == low:
            table[:] = round(int(high) / 257)
        return Image.fromarray(table[pixels])
    scale = 255 / (float(high) - float(low)) if high > low else 0.0
    return Image.fromarray(np.rint(((pixels.astype(np.float32) - low) * scale).clip(0, 255)).astype(np.uint8))


def _upright_size(image) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The image's size as shown: EXIF orientations 5-8 turn it a quarter (read without decoding)."""
    w, h = image.size
    return (h, w) if image.getexif().get(0x0112) in _TRANSPOSED else (w, h)


def tile_grid(path: Path) -> TileGrid:
    from PIL import Image

    with Image.open(path) as image:
        w, h = _upright_size(image)
    return TileGrid(w, h, TILE_PX, max(0, math.ceil(math.log2(max(w, h)))))


def scaled_image(path: Path, max_px: int) -> bytes:
    """The whole image, upright, fitted into ``max_px`` × ``max_px`` (JPEG)."""
    from PIL import Image, ImageOps

    if not 16 <= max_px <= MAX_RENDER_PX:
        raise ValidationFailedError(f"max_px must be between 16 and {MAX_RENDER_PX}")
    with Image.open(path) as source:
        image = _for_screen(source)  # (on the whole image: a 16-bit scan's range, as its tiles have it)
        image.thumbnail((max_px, max_px))  # (before turning it: a quarter turn of the reduced image is cheap)
        return _encode(ImageOps.exif_transpose(image))


def image_tile(path: Path, level: int, col: int, row: int) -> bytes:
    """One ``TILE_PX`` tile of the deep-zoom pyramid of the upright image (JPEG)."""
    from PIL import Image, ImageOps

    grid = tile_grid(path)
    cols, rows = grid.columns_rows(level) if 0 <= level <= grid.max_level else (0, 0)
    if not (0 <= col < cols and 0 <= row < rows):
        raise NotFoundError(f"no tile at level {level}, column {col}, row {row}")
    w, h = grid.level_size(level)  # this level's size; the tile is its part [x0, x1) × [y0, y1)
    x0, y0 = col * TILE_PX, row * TILE_PX
    x1, y1 = min(w, x0 + TILE_PX), min(h, y0 + TILE_PX)
    with Image.open(path) as source:
        image = ImageOps.exif_transpose(_for_screen(source))
        sx, sy = image.width / w, image.height / h  # each axis its own scale (a level rounds each up)
        box = (x0 * sx, y0 * sy, min(image.width, x1 * sx), min(image.height, y1 * sy))
        return _encode(image.resize((max(1, x1 - x0), max(1, y1 - y0)), box=box))


def pdf_page_count(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def pdf_page_image(path: Path, page: int, width_px: int) -> bytes:
    """Page ``page`` (1-based) rendered ``width_px`` wide (PNG)."""
    import pypdfium2 as pdfium

    if not 16 <= width_px <= MAX_RENDER_PX:
        raise ValidationFailedError(f"width must be between 16 and {MAX_RENDER_PX}")
    pdf = pdfium.PdfDocument(str(path))
    try:
        if not 1 <= page <= len(pdf):
            raise NotFoundError(f"the document has {len(pdf)} pages; there is no page {page}")
        try:
            pdf_page = pdf[page - 1]
            w, h = pdf_page.get_size()
            if w <= 0 or h <= 0:
                raise ValidationFailedError(f"page {page} of this document has no area to render")
            # ``width_px`` wide, unless the page is so long that it would pass MAX_RENDER_PIXELS: then narrower
            scale = min(width_px / w, 0.995 * math.sqrt(MAX_RENDER_PIXELS / (w * h)))  # (pdfium rounds up)
            image = pdf_page.render(scale=scale).to_pil()
            pdf_page.close()
        except pdfium.PdfiumError as exc:
            raise ValidationFailedError(f"page {page} of this document cannot be rendered: {exc}") from exc
        return _encode(image, "PNG")
    finally:
        pdf.close()
