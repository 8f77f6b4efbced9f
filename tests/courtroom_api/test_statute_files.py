import subprocess
import sys

import pytest
from sqlalchemy import select

from courtroom_api.errors import ValidationFailedError
from courtroom_api.statute_files import demo_statute_files, import_statutes, parse_statute_text
from models import Statute
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


def _import_twice(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    factory = session_factory(engine)
    from courtroom_api.statute_files import read_statute_files

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
