import hashlib
import sqlite3
import subprocess
import sys

import pytest
from sqlalchemy import select

from courtroom_api.errors import ValidationFailedError
from courtroom_api.statute_files import (
    demo_statute_files,
    import_statutes,
    parse_statute_text,
    read_statute_files,
)
from models import AuditEvent, Statute
from models.audit import verify_chain
from models.db import make_engine, session_factory, upgrade

TEXT = """# comment
中华人民共和国民法典
第三编　合同
第五百七十七条　当事人一方不履行合同义务……应当承担违约责任。
第五百八十五条　当事人可以约定违约金。
约定的违约金过分高于造成的损失的，可以请求适当减少。
"""


def test_parse_articles_paragraphs_and_headings() -> None:
    arts = parse_statute_text(TEXT)
    assert [a.article for a in arts] == ["第五百七十七条", "第五百八十五条"]
    assert {a.code for a in arts} == {"中华人民共和国民法典"}
    assert arts[1].text.splitlines() == ["当事人可以约定违约金。", "约定的违约金过分高于造成的损失的，可以请求适当减少。"]


def test_parse_english_articles() -> None:
    arts = parse_statute_text("Civil Code\nArticle 577 Where a party fails to perform.\nArticle 675. Repay.\n")
    assert [(a.article, a.text) for a in arts] == [("Article 577", "Where a party fails to perform."),
                                                  ("Article 675", "Repay.")]


@pytest.mark.parametrize("bad", ["", "# only comments\n", "民法典\n没有条文的一行\n"])
def test_parse_refuses_files_without_articles(bad: str) -> None:
    with pytest.raises(ValidationFailedError):
        parse_statute_text(bad, "bad.txt")


def test_a_cross_reference_starting_a_line_is_text_not_an_article() -> None:
    # a paragraph starting 第十二条规定的… and a hard-wrapped "Article 577 for details." replaced
    # the real articles 第十二条 / Article 577 with themselves
    arts = parse_statute_text("中华人民共和国民法典\n第十二条　领域内的民事活动。\n第十三条 自然人。\n"
                              "第十二条规定的情形除外。\n第十四条\n民事权利能力一律平等。\n")
    assert [(a.article, a.text) for a in arts] == [("第十二条", "领域内的民事活动。"),
                                                  ("第十三条", "自然人。\n第十二条规定的情形除外。"),
                                                  ("第十四条", "民事权利能力一律平等。")]
    arts = parse_statute_text("Civil Code\nArticle 577 A party who fails to perform.\nArticle 578 Where. See\n"
                              "Article 577 for details.\nArticle 579\nText.\n")
    assert [(a.article, a.text) for a in arts] == [("Article 577", "A party who fails to perform."),
                                                  ("Article 578", "Where. See\nArticle 577 for details."),
                                                  ("Article 579", "Text.")]


@pytest.mark.parametrize(("bad", "where", "why"), [
    ("民法典\n第五百七十七条 当事人。\n第五百七十七条 重复的条文。\n", "bad.txt:3:", "twice (first on line 2)"),
    ("民法典\n第一条 一\n民事诉讼法\n第一条 二\n", "bad.txt:4:", "twice"),  # two laws in one file
    ("# no law name\n第一条　为了保护民事主体的合法权益。\n第二条 民法。\n", "bad.txt:2:", "law's name"),
    ("法" * 201 + "\n第一条 一\n", "bad.txt:1:", "201 characters, at most 200"),
    ("民法典\n第" + "一" * 60 + "条 一\n", "bad.txt:2:", "at most 50"),
    ("民法典\n第一条长长的条文\n", "bad.txt:2:", "第…条 and a space"),
    ("民法典\n第一条 一\n第二条二\n第三条 三\n", "bad.txt:3:", "no space after its number"),
], ids=["duplicate", "two-laws", "no-law-name", "long-name", "long-article", "no-heading", "next-article-run-on"])
def test_parse_refuses_what_would_overwrite_or_misfile(bad: str, where: str, why: str) -> None:
    with pytest.raises(ValidationFailedError) as exc:
        parse_statute_text(bad, "bad.txt")
    assert str(exc.value).startswith(where) and why in str(exc.value) and "\n" not in str(exc.value)


def test_the_same_article_in_two_files_is_refused(tmp_path) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(f"民法典\n第一条 来自{name}\n", encoding="utf-8")
    with pytest.raises(ValidationFailedError, match="b.txt: 第一条 of 民法典 is also in .*a.txt"):
        read_statute_files([tmp_path / "a.txt", tmp_path / "b.txt"])


def _import_twice(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    factory = session_factory(engine)
    arts = read_statute_files(demo_statute_files())
    with factory() as s:
        first = import_statutes(s, arts, actor="test")
        s.commit()
    changed = [a if a.article != "第五百七十七条" else type(a)(a.code, a.article, a.text + "（修订）") for a in arts]
    with factory() as s:
        second = import_statutes(s, changed, actor="test")
        s.commit()
        assert first.added == len(arts) >= 10 and first.updated == 0
        assert (second.added, second.updated, second.unchanged) == (0, 1, len(arts) - 1)
        texts = s.execute(select(Statute.text).where(Statute.article == "第五百七十七条")).scalars().all()
        assert any(t.endswith("（修订）") for t in texts)
        assert verify_chain(s).ok
        first_event, second_event = s.scalars(select(AuditEvent).where(AuditEvent.action == "statutes.import")
                                              .order_by(AuditEvent.id)).all()[-2:]
        assert sum(map(len, first_event.details["added_articles"].values())) == len(arts)
        assert "第五百七十七条" in first_event.details["added_articles"]["中华人民共和国民法典"]
        old = next(a for a in arts if a.article == "第五百七十七条")
        sha = lambda t: hashlib.sha256(t.encode()).hexdigest()  # noqa: E731
        assert second_event.details["added_articles"] == {}
        assert second_event.details["updated_articles"] == {"中华人民共和国民法典": [
            {"article": "第五百七十七条", "previous_sha256": sha(old.text), "sha256": sha(old.text + "（修订）")}]}
    engine.dispose()


def test_import_is_idempotent_and_audited_sqlite(tmp_path) -> None:
    _import_twice(f"sqlite:///{tmp_path / 'db.sqlite3'}")


@pytest.mark.postgres
def test_import_is_idempotent_and_audited_postgres(pg_url) -> None:
    _import_twice(pg_url)


def test_cli_import_demo_and_bad_file(tmp_path) -> None:
    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "courtroom_api.cli", *a], capture_output=True,  # noqa: E731
                                    text=True, env=env)
    assert run("db", "upgrade").returncode == 0
    out = run("statutes", "import", "--demo")
    assert out.returncode == 0, out.stderr
    assert "added" in out.stdout
    bad = tmp_path / "bad.txt"
    bad.write_text("no articles here\n", encoding="utf-8")
    out = run("statutes", "import", str(bad))
    assert out.returncode == 1 and "bad.txt" in out.stderr
    dup = tmp_path / "dup.txt"  # nothing of it stored: the first 第九百九十九条 is not kept either
    dup.write_text("民法典\n第九百九十九条 一。\n第九百九十九条 二。\n", encoding="utf-8")
    out = run("statutes", "import", str(dup))
    assert out.returncode == 1 and f"{dup}:3: 第九百九十九条 appears twice" in out.stderr
    with sqlite3.connect(tmp_path / "courtroom.sqlite3") as db:
        assert db.execute("select count(*) from statutes where article = '第九百九十九条'").fetchone() == (0,)


def test_an_article_heading_with_a_colon_or_bracket_is_a_heading() -> None:
    """`第二条：…` and `第三条【…】…` are how many published texts head an article: read as text of the
    article before, they were missing from the lookup (found in review)."""
    arts = parse_statute_text("测试法\n第一条 一。\n第二条：二。\n第三条【标题】三。\n第四条　四。\n"
                              "第十二条、第十三条规定的情形除外。\n", "t.txt")
    assert [(a.article, a.text) for a in arts] == [
        ("第一条", "一。"), ("第二条", "二。"), ("第三条", "【标题】三。"),
        ("第四条", "四。\n第十二条、第十三条规定的情形除外。")]
