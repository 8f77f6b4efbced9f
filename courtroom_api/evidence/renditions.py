"""Renditions of evidence for zooming screens: scaled images, deep-zoom tiles, PDF pages as images.

Results are cached on disk by (blob sha256, parameters); blobs are write-once, so a cached
rendition never goes stale. All functions are CPU work: call them from a worker thread.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

from courtroom_api.errors import NotFoundError, ValidationFailedError

TILE_PX = 256
MAX_RENDER_PX = 4096


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
        data: bytes = make()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        return data


def _encode(image, fmt: str = "JPEG") -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(buf, format=fmt, quality=85)
    return buf.getvalue()


def tile_grid(path: Path) -> TileGrid:
    from PIL import Image

    with Image.open(path) as image:
        w, h = image.size
    return TileGrid(w, h, TILE_PX, max(0, math.ceil(math.log2(max(w, h)))))


def scaled_image(path: Path, max_px: int) -> bytes:
    """The whole image fitted into ``max_px`` × ``max_px`` (JPEG)."""
    from PIL import Image

    if not 16 <= max_px <= MAX_RENDER_PX:
        raise ValidationFailedError(f"max_px must be between 16 and {MAX_RENDER_PX}")
    with Image.open(path) as image:
        image.thumbnail((max_px, max_px))
        return _encode(image)


def image_tile(path: Path, level: int, col: int, row: int) -> bytes:
    """One ``TILE_PX`` tile of the deep-zoom pyramid (JPEG)."""
    from PIL import Image

    grid = tile_grid(path)
    cols, rows = grid.columns_rows(level) if 0 <= level <= grid.max_level else (0, 0)
    if not (0 <= col < cols and 0 <= row < rows):
        raise NotFoundError(f"no tile at level {level}, column {col}, row {row}")
    w, h = grid.level_size(level)
    with Image.open(path) as image:
        scale = image.width / w
        left, top = col * TILE_PX * scale, row * TILE_PX * scale
        box = (left, top, min(w, (col + 1) * TILE_PX) * scale, min(h, (row + 1) * TILE_PX) * scale)
        region = image.crop(box)
        region = region.resize((max(1, min(w, (col + 1) * TILE_PX) - col * TILE_PX),
                                max(1, min(h, (row + 1) * TILE_PX) - row * TILE_PX)))
        return _encode(region)


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
        pdf_page = pdf[page - 1]
        scale = width_px / pdf_page.get_width()
        image = pdf_page.render(scale=scale).to_pil()
        pdf_page.close()
        return _encode(image, "PNG")
    finally:
        pdf.close()
