import pytest

from models.textgrams import gram_text, query_tokens


def test_gram_text_has_unigrams_bigrams_and_lowercased_words() -> None:
    grams = gram_text("原告张三 signed the Contract，2023年借款")
    tokens = grams.split()
    assert {"原", "告", "张", "三", "原告", "告张", "张三", "借款", "年借"} <= set(tokens)
    assert {"signed", "the", "contract", "2023"} <= set(tokens)
    assert "三s" not in grams and "Contract" not in grams


def test_bigrams_do_not_cross_punctuation_or_latin() -> None:
    tokens = gram_text("开庭。休庭 ok 宣判").split()
    assert "庭休" not in tokens and "庭宣" not in tokens


@pytest.mark.parametrize(
    ("term", "tokens"), [("欠", ["欠"]), ("利息", ["利息"]), ("AI", ["ai"]), ("A股", ["股", "a"])]
)
def test_query_tokens(term: str, tokens: list[str]) -> None:
    assert query_tokens(term) == tokens
