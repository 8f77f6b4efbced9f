"""Finals the dossier refused: kept in order, on disk beside the recording, retried until filed.

A final that cannot be written (the database locked past its busy timeout, a full disk under it, a
database server restarting) must neither stop the live transcript nor be lost. The pipeline
publishes it without a segment id and hands it here: it is appended to ``unfiled-finals.jsonl`` in
the hearing's recording directory (fsynced, so a killed process keeps it) and retried with back-off,
in order. While any wait, later finals queue behind them rather than each waiting out the database's
busy timeout. Filing a held final is idempotent by (hearing, seq), so a spill file replayed after a
crash never files one twice. A final that was filed but whose seq could not be recorded is held the
same way, as a seq to set.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from courtroom_api.live.filing import Filed

log = logging.getLogger(__name__)
SPILL_NAME = "unfiled-finals.jsonl"


@dataclass(slots=True)
class Unfiled:
    """One final waiting for the dossier: its row values, or (already filed) the seq to record."""

    seq: int
    values: dict[str, Any] | None = None
    segment_id: int | None = None


class FinalsBacklog:
    """The held finals of one hearing and their retry loop.

    ``file_one(item) -> Filed`` runs in a worker thread and raises while the dossier still
    refuses. ``on_filed(seq, filed)`` and ``on_alarm(active, message)`` run on the event loop.
    """

    def __init__(self, directory: Path, file_one: Callable[[Unfiled], Filed],
                 on_filed: Callable[[int, Filed], None], on_alarm: Callable[[bool, str], None],
                 *, first_retry_s: float = 1.0, max_retry_s: float = 30.0) -> None:
        self.path = directory / SPILL_NAME
        self.pending: list[Unfiled] = []
        self._file_one, self._on_filed, self._on_alarm = file_one, on_filed, on_alarm
        self._first_retry_s, self._max_retry_s = first_retry_s, max_retry_s
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self.disk_error: str | None = None

    @property
    def max_seq(self) -> int:
        return max((u.seq for u in self.pending), default=0)

    def load(self) -> int:
        """Held finals a previous process left on disk (read before the hub stream starts, which must
        continue after their seqs); returns how many. The caller raises the alarm."""
        if not self.path.is_file():
            return 0
        torn = False
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                self.pending.append(Unfiled(**json.loads(line)))
            except (ValueError, TypeError):  # a line torn by a crash mid-write: the rest are whole
                log.warning("unreadable line in %s skipped: %.80s", self.path, line)
                torn = True
        if torn:
            # The file again holds exactly what is pending: a torn line left in it would count as a held
            # final for ever (the record could not be signed), and the next hold would be glued onto it.
            self._rewrite()
        if self.pending:
            self._wake.set()
        return len(self.pending)

    def hold(self, item: Unfiled, error: str) -> None:
        """Keep a final the dossier refused (event loop); the first one raises the alarm."""
        first = not self.pending
        self.pending.append(item)
        try:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(asdict(item), ensure_ascii=False, default=str) + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            self.disk_error = reason(exc)
            log.error("held final %s not written to %s (%s); it is kept in memory", item.seq, self.path, exc)
        self._wake.set()
        if first:
            self._on_alarm(True, self.message(error))

    def message(self, error: str) -> str:
        """The alarm's text, for every viewer: the cause in one line, no SQL, no server paths."""
        where = f"in memory only (not on disk either: {self.disk_error})" if self.disk_error else "on the server"
        return f"transcript not saved to the dossier ({error}); held {where} and retried"

    async def run(self) -> None:
        """Retry while anything is held: 1 s, then doubling to 30 s; runs until cancelled."""
        delay = self._first_retry_s
        while True:
            await self._wake.wait()
            await asyncio.sleep(delay)
            delay = self._first_retry_s if await self.flush() else min(delay * 2, self._max_retry_s)

    async def flush(self) -> bool:
        """File the held finals in order; True when none are left."""
        async with self._flushing:
            filed = 0
            try:
                while self.pending:
                    item = self.pending[0]
                    try:
                        done = await asyncio.to_thread(self._file_one, item)
                    except Exception as exc:  # still refused: keep it, try later
                        log.warning("held final %s still not filed: %s", item.seq, exc)
                        return False
                    self.pending.pop(0)
                    filed += 1
                    self._on_filed(item.seq, done)
            finally:
                if filed:  # once per flush, not per final: a crash before it only re-files, idempotently
                    self._rewrite()
            self._wake.clear()
            self.disk_error = None
            self._on_alarm(False, "all finals saved to the dossier")
            return True

    def _rewrite(self) -> None:
        """The spill file holds exactly what is still pending. On the event loop, like ``hold``, so a final
        held meanwhile is never written to a file this replaces."""
        try:
            if not self.pending:
                self.path.unlink(missing_ok=True)
                return
            tmp = self.path.with_suffix(".tmp")
            with tmp.open("w", encoding="utf-8") as f:
                f.write("".join(json.dumps(asdict(u), ensure_ascii=False, default=str) + "\n" for u in self.pending))
                f.flush()
                os.fsync(f.fileno())  # never an empty file in place of held finals after a power cut
            os.replace(tmp, self.path)
        except OSError as exc:
            log.error("could not update %s: %s", self.path, exc)


def reason(exc: BaseException, *, hide: tuple[str, str] | None = None) -> str:
    """An error's cause in one short line (SQLAlchemy's text carries the statement and its data);
    ``hide=(text, instead)`` replaces ``text`` (a server path, say) before the line is cut."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    if hide is not None:
        text = text.replace(*hide)
    return (text.splitlines() or [type(exc).__name__])[0][:160]


def held_finals(services: Any, hearing_id: int) -> int:
    """How many finals of a hearing are not yet in the dossier: its running pipeline's backlog, else
    what its spill file still holds (a stopped hearing's, filed at the next start)."""
    pipeline = services.hearings.get(hearing_id) if services.hearings is not None else None
    if pipeline is not None:
        return len(pipeline.backlog.pending)
    path = services.settings.hearing_recording_dir(hearing_id) / SPILL_NAME
    try:
        return sum(1 for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if _whole(line))
    except FileNotFoundError:
        return 0


def _whole(line: str) -> bool:
    """A held final's line as written (not one torn by a crash, which holds no final)."""
    try:
        Unfiled(**json.loads(line))
    except (ValueError, TypeError):
        return False
    return True


def file_held(services: Any, hearing_id: int, item: Unfiled) -> Filed:
    """``file_one`` for the live pipeline: the row (idempotently by seq), or the seq of a filed row (it
    went out as what it was filed as: nothing sealed now)."""
    from courtroom_api.live.filing import Filed, file_final, set_segment_seq

    if item.segment_id is not None:
        set_segment_seq(services, item.segment_id, item.seq)
        return Filed(item.segment_id)
    assert item.values is not None
    return file_final(services, hearing_id, item.values, seq=item.seq)


async def refile_leftovers(services: Any, running: set[int]) -> None:
    """At start-up: the spill files of hearings not running again (the database failed through their stop)."""
    for path in sorted(Path(services.settings.recordings_dir).glob(f"hearing-*/{SPILL_NAME}")):
        try:
            hearing_id = int(path.parent.name.removeprefix("hearing-"))
        except ValueError:
            continue
        if hearing_id in running:
            continue
        backlog = FinalsBacklog(path.parent, lambda u, h=hearing_id: file_held(services, h, u),  # type: ignore[misc]
                                lambda seq, sid: None, lambda active, msg: None)
        count = backlog.load()
        if await backlog.flush():
            log.warning("%d held finals of hearing %s filed at start-up", count, hearing_id)
        else:
            log.error("held finals of hearing %s still not filed; kept in %s", hearing_id, path)


REFILE_EVERY_S = 30.0


def _paused_ids(services: Any) -> set[int]:
    from sqlalchemy import select

    from models import Hearing
    from models.enums import HearingStatus

    with services.sessions() as session:
        return set(session.scalars(select(Hearing.id).where(Hearing.status == HearingStatus.PAUSED)))


async def refile_until_done(services: Any, every_s: float = REFILE_EVERY_S) -> None:
    """For the server's life: every ``every_s`` the held finals of hearings not running nor in recess (their
    stop found the database refusing them) are filed. They waited for the next restart, and the record could not
    be signed until then ("retried", the sign-off said)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            # A hearing in recess files its own when it goes on, on its live stream (the screens attach the
            # segment ids, the alarm is cleared): filed here, its stream never heard of them.
            paused = await asyncio.to_thread(_paused_ids, services)
            await refile_leftovers(services, services.hearings.busy_ids() | paused)
        except Exception:  # the sweep must outlive a bad spill file or a database that is down
            log.exception("refiling held finals failed; tried again in %.0f s", every_s)
