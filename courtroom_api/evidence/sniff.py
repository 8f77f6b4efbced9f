"""Content sniffing by magic bytes, and the check that a file is what it claims to be."""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from courtroom_api.errors import EvidenceRejectedError

SNIFF_BYTES = 64  # enough for every signature below


@dataclass(frozen=True, slots=True)
class FileType:
    mime: str
    kind: str  # evidence kind: document | image | audio | video
    extensions: tuple[str, ...]


TYPES: dict[str, FileType] = {
    t.mime: t
    for t in (
        FileType("application/pdf", "document", (".pdf",)),
        FileType("image/png", "image", (".png",)),
        FileType("image/jpeg", "image", (".jpg", ".jpeg")),
        FileType("image/gif", "image", (".gif",)),
        FileType("image/webp", "image", (".webp",)),
        FileType("audio/mpeg", "audio", (".mp3",)),
        FileType("audio/wav", "audio", (".wav",)),
        FileType("audio/flac", "audio", (".flac",)),
        FileType("audio/ogg", "audio", (".ogg", ".oga", ".opus")),
        FileType("audio/mp4", "audio", (".m4a",)),
        FileType("audio/webm", "audio", (".weba",)),
        FileType("video/mp4", "video", (".mp4", ".m4v")),
        FileType("video/quicktime", "video", (".mov",)),
        FileType("video/webm", "video", (".webm",)),
        FileType(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document", (".docx",)
        ),
    )
}
# Other names clients send for the same types.
ALIASES = {
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "audio/mp3": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "image/jpg": "image/jpeg",
    "audio/opus": "audio/ogg",
    "video/ogg": "audio/ogg",
}
# Container families whose sniffed type may legitimately differ in detail from the claim.
_FAMILIES = ({"audio/mp4", "video/mp4", "video/quicktime"}, {"audio/webm", "video/webm"})
# An MP4 or WebM holds a voice memo or a browser's recording as often as a video, and its bytes do not say
# which: the streams in it do (see audio_alone).
AUDIO_ALONE = {"video/mp4": "audio/mp4", "video/webm": "audio/webm"}


def _mp4_brand(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand.startswith(b"M4A") or brand.startswith(b"M4B"):
        return "audio/mp4"
    if brand == b"qt  ":
        return "video/quicktime"
    return "video/mp4"


def sniff(head: bytes) -> str | None:
    """The MIME type the first bytes of a file announce, or None when unknown."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "audio/wav"  # RF64: a WAV past 4 GiB, as the recorder files a room of more than 8 seats
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head[:SNIFF_BYTES] else None
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"  # decided by the archive's content, see check_docx
    return _mp4_brand(head)


def normalize_mime(mime: str | None) -> str | None:
    if not mime:
        return None
    mime = mime.split(";")[0].strip().lower()
    return ALIASES.get(mime, mime)


def resolve_type(head: bytes, claimed_mime: str | None, filename: str | None) -> FileType:
    """The file's type when its bytes, claimed MIME type and extension agree; otherwise refuse."""
    sniffed = sniff(head)
    claimed = normalize_mime(claimed_mime)
    if claimed in (None, "application/octet-stream"):
        claimed = None
    by_ext = next((t.mime for t in TYPES.values() if filename and Path(filename).suffix.lower() in t.extensions), None)
    if sniffed is None:
        raise EvidenceRejectedError("unrecognised or unsupported file content (accepted: " + ", ".join(TYPES) + ")")
    if sniffed == "application/zip":
        sniffed = TYPES["application/vnd.openxmlformats-officedocument.wordprocessingml.document"].mime
    for label, value in (("declared type", claimed), ("file extension", by_ext)):
        if value is None:
            continue
        if value not in TYPES:
            raise EvidenceRejectedError(f"{label} {value!r} is not an accepted evidence type")
        same = value == sniffed or any(value in family and sniffed in family for family in _FAMILIES)
        if not same:
            raise EvidenceRejectedError(f"{label} says {value} but the content is {sniffed}")
    # Within a family the extension, else the claim, names the type (an MP4 or WebM video may still turn
    # out to be audio alone: see audio_alone).
    return TYPES[by_ext or claimed or sniffed]


def audio_alone(file_type: FileType, claimed_mime: str | None) -> FileType | None:
    """The audio type an upload resolved as ``file_type`` is filed as when it holds audio and no video:
    an MP4 or WebM named by its extension alone or declared audio. None where it must hold video (any
    other type, or one declared video: that refusal tells the uploader to declare it audio)."""
    claimed = normalize_mime(claimed_mime)
    if file_type.mime not in AUDIO_ALONE or (claimed or "").startswith("video/"):
        return None
    return TYPES[AUDIO_ALONE[file_type.mime]]


# Word writes its parts stored or deflated, and compresses XML some 5-20 times; a member claiming far more
# (or the archive unpacking to more than this) is a zip bomb, refused before a byte of it is inflated.
DOCX_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
DOCX_MAX_RATIO = 200
DOCX_MAX_UNPACKED = 1 << 30


def check_docx(path: Path) -> None:
    """A DOCX is a ZIP holding word/document.xml; anything else is refused (so is a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            if "word/document.xml" not in names or "[Content_Types].xml" not in names:
                raise EvidenceRejectedError("ZIP archive is not a Word document (no word/document.xml)")
            for m in members:
                if m.flag_bits & 0x1:
                    raise EvidenceRejectedError(f"encrypted DOCX member {m.filename}: upload the document unencrypted")
                if m.compress_type not in DOCX_METHODS:
                    raise EvidenceRejectedError(f"DOCX member {m.filename} uses compression method {m.compress_type},"
                                                " which Word does not write")
                if m.file_size > DOCX_MAX_RATIO * max(m.compress_size, 1024):
                    raise EvidenceRejectedError(f"DOCX member {m.filename} would unpack to {m.file_size} bytes "
                                                f"from {m.compress_size}: refused as a zip bomb")
            if sum(m.file_size for m in members) > DOCX_MAX_UNPACKED:
                raise EvidenceRejectedError("DOCX would unpack to more than 1 GiB: refused as a zip bomb")
            bad = archive.testzip()
            if bad is not None:
                raise EvidenceRejectedError(f"corrupt DOCX: member {bad} fails its CRC check")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        raise EvidenceRejectedError(f"corrupt DOCX: {exc}") from exc
