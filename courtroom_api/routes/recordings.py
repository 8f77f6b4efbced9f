"""Recordings: streamed download with HTTP Range, per-seat tracks, mixdown, playback from a time, and
excerpts of a recording still being made.

A finalized recording's files are write-once blobs: the multi-channel file (``blob_sha256``),
and in ``channel_layout`` each seat's track (``track_sha256``); the listening mixdown is the
layout entry with ``seat == "mixdown"``. Those who may not see sealed lines get each file silent
where the hearing's sealed lines were said. Until the hearing ends there are no such files: a line
just said is heard from ``/excerpt``, made from the recording directory and the live recorder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from courtroom_api import record, sealed_audio
from courtroom_api.access import get_or_404, load_hearing, require_hearing
from courtroom_api.auth.media import issue_media_token, with_media_token
from courtroom_api.auth.policy import Action, Principal
from courtroom_api.blobstore import blob_path
from courtroom_api.deps import CurrentUser, IdPath, MediaUser, RangeHeaders, ServicesDep, SessionDep
from courtroom_api.errors import ConflictError, NotFoundError, ValidationFailedError
from courtroom_api.ranges import bytes_response, file_response
from courtroom_api.routes import get_and_head
from courtroom_api.schemas import RecordingPublic
from courtroom_api.services import Services

router = APIRouter(prefix="/api", tags=["recordings"])
MIXDOWN = "mixdown"
MAX_EXCERPT_S = 300.0
RANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    206: {"description": "partial content (If-Range, if given, names this file)"},
    412: {"description": "If-Match names another version of the file"}, 416: {"description": "range not satisfiable"},
}


def _public(recording) -> RecordingPublic:  # type: ignore[no-untyped-def]
    out = RecordingPublic.model_validate(recording)
    out.tracks = [str(e["seat"]) for e in recording.channel_layout or [] if e.get("track_sha256")]
    out.gaps = [(gap.start, gap.end) for gap in record.gaps_of(recording)]
    return out


def _recording(session, user: Principal, recording_id: IdPath):  # type: ignore[no-untyped-def]
    from models import Recording

    recording = get_or_404(session, Recording, recording_id, "recording")
    # (refused as the recording: which hearing it is of is not an outsider's to learn)
    require_hearing(user, session, recording.hearing, Action.READ_RECORDING, f"recording {recording_id}")
    return recording


def _mime(sha_entry: dict[str, Any], default: str) -> str:
    return str(sha_entry.get("mime_type") or default)


@router.get("/hearings/{hearing_id}/recordings", response_model=list[RecordingPublic])
def list_recordings(hearing_id: IdPath, user: CurrentUser, session: SessionDep) -> list[RecordingPublic]:
    from models import Recording

    load_hearing(session, user, hearing_id, Action.READ_RECORDING)
    rows = session.scalars(select(Recording).where(Recording.hearing_id == hearing_id).order_by(Recording.id))
    return [_public(r) for r in rows]


@get_and_head(router, "/recordings/{recording_id}/audio", response_class=Response, responses=RANGE_RESPONSES)
def recording_audio(
    recording_id: IdPath, user: MediaUser, session: SessionDep, services: ServicesDep,
    asked: RangeHeaders,
) -> Response:
    """The finalized multi-channel recording (FLAC; WAV, RF64, beyond 8 channels), seekable with Range."""
    recording = _recording(session, user, recording_id)
    if not recording.blob_sha256:
        _require_finalized(recording)
        raise NotFoundError(f"recording {recording_id} held no audio")
    mime = sealed_audio.recording_mime(recording)
    path, etag = _served(session, services, user, recording, recording.blob_sha256, mime)
    return file_response(path, media_type=mime, asked=asked, etag=etag,
                         filename=f"hearing-{recording.hearing_id}-recording-{recording_id}{sealed_audio.SUFFIX[mime]}")


@get_and_head(router, "/recordings/{recording_id}/tracks/{seat}", response_class=Response, responses=RANGE_RESPONSES)
def recording_track(
    recording_id: IdPath, seat: str, user: MediaUser, session: SessionDep, services: ServicesDep,
    asked: RangeHeaders,
) -> Response:
    """One seat's track, or ``mixdown`` for the listening mix, seekable with Range."""
    recording = _recording(session, user, recording_id)
    entry = next((e for e in recording.channel_layout or [] if e.get("seat") == seat and e.get("track_sha256")), None)
    if entry is None:
        _require_finalized(recording)
        raise NotFoundError(f"recording {recording_id} has no track for seat {seat!r}")
    mime = _mime(entry, "audio/ogg")
    path, etag = _served(session, services, user, recording, entry["track_sha256"], mime)
    return file_response(path, media_type=mime, asked=asked, etag=etag,
                         filename=f"hearing-{recording.hearing_id}-{seat}{sealed_audio.SUFFIX.get(mime, '')}")


def _served(session, services: Services, user: Principal, recording, sha256: str,  # type: ignore[no-untyped-def]
            mime: str) -> tuple[Path, str]:
    """(file, ETag) of a recording file for ``user``: the blob, or for those who may not see sealed
    lines a copy silent where the hearing's sealed lines were said (``courtroom_api.sealed_audio``)."""
    spans = [] if user.may_see_sealed else sealed_audio.sealed_spans(session, recording.hearing_id)
    if not spans:
        return blob_path(services.blobs, sha256), sha256
    return sealed_audio.copy_for(services, recording.hearing_id, sha256, mime, spans), f"{sha256}-sealed-{sealed_audio.spans_key(spans)}"


@get_and_head(router, "/recordings/{recording_id}/mixdown", response_class=Response, responses=RANGE_RESPONSES)
def recording_mixdown(
    recording_id: IdPath, user: MediaUser, session: SessionDep, services: ServicesDep,
    asked: RangeHeaders,
) -> Response:
    return recording_track(recording_id, MIXDOWN, user, session, services, asked)


@get_and_head(router, "/hearings/{hearing_id}/play", response_class=RedirectResponse, status_code=307,
              responses={307: {"description": "to the recording, with a media fragment #t=<seconds>"}})
def play_from(
    hearing_id: IdPath, user: MediaUser, session: SessionDep, services: ServicesDep, request: Request,
    t: Annotated[float, Query(ge=0, le=1e7, description="seconds from the start of the recording")] = 0.0,
) -> RedirectResponse:
    """Play the hearing's recording from ``t``: redirects to the mixdown (or the full recording) at ``#t=``.

    A caller that came with a media link (``/play?mt=…``, e.g. an ``<audio>`` element) is sent on
    with a fresh link for the target; a bearer caller gets the plain target path.
    """
    from models import Recording

    load_hearing(session, user, hearing_id, Action.READ_RECORDING)
    linked = "authorization" not in request.headers
    recordings = session.scalars(select(Recording).where(Recording.hearing_id == hearing_id).order_by(Recording.id)).all()
    for recording in recordings:
        if any(e.get("seat") == MIXDOWN and e.get("track_sha256") for e in recording.channel_layout or []):
            return _redirect(services, user, f"/api/recordings/{recording.id}/mixdown", t, linked)
        if recording.blob_sha256:
            return _redirect(services, user, f"/api/recordings/{recording.id}/audio", t, linked)
    for recording in recordings:
        _require_finalized(recording)
    raise NotFoundError(f"hearing {hearing_id} has no recording")


def _require_finalized(recording) -> None:  # type: ignore[no-untyped-def]
    """A recording still being made is a 409 that says when it can be played (it was a 404, as if the
    hearing had none)."""
    if recording.finalized_at is None:
        raise ConflictError(f"recording {recording.id} is still being made: it can be played once the hearing "
                            "has ended and its recording is filed")


def _redirect(services: Services, user: Principal, path: str, t: float, linked: bool) -> RedirectResponse:
    if linked:
        token, _ = issue_media_token(user, path, services.settings.auth.media_link_seconds, services.secret)
        path = with_media_token(path, token)
    return RedirectResponse(f"{path}#t={t:.2f}", status_code=307)


@get_and_head(router, "/hearings/{hearing_id}/excerpt", response_class=Response, responses={
    200: {"content": {"audio/wav": {}}, "description": "the listening mix of [start, end): WAV, PCM 16-bit, mono"},
    **RANGE_RESPONSES,
    404: {"description": "a segment file of [start, end), or the recording's directory, is not on this server "
                         "(once filed: play it with /play)"},
    409: {"description": "nothing of [start, end) is recorded yet, or a segment file is not what its manifest says"},
    422: {"description": "end not after start, or more than 300 s"},
})
def recording_excerpt(
    hearing_id: IdPath, user: MediaUser, session: SessionDep, services: ServicesDep, asked: RangeHeaders,
    start: Annotated[float, Query(ge=0, le=1e7, description="seconds from the start of the recording")],
    end: Annotated[float, Query(gt=0, le=1e7, description="seconds from the start of the recording")],
) -> Response:
    """The hearing's listening mix from ``start`` to ``end`` (at most 300 s), also while it is being
    recorded: what is on disk and what the live recorder still holds, gaps and what is not recorded yet
    silent. Those who may not see sealed lines hear them silent, as in the recording's files."""
    from capture.errors import (
        ExcerptSourceMissingError,
        ManifestError,
        NotRecordedError,
        SegmentAlteredError,
        SegmentMissingError,
    )
    from capture.excerpt import read_excerpt

    load_hearing(session, user, hearing_id, Action.READ_RECORDING)
    # to the 0.01 s the paths carry: a browser's 212.07 + 300 = 512.07 is 300.00000000000006 s long
    if end <= start or round(end - start, 2) > MAX_EXCERPT_S:
        raise ValidationFailedError(f"an excerpt runs from start to a later end, at most {MAX_EXCERPT_S:.0f} s "
                                    f"(asked {start:g}-{end:g} s)")
    spans = [] if user.may_see_sealed else sealed_audio.sealed_spans(session, hearing_id)
    recorder = services.hearings.recorder_of(hearing_id) if services.hearings is not None else None
    directory = services.settings.hearing_recording_dir(hearing_id)
    try:
        excerpt = read_excerpt(directory, start, end, recorder)
    except ExcerptSourceMissingError as exc:
        started, filed = _recording_state(session, hearing_id)
        if filed:
            raise NotFoundError(f"the recording of hearing {hearing_id} is filed and its segments are no longer "
                                f"on this server ({exc}): play it with /api/hearings/{hearing_id}/play") from exc
        if isinstance(exc, SegmentMissingError):  # lost while the hearing goes on: not "nothing recorded yet"
            raise NotFoundError(f"a part of hearing {hearing_id}'s recording is missing on this server ({exc}); "
                                "call the court's administrator") from exc
        if started:  # its recorder wrote the manifest when it began: the directory went (a disk unmounted)
            raise NotFoundError(f"the recording of hearing {hearing_id} is not on this server: its directory "
                                "went (a recordings disk unmounted?); call the court's administrator") from exc
        raise ConflictError(f"nothing of hearing {hearing_id} has been recorded yet") from exc
    except (NotRecordedError, SegmentAlteredError) as exc:
        raise ConflictError(str(exc)) from exc
    except ManifestError as exc:  # a damaged manifest: `courtroom recording verify` says more
        why = str(exc).replace(str(directory), "the hearing's recording directory")  # no server paths
        raise ConflictError(f"the recording of hearing {hearing_id} cannot be read: {why}") from exc
    data = excerpt.silenced(spans).wav()
    return bytes_response(data, media_type="audio/wav", asked=asked, etag=hashlib.sha256(data).hexdigest()[:32],
                          filename=f"hearing-{hearing_id}-{start:.2f}-{end:.2f}.wav")


def _recording_state(session, hearing_id: int) -> tuple[bool, bool]:  # type: ignore[no-untyped-def]
    """(started, filed): whether the hearing's recording began (its row is made once the recorder has
    written the manifest's start) and whether one is filed."""
    from models import Recording

    finalized = session.scalars(select(Recording.finalized_at).where(Recording.hearing_id == hearing_id)).all()
    return bool(finalized), any(at is not None for at in finalized)
