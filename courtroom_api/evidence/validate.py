"""Deep checks that a staged upload is a complete, readable file of its type."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from courtroom_api.errors import EvidenceRejectedError
from courtroom_api.evidence.sniff import AUDIO_ALONE, FileType, check_docx

PROBE_TIMEOUT_S = 120
MAX_PAGE_PT = 14_400  # PDF's own page size limit (200 inches)


def validate(path: Path, file_type: FileType, audio_alone: FileType | None = None) -> FileType:
    """The file's type: ``file_type``, or ``audio_alone`` (:func:`sniff.audio_alone`) where a video holds
    audio and no video stream. Raise :class:`EvidenceRejectedError` when the file is truncated or corrupt."""
    if file_type.kind == "image":
        _check_image(path)
    elif file_type.mime == "application/pdf":
        _check_pdf(path)
    elif file_type.kind == "document":
        check_docx(path)
    else:
        return _check_media(path, file_type, audio_alone)
    return file_type


# Pillow's own bomb threshold (it only warns up to twice this): a 600 dpi A3 scan is 35 Mpx, a phone
# photo 12-48 Mpx; a 560 KB PNG claiming 144 Mpx cost 1.7 GB a tile request before it was refused here.
MAX_IMAGE_PIXELS = 89_478_485


def _check_image(path: Path) -> None:
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise EvidenceRejectedError(
                    f"image of {image.width} × {image.height} pixels is larger than the {MAX_IMAGE_PIXELS // 1_000_000} "
                    "megapixels a screen can page through: scale it down or split it")
            image.load()  # decodes every pixel: a truncated file fails here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise EvidenceRejectedError(f"corrupt image: {exc}") from exc


def _check_pdf(path: Path) -> None:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise EvidenceRejectedError(f"corrupt PDF: {exc}") from exc
    try:
        if len(pdf) == 0:
            raise EvidenceRejectedError("PDF has no pages")
        for number in range(len(pdf)):  # a page the screens could not show is refused now, not at the hearing
            try:
                page = pdf[number]
            except pdfium.PdfiumError as exc:
                raise EvidenceRejectedError(f"corrupt PDF: page {number + 1} cannot be read ({exc})") from exc
            width, height = page.get_size()
            page.close()
            if not (0 < width <= MAX_PAGE_PT and 0 < height <= MAX_PAGE_PT):
                raise EvidenceRejectedError(f"PDF page {number + 1} measures {width:.0f} × {height:.0f} points "
                                            f"(at most {MAX_PAGE_PT} a side)")
    finally:
        pdf.close()


def _check_media(path: Path, file_type: FileType, audio_alone: FileType | None) -> FileType:
    """ffprobe must find a stream of the right kind; then the whole file is read with errors fatal."""
    try:
        return _probe_media(path, file_type, audio_alone)
    except subprocess.TimeoutExpired as exc:
        raise EvidenceRejectedError(f"the {file_type.kind} file could not be checked within {PROBE_TIMEOUT_S} s: "
                                    "upload it in shorter parts") from exc


def _probe_media(path: Path, file_type: FileType, audio_alone: FileType | None) -> FileType:
    kind = file_type.kind
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type:stream_disposition=attached_pic",
         "-of", "json", str(path)],
        capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
    )
    if probe.returncode != 0:
        raise EvidenceRejectedError(f"corrupt {kind} file: {_told(probe.stderr, path)[:300] or 'ffprobe failed'}")
    found = json.loads(probe.stdout or "{}").get("streams", [])
    streams = {s.get("codec_type") for s in found}
    # A cover picture is a video stream that does not move: an MP4 holding it and sound is an audio file.
    moving = any(s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic") for s in found)
    if kind == "video" and not moving and "audio" in streams and audio_alone is not None:
        file_type, kind = audio_alone, "audio"
    if kind not in streams:
        hint = ""
        if kind == "video" and "audio" in streams and file_type.mime in AUDIO_ALONE:
            hint = f": declared a video; declare it {AUDIO_ALONE[file_type.mime]} to file it as audio"
        raise EvidenceRejectedError(f"file holds no {kind} stream (found: {sorted(s for s in streams if s)}){hint}")
    if kind == "audio":
        _read_to_end(path, ["-map", "0:a", "-f", "null", "-"], "corrupt audio")
    else:
        # Demuxed to the end, not decoded (seconds for an hour of video): the header of a cut-off MP4 or
        # WebM still names its full length, so only reading every packet finds that the end is missing.
        _read_to_end(path, ["-map", "0", "-c", "copy", "-f", "null", "-"], "cut-off or corrupt video")
    return file_type


def _told(stderr: str, path: Path) -> str:
    """What a tool said about ``path``, for the uploader: without the server's temporary path."""
    return stderr.replace(str(path), "file").strip()


def _read_to_end(path: Path, output: list[str], problem: str) -> None:
    """Run ``ffmpeg -i path *output`` with errors fatal; any error it reports refuses the file."""
    run = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", str(path), *output],
        capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
    )
    errors = _told(run.stderr, path)
    if run.returncode != 0 or errors:
        raise EvidenceRejectedError(f"{problem}: {errors[:300] or 'ffmpeg could not read it'}")
