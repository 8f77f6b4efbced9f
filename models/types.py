"""Plain records handed out by the dossier package (no ORM objects cross this boundary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class BlobRef:
    """The address (sha256 hex) and size in bytes of a stored blob."""

    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """Outcome of :func:`models.audit.verify_chain`.

    ``ok`` with the number of ``events`` checked, or the first broken row (``broken_event_id``,
    None when the break is at the chain's head, e.g. a deleted last row) and ``reason``.
    """

    ok: bool
    events: int
    broken_event_id: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A transcript (or statute) search.

    ``text``: the words to find (Mandarin and/or English; 1 character and up).
    ``roles``: only segments spoken in these roles (``ParticipantRole`` values).
    ``case_id`` / ``case_number``: only this case (a number compared NFKC-normalised, blanks and
    letter case aside: "（2024）吉2424民初123号 " is "(2024)吉2424民初123号"). ``date_from`` / ``date_to``: hearing start
    (``started_at``, else ``scheduled_start``) within this range, inclusive.
    ``allowed_case_ids``: when not None, only these cases (access control; empty = nothing).
    ``include_sealed``: sealed segments are returned only when True.
    ``rank_window``: at most how many of the newest matches are ranked together (see
    :mod:`models.search`); ``case_rank_window`` the same with a case filter (one case's matches are
    usually all ranked together). ``page``: where this page starts (``SearchPage.next`` of the last
    one; None: the first page).
    """

    text: str
    roles: frozenset[str] = field(default_factory=frozenset)
    case_id: int | None = None
    case_number: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    limit: int = 50
    include_sealed: bool = False
    allowed_case_ids: frozenset[int] | None = None
    rank_window: int = 200
    case_rank_window: int = 1000
    page: SearchCursor | None = None


@dataclass(frozen=True, slots=True)
class SearchCursor:
    """Where the next page of a search starts.

    Matches are ranked a window at a time, newest windows first (see :mod:`models.search`).
    ``below_id``: the window holds matches with smaller ids only (None: from the newest match).
    ``window_low_id``: the oldest id of a window whose hits are partly shown (None: a new window
    starts below ``below_id``); ``shown``: how many of its hits are. ``older``: whether matches
    older than that window exist (None: not known yet).
    """

    below_id: int | None = None
    window_low_id: int | None = None
    shown: int = 0
    older: bool | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching transcript segment; ``snippet`` is HTML-escaped with ``<mark>`` around matches."""

    case_number: str
    case_id: int
    hearing_id: int
    segment_id: int
    role: str | None
    participant_name: str | None
    start_s: float
    end_s: float
    snippet: str
    rank: float  # higher is better
    sealed: bool = False
    held_at: datetime | None = None  # when the hearing was held (started, else scheduled)


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of transcript hits (best first) and where the next one starts (None: no more hits)."""

    hits: list[SearchHit]
    next: SearchCursor | None


@dataclass(frozen=True, slots=True)
class StatuteHit:
    """One matching statute article; ``snippet`` as in :class:`SearchHit`."""

    statute_id: int
    code: str
    article: str
    snippet: str
    rank: float
