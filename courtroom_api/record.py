"""The court record of a hearing: segments as exports see them, sign-off and lock state, diffs.

Sign-off state lives in the audit chain itself (``record.sign`` / ``record.unlock`` events on
``hearing:<id>``), so who signed and when can never disagree with the audit trail.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from capture.recorder import RECESS_GAP
from courtroom_api.errors import ConflictError
from courtroom_api.exports.records import (
    CourtRecord,
    ExportSegment,
    ExportWord,
    RecordHeader,
    RecordingGap,
    redact,
    role_label,
)

log = logging.getLogger(__name__)
SIGNING_ROLES = ("judge", "clerk")


# Events after which no earlier signature counts: a judge's unlock, and a change made to a record that
# one of the two had signed (they signed a text that is no longer the record's).
VOIDING = ("record.unlock", "record.void")


def signatures(session: Session, hearing_id: int) -> list[Any]:
    """``record.sign`` audit events since the last unlock or void, oldest first."""
    from models import AuditEvent

    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object == f"hearing:{hearing_id}", AuditEvent.action.in_(("record.sign", *VOIDING)))
        .order_by(AuditEvent.id)
    ).all()
    current: list[Any] = []
    for event in events:
        current = [] if event.action in VOIDING else current + [event]
    return current


@dataclass(frozen=True, slots=True)
class DigestFormula:
    """What one formula of the signed digest covers besides the lines (id, revision, times, text, role,
    speaker's id, seal), which every one covers."""

    head: bool = False  # the record's head: court, case number, cause, courtroom, times, who was present
    default_seats: bool = False  # present counts who sat on their default seat, never seated nor credited
    gaps: bool = False  # the recording's gaps the record prints (where, how long)
    recess: bool = False  # a gap that is a recess is marked so (the record prints 休庭, not 录音中断)


# The formulas each ``digest_version`` a ``record.sign`` event keeps was made with; one without it was
# made with 1 (the lines only) and is checked against that: it signed no more. Versions 2 and 3 each
# stand for two formulas: what they cover grew without the number being raised (da0bf72 put the
# parties who sat on their default seat in Present, 8185ad5 marked a recess in the gap line), and a
# signature does not say which release made it, so it is unchanged when either matches. Accepting
# both lets a v3 record whose gap became a recess after signing (or a v2 record whose silent party's
# default seat came or went) read as unchanged; new signatures are made with 4, one formula, covering
# all of it. Whatever the digest covers next is a new version: a signature is checked with the formula
# it was made with, never with today's.
DIGEST_FORMULAS: dict[int, tuple[DigestFormula, ...]] = {
    1: (DigestFormula(),),
    2: (DigestFormula(head=True), DigestFormula(head=True, default_seats=True)),
    3: (DigestFormula(head=True, default_seats=True, gaps=True),
        DigestFormula(head=True, default_seats=True, gaps=True, recess=True)),
    4: (DigestFormula(head=True, default_seats=True, gaps=True, recess=True),),
}
DIGEST_VERSION = 4


@dataclass(frozen=True, slots=True)
class PrintedHead:
    """What the head of a hearing's record prints, as the dossier holds it (times in UTC)."""

    court: str
    case_number: str
    cause: str
    courtroom: str
    started_at: datetime | None
    ended_at: datetime | None
    present: tuple[tuple[int, str, str], ...]  # (participant id, role, name), by id

    def digest_line(self) -> bytes:
        times = [t.astimezone(UTC).isoformat() if t else None for t in (self.started_at, self.ended_at)]
        head = [self.court, self.case_number, self.cause, self.courtroom, *times, [list(p) for p in self.present]]
        return json.dumps(head, ensure_ascii=False).encode() + b"\n"


def printed_head(session: Session, hearing: Any, default_seats: bool = True) -> PrintedHead:
    """The head of ``hearing``'s record. Present are the participants of this hearing: seated in it
    (a seat assignment, or, once it ran, their default seat as the live roster had them there), or
    credited with a line of it; not every participant of the case (a witness heard at a later hearing,
    seated there, or one added to the case after it ended, was not present at this one), and nobody's
    default seat in a hearing never opened. Without ``default_seats``, as digest version 2 first had
    it: seated by an assignment or credited with a line only."""
    from courtroom_api.live.attribution import seated_by_default
    from models import Court, Courtroom, Participant, SeatAssignment, TranscriptSegment

    case = hearing.case
    court = session.get(Court, case.court_id) if case.court_id else None
    # By its id, not ``hearing.courtroom``: that relationship is not reloaded when a move sets the id.
    room = session.get(Courtroom, hearing.courtroom_id) if hearing.courtroom_id else None
    seated = select(SeatAssignment.participant_id).where(SeatAssignment.hearing_id == hearing.id)
    credited = select(TranscriptSegment.participant_id).where(TranscriptSegment.hearing_id == hearing.id,
                                                              TranscriptSegment.participant_id.is_not(None))
    by_default = seated_by_default(session, hearing) if default_seats and hearing.started_at is not None else set()
    present = session.scalars(select(Participant).where(
        Participant.id.in_(seated) | Participant.id.in_(credited) | Participant.id.in_(by_default))
        .order_by(Participant.id)).all()
    return PrintedHead(
        court=court.name if court else "人民法院", case_number=case.case_number, cause=case.cause_of_action,
        courtroom=room.name if room else "",
        started_at=hearing.started_at or hearing.scheduled_start, ended_at=hearing.ended_at,
        present=tuple((p.id, str(p.role), p.name) for p in present),
    )


def record_digest(session: Session, hearing_id: int, version: int = DIGEST_VERSION) -> str:
    """sha256 of the record as signed with ``version`` (its newest formula). Kept in each ``record.sign``
    event (hash-chained), so a record changed after it was signed, through the API or behind it, no
    longer matches its signatures."""
    return formula_digest(session, hearing_id, DIGEST_FORMULAS[version][-1])


def record_digests(session: Session, hearing_id: int, version: int) -> frozenset[str]:
    """The record's digest by each formula ``version`` stands for (none for a version unknown here)."""
    return frozenset(formula_digest(session, hearing_id, f) for f in DIGEST_FORMULAS.get(version, ()))


def formula_digest(session: Session, hearing_id: int, formula: DigestFormula) -> str:
    """sha256 of the record as ``formula`` covers it: its head, the recording's gaps it prints, then
    every line's id, revision, times, text, speaker and seal, in order. Each formula's bytes stay as
    they were when signatures were made with it (see ``DIGEST_FORMULAS``)."""
    from models import Hearing
    from models import TranscriptSegment as S

    digest = hashlib.sha256()
    if formula.head:
        digest.update(printed_head(session, session.get(Hearing, hearing_id), formula.default_seats).digest_line())
    if formula.gaps:  # (a gap noted or taken away after signing rewrites what the record says was recorded)
        gaps = [[gap.start, gap.end, *(["recess"] if formula.recess and gap.recess else [])]
                for gap in recording_gaps(session, hearing_id)]
        digest.update(json.dumps(gaps).encode() + b"\n")
    for row in session.execute(select(S.id, S.revision, S.start_s, S.end_s, S.text, S.role, S.participant_id,
                                      S.sealed).where(S.hearing_id == hearing_id).order_by(S.start_s, S.id)):
        line = [row.id, row.revision, row.start_s, row.end_s, row.text, str(row.role) if row.role else None,
                row.participant_id, bool(row.sealed)]
        digest.update(json.dumps(line, ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()


def signed_records(session: Session) -> dict[int, bool]:
    """Every hearing whose current signatures keep the record's digest → whether it is unchanged since."""
    from models import AuditEvent

    objects = session.scalars(select(AuditEvent.object).where(AuditEvent.action == "record.sign").distinct())
    checked = {hid: unchanged_since_signed(session, hid) for hid in sorted(int(o.split(":", 1)[1]) for o in objects)}
    return {hid: ok for hid, ok in checked.items() if ok is not None}


def unchanged_since_signed(session: Session, hearing_id: int) -> bool | None:
    """True when the record is what every current signature signed, False when it changed since; None
    with no signatures, or one made before signatures kept the record's digest, or with a digest version
    this release does not know (a newer one's: it cannot tell)."""
    signed = [(e.details.get("digest"), int(e.details.get("digest_version", 1))) for e in signatures(session, hearing_id)]
    if not signed or any(digest is None or version not in DIGEST_FORMULAS for digest, version in signed):
        return None
    current = {version: record_digests(session, hearing_id, version) for version in {v for _, v in signed}}
    return all(digest in current[version] for digest, version in signed)


def signed_roles(session: Session, hearing_id: int) -> list[str]:
    return sorted({str(e.details.get("role")) for e in signatures(session, hearing_id)})


def is_locked(session: Session, hearing_id: int) -> bool:
    return _locks(signed_roles(session, hearing_id))


def _locks(signed: list[str]) -> bool:
    """Both the judge and the clerk have signed."""
    return all(role in signed for role in SIGNING_ROLES)


def ensure_unlocked(session: Session, hearing_id: int, user: Any,
                    why: str = "the record was changed after it was signed") -> None:
    """Refuse a change to a locked record; a change to a record one of the two has signed voids that
    signature (``record.void``: they must sign what the record now is). Checked under the audit chain's
    lock, which the change's own audit event and a sign-off's ``record.sign`` take too: a sign-off cannot
    be committed between this check and the change (it waits, and signs the record with the change in it)."""
    from courtroom_api.access import audit
    from models.audit import lock_chain

    lock_chain(session)
    signed = signed_roles(session, hearing_id)
    if _locks(signed):
        raise ConflictError("the record is signed and locked; a judge must unlock it with a reason first")
    if signed:
        audit(session, user, "record.void", f"hearing:{hearing_id}", roles=signed, reason=why)


def signed_heads(session: Session, hearing_ids: Iterable[int]) -> dict[int, PrintedHead]:
    """Before a change to what records' heads print (a case, a participant, a hearing's room or times):
    the heads of those of ``hearing_ids`` that carry a signature, read under the audit chain's lock (a
    sign-off waits for the change). Hand them to :func:`ensure_heads_kept` once the change is made."""
    from models import Hearing
    from models.audit import lock_chain

    lock_chain(session)
    return {hid: printed_head(session, session.get(Hearing, hid)) for hid in sorted(set(hearing_ids))
            if signed_roles(session, hid)}


def edit_printed(session: Session, row: Any, changes: dict[str, Any], hearing_ids: Iterable[int], user: Any,
                 what: str) -> None:
    """Set ``changes`` on ``row`` (a court, a courtroom: printed at the head of ``hearing_ids``' records),
    refused while a signed and locked record would print them (see :func:`ensure_heads_kept`)."""
    signed = signed_heads(session, hearing_ids)
    for key, value in changes.items():
        setattr(row, key, value)
    ensure_heads_kept(session, signed, user, what)


def ensure_heads_kept(session: Session, before: dict[int, PrintedHead], user: Any, what: str) -> None:
    """Refuse a change (made in ``session``, not committed) that rewrites the head of a signed and
    locked record, naming its hearings; one that rewrites a record signed by one of the two voids that
    signature (as a correction does). A change no signed record prints goes through untouched."""
    from models import Hearing

    session.flush()
    changed = [hid for hid, head in before.items() if printed_head(session, session.get(Hearing, hid)) != head]
    locked = [hid for hid in changed if is_locked(session, hid)]
    if locked:
        raise ConflictError(f"{what} is printed in the signed and locked record of hearing "
                            f"{', '.join(map(str, locked))}; a judge must unlock it with a reason first")
    for hid in changed:
        ensure_unlocked(session, hid, user, why=f"{what} changed after the record was signed")


def char_diff(before: str, after: str) -> str:
    """A compact character-level diff (works for Chinese, which has no spaces): ``[-old-]{+new+}``."""
    out = []
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(before[a0:a1])
            continue
        if a1 > a0:
            out.append(f"[-{before[a0:a1]}-]")
        if b1 > b0:
            out.append(f"{{+{after[b0:b1]}+}}")
    return "".join(out)


def export_segments(session: Session, hearing_id: int, may_see_sealed: bool) -> tuple[ExportSegment, ...]:
    """The hearing's transcript in time order, sealed parts redacted for readers who may not see them."""
    from models import TranscriptSegment

    rows = session.scalars(
        select(TranscriptSegment).where(TranscriptSegment.hearing_id == hearing_id).order_by(
            TranscriptSegment.start_s, TranscriptSegment.id
        )
    ).all()
    segments = tuple(
        ExportSegment(
            segment_id=r.id, start=r.start_s, end=r.end_s, text=r.text,
            role=str(r.role) if r.role else None,
            participant_name=r.participant.name if r.participant else None,
            seat=r.seat, channel=r.channel, sealed=r.sealed, status=str(r.status),
            words=tuple(ExportWord(float(w.get("start", 0)), float(w.get("end", 0)),
                                   str(w.get("word", w.get("text", ""))), float(w.get("probability", 0)))
                        for w in (r.words or [])),
        )
        for r in rows
    )
    return redact(segments, may_see_sealed)


def court_zone(name: str) -> tzinfo:
    """The court's time zone (``Settings.timezone``, an IANA name); UTC where this machine does not know it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("time zone %r is not known on this machine: UTC is used", name)
        return UTC


def _local(at: datetime | None, tz: tzinfo) -> datetime | None:
    return at.astimezone(tz) if at is not None else None


def court_record(session: Session, hearing: Any, may_see_sealed: bool, zone: str = "UTC") -> CourtRecord:
    """The record as exported; its times in the court's ``zone`` (an IANA name; UTC if unknown here)."""
    tz = court_zone(zone)
    head = printed_head(session, hearing)
    signed = tuple(
        f"{role_label(e.details.get('role'))} {e.details.get('name', '')} {e.occurred_at.astimezone(tz):%Y-%m-%d %H:%M}"
        .strip()
        for e in signatures(session, hearing.id)
    )
    header = RecordHeader(
        court=head.court, case_number=head.case_number, cause=head.cause, courtroom=head.courtroom,
        started_at=_local(head.started_at, tz), ended_at=_local(head.ended_at, tz), zone=str(tz),
        participants=tuple(role_label(role, name) for _, role, name in head.present),
        signed_by=signed,
    )
    return CourtRecord(header, export_segments(session, hearing.id, may_see_sealed), recording_gaps(session, hearing.id))


def recording_gaps(session: Session, hearing_id: int) -> tuple[RecordingGap, ...]:
    """Where the hearing's filed recordings hold no audio, in seconds of its timeline (the finalize notes
    them in ``Recording.segment_files``)."""
    from models import Recording

    rows = session.scalars(select(Recording).where(Recording.hearing_id == hearing_id))
    return tuple(sorted((gap for rec in rows for gap in gaps_of(rec)), key=lambda g: g.start))


def gaps_of(recording: Any) -> list[RecordingGap]:
    """A ``models.Recording``'s gaps, as its finalize noted them in ``segment_files``, in seconds."""
    rate = recording.sample_rate or 16000
    return [RecordingGap(float(g["first_sample"]) / rate, (float(g["first_sample"]) + float(g["frames"])) / rate,
                         g.get("reason") == RECESS_GAP)
            for part in recording.segment_files or [] if isinstance(part, dict) for g in part.get("gaps", [])]
