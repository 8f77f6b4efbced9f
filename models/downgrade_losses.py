"""What a schema downgrade would destroy: the rows of the tables and columns its migrations drop.

A migration whose ``downgrade()`` drops something an upgrade cannot make again says what beside it, in
``data_lost_on_downgrade(connection)``: ``(rows, what)`` pairs. An upgrade afterwards makes the tables
again, empty: a logout is not refused any more, a sealed time range is not sealed. ``courtroom db
downgrade`` counts them first and refuses without ``--force``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError

from models.db import alembic_config, make_engine


@dataclass(frozen=True, slots=True)
class DowngradeLoss:
    """``rows`` of ``what`` (and what losing them does), dropped by the downgrade of ``revision``."""

    revision: str
    rows: int
    what: str


def downgrade_losses(url: str, target: str) -> list[DowngradeLoss]:
    """What downgrading the database at ``url`` to ``target`` would destroy, newest migration first
    (empty: nothing, or a target the downgrade itself refuses, saying why)."""
    script = ScriptDirectory.from_config(alembic_config())
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            if current is None:
                return []
            try:
                steps = _steps(script, current, target)
            except (CommandError, RevisionError):  # an unknown or a higher target
                return []
            losses: list[DowngradeLoss] = []
            for step in steps:
                count = getattr(step.module, "data_lost_on_downgrade", None)
                if count is not None:
                    losses += [DowngradeLoss(step.revision, rows, what) for rows, what in count(connection) if rows]
            return losses
    finally:
        engine.dispose()


def _steps(script: ScriptDirectory, current: str, target: str) -> list[Script]:
    """The migrations whose downgrade runs going from ``current`` to ``target``, newest first. A relative
    target ("-2") counts from ``current``, as the downgrade does (``iterate_revisions`` counts it from
    the head)."""
    if (relative := re.fullmatch(r"-(\d+)", target.strip())) is not None:
        return list(script.iterate_revisions(current, "base"))[: int(relative.group(1))]
    return list(script.iterate_revisions(current, target))
