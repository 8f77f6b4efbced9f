import pytest

from courtroom_api.errors import RangeNotSatisfiableError
from courtroom_api.ranges import ByteRange, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=100-", ByteRange(100, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=990-5000", ByteRange(990, 999)),
        ("bytes=0-1,5-9", None),  # multiple ranges: whole file
        ("items=0-9", None),
        ("bytes=-", None),
    ],
)
def test_parse_range(header, expected) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-2", "bytes=-0"])
def test_unsatisfiable(header) -> None:
    with pytest.raises(RangeNotSatisfiableError):
        parse_range(header, 1000)
