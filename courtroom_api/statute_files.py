"""Statute text files → ``Statute`` rows (``courtroom statutes import``).

File format (UTF-8 text): ``#`` lines are comments; the first other line names the law (the
``code``); a line starting with an article heading starts an article, and following lines are its
further paragraphs; headings of parts, chapters and sections (``第三编``, ``第九章``, ``第一节``)
are skipped. An article heading is ``第五百七十七条`` followed by a space (often the full-width
one) or the end of the line, or ``Article 577`` followed by the end of the line, ``.``/``:``, or a
space and a word that does not start in lower case, as the official texts write them: a
paragraph that begins with a cross-reference (``第十二条规定的…``, a wrapped ``Article 577 for
details.``) stays text. An article number twice in one import, a first line that reads as an
article, or a name longer than the database keeps refuses the whole import.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from courtroom_api.errors import ValidationFailedError
from models.dossier import STATUTE_ARTICLE_MAX_CHARS, STATUTE_CODE_MAX_CHARS

_NUM = "零〇一二三四五六七八九十百千万0-9"
_CN_ARTICLE = rf"第[{_NUM}]+条(?:之[{_NUM}]+)?"
_EN_ARTICLE = r"Article\s+\d+[A-Za-z-]*"
ARTICLE_RE = re.compile(
    rf"^\s*({_CN_ARTICLE}(?=\s|$|[:：【])|{_EN_ARTICLE}(?=$|[.:：]|\s+(?![a-z])))[\s.:：]*(.*)$"
)
LOOKS_LIKE_ARTICLE_RE = re.compile(rf"^\s*(?:{_CN_ARTICLE}|{_EN_ARTICLE})")  # heading or not
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
    """Parse one file's text; raises ValidationFailedError (naming ``source`` and the line) when it
    holds no law name or no article, or an article twice (see the module docstring)."""
    code = ""
    articles: list[tuple[str, list[str]]] = []
    first_line: dict[str, int] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        match = ARTICLE_RE.match(line)
        if not code:
            if LOOKS_LIKE_ARTICLE_RE.match(line):
                raise ValidationFailedError(f"{source}:{n}: the first line must be the law's name, but it starts "
                                            f"an article: {line[:40]!r}")
            code = _checked(line, STATUTE_CODE_MAX_CHARS, "law name", source, n)
        elif match:
            number = _checked(re.sub(r"\s+", " ", match.group(1)), STATUTE_ARTICLE_MAX_CHARS, "article", source, n)
            if number in first_line:
                raise ValidationFailedError(f"{source}:{n}: {number} appears twice (first on line "
                                            f"{first_line[number]}); one law per file, each article once")
            first_line[number] = n
            articles.append((number, [match.group(2).strip()] if match.group(2) else []))
        elif HEADING_RE.match(line):
            continue
        elif articles and _next_article_run_on(articles[-1][0], line):
            raise ValidationFailedError(f"{source}:{n}: this line starts the next article with no space after its "
                                        f"number ({line[:40]!r}): write '第…条' and a space, or it is read as text "
                                        f"of {articles[-1][0]}")
        elif articles:
            articles[-1][1].append(line)
        else:
            hint = " (an article heading is 第…条 and a space, or Article N and a capital)" if LOOKS_LIKE_ARTICLE_RE.match(line) else ""
            raise ValidationFailedError(f"{source}:{n}: text before the first article{hint}: {line[:40]!r}")
    if not code or not articles:
        raise ValidationFailedError(f"{source}: expected a law name line followed by articles (第…条 / Article N)")
    return [StatuteArticle(code, number, "\n".join(paragraphs)) for number, paragraphs in articles]


def _next_article_run_on(last: str, line: str) -> bool:
    """``line`` begins with the article after ``last`` (第三条民事主体… after 第二条) but not as a heading:
    merged into ``last``'s text, it would be missing from the lookup and silently rewrite ``last``."""
    from models.statute_refs import chinese_number

    now, then = re.match(rf"第([{_NUM}]+)条", line), re.fullmatch(rf"第([{_NUM}]+)条", last)
    if now is None or then is None:
        return False
    a, b = chinese_number(now.group(1)), chinese_number(then.group(1))
    return a is not None and b is not None and a == b + 1


def _checked(value: str, most: int, what: str, source: str, line: int) -> str:
    if len(value) > most:
        raise ValidationFailedError(f"{source}:{line}: {what} of {len(value)} characters, at most {most}: "
                                    f"{value[:40]!r}…")
    return value


def read_statute_files(paths: Iterable[Path]) -> list[StatuteArticle]:
    """Parse every file; the whole import is refused if any file is unreadable or malformed, or two
    files hold the same article of a law (one would silently replace the other)."""
    out: list[StatuteArticle] = []
    seen: dict[tuple[str, str], Path] = {}
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationFailedError(f"{path}: cannot read as UTF-8 text: {exc}") from exc
        for art in parse_statute_text(text, str(path)):
            if (other := seen.setdefault((art.code, art.article), path)) != path:
                raise ValidationFailedError(f"{path}: {art.article} of {art.code[:40]} is also in {other}")
            out.append(art)
    return out


def import_statutes(session: Session, articles: Iterable[StatuteArticle], actor: str) -> ImportResult:
    """Insert new articles and update changed ones (keyed by law + article), audited; caller commits.

    The audit event names the articles added and updated, by law, with the SHA-256 of an updated
    article's previous and new text (what the bench showed before can be checked against a copy).
    """
    from models import Statute
    from models.audit import append_event

    added: dict[str, list[str]] = {}
    updated: dict[str, list[dict[str, str]]] = {}
    unchanged = 0
    for art in articles:
        row = session.execute(
            select(Statute).where(Statute.code == art.code, Statute.article == art.article)
        ).scalar_one_or_none()
        if row is None:
            session.add(Statute(code=art.code, article=art.article, text=art.text))
            added.setdefault(art.code, []).append(art.article)
        elif row.text != art.text:
            updated.setdefault(art.code, []).append(
                {"article": art.article, "previous_sha256": _sha256(row.text), "sha256": _sha256(art.text)})
            row.text = art.text
        else:
            unchanged += 1
    session.flush()
    n_added, n_updated = sum(map(len, added.values())), sum(map(len, updated.values()))
    if added or updated:
        append_event(session, actor=actor, action="statutes.import", obj="statutes",
                     details={"added": n_added, "updated": n_updated,
                              "added_articles": added, "updated_articles": updated})
    return ImportResult(n_added, n_updated, unchanged)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def demo_statute_files() -> list[Path]:
    """The sample statutes shipped for the demo."""
    return sorted((Path(__file__).resolve().parent / "demo" / "statutes").glob("*.txt"))
