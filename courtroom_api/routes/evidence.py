"""Evidence: streamed upload with type checks, listing, Range download, renditions for zoom."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from courtroom_api.access import audit, get_or_404, load_case, load_evidence
from courtroom_api.auth.policy import Action, Principal
from courtroom_api.blobstore import blob_path, file_chunks, hold_blob, take_back
from courtroom_api.deps import (
    CurrentUser,
    IdPath,
    MediaUser,
    RangeHeaders,
    ServicesDep,
    SessionDep,
    SmallPath,
)
from courtroom_api.errors import (
    ConflictError,
    PermissionDeniedError,
    UploadTooLargeError,
    ValidationFailedError,
)
from courtroom_api.evidence import numbers, renditions
from courtroom_api.evidence.sniff import TYPES
from courtroom_api.evidence.upload import StagedUpload, stage_upload
from courtroom_api.live.display import take_down
from courtroom_api.ranges import file_response
from courtroom_api.routes import get_and_head
from courtroom_api.schemas import (
    LINES,
    ONE_LINE,
    EvidencePublic,
    EvidenceUpdate,
    ExhibitNumber,
    ExhibitTitle,
    PagesInfo,
    TileInfo,
)
from courtroom_api.services import Services
from models.types import BlobRef

router = APIRouter(prefix="/api", tags=["evidence"])
SIDE_PREFIX = {"plaintiff": "P", "defendant": "D", "prosecution": "PR", "third_party": "T"}


@router.get("/cases/{case_id}/evidence", response_model=list[EvidencePublic])
def list_evidence(case_id: IdPath, user: CurrentUser, session: SessionDep) -> object:
    from models import Evidence

    load_case(session, user, case_id, Action.READ_EVIDENCE)
    stmt = select(Evidence).where(Evidence.case_id == case_id).order_by(Evidence.id)
    if not user.may_see_sealed:
        stmt = stmt.where(Evidence.sealed.is_(False))
    return session.scalars(stmt).all()


def _submitter(session, user: Principal, case_id: IdPath):  # type: ignore[no-untyped-def]
    from models import Participant

    return session.scalar(select(Participant).where(Participant.case_id == case_id,
                                                    Participant.user_id == user.user_id))


def _case_numbers(session, case_id: IdPath, but: int | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    from models import Evidence

    stmt = select(Evidence.exhibit_number).where(Evidence.case_id == case_id)
    if but is not None:
        stmt = stmt.where(Evidence.id != but)
    return list(session.scalars(stmt))


def _refuse_taken(session, case_id: IdPath, number: str, but: int | None = None) -> None:  # type: ignore[no-untyped-def]
    """409 when the case has the exhibit number already, however written ("p-1", "Ｐ－１" are "P-1")."""
    existing = numbers.same_as(number, _case_numbers(session, case_id, but))
    if existing is not None:
        written = "" if existing == number else f", as {existing!r} (case and full-width forms do not make a number new)"
        raise ConflictError(f"exhibit number {number!r} is already used in case {case_id}{written}")


def _next_exhibit_number(session, case_id: IdPath, prefix: str) -> str:  # type: ignore[no-untyped-def]
    number = numbers.next_number(_case_numbers(session, case_id), prefix)
    if len(number) > numbers.MAX_CHARS:
        raise ConflictError(f"the next exhibit number would be {number!r}, longer than {numbers.MAX_CHARS} "
                            "characters: give this exhibit a number by hand")
    return number


def _file_evidence(services: Services, user: Principal, case_id: IdPath, staged: StagedUpload, meta: dict) -> int:  # type: ignore[type-arg]
    """Put the checked upload into the blob store, then create the Evidence row (one transaction). Refused
    after the blob was stored (a number taken meanwhile), the blob this upload added is taken back; the
    server killed before the commit, the next start takes it back (its pending marker)."""
    created = not services.blobs.exists(staged.sha256)
    marker = services.blobs.mark_pending(staged.sha256)
    try:
        ref = services.blobs.put_stream(file_chunks(staged.path))  # before the write lock: it may take seconds
        try:
            return _insert_evidence(services, user, case_id, staged, ref, meta)
        except BaseException:
            if created:
                take_back(services, ref.sha256)
            raise
    finally:
        marker.unlink(missing_ok=True)


def _insert_evidence(services: Services, user: Principal, case_id: IdPath, staged: StagedUpload, ref: BlobRef,
                     meta: dict) -> int:  # type: ignore[type-arg]
    from models import Evidence

    with services.write_sessions() as session:
        # Uploads to one case at once are filed in turn, so each takes its own exhibit number.
        load_case(session, user, case_id, Action.UPLOAD_EVIDENCE, for_update=True)
        hold_blob(session, ref.sha256)
        if not services.blobs.exists(ref.sha256):  # a refused upload of the same file took it back meanwhile
            services.blobs.put_stream(file_chunks(staged.path))
        participant = _submitter(session, user, case_id)
        number = meta["exhibit_number"]
        if number:
            _refuse_taken(session, case_id, number)  # an upload at the same moment may have taken it
        else:
            side = str(participant.side) if participant and participant.side else ""
            number = _next_exhibit_number(session, case_id, SIDE_PREFIX.get(side, "C"))
        evidence = Evidence(
            case_id=case_id, exhibit_number=number, title=meta["title"], description=meta["description"],
            kind=staged.file_type.kind, submitted_by_participant_id=participant.id if participant else None,
            submitted_by_user_id=user.user_id, blob_sha256=ref.sha256, mime_type=staged.file_type.mime,
            size_bytes=ref.size, sealed=bool(meta["sealed"]),
        )
        session.add(evidence)
        try:
            session.flush()
        except IntegrityError as exc:
            raise ConflictError(f"exhibit number {number!r} is already used in case {case_id}") from exc
        audit(session, user, "evidence.submit", f"evidence:{evidence.id}", case_id=case_id, sha256=ref.sha256,
              size=ref.size, mime=staged.file_type.mime, exhibit_number=number)
        session.commit()
        return evidence.id


@router.post(
    "/cases/{case_id}/evidence", response_model=EvidencePublic, status_code=201,
    openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {
        "schema": {"type": "string", "format": "binary"}}}}},
)
async def upload_evidence(
    case_id: IdPath, request: Request, user: CurrentUser, services: ServicesDep,
    title: Annotated[ExhibitTitle, Query()],
    filename: Annotated[str | None, Query(max_length=255, pattern=ONE_LINE)] = None,
    exhibit_number: Annotated[ExhibitNumber | None, Query(description=(
        "given by hand (else the side's next: P-1, D-1, …); trimmed, full-width forms as ASCII, and one "
        "the case has already in any case of letters is refused (409)"))] = None,
    description: Annotated[str, Query(max_length=5000, pattern=LINES)] = "",
    sealed: bool = False,
    content_type: Annotated[str | None, Header()] = None,
) -> object:
    """Upload a file as the raw request body; ``Content-Type`` and ``filename`` state what it is.

    The file is streamed to a temp file (sha256 on the way, size limit enforced while receiving),
    sniffed by its magic bytes, and fully checked; a mismatch or a corrupt file is refused (422),
    an oversized one 413, and nothing is stored. ``sealed=true`` files it sealed: the bench's alone
    (anyone else is refused, 403, before a byte is received).
    """
    from models import Evidence

    await asyncio.to_thread(_check_case, services, user, case_id, exhibit_number, sealed)
    limit = services.settings.storage.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise UploadTooLargeError(limit)
    staged = await stage_upload(request.stream(), claimed_mime=content_type, filename=filename,
                                limit_bytes=limit, tmp_dir=services.upload_tmp_dir)
    meta = {"title": title, "exhibit_number": exhibit_number, "description": description, "sealed": sealed}
    try:
        evidence_id = await asyncio.to_thread(_file_evidence, services, user, case_id, staged, meta)
    finally:
        staged.discard()
    with services.sessions() as session:
        evidence = session.get(Evidence, evidence_id)
        _announce(services, session, evidence)
        return evidence


def _announce(services: Services, session, evidence) -> None:  # type: ignore[no-untyped-def]
    """Tell the screens open on the case's hearings that its exhibits changed (filed during the hearing,
    retitled, sealed): the bench and party screens load the list again. A sealed exhibit is not named
    to those who may not see it."""
    from models import Hearing

    data = {"case_id": evidence.case_id, "evidence_id": evidence.id}
    redacted = {"case_id": evidence.case_id, "evidence_id": None} if evidence.sealed else None
    for hearing_id in session.scalars(select(Hearing.id).where(Hearing.case_id == evidence.case_id)):
        stream = services.hub.get(hearing_id)
        if stream is not None and not stream.closed:
            stream.publish("evidence", data, redacted=redacted)


def _check_case(services: Services, user: Principal, case_id: IdPath, exhibit_number: str | None,
                sealed: bool) -> None:
    """Refuse before a byte is received (and so before anything is stored) what can be refused now."""
    if sealed and not user.can(Action.SEAL):
        # Filed unsealed instead, it was shown to everyone the filer meant to keep it from.
        raise PermissionDeniedError(f"role {user.role!r} may not file sealed evidence: only the bench seals an "
                                    "exhibit; file it unsealed, or ask the court to seal it; nothing was stored")

    with services.sessions() as session:
        load_case(session, user, case_id, Action.UPLOAD_EVIDENCE)
        if exhibit_number:
            _refuse_taken(session, case_id, exhibit_number)


@get_and_head(router, "/evidence/{evidence_id}", response_model=EvidencePublic)
def get_evidence(evidence_id: IdPath, user: CurrentUser, session: SessionDep) -> object:
    return load_evidence(session, user, evidence_id)


@router.patch("/evidence/{evidence_id}", response_model=EvidencePublic)
def update_evidence(evidence_id: IdPath, body: EvidenceUpdate, user: CurrentUser, session: SessionDep,
                    services: ServicesDep) -> object:
    from courtroom_api.auth.policy import require

    evidence = load_evidence(session, user, evidence_id)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if not (user.can(Action.WRITE_CASE) or user.can(Action.SEAL)):
        raise PermissionDeniedError(f"role {user.role!r} may not change evidence")
    if not changes:
        raise ValidationFailedError("nothing to change: give a title, description, exhibit number or sealed")
    if "sealed" in changes:
        require(user, Action.SEAL)
    if set(changes) - {"sealed"}:
        require(user, Action.WRITE_CASE)
    if "exhibit_number" in changes:
        from models import Case

        # Renumberings and uploads of a case take its lock in turn: two never end up with one number.
        get_or_404(session, Case, evidence.case_id, "case", for_update=True)
        _refuse_taken(session, evidence.case_id, changes["exhibit_number"], but=evidence_id)
    for key, value in changes.items():
        setattr(evidence, key, value)
    audit(session, user, "evidence.update", f"evidence:{evidence_id}", **changes)
    if evidence.sealed:
        # The party screens showing it go blank now; left up, every new screen was sent it first.
        take_down(services, session, user, evidence_id, reason=f"evidence {evidence_id} sealed")
    session.commit()
    _announce(services, session, evidence)
    return evidence


@get_and_head(router, "/evidence/{evidence_id}/content", response_class=Response,
            responses={206: {"description": "partial content"}, 412: {"description": "If-Match names another file"},
                       416: {"description": "range not satisfiable"}})
def evidence_content(
    evidence_id: IdPath, user: MediaUser, session: SessionDep, services: ServicesDep,
    asked: RangeHeaders,
) -> Response:
    """The file itself, with HTTP Range for seeking in audio and video."""
    evidence = load_evidence(session, user, evidence_id)
    path = blob_path(services.blobs, evidence.blob_sha256)
    name = f"{evidence.exhibit_number}-{evidence.title}"
    suffix = TYPES[evidence.mime_type].extensions[0] if evidence.mime_type in TYPES else ""
    if not name.lower().endswith(suffix):  # a saved Word file without ".docx" did not open in Word
        name += suffix
    return file_response(path, media_type=evidence.mime_type, asked=asked, etag=evidence.blob_sha256, filename=name)


def _image_evidence(session, user: Principal, services: Services, evidence_id: IdPath):  # type: ignore[no-untyped-def]
    from courtroom_api.errors import ValidationFailedError

    evidence = load_evidence(session, user, evidence_id)
    if evidence.kind != "image":
        raise ValidationFailedError(f"evidence {evidence_id} is a {evidence.kind}, not an image")
    return evidence, blob_path(services.blobs, evidence.blob_sha256)


@get_and_head(router, "/evidence/{evidence_id}/rendition", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}})
def evidence_rendition(
    evidence_id: IdPath, user: MediaUser, session: SessionDep, services: ServicesDep,
    max_px: int = Query(1024, ge=16, le=renditions.MAX_RENDER_PX),
) -> Response:
    """The image scaled to fit ``max_px`` (JPEG)."""
    evidence, path = _image_evidence(session, user, services, evidence_id)
    cache = renditions.RenditionCache(services.renditions_dir)
    data = cache.get_or_make(evidence.blob_sha256, f"scaled-{max_px}.jpg", lambda: renditions.scaled_image(path, max_px))
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@get_and_head(router, "/evidence/{evidence_id}/tiles", response_model=TileInfo)
def evidence_tiles(evidence_id: IdPath, user: CurrentUser, session: SessionDep, services: ServicesDep) -> TileInfo:
    """The deep-zoom pyramid of an image (level ``max_level`` = full resolution)."""
    _, path = _image_evidence(session, user, services, evidence_id)
    grid = renditions.tile_grid(path)
    return TileInfo(width=grid.width, height=grid.height, tile_px=grid.tile_px, max_level=grid.max_level,
                    url_template=f"/api/evidence/{evidence_id}/tiles/{{level}}/{{col}}/{{row}}")


@get_and_head(router, "/evidence/{evidence_id}/tiles/{level}/{col}/{row}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}})
def evidence_tile(
    evidence_id: IdPath, level: SmallPath, col: SmallPath, row: SmallPath, user: MediaUser, session: SessionDep, services: ServicesDep
) -> Response:
    evidence, path = _image_evidence(session, user, services, evidence_id)
    cache = renditions.RenditionCache(services.renditions_dir)
    data = cache.get_or_make(evidence.blob_sha256, f"tile-{level}-{col}-{row}.jpg",
                             lambda: renditions.image_tile(path, level, col, row))
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


def _pdf_evidence(session, user: Principal, services: Services, evidence_id: IdPath):  # type: ignore[no-untyped-def]
    from courtroom_api.errors import ValidationFailedError

    evidence = load_evidence(session, user, evidence_id)
    if evidence.mime_type != "application/pdf":
        raise ValidationFailedError(f"evidence {evidence_id} is not a PDF")
    return evidence, blob_path(services.blobs, evidence.blob_sha256)


@get_and_head(router, "/evidence/{evidence_id}/pages", response_model=PagesInfo)
def evidence_pages(evidence_id: IdPath, user: CurrentUser, session: SessionDep, services: ServicesDep) -> PagesInfo:
    _, path = _pdf_evidence(session, user, services, evidence_id)
    return PagesInfo(pages=renditions.pdf_page_count(path),
                     url_template=f"/api/evidence/{evidence_id}/pages/{{page}}?width={{width}}")


@get_and_head(router, "/evidence/{evidence_id}/pages/{page}", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def evidence_page(
    evidence_id: IdPath, page: SmallPath, user: MediaUser, session: SessionDep, services: ServicesDep,
    width: int = Query(1200, ge=16, le=renditions.MAX_RENDER_PX),
) -> Response:
    """A PDF page rendered as a PNG ``width`` pixels wide."""
    evidence, path = _pdf_evidence(session, user, services, evidence_id)
    cache = renditions.RenditionCache(services.renditions_dir)
    data = cache.get_or_make(evidence.blob_sha256, f"page-{page}-{width}.png",
                             lambda: renditions.pdf_page_image(path, page, width))
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})
