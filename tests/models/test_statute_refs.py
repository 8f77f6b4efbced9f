import pytest

from models.statute_refs import StatuteReference, chinese_number, chinese_numerals, parse_reference


def test_chinese_numerals_as_the_statute_books_write_them() -> None:
    assert [chinese_numerals(n) for n in (1, 10, 12, 20, 100, 105, 110, 509, 577, 1010, 1260)] == [
        "一", "十", "十二", "二十", "一百", "一百零五", "一百一十", "五百零九", "五百七十七", "一千零一十", "一千二百六十"]
    assert all(chinese_number(chinese_numerals(n)) == n for n in range(1, 10000))
    assert chinese_number("一百十") == 110 and chinese_number("577") == 577


@pytest.mark.parametrize(("query", "expected"), [
    ("民法典第五百七十七条", StatuteReference(("第五百七十七条", "第577条", "Article 577"), "民法典")),
    ("《民诉法》第150条", StatuteReference(("第一百五十条", "第150条", "Article 150"), "民诉法")),
    ("第五百七十七条第一款", StatuteReference(("第五百七十七条", "第577条", "Article 577"), "")),
    ("第一百二十条之一", StatuteReference(("第一百二十条之一", "第120条之一"), "")),
    ("Art. 577 of the Civil Code", StatuteReference(("Article 577", "第577条", "第五百七十七条"), "Civil Code")),
    ("５７７", StatuteReference(("第五百七十七条", "第577条", "Article 577"), "")),
    ("民事诉讼法", StatuteReference((), "民事诉讼法")),
    ("违约责任", None),
    ("borrower", None),
])
def test_parse_reference(query: str, expected: StatuteReference | None) -> None:
    assert parse_reference(query) == expected
