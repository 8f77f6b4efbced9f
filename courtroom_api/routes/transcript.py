"""The transcript: segments, corrections as revisions, sealing, annotations, sign-off, exports."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import null, select

from courtroom_api import record, sealed_audio, sealed_ranges
from courtroom_api.access import audit, get_or_404, load_hearing, load_segment
from courtroom_api.auth.policy import Action, Principal
from courtroom_api.deps import CurrentUser, IdPath, ServicesDep, SessionDep
from courtroom_api.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailedError
from courtroom_api.exports.records import SEALED_TEXT
from courtroom_api.live.events import as_filed
from courtroom_api.schemas import (
    AnnotationCreate,
    AnnotationPublic,
    RangeSealRequest,
    RecordState,
    RevisionPublic,
    SealRequest,
    SealResult,
    SegmentCorrection,
    SegmentPublic,
    SignOff,
    SpeakerCorrection,
    UnlockRequest,
)
from models.audit import lock_chain
from models.enums import AnnotationKind, HearingStatus, Visibility

router = APIRouter(prefix="/api", tags=["transcript"])

MAX_TAIL = 500  # the most lines ?tail= returns: a screen's latest lines, not a way around paging


def segment_public(segment, may_see_sealed: bool) -> SegmentPublic:  # type: ignore[no-untyped-def]
    """A segment for one reader: sealed text and words only for those who may see them."""
    out = SegmentPublic.model_validate(segment)
    out.participant_name = segment.participant.name if segment.participant else None
    if segment.sealed and not may_see_sealed:
        out.text, out.words = SEALED_TEXT, []
    return out


@router.get("/hearings/{hearing_id}/segments", response_model=list[SegmentPublic])
def list_segments(
    hearing_id: IdPath, user: CurrentUser, session: SessionDep,
    after_s: float = Query(0.0, ge=0, le=1e9, description="only segments ending after this time"),
    words: bool = Query(True, description="each segment's word timings (false: [] — a 6-hour hearing's are "
                                          "most of its 11 MB, and the terminals show lines)"),
    limit: int | None = Query(None, ge=1, le=100_000, description="at most this many, in time order"),
    offset: int = Query(0, ge=0, le=10_000_000, description="skip this many first"),
    tail: int | None = Query(None, ge=1, le=MAX_TAIL, description="only the last this many, in time order "
                             "(a console card's latest lines without the whole transcript); not with limit or "
                             "offset"),
) -> list[SegmentPublic]:
    from models import TranscriptSegment

    if tail is not None and (limit is not None or offset):
        raise ValidationFailedError("tail is the last lines: it takes no limit or offset")
    load_hearing(session, user, hearing_id, Action.READ_TRANSCRIPT)
    stmt = select(TranscriptSegment).where(TranscriptSegment.hearing_id == hearing_id,
                                           TranscriptSegment.end_s >= after_s)
    if tail is not None:  # the last ones read backwards, handed out in time order like every list
        rows = list(reversed(session.scalars(
            stmt.order_by(TranscriptSegment.start_s.desc(), TranscriptSegment.id.desc()).limit(tail)).all()))
    else:
        rows = list(session.scalars(
            stmt.order_by(TranscriptSegment.start_s, TranscriptSegment.id).offset(offset).limit(limit)).all())
    out = [segment_public(r, user.may_see_sealed) for r in rows]
    if not words:
        for segment in out:
            segment.words = []
    return out


@router.get("/segments/{segment_id}", response_model=SegmentPublic)
def get_segment(segment_id: IdPath, user: CurrentUser, session: SessionDep) -> SegmentPublic:
    return segment_public(load_segment(session, user, segment_id, Action.READ_TRANSCRIPT), user.may_see_sealed)


def publish_revision(services, segment, user: Principal, kind: str) -> None:  # type: ignore[no-untyped-def]
    stream = services.hub.get(segment.hearing_id)
    if stream is None or stream.closed:
        return
    data, redacted = as_filed({**segment_public(segment, True).model_dump(mode="json"), "change": kind},
                              segment.sealed)
    stream.publish("transcript.revised", data, redacted=redacted, segment_id=segment.id)


@router.patch("/segments/{segment_id}", response_model=SegmentPublic)
def correct_segment(
    segment_id: IdPath, body: SegmentCorrection, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> SegmentPublic:
    """Correct a segment's text; the old text is kept as a revision (who, when, why)."""
    from models import SegmentRevision
    from models.enums import SegmentStatus

    segment = load_segment(session, user, segment_id, Action.CORRECT)
    record.ensure_unlocked(session, segment.hearing_id, user)
    if body.revision is not None and body.revision != segment.revision:
        raise ConflictError(f"the line was corrected meanwhile (revision {segment.revision}, not {body.revision}); "
                            "nothing was changed: read it again and correct the current text")
    if body.text == segment.text:
        raise ValidationFailedError("the corrected text is the same as the current text")
    session.add(SegmentRevision(segment_id=segment.id, before_text=segment.text, after_text=body.text,
                                author_id=user.user_id, reason=body.reason))
    audit(session, user, "segment.correct", f"segment:{segment.id}", before=segment.text, after=body.text,
          reason=body.reason, diff=record.char_diff(segment.text, body.text))
    segment.text = body.text
    segment.words = []  # the model's timings spell what it heard, not the corrected text
    segment.status = SegmentStatus.CORRECTED
    segment.revision += 1  # written only where the row still has the revision read above
    session.commit()
    publish_revision(services, segment, user, "corrected")
    return segment_public(segment, user.may_see_sealed)


@router.put("/segments/{segment_id}/speaker", response_model=SegmentPublic)
def correct_speaker(
    segment_id: IdPath, body: SpeakerCorrection, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> SegmentPublic:
    """Correct who said a line (a neighbour's microphone, a diarization that named the wrong voice): kept
    as a revision (before and after, who, why), as a text correction is; the text stays."""
    from courtroom_api.speakers import credit_line
    from models import Participant

    segment = load_segment(session, user, segment_id, Action.CORRECT)
    record.ensure_unlocked(session, segment.hearing_id, user)
    if body.revision is not None and body.revision != segment.revision:
        raise ConflictError(f"the line was corrected meanwhile (revision {segment.revision}, not {body.revision}); "
                            "nothing was changed: read it again")
    role = body.role
    if body.participant_id is not None:
        speaker = session.get(Participant, body.participant_id)
        if speaker is None or speaker.case_id != segment.hearing.case_id:
            raise ValidationFailedError(f"participant {body.participant_id} is not a participant of this case")
        role = role or speaker.role
    if role is None:
        raise ValidationFailedError("say who said the line: a participant_id, a role, or both")
    before = (segment.role, segment.participant_id)
    if before == (role, body.participant_id):
        raise ValidationFailedError("the line is already credited to that speaker")
    audit(session, user, "segment.speaker", f"segment:{segment.id}", hearing_id=segment.hearing_id,
          before={"role": str(before[0]) if before[0] else None, "participant_id": before[1]},
          after={"role": str(role), "participant_id": body.participant_id}, reason=body.reason)
    credit_line(segment, role, body.participant_id, user.user_id, body.reason)
    session.commit()
    session.refresh(segment)  # (its participant, for the name the pages show)
    publish_revision(services, segment, user, "speaker")
    return segment_public(segment, user.may_see_sealed)


@router.get("/segments/{segment_id}/revisions", response_model=list[RevisionPublic])
def list_revisions(segment_id: IdPath, user: CurrentUser, session: SessionDep) -> list[RevisionPublic]:
    segment = load_segment(session, user, segment_id, Action.READ_TRANSCRIPT)
    out = []
    for rev in segment.revisions:
        item = RevisionPublic.model_validate(rev)
        item.diff = record.char_diff(rev.before_text, rev.after_text)
        out.append(item)
    return out


def _seal(session, services, user: Principal, hearing_id: int, segments: list, body: SealRequest,  # type: ignore[no-untyped-def]
          span: tuple[float, float] | None = None) -> SealResult:
    """Seal or unseal ``segments`` of one hearing and, for a range, ``span`` (see ``_change_ranges``).
    Call with the hearing's row locked for update."""
    asked = [s.id for s in segments]
    # Lines already so are left alone: a repeated or mistaken click voided the record's signatures.
    segments = [segment for segment in segments if segment.sealed != body.sealed]
    stored, cuts = _change_ranges(session, user, hearing_id, segments, body, span)
    if not segments and stored is None and not cuts:
        return SealResult(segment_ids=asked, sealed=body.sealed)
    if segments or cuts:
        record.ensure_unlocked(session, hearing_id, user)
    # else a range kept over lines all sealed already (a seal made before ranges were kept, or line by line):
    # the record prints the same and its lines' audio is silent already, so it is neither refused on a
    # locked record nor voids a signature; what it adds (a line of that time filed later is sealed, the
    # audio between lines silent for parties) only hides more.
    if stored is not None:
        audit(session, user, "hearing.seal_range", f"hearing:{hearing_id}", sealed_range=stored.id,
              start_s=stored.start_s, end_s=stored.end_s, reason=body.reason)
    if cuts:
        audit(session, user, "hearing.unseal_range", f"hearing:{hearing_id}", span=list(span) if span else None,
              segment_ids=[s.id for s in segments], ranges=cuts, reason=body.reason)
    for segment in segments:
        segment.sealed = body.sealed
        audit(session, user, "segment.seal" if body.sealed else "segment.unseal", f"segment:{segment.id}",
              reason=body.reason)
    ranges = sealed_ranges.stored(session, hearing_id) if stored is not None or cuts else None
    session.commit()
    sealed_audio.prepare_in_background(services, hearing_id)  # its recordings, silent where sealed
    stream = services.hub.get(hearing_id)
    if stream is not None and ranges is not None:  # closed streams too: they still serve replays
        stream.set_sealed_ranges(ranges, SEALED_TEXT)
    for segment in segments:
        if body.sealed and stream is not None:
            stream.seal(segment.id, SEALED_TEXT)
        publish_revision(services, segment, user, "sealed" if body.sealed else "unsealed")
    return SealResult(segment_ids=asked, sealed=body.sealed)


def _change_ranges(session, user: Principal, hearing_id: int, segments: list, body: SealRequest,  # type: ignore[no-untyped-def]
                   span: tuple[float, float] | None) -> tuple[Any, list[dict[str, Any]]]:
    """The hearing's range seals after this seal: a range sealed is kept (the new range seal, or None when
    ranges kept already cover it); a range unsealed, and any line unsealed (it is heard again), is cut out
    of them (what changed). The lines of a range filed after it are sealed as they are filed."""
    if body.sealed:
        return (sealed_ranges.store(session, hearing_id, span, user.user_id, body.reason) if span else None), []
    if not segments and span is None:
        return None, []
    return None, sealed_ranges.cut(session, hearing_id, sealed_ranges.unseal_hull(span, segments))


@router.post("/segments/{segment_id}/seal", response_model=SealResult)
def seal_segment(
    segment_id: IdPath, body: SealRequest, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> SealResult:
    """Seal (or unseal) one segment: only judges and clerks see it afterwards."""
    from models import Hearing

    segment = load_segment(session, user, segment_id, Action.SEAL)
    # Locked before anything else (PostgreSQL): a final filed meanwhile, and the audit chain, wait behind it.
    get_or_404(session, Hearing, segment.hearing_id, "hearing", for_update=True)
    return _seal(session, services, user, segment.hearing_id, [segment], body)


@router.post("/hearings/{hearing_id}/seal", response_model=SealResult)
def seal_range(
    hearing_id: IdPath, body: RangeSealRequest, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> SealResult:
    """Seal (or unseal) ``[start_s, end_s]``: every segment overlapping it, and, kept as a range seal,
    those filed there later and its audio (see ``courtroom_api.sealed_ranges``)."""
    from models import TranscriptSegment

    # Locked for update (PostgreSQL) before the lines are read: a final being filed now is in them, or is
    # filed after this commits and finds the range.
    load_hearing(session, user, hearing_id, Action.SEAL, for_update=True)
    if body.end_s < body.start_s:
        raise ValidationFailedError("end_s must not be before start_s")
    segments = session.scalars(select(TranscriptSegment).where(
        TranscriptSegment.hearing_id == hearing_id, TranscriptSegment.end_s > body.start_s,
        TranscriptSegment.start_s < body.end_s)).all()
    return _seal(session, services, user, hearing_id, list(segments), body, (body.start_s, body.end_s))


def _visible(annotation, user: Principal) -> bool:  # type: ignore[no-untyped-def]
    if annotation.author_id == user.user_id:
        return True
    if annotation.visibility == "private":
        return False
    return annotation.visibility == "case" or user.role in ("judge", "clerk")


@router.get("/hearings/{hearing_id}/annotations", response_model=list[AnnotationPublic])
def list_annotations(hearing_id: IdPath, user: CurrentUser, session: SessionDep) -> object:
    from models import Annotation, SealedRange, TranscriptSegment

    load_hearing(session, user, hearing_id, Action.READ_TRANSCRIPT)
    rows = session.scalars(select(Annotation).where(Annotation.hearing_id == hearing_id).order_by(Annotation.id)).all()
    sealed = [] if user.may_see_sealed else [*session.execute(select(
        TranscriptSegment.id, TranscriptSegment.start_s, TranscriptSegment.end_s).where(
        TranscriptSegment.hearing_id == hearing_id, TranscriptSegment.sealed.is_(True))).all(),
        *session.execute(select(null().label("id"), SealedRange.start_s, SealedRange.end_s).where(
            SealedRange.hearing_id == hearing_id)).all()]  # a time sealed where no line was filed (yet)
    return [a for a in rows if _visible(a, user) and not _on_sealed(a, sealed)]


def _on_sealed(annotation: Any, sealed: Sequence[Any]) -> bool:
    """Whether an annotation is on a sealed line: anchored to it, or to a time inside it (a note on a
    moment of the recording says what was said then) — whether or not it is also anchored to another
    line: a highlight anchored to an open line but timed on a sealed one was shown to the parties."""
    if annotation.segment_id is not None and any(annotation.segment_id == line.id for line in sealed):
        return True
    if annotation.start_s is None:
        return False
    start = annotation.start_s
    end = annotation.end_s if annotation.end_s is not None and annotation.end_s > start else None
    if end is None:
        return any(line.start_s <= start < line.end_s for line in sealed)
    return any(start < line.end_s and line.start_s < end for line in sealed)


@router.post("/hearings/{hearing_id}/annotations", response_model=AnnotationPublic, status_code=201)
def add_annotation(hearing_id: IdPath, body: AnnotationCreate, user: CurrentUser, session: SessionDep) -> object:
    from models import Annotation

    load_hearing(session, user, hearing_id, Action.ANNOTATE)
    if body.segment_id is not None:
        segment = load_segment(session, user, body.segment_id, Action.ANNOTATE)
        if segment.hearing_id != hearing_id:
            raise ValidationFailedError("the segment belongs to another hearing")
    elif body.start_s is None:
        raise ValidationFailedError("an annotation needs a segment_id or a start_s")
    if body.start_s is not None and body.end_s is not None and body.end_s < body.start_s:
        raise ValidationFailedError("end_s must not be before start_s")
    annotation = Annotation(hearing_id=hearing_id, author_id=user.user_id, **body.model_dump())
    session.add(annotation)
    session.flush()
    audit(session, user, "annotation.add", f"annotation:{annotation.id}", **_annotation_details(annotation))
    session.commit()
    return annotation


@router.delete("/annotations/{annotation_id}", status_code=204)
def delete_annotation(annotation_id: IdPath, user: CurrentUser, session: SessionDep) -> None:
    from models import Annotation

    annotation = session.get(Annotation, annotation_id)
    if annotation is None or not _visible(annotation, user):
        raise NotFoundError(f"annotation {annotation_id} not found")
    load_hearing(session, user, annotation.hearing_id, Action.ANNOTATE)
    if annotation.author_id != user.user_id:
        raise PermissionDeniedError("only the author may delete an annotation")
    session.delete(annotation)
    audit(session, user, "annotation.delete", f"annotation:{annotation_id}", **_annotation_details(annotation))
    session.commit()


def _annotation_details(annotation: Any) -> dict[str, Any]:
    """What the audit keeps of an annotation, so that a deleted one still says what it was and where. A
    private note's text is its author's alone: the audit's readers get its sha256, not the words."""
    text = annotation.text or ""
    visibility = Visibility(annotation.visibility)
    return {"hearing_id": annotation.hearing_id, "segment_id": annotation.segment_id,
            "start_s": annotation.start_s, "end_s": annotation.end_s, "kind": AnnotationKind(annotation.kind).value,
            "visibility": visibility.value, **({"text_sha256": hashlib.sha256(text.encode()).hexdigest()}
                                               if visibility == Visibility.PRIVATE else {"text": text})}


@router.get("/hearings/{hearing_id}/record", response_model=RecordState)
def record_state(hearing_id: IdPath, user: CurrentUser, session: SessionDep, services: ServicesDep) -> RecordState:
    load_hearing(session, user, hearing_id, Action.READ_TRANSCRIPT)
    return _state(session, services, hearing_id)


def _state(session, services, hearing_id: int) -> RecordState:  # type: ignore[no-untyped-def]
    from courtroom_api.live.filing import recording_lost, unfiled_recording
    from models.db import one_snapshot

    with one_snapshot(session) as s:  # the signatures and the record they signed, as of one moment
        return RecordState(hearing_id=hearing_id, locked=record.is_locked(s, hearing_id),
                           signatures=record.signed_roles(s, hearing_id),
                           unchanged_since_signed=record.unchanged_since_signed(s, hearing_id),
                           # a sign-off refused for it: the console offers without_recording
                           recording_lost=unfiled_recording(s, hearing_id) is not None
                           and recording_lost(services, hearing_id))


def _set_segment_status(session, hearing_id: IdPath, locked: bool) -> None:  # type: ignore[no-untyped-def]
    from models import TranscriptSegment
    from models.enums import SegmentStatus

    for seg in session.scalars(select(TranscriptSegment).where(TranscriptSegment.hearing_id == hearing_id)):
        seg.status = SegmentStatus.SIGNED if locked else (
            SegmentStatus.CORRECTED if seg.revisions else SegmentStatus.DRAFT)


@router.post("/hearings/{hearing_id}/signoff", response_model=RecordState)
def sign_off(hearing_id: IdPath, body: SignOff, user: CurrentUser, session: SessionDep,
             services: ServicesDep) -> RecordState:
    """Sign the record as judge or clerk; when both have signed it is locked.

    Refused while finals of the hearing are held outside the dossier (the database refused them), or its
    recording is not filed yet (a recess, a filing that failed): what is signed must be the whole record.
    """
    from courtroom_api.live.filing import recording_lost, unfiled_recording
    from courtroom_api.live.unfiled import held_finals

    # Locked and read afresh (as a start does): a start committed between this check and the signature
    # would leave the running hearing's record signed.
    hearing = load_hearing(session, user, hearing_id, Action.SIGN, for_update=True)
    held = held_finals(services, hearing_id)
    if held:
        raise ConflictError(f"{held} final(s) of this hearing are not yet saved in the dossier (they are "
                            "retried); sign once the transcript_not_saved alarm has cleared")
    if hearing.status == HearingStatus.IN_PROGRESS:  # its finals are still being written into the record
        raise ConflictError(f"hearing {hearing_id} is still in progress; sign its record once it has ended")
    unfiled = unfiled_recording(session, hearing_id) is not None  # its gaps are printed in the record, and signed
    if unfiled and body.without_recording and not recording_lost(services, hearing_id):
        # (its filing would then change the locked record: it is on the server, held, or being filed)
        raise ConflictError(f"the recording of hearing {hearing_id} is still on the server, to be filed (free space "
                            "on the recordings disk, or `courtroom recordings file-pending`): sign once it is filed; "
                            "without_recording is for a recording whose directory is lost")
    if unfiled and (hearing.status == HearingStatus.PAUSED or not body.without_recording):
        raise ConflictError(
            f"hearing {hearing_id} is in recess; sign its record once it has ended" if hearing.status == HearingStatus.PAUSED
            else f"the recording of hearing {hearing_id} is not yet filed in the dossier (the recording_not_filed "
                 "alarm; `courtroom recordings file-pending`); sign once it is: where it holds no audio is in the "
                 "record. If it cannot be filed (its directory lost), sign with \"without_recording\": true and say why")
    lock_chain(session)  # who has signed is read under the lock its own record.sign will take
    if user.role in record.signed_roles(session, hearing_id):
        raise ValidationFailedError(f"the {user.role} has already signed this record")
    audit(session, user, "record.sign", f"hearing:{hearing_id}", role=user.role,
          name=user.display_name or user.login, note=body.note, digest=record.record_digest(session, hearing_id),
          digest_version=record.DIGEST_VERSION, **({"without_recording": True} if unfiled else {}))
    session.flush()
    if record.is_locked(session, hearing_id):
        _set_segment_status(session, hearing_id, True)
    session.commit()
    return _state(session, services, hearing_id)


@router.post("/hearings/{hearing_id}/unlock", response_model=RecordState)
def unlock(hearing_id: IdPath, body: UnlockRequest, user: CurrentUser, session: SessionDep,
           services: ServicesDep) -> RecordState:
    """Unlock a signed record for changes (judge only); the reason is audited and signatures reset."""
    load_hearing(session, user, hearing_id, Action.UNLOCK)
    lock_chain(session)
    if not record.signed_roles(session, hearing_id):
        raise ValidationFailedError("the record has no signatures to unlock")
    audit(session, user, "record.unlock", f"hearing:{hearing_id}", reason=body.reason)
    _set_segment_status(session, hearing_id, False)
    session.commit()
    return _state(session, services, hearing_id)


EXPORT_TYPES = {
    "json": ("application/x-ndjson; charset=utf-8", "jsonl"),
    "vtt": ("text/vtt; charset=utf-8", "vtt"),
    "srt": ("application/x-subrip; charset=utf-8", "srt"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "pdf": ("application/pdf", "pdf"),
}


@router.get("/hearings/{hearing_id}/transcript", response_class=Response,
            responses={200: {"content": {t: {} for t, _ in EXPORT_TYPES.values()}}})
def export_transcript(
    hearing_id: IdPath, user: CurrentUser, session: SessionDep, services: ServicesDep,
    format: Literal["json", "vtt", "srt", "docx", "pdf"] = "json",  # noqa: A002 - the API's word
) -> Response:
    """The transcript as JSON lines, WebVTT, SRT, or the court record (庭审笔录) as DOCX or PDF."""
    from courtroom_api.exports import court_record, subtitles

    hearing = load_hearing(session, user, hearing_id, Action.READ_TRANSCRIPT)
    media_type, ext = EXPORT_TYPES[format]
    if format in ("docx", "pdf"):
        doc = record.court_record(session, hearing, user.may_see_sealed, services.settings.timezone)
        body: bytes | str = court_record.to_docx(doc) if format == "docx" else court_record.to_pdf(doc)
    else:
        segments = record.export_segments(session, hearing_id, user.may_see_sealed)
        body = {"json": subtitles.to_json_lines, "vtt": subtitles.to_webvtt, "srt": subtitles.to_srt}[format](segments)
    filename = f"hearing-{hearing_id}.{ext}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
