import asyncio
from pathlib import Path

import pytest
from evidence_files import (
    audio_bytes,
    docx_bytes,
    jpeg_bytes,
    mp3_bytes,
    pdf_bytes,
    png_bytes,
    video_bytes,
    wav_bytes,
)
from PIL import Image

from courtroom_api.errors import EvidenceRejectedError, NotFoundError, UploadTooLargeError
from courtroom_api.evidence.renditions import (
    image_tile,
    pdf_page_count,
    pdf_page_image,
    scaled_image,
    tile_grid,
)
from courtroom_api.evidence.sniff import resolve_type, sniff
from courtroom_api.evidence.upload import stage_upload


async def _chunks(data: bytes, size: int = 1000):
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _stage(tmp_path: Path, data: bytes, mime: str | None, filename: str | None, limit: int = 10_000_000):
    return asyncio.run(stage_upload(_chunks(data), claimed_mime=mime, filename=filename,
                                    limit_bytes=limit, tmp_dir=tmp_path / "tmp"))


@pytest.mark.parametrize(
    ("make", "mime", "filename", "kind"),
    [
        (png_bytes, "image/png", "map.png", "image"),
        (jpeg_bytes, "image/jpeg", "photo.JPG", "image"),
        (pdf_bytes, "application/pdf", "contract.pdf", "document"),
        (wav_bytes, "audio/x-wav", "call.wav", "audio"),
        (docx_bytes, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a.docx", "document"),
    ],
)
def test_genuine_files_are_accepted_with_hash_and_kind(tmp_path, make, mime, filename, kind) -> None:
    import hashlib

    data = make()
    staged = _stage(tmp_path, data, mime, filename)
    assert staged.sha256 == hashlib.sha256(data).hexdigest() and staged.size == len(data)
    assert staged.file_type.kind == kind and staged.path.read_bytes() == data


def test_mp3_is_sniffed_and_decoded(tmp_path) -> None:
    staged = _stage(tmp_path, mp3_bytes(tmp_path), "audio/mpeg", "call.mp3")
    assert staged.file_type.mime == "audio/mpeg"


@pytest.mark.parametrize(
    ("data", "mime", "filename", "message"),
    [
        (png_bytes(), "application/pdf", "x.pdf", "content is image/png"),
        (pdf_bytes(), "application/pdf", "x.png", "file extension says image/png"),
        (b"MZ\x90\x00 not a document at all", "application/pdf", "x.pdf", "unrecognised"),
        (png_bytes()[:300], "image/png", "x.png", "corrupt image"),
        (pdf_bytes()[:40], "application/pdf", "x.pdf", "corrupt PDF"),
        (wav_bytes()[:30], "audio/wav", "x.wav", "corrupt"),
        (b"PK\x03\x04" + b"\x00" * 100, None, "x.docx", "corrupt DOCX"),
    ],
)
def test_mismatching_or_corrupt_files_are_refused_and_nothing_left(tmp_path, data, mime, filename, message) -> None:
    with pytest.raises(EvidenceRejectedError, match=message):
        _stage(tmp_path, data, mime, filename)
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize(("mime", "filename"), [("video/mp4", "cctv.mp4"), ("video/webm", "call.webm")])
def test_a_cut_off_video_is_refused_though_its_header_is_whole(tmp_path, mime, filename) -> None:
    data = video_bytes(tmp_path, Path(filename).suffix)
    whole = _stage(tmp_path, data, mime, filename)
    assert whole.file_type.mime == mime
    whole.discard()
    # half the upload arrived: the index at the front still names every frame and the full length
    with pytest.raises(EvidenceRejectedError, match="cut-off or corrupt video") as refused:
        _stage(tmp_path, data[: len(data) // 2], mime, filename)
    assert str(tmp_path) not in str(refused.value)  # (the message names no server path)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_cut_off_video_with_its_index_at_the_end_is_refused_naming_no_server_path(tmp_path) -> None:
    """A camera writes the index last, so half of it fails at the probe: that refusal named the server's
    temporary upload path."""
    data = video_bytes(tmp_path, ".mp4", faststart=False)
    with pytest.raises(EvidenceRejectedError, match="corrupt video") as refused:
        _stage(tmp_path, data[: len(data) // 2], "video/mp4", "camera.mp4")
    assert str(tmp_path) not in str(refused.value) and "upload-" not in str(refused.value), refused.value
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize(
    ("suffix", "mime", "filename", "filed_as"),
    [
        (".mp4", "audio/mp4", "memo.mp4", "audio/mp4"),  # claimed audio: .mp4 does not make it a video
        (".mp4", "application/octet-stream", "memo.mp4", "audio/mp4"),  # nothing claimed: its streams decide
        (".webm", "audio/webm", "call.webm", "audio/webm"),
        (".webm", None, "call.webm", "audio/webm"),
        (".webm", "audio/webm", "call.weba", "audio/webm"),
        (".wav", "audio/wav", "room.wav", "audio/wav"),  # RF64
    ],
)
def test_audio_in_mp4_webm_and_rf64_is_filed_as_audio(tmp_path, suffix, mime, filename, filed_as) -> None:
    staged = _stage(tmp_path, audio_bytes(tmp_path, suffix), mime, filename)
    assert (staged.file_type.mime, staged.file_type.kind) == (filed_as, "audio")


def test_a_song_with_a_cover_picture_is_audio_and_a_clip_declared_audio_is_still_video(tmp_path) -> None:
    """A cover picture is no moving video: the streams that decide are the moving ones."""
    song = _stage(tmp_path, audio_bytes(tmp_path, ".mp4", cover=True), None, "song.mp4")
    assert song.file_type.mime == "audio/mp4"
    clip = _stage(tmp_path, video_bytes(tmp_path, ".webm", seconds=0.5), "audio/webm", "clip.webm")
    assert clip.file_type.mime == "video/webm"


@pytest.mark.parametrize(("suffix", "mime"), [(".mp4", "video/mp4"), (".webm", "video/webm")])
def test_audio_declared_video_is_refused_saying_how_to_file_it(tmp_path, suffix, mime) -> None:
    audio = mime.replace("video/", "audio/")
    with pytest.raises(EvidenceRejectedError, match=f"no video stream .*declare it {audio} to file it as audio"):
        _stage(tmp_path, audio_bytes(tmp_path, suffix), mime, f"memo{suffix}")
    assert list((tmp_path / "tmp").iterdir()) == []


def test_oversized_upload_aborts_and_leaves_nothing(tmp_path) -> None:
    with pytest.raises(UploadTooLargeError, match="limit of 500 bytes"):
        _stage(tmp_path, png_bytes(), "image/png", "x.png", limit=500)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_sniff_knows_containers() -> None:
    assert sniff(b"\x00\x00\x00\x20ftypM4A \x00") == "audio/mp4"
    assert sniff(b"\x00\x00\x00\x14ftypqt  \x00") == "video/quicktime"
    assert sniff(b"\x00\x00\x00\x20ftypisom\x00") == "video/mp4"
    assert sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm") == "video/webm"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff(b"RF64\xff\xff\xff\xffWAVEds64") == sniff(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "audio/wav"
    assert sniff(b"OggS\x00") == "audio/ogg" and sniff(b"fLaC\x00") == "audio/flac"
    assert resolve_type(b"\x00\x00\x00\x20ftypisom", "video/mp4", "clip.m4a").mime == "audio/mp4"


def test_renditions_scale_tile_and_pdf_pages(tmp_path) -> None:
    import io

    img = tmp_path / "map.png"
    img.write_bytes(png_bytes((600, 400)))
    assert Image.open(io.BytesIO(scaled_image(img, 100))).size == (100, 67)
    grid = tile_grid(img)
    assert grid.max_level == 10 and grid.columns_rows(grid.max_level) == (3, 2)
    tile = Image.open(io.BytesIO(image_tile(img, grid.max_level, 2, 1)))
    assert tile.size == (600 - 512, 400 - 256)
    assert Image.open(io.BytesIO(image_tile(img, 0, 0, 0))).size == (1, 1)
    with pytest.raises(NotFoundError):
        image_tile(img, grid.max_level, 3, 0)
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(pdf_bytes(3))
    assert pdf_page_count(pdf) == 3
    page = Image.open(io.BytesIO(pdf_page_image(pdf, 2, 300)))
    assert page.size[0] == 300 and page.getextrema()[0][0] < 128  # text is drawn
    with pytest.raises(NotFoundError):
        pdf_page_image(pdf, 4, 300)
