"""Statute text files → ``Statute`` rows (``courtroom statutes import``).

File format (UTF-8 text): ``#`` lines are comments; the first other line names the law (the
``code``); a line starting with an article number (``第五百七十七条`` or ``Article 577``) starts an
article, and following lines are its further paragraphs; headings of parts, chapters and
sections (``第三编``, ``第九章``, ``第一节``) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from courtroom_api.errors import ValidationFailedError

_NUM = "零〇一二三四五六七八九十百千万0-9"
ARTICLE_RE = re.compile(rf"^\s*(第[{_NUM}]+条(?:之[{_NUM}]+)?|Article\s+\d+[A-Za-z-]*)[\s\u3000.:：]*(.*)$")
HEADING_RE = re.compile(rf"^\s*第[{_NUM}]+[编章节分]")


@dataclass(frozen=True, slots=True)
class StatuteArticle:
    """One article of a law as read from a file."""

    code: str
    article: str
    text: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import changed."""

    added: int
    updated: int
    unchanged: int


def parse_statute_text(text: str, source: str = "<text>") -> list[StatuteArticle]:
    """Parse one file's text; raises ValidationFailedError when it holds no law name or no article."""
    code = ""
    articles: list[tuple[str, list[str]]] = []
    for raw in text.splitlines():
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        match = ARTICLE_RE.match(line)
        if match and code:
            articles.append((re.sub(r"\s+", " ", match.group(1)), [match.group(2).strip()] if match.group(2) else []))
        elif not code:
            code = line
        elif HEADING_RE.match(line):
            continue
        elif articles:
            articles[-1][1].append(line)
        else:
            raise ValidationFailedError(f"{source}: text before the first article: {line[:40]!r}")
    if not code or not articles:
        raise ValidationFailedError(f"{source}: expected a law name line followed by articles (第…条 / Article N)")
    return [StatuteArticle(code, number, "\n".join(paragraphs)) for number, paragraphs in articles]


def read_statute_files(paths: Iterable[Path]) -> list[StatuteArticle]:
    """Parse every file; the whole import is refused if any file is unreadable or malformed."""
    out: list[StatuteArticle] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationFailedError(f"{path}: cannot read as UTF-8 text: {exc}") from exc
        out.extend(parse_statute_text(text, str(path)))
    return out


def import_statutes(session: Session, articles: Iterable[StatuteArticle], actor: str) -> ImportResult:
    """Insert new articles and update changed ones (keyed by law + article), audited; caller commits."""
    from models import Statute
    from models.audit import append_event

    added = updated = unchanged = 0
    for art in articles:
        row = session.execute(
            select(Statute).where(Statute.code == art.code, Statute.article == art.article)
        ).scalar_one_or_none()
        if row is None:
            session.add(Statute(code=art.code, article=art.article, text=art.text))
            added += 1
        elif row.text != art.text:
            row.text = art.text
            updated += 1
        else:
            unchanged += 1
    session.flush()
    if added or updated:
        append_event(session, actor=actor, action="statutes.import", obj="statutes",
                     details={"added": added, "updated": updated})
    return ImportResult(added, updated, unchanged)


def demo_statute_files() -> list[Path]:
    """The sample statutes shipped for the demo."""
    return sorted((Path(__file__).resolve().parent / "demo" / "statutes").glob("*.txt"))
