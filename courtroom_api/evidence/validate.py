"""Deep checks that a staged upload is a complete, readable file of its type."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from courtroom_api.errors import EvidenceRejectedError
from courtroom_api.evidence.sniff import FileType, check_docx

PROBE_TIMEOUT_S = 120


def validate(path: Path, file_type: FileType) -> None:
    """Raise :class:`EvidenceRejectedError` when the file is truncated or corrupt."""
    if file_type.kind == "image":
        _check_image(path)
    elif file_type.mime == "application/pdf":
        _check_pdf(path)
    elif file_type.kind == "document":
        check_docx(path)
    else:
        _check_media(path, file_type.kind)


def _check_image(path: Path) -> None:
    from PIL import Image

    try:
        with Image.open(path) as image:
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
    finally:
        pdf.close()


def _check_media(path: Path, kind: str) -> None:
    """ffprobe must find a stream of the right kind; audio is fully decoded with errors fatal."""
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
    )
    if probe.returncode != 0:
        raise EvidenceRejectedError(f"corrupt {kind} file: {probe.stderr.strip()[:300] or 'ffprobe failed'}")
    streams = {s.get("codec_type") for s in json.loads(probe.stdout or "{}").get("streams", [])}
    if kind not in streams:
        raise EvidenceRejectedError(f"file holds no {kind} stream (found: {sorted(s for s in streams if s)})")
    if kind == "audio":
        decode = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", str(path), "-map", "0:a", "-f", "null", "-"],
            capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
        )
        if decode.returncode != 0 or decode.stderr.strip():
            raise EvidenceRejectedError(f"corrupt audio: {decode.stderr.strip()[:300] or 'decode failed'}")
