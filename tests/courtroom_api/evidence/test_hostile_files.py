"""Hostile and awkward evidence: refused at upload with a clear 422 and nothing stored, or rendered within
bounds — never a server error, a gigabyte per request or a core held for minutes."""

from __future__ import annotations

import io
import struct
import threading
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from evidence_files import docx_bytes, png_bytes, wav_bytes
from PIL import Image

from courtroom_api.evidence import renditions

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _upload(world, data: bytes, mime: str, filename: str, **params):
    params = {"title": filename, "filename": filename, **params}
    return world.client.post(f"/api/cases/{world.ids['case']}/evidence", params=params, content=data,
                             headers={**world.auth("clerk"), "Content-Type": mime})


def _stored(world) -> set:
    roots = (world.data_dir / "blobs", world.data_dir / "tmp")
    return {p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()}


def _refused(world, data: bytes, mime: str, filename: str, *words: str, **params) -> None:
    before = _stored(world)
    r = _upload(world, data, mime, filename, **params)
    assert r.status_code == 422, r.text
    assert all(w in r.json()["detail"] for w in words), r.json()
    assert _stored(world) == before


def _pdf(pages: list[str], count: int | None = None) -> bytes:
    """A hand-made PDF: objects 1 (catalog), 2 (page tree claiming ``count`` pages), then ``pages``."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(len(pages)))
    objects = ["<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {len(pages) if count is None else count} >>", *pages]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _page(box: str) -> str:
    return f"<< /Type /Page /Parent 2 0 R /MediaBox [{box}] >>"


def _png_bomb(width: int, height: int) -> bytes:
    """A valid all-black RGB PNG that is small on disk and ``width`` × ``height`` when decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    packer, row = zlib.compressobj(9), b"\x00" * (1 + 3 * width)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _docx(kind: str) -> bytes:
    data = bytearray(docx_bytes())
    if kind == "corrupt":  # bytes flipped inside document.xml's deflate stream
        at = data.find(b"word/document.xml") + len("word/document.xml")
        for k in range(at + 3, at + 20):
            data[k] ^= 0xFF
    elif kind in ("encrypted", "method 99"):
        flag, method = kind == "encrypted", kind == "method 99"
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = 0
            while (at := data.find(signature, at)) != -1:
                if flag:
                    data[at + offset] |= 1
                if method:
                    data[at + offset + 2], data[at + offset + 3] = 99, 0
                at += 4
    elif kind == "bomb":  # 256 MiB of one byte deflated to ~250 KB
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            with archive.open("word/document.xml", "w") as member:
                for _ in range(256):
                    member.write(b"<" * (1 << 20))
        return out.getvalue()
    return bytes(data)


def test_a_range_with_an_endless_number_is_ignored_not_a_server_error(world) -> None:
    evidence = _upload(world, wav_bytes(0.2), "audio/wav", "range.wav").json()
    for header in ("bytes=" + "1" * 5000 + "-", "bytes=-" + "9" * 5000, "bytes=0-" + "9" * 5000):
        r = world.client.get(f"/api/evidence/{evidence['id']}/content", headers={**world.auth("clerk"), "Range": header})
        assert r.status_code == 200 and len(r.content) == evidence["size_bytes"]


@pytest.mark.parametrize(("kind", "words"), [("corrupt", ("corrupt DOCX",)), ("encrypted", ("encrypted",)),
                                              ("method 99", ("compression method 99",)), ("bomb", ("zip bomb",))])
def test_a_broken_encrypted_or_exploding_docx_is_refused_at_once(world, kind, words) -> None:
    started = time.perf_counter()
    _refused(world, _docx(kind), DOCX, "brief.docx", *words)
    assert time.perf_counter() - started < 5  # (the bomb is refused by its sizes, before inflating it)


def test_a_pdf_with_pages_that_cannot_be_read_is_refused_at_upload(world) -> None:
    _refused(world, _pdf([_page("0 0 612 792")], count=5), "application/pdf", "lying.pdf", "page 2 cannot be read")
    _refused(world, _pdf(["<< /Type /Foo >>"]), "application/pdf", "nopage.pdf", "page 1 cannot be read")


def test_a_very_long_page_renders_within_the_pixel_budget(world) -> None:
    evidence = _upload(world, _pdf([_page("0 0 612 14400")]), "application/pdf", "scroll.pdf")
    assert evidence.status_code == 201, evidence.text
    r = world.client.get(f"/api/evidence/{evidence.json()['id']}/pages/1", params={"width": 4096},
                         headers=world.auth("clerk"))
    assert r.status_code == 200
    width, height = Image.open(io.BytesIO(r.content)).size
    assert width * height <= renditions.MAX_RENDER_PIXELS and height > 20 * width  # narrower, whole page
    assert width == pytest.approx(height * 612 / 14400, abs=2)


def test_a_decompression_bomb_image_is_refused_at_upload(world) -> None:
    bomb = _png_bomb(12_000, 12_000)  # 144 megapixels in ~0.5 MB
    assert len(bomb) < 1_000_000
    _refused(world, bomb, "image/png", "scan.png", "12000 × 12000 pixels", "scale it down")


def test_a_refused_exhibit_number_or_a_nul_in_a_title_stores_nothing(world) -> None:
    assert _upload(world, png_bytes((41, 17)), "image/png", "a.png", exhibit_number="X-1").status_code == 201
    before = _stored(world)
    r = _upload(world, png_bytes((43, 19)), "image/png", "b.png", exhibit_number="X-1")
    assert r.status_code == 409 and "X-1" in r.json()["detail"]
    assert _upload(world, png_bytes((47, 23)), "image/png", "c.png", title="a\x00b").status_code == 422
    assert _upload(world, png_bytes((47, 23)), "image/png", "c.png", title="a\r\nb").status_code == 422
    assert _stored(world) == before
    exhibit = _upload(world, png_bytes((53, 29)), "image/png", "d.png", description="第一行\n第二行").json()["id"]
    for change in ({"title": "a\x00b"}, {"description": "x\x00"}, {"exhibit_number": "X\n2"}):
        assert world.client.patch(f"/api/evidence/{exhibit}", json=change,
                                  headers=world.auth("clerk")).status_code == 422, change


def test_an_audio_file_that_cannot_be_checked_in_time_is_refused(world, monkeypatch) -> None:
    from courtroom_api.evidence import validate

    monkeypatch.setattr(validate, "PROBE_TIMEOUT_S", 0.001)
    _refused(world, wav_bytes(1.0), "audio/wav", "long.wav", "could not be checked within")


def test_screens_asking_for_one_rendition_at_once_all_get_it(tmp_path: Path) -> None:
    cache = renditions.RenditionCache(tmp_path)
    made, results, errors = [], [], []

    def make() -> bytes:
        made.append(1)
        time.sleep(0.05)
        return b"page image" * 1000

    def ask() -> None:
        try:
            results.append(cache.get_or_make("ab" * 32, "page-1-1024.png", make))
        except Exception as exc:  # noqa: BLE001 - the test reports every failure
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 12 and set(results) == {b"page image" * 1000}
    assert len(made) < 12  # a request that waited its turn found the page made
    assert [p.name for p in (tmp_path / "ab" / ("ab" * 32)).iterdir()] == ["page-1-1024.png"]


@pytest.mark.parametrize("size", [(300, 4000), (600, 400)])
def test_tiles_show_the_whole_image_at_every_level(tmp_path: Path, size) -> None:
    width, height = size
    pixels = np.zeros((height, width), np.uint8)
    pixels[: height // 2] = 255  # top half white, bottom half black: a tile cut short is too bright
    path = tmp_path / "strip.png"
    Image.fromarray(pixels).save(path)
    grid = renditions.tile_grid(path)
    for level in range(grid.max_level + 1):
        w, h = grid.level_size(level)
        if w > renditions.TILE_PX or h > renditions.TILE_PX:
            continue
        tile = np.asarray(Image.open(io.BytesIO(renditions.image_tile(path, level, 0, 0))).convert("L"), float)
        assert tile.shape == (h, w)
        expected = np.asarray(Image.fromarray(pixels).resize((w, h)), float)
        assert abs(tile.mean() - expected.mean()) < 12, (level, tile.mean(), expected.mean())


def test_a_phone_photo_is_shown_upright(tmp_path: Path) -> None:
    image = Image.new("RGB", (200, 100), "white")
    image.paste((0, 0, 0), (0, 0, 100, 100))  # left half black as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to show"
    path = tmp_path / "photo.jpg"
    image.save(path, exif=exif.tobytes())
    grid = renditions.tile_grid(path)
    assert (grid.width, grid.height) == (100, 200)
    shown = Image.open(io.BytesIO(renditions.scaled_image(path, 100))).convert("L")
    assert shown.size == (50, 100)
    top, bottom = np.asarray(shown, float)[:40].mean(), np.asarray(shown, float)[60:].mean()
    assert top < 60 and bottom > 200  # the stored left half is the top once turned
    tile = Image.open(io.BytesIO(renditions.image_tile(path, grid.max_level, 0, 0)))
    assert tile.size == (100, 200)


def _shown(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), float)  # (height, width)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "RGB-key", "L-key"])
def test_a_drawing_on_a_transparent_background_is_shown_on_white(tmp_path: Path, mode) -> None:
    image = Image.new("RGBA", (600, 400), (0, 0, 0, 0))  # transparent black, as drawing programs save it
    image.paste((0, 0, 0, 255), (200, 150, 400, 250))  # a signature's black ink
    path = tmp_path / "signature.png"
    if mode in ("RGB-key", "L-key"):  # one colour keyed transparent (a tRNS chunk, as optimisers write it)
        plain = mode.split("-")[0]
        keyed = Image.new(plain, image.size, 0)
        keyed.paste((1, 1, 1) if plain == "RGB" else 1, (200, 150, 400, 250))  # near-black ink, not the key
        keyed.save(path, transparency=(0, 0, 0) if plain == "RGB" else 0)
    elif mode == "P":  # a palette of two blacks, the first transparent (as a GIF has it)
        palette = Image.new("P", image.size, 0)
        palette.putpalette([0, 0, 0] * 2)
        palette.paste(1, (200, 150, 400, 250))
        palette.save(path, transparency=0)
    else:
        image.convert(mode).save(path)
    scaled = _shown(renditions.scaled_image(path, 300))
    assert scaled[:50].mean() > 250 and scaled[90:110, 120:180].mean() < 5  # white paper, black ink
    grid = renditions.tile_grid(path)
    corner = _shown(renditions.image_tile(path, grid.max_level, 0, 0))
    assert corner[:100].mean() > 250 and corner[160:240, 210:].mean() < 5
    assert _shown(renditions.image_tile(path, grid.max_level - 2, 0, 0)).mean() > 200  # mostly paper


@pytest.mark.parametrize("top", [65535, 4095])  # 16-bit scanner, 12-bit X-ray stored in 16 bits
def test_a_16_bit_grey_scan_keeps_its_greys(tmp_path: Path, top) -> None:
    ramp = np.tile(np.linspace(0, top, 600).astype(np.uint16), (400, 1))  # dark left, bright right
    path = tmp_path / "xray.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode == "I;16"
    scaled = _shown(renditions.scaled_image(path, 300))
    assert scaled[:, :5].mean() < 5 and scaled[:, -5:].mean() > 250 and len(np.unique(scaled)) > 200
    grid = renditions.tile_grid(path)
    left, right = (_shown(renditions.image_tile(path, grid.max_level, col, 0)) for col in (0, 2))
    assert left[:, :5].mean() < 5 and right[:, -5:].mean() > 250  # tiles share the whole image's range
    assert abs(_shown(renditions.image_tile(path, 0, 0, 0)).mean() - 127.5) < 3
    assert _shown(renditions.scaled_image(path, 100)).shape == (67, 100)  # (a sixth of the scan: Pillow could not reduce I;16)
