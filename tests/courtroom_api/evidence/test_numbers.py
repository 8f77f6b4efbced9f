"""Exhibit numbers: one number however written, and the side's next one past any given by hand."""

from courtroom_api.evidence.numbers import next_number, normalize, same_as


def test_a_number_is_filed_trimmed_with_full_width_forms_as_ascii() -> None:
    assert normalize(" Ｐ－１\u3000") == "P-1"
    assert normalize("原证  ３") == "原证 3"
    assert normalize("\u3000 ") == ""


def test_numbers_differing_in_case_blanks_or_width_are_the_same() -> None:
    taken = ["D-4", "P-1", "原证3"]
    for written in ("p-1", "P-1 ", "Ｐ－１", "ｐ-1"):
        assert same_as(written, taken) == "P-1", written
    assert same_as("原证 3", taken) is None  # a blank inside is part of the number
    assert same_as("P-10", taken) is None


def test_the_next_number_goes_past_the_highest_however_large() -> None:
    assert next_number([], "P") == "P-1"
    assert next_number(["P-2", "p-7", "Ｐ－５", "PR-40", "P-x9", "C-99"], "P") == "P-8"
    assert next_number(["P-999999999", "P-1000000000"], "P") == "P-1000000001"
    assert next_number(["PR-3", "P-12"], "PR") == "PR-4"
