"""Search over a small hand-made dossier, on SQLite and PostgreSQL (one database per module)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case, Hearing, Participant, ParticipantRole, Statute, TranscriptSegment
from models.db import make_engine, session_factory
from models.errors import SearchError
from models.search import highlight, search_statutes, search_transcripts
from models.types import SearchQuery

CASE_A = "(2024)吉2424民初123号"
CASE_B = "(2023)吉2424民初77号"
CASE_C = "（2022）吉2424民初5号"  # filed with full-width brackets, as official numbers are printed
SECRET = "机密配方"  # appears only in sealed segments

# (key, case, hearing date, role, text, sealed)
SEGMENTS = [
    ("a1", CASE_A, "2024-05-01", "presiding_judge", "现在开庭。请原告陈述诉讼请求。", False),
    ("a2", CASE_A, "2024-05-01", "plaintiff", "我方要求被告偿还借款本金十万元及利息。", False),
    ("a3", CASE_A, "2024-05-01", "defendant", "这笔钱我已经还了，不欠原告的钱。", False),
    ("a4", CASE_A, "2024-05-01", "agent", "The defendant breached the loan contract in May.", False),
    ("a5", CASE_A, "2024-05-01", "witness", f"我知道{SECRET}的内容，借款合同是假的。", True),
    (
        "a6",
        CASE_A,
        "2024-06-10",
        "plaintiff",
        "借款合同约定月利率百分之二。Contract signed <b>twice</b>.",
        False,
    ),
    ("b1", CASE_B, "2023-03-02", "plaintiff", "被告拖欠租金三个月，请求解除租赁合同。", False),
    ("b2", CASE_B, "2023-03-02", "defendant", "We paid the rent; there is no breach of contract.", False),
    ("b3", CASE_B, "2023-03-02", "expert", f"鉴定意见：{SECRET}与借款无关。", True),
    ("b4", CASE_B, "2023-03-02", "witness", "Señor JOSÉ ÁLVAREZ came from МОСКВА. This visit is it.", False),
    ("c1", CASE_C, "2022-01-05", "plaintiff", "被告于5年内支付原告20万元。", False),
    ("c2", CASE_C, "2022-01-05", "defendant", "被告已支付5万元。", False),
    ("c3", CASE_C, "2022-01-05", "plaintiff", "公司持有B股和A类资产。", False),
    ("c4", CASE_C, "2022-01-05", "defendant", "他买入了A股。", False),
]


def _populate(session: Session) -> dict[str, int]:
    cases = {n: Case(case_number=n, cause_of_action="借款合同纠纷") for n in (CASE_A, CASE_B, CASE_C)}
    session.add_all(cases.values())
    session.flush()
    hearings: dict[tuple[str, str], Hearing] = {}
    ids: dict[str, int] = {}
    for key, case, day, role, text, sealed in SEGMENTS:
        if (case, day) not in hearings:
            start = datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)
            hearings[case, day] = Hearing(case_id=cases[case].id, started_at=start)
            session.add(hearings[case, day])
            session.flush()
        person = Participant(case_id=cases[case].id, name=f"{role}-{key}", role=ParticipantRole(role))
        session.add(person)
        session.flush()
        seg = TranscriptSegment(
            hearing_id=hearings[case, day].id,
            start_s=float(len(ids)),
            end_s=len(ids) + 0.9,
            text=text,
            role=role,
            participant_id=person.id,
            sealed=sealed,
        )
        session.add(seg)
        session.flush()
        ids[key] = seg.id
    session.add(
        Statute(
            code="中华人民共和国民法典", article="第六百七十四条", text="借款人应当按照约定的期限支付利息。"
        )
    )
    session.add(
        Statute(
            code="中华人民共和国民法典",
            article="第七百零三条",
            text="租赁合同是出租人将租赁物交付承租人使用的合同。",
        )
    )
    return ids


@pytest.fixture(scope="module")
def db(module_db_url: str) -> Iterator[tuple[session_factory, dict[str, int]]]:  # type: ignore[valid-type]
    engine = make_engine(module_db_url)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        ids = _populate(s)
    yield sessions, ids
    engine.dispose()


def _keys(db, **kwargs) -> set[str]:  # type: ignore[no-untyped-def]
    sessions, ids = db
    by_id = {v: k for k, v in ids.items()}
    with sessions() as s:
        return {by_id[h.segment_id] for h in search_transcripts(s, SearchQuery(**kwargs))}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("欠", {"a3", "b1"}),  # 1 character (拖欠, 不欠)
        ("利息", {"a2"}),  # 2 characters
        ("借款", {"a2", "a6"}),  # 2 characters, not the sealed a5/b3
        ("借款合同", {"a6"}),  # 4 characters
        ("租赁合同", {"b1"}),
        ("contract", {"a4", "a6", "b2"}),  # English word, any case
        ("CONTRACT", {"a4", "a6", "b2"}),
        ('"breach of contract"', {"b2"}),  # phrase
        ('"breached contract"', set()),  # a4 has every trigram chunk of it, but not the phrase
        ("借款合同约定", {"a6"}),
        ("原告 借款", set()),  # both terms must match
        ("原告 诉讼请求", {"a1"}),
        ("本金 May", set()),
        ("欠 原告", {"a3"}),  # short terms only
        ("原告 借款本金", set()),
        ("被告 借款本金", {"a2"}),  # a short and a long term
        ("we contract", {"b2"}),  # a short Latin word is a whole word ...
        ("he contract", set()),  # ... not a substring of "The" or "there"
        ("不存在的词", set()),
    ],
)
def test_finds_chinese_and_english_terms(db, text: str, expected: set[str]) -> None:
    assert _keys(db, text=text) == expected


def test_role_filter(db) -> None:
    assert _keys(db, text="contract", roles=frozenset({"defendant"})) == {"b2"}
    assert _keys(db, text="欠", roles=frozenset({"plaintiff", "agent"})) == {"b1"}
    assert _keys(db, text="利息", roles=frozenset({"defendant"})) == set()


def test_case_filters(db) -> None:
    sessions, _ = db
    with sessions() as s:
        case_b = s.scalars(select(Case).where(Case.case_number == CASE_B)).one()
    assert _keys(db, text="contract", case_id=case_b.id) == {"b2"}
    assert _keys(db, text="contract", case_number=CASE_A) == {"a4", "a6"}
    assert _keys(db, text="contract", allowed_case_ids=frozenset({case_b.id})) == {"b2"}
    assert _keys(db, text="contract", allowed_case_ids=frozenset()) == set()


@pytest.mark.parametrize("number", ["（2024）吉2424民初123号", " (2024)吉2424民初123号 ", "(2024) 吉2424民初123号",
                                    "（２０２４）吉２４２４民初１２３号"])
def test_a_case_number_is_found_as_printed_or_with_blanks(db, number: str) -> None:
    """Full-width brackets or digits (as official numbers are printed and a Chinese input method types
    them) or a stray blank: the same case. They found nothing (the number compared character for character)."""
    assert _keys(db, text="contract", case_number=number) == {"a4", "a6"}


def test_a_case_filed_with_full_width_brackets_is_found_by_the_ascii_number(db) -> None:
    assert _keys(db, text="万元", case_number="(2022)吉2424民初5号") == {"c1", "c2"}
    assert _keys(db, text="万元", case_number=CASE_C) == {"c1", "c2"}
    assert _keys(db, text="万元", case_number="(2022)吉2424民初6号") == set()


def test_date_range(db) -> None:
    june = datetime(2024, 6, 1, tzinfo=UTC)
    assert _keys(db, text="contract", date_from=june) == {"a6"}
    assert _keys(db, text="contract", date_to=june) == {"a4", "b2"}
    assert _keys(db, text="contract", date_from=datetime(2024, 1, 1, tzinfo=UTC), date_to=june) == {"a4"}


@pytest.mark.parametrize("text", [SECRET, "机密", "密", "配方", "鉴定意见", "假的"])
def test_sealed_segments_never_leak(db, text: str) -> None:
    assert _keys(db, text=text) == set()
    assert _keys(db, text=text, roles=frozenset({"witness", "expert"})) == set()
    assert _keys(db, text=text, case_number=CASE_A, limit=500) == set()


def test_sealed_segments_on_request(db) -> None:
    assert _keys(db, text=SECRET, include_sealed=True) == {"a5", "b3"}
    assert _keys(db, text="借款合同", include_sealed=True) == {"a5", "a6"}


def test_hit_fields_and_html_safe_snippet(db) -> None:
    sessions, ids = db
    with sessions() as s:
        hits = search_transcripts(s, SearchQuery(text="twice"))
    assert len(hits) == 1
    hit = hits[0]
    assert hit.segment_id == ids["a6"] and hit.case_number == CASE_A and hit.role == "plaintiff"
    assert hit.participant_name == "plaintiff-a6" and hit.start_s == 5.0
    assert "<b>" not in hit.snippet and "&lt;b&gt;<mark>twice</mark>&lt;/b&gt;" in hit.snippet


def test_highlight_marks_every_chinese_term(db) -> None:
    sessions, _ = db
    with sessions() as s:
        (hit,) = search_transcripts(s, SearchQuery(text="原告 诉讼请求"))
    assert hit.snippet == "现在开庭。请<mark>原告</mark>陈述<mark>诉讼请求</mark>。"


def test_results_are_ranked_and_limited(db) -> None:
    sessions, _ = db
    with sessions() as s:
        hits = search_transcripts(s, SearchQuery(text="contract", limit=2))
    assert len(hits) == 2
    assert hits[0].rank >= hits[1].rank


def test_index_follows_edits_and_deletes(db) -> None:
    sessions, _ = db
    with sessions.begin() as s:
        seg = TranscriptSegment(
            hearing_id=s.scalars(select(Hearing.id)).first(), start_s=99.0, end_s=99.5, text="临时的话"
        )
        s.add(seg)
    assert "临时" in "".join(h.snippet for h in _hits(sessions, "临时"))
    with sessions.begin() as s:
        s.get(TranscriptSegment, seg.id).text = "更正后的话"  # type: ignore[union-attr]
    assert _hits(sessions, "临时") == [] and len(_hits(sessions, "更正")) == 1
    with sessions.begin() as s:
        s.delete(s.get(TranscriptSegment, seg.id))
    assert _hits(sessions, "更正") == []


def _hits(sessions, text: str):  # type: ignore[no-untyped-def]
    with sessions() as s:
        return search_transcripts(s, SearchQuery(text=text))


@pytest.mark.parametrize("text", ['  "" ', "。", "%", "* ^", "，", "_"])
def test_query_with_nothing_searchable_is_an_error(db, text: str) -> None:
    sessions, _ = db
    with sessions() as s, pytest.raises(SearchError):
        search_transcripts(s, SearchQuery(text=text))


@pytest.mark.parametrize("text", ["NEAR(", "AND", "OR NOT", "100%", "a_b", "C++"])
def test_query_syntax_characters_are_plain_text(db, text: str) -> None:
    assert _keys(db, text=text) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5万", {"c2"}),  # not c1's "5年内…20万元": the tokens "5" and "万" are in it, "5万" is not
        ("A股", {"c4"}),  # not c3's "B股和A类"
        ("a股", {"c4"}),
        ("股A", set()),
        ("5万 支付", {"c2"}),  # with another short term
        ("支付原告 5万", set()),  # with a long term (c1 has 支付原告, "5" and "万")
        ("已支付 5万", {"c2"}),
        ("20万", {"c1"}),  # a 3-character term: the trigrams, as before
    ],
)
def test_a_short_term_mixing_digits_or_letters_with_chinese_is_found_as_typed(db, text: str, expected) -> None:
    assert _keys(db, text=text) == expected


def test_a_short_mixed_term_is_marked_where_it_matched(db) -> None:
    sessions, _ = db
    with sessions() as s:
        (hit,) = search_transcripts(s, SearchQuery(text="5万"))
    assert hit.snippet == "被告已支付<mark>5万</mark>元。"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("“借款本金”", {"a2"}),  # typed with a Chinese input method's quote marks: found nothing
        ("「借款本金」", {"a2"}),
        ("『借款本金』", {"a2"}),
        ("„借款本金“", {"a2"}),
        ("“breach of contract”", {"b2"}),  # a phrase, as with "..."
        ("“breached contract”", set()),
        ("借款本金，", {"a2"}),  # Chinese punctuation ends a term
        ("本金、利息", {"a2"}),
        ("，本金；利息。", {"a2"}),
        ("三个月，请求", {"b1"}),
        ("“三个月，请求”", {"b1"}),  # inside quotes it is part of the phrase
        ("“三个月 请求”", set()),
        ("要求：本金！利息？", {"a2"}),
        ("借款本金,", {"a2"}),  # the same typed half-width (ASCII): found nothing
        ("本金,利息", {"a2"}),
        (",本金;利息", {"a2"}),
        ("要求:本金!利息?", {"a2"}),
        ("(本金)利息", {"a2"}),
        ("contract,breach", {"a4", "b2"}),  # (a4: "breached")
        ('"三个月,请求"', set()),  # inside quotes it is part of the phrase (the text has "，")
    ],
)
def test_chinese_quote_marks_and_punctuation(db, text: str, expected: set[str]) -> None:
    assert _keys(db, text=text) == expected


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("借款,利息", ["借款", "利息"]),
        ("借款;", ["借款"]),
        ("借款:", ["借款"]),
        ("(借款)", ["借款"]),
        ("loan,", ["loan"]),
        ("还了吗?是!", ["还了吗", "是"]),
        ("20,000元 10:30", ["20,000元", "10:30"]),  # between digits they are part of the number
        ("20，000元 10：30", ["20,000元", "10:30"]),  # full-width too (a Chinese input method types these)
        ('"借款,利息"', ["借款,利息"]),
    ],
)
def test_ascii_punctuation_separates_terms_outside_quotes(text: str, terms: list[str]) -> None:
    from models.search_sql import split_terms

    assert split_terms(text) == terms


def test_punctuation_beside_a_real_term_is_ignored(db) -> None:
    assert _keys(db, text="利息 。") == {"a2"}


def test_statute_search(db) -> None:
    sessions, _ = db
    with sessions() as s:
        assert [h.article for h in search_statutes(s, "利息")] == ["第六百七十四条"]
        assert [h.article for h in search_statutes(s, "租赁合同")] == ["第七百零三条"]
        for typed in ("借款,利息", "借款;", "(利息)", "期限:利息"):  # half-width punctuation found nothing
            assert [h.article for h in search_statutes(s, typed)] == ["第六百七十四条"], typed
        (hit,) = search_statutes(s, "期限")
        assert "<mark>期限</mark>" in hit.snippet


@pytest.mark.parametrize(("text", "expected"), [("ＣＯＮＴＲＡＣＴ", {"a4", "a6", "b2"}), ("ｗｅ　ｃｏｎｔｒａｃｔ", {"b2"}),
                                               ("＂ｂｒｅａｃｈ of contract＂", {"b2"}), ("Ｍａｙ", {"a4"})])
def test_full_width_letters_and_digits_search_as_ascii(db, text: str, expected: set[str]) -> None:
    # typed in a Chinese input method's full-width mode, they found nothing
    assert _keys(db, text=text) == expected


@pytest.mark.parametrize("text", ["josé", "JOSÉ", "álvarez", "москва", "Москва"])
def test_letters_beyond_ascii_match_in_either_case_on_both_databases(db, text: str) -> None:
    # SQLite's LIKE folds ASCII only: "josé" did not find "JOSÉ" there while PostgreSQL did
    assert _keys(db, text=text) == {"b4"}


def test_a_short_word_is_marked_as_a_whole_word_only_and_hits_say_when_the_hearing_was(db) -> None:
    sessions, _ = db
    with sessions() as s:
        (hit,) = search_transcripts(s, SearchQuery(text="is visit"))
    assert "This <mark>visit</mark> <mark>is</mark> it." in hit.snippet and "Th<mark>" not in hit.snippet
    assert hit.held_at == datetime(2023, 3, 2, 9, 0, tzinfo=UTC)


def test_a_lone_underscore_beside_a_term_is_not_a_term(db) -> None:
    assert _keys(db, text="借款合同 _") == _keys(db, text="借款合同") != set()


@pytest.mark.parametrize(
    ("text", "term", "marked"),
    [
        ("他是通过微信和QQ转账的。", "qq", "和<mark>QQ</mark>转"),  # a short word between Chinese characters
        ("依据合同第3条，被告应付款。", "3", "第<mark>3</mark>条"),
        ("对方CEO说OK。", "OK", "说<mark>OK</mark>。"),
        ("见附件_A第二页", "A", "_<mark>A</mark>第"),  # "_" ends a word, as in the index
        ("This is it", "is", "This <mark>is</mark> it"),  # still whole words only
    ],
)
def test_a_short_word_beside_chinese_characters_is_marked(text: str, term: str, marked: str) -> None:
    """The index's words end at Chinese characters; the snippet's marks did not (none in these)."""
    assert marked in highlight(text, [term])
    assert marked in highlight("前" * 200 + text + "后" * 200, [term])  # a long line: the snippet shows it


def test_a_long_lines_snippet_shows_the_term_even_unmarked() -> None:
    """Nothing to mark as a whole word (a search matched it in a way the marks cannot tell): the
    snippet is still the part of the line with the term, not its first 160 characters."""
    snippet = highlight("前" * 200 + "ABCDEF" + "后" * 200, ["CD"])
    assert "ABCDEF" in snippet and snippet.startswith("…") and "<mark>" not in snippet
