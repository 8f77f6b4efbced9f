"""Court record export benchmark: the PDF of a long Chinese hearing, alone and with one line the CJK font
cannot draw (a pasted zero-width space, a Uyghur name), which brings in fallback fonts and text shaping.

    python bench/exports.py [--lines 3000] [--repeat 3]

Prints the best wall time of ``--repeat`` exports and the PDF's size for each record, and the ratio of
each to the plain Chinese record in the same run. The fallback-font scan (once per process) is done
before timing. Nothing here is a target of an issue: it shows what one line of another script costs.
"""

from __future__ import annotations

import argparse
import time

from courtroom_api.exports.court_record import to_pdf
from courtroom_api.exports.records import CourtRecord, ExportSegment, RecordHeader

LINE = "原告认为被告应当按照合同约定支付货款二十万元，并承担违约责任。"


def _record(lines: int, extra: str) -> CourtRecord:
    segments = tuple(ExportSegment(i, i * 5.0, i * 5.0 + 4, LINE, "plaintiff" if i % 2 else "defendant")
                     for i in range(lines))
    if extra:
        segments += (ExportSegment(lines, lines * 5.0, lines * 5.0 + 1, "好" + extra, "witness"),)
    return CourtRecord(RecordHeader(court="某某人民法院", case_number="(2024)吉0101民初1号"), segments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    to_pdf(_record(10, "ئەخمەت"))  # the font scan and imports, untimed
    plain = 0.0
    for name, extra in (("plain Chinese", ""), ("+ one zero-width space", "\u200b"),
                        ("+ one Uyghur name", "我叫ئەخمەت")):
        record = _record(args.lines, extra)
        best, size = float("inf"), 0
        for _ in range(args.repeat):
            started = time.perf_counter()
            size = len(to_pdf(record))
            best = min(best, time.perf_counter() - started)
        plain = plain or best
        print(f"{name:24s} {best:6.2f} s  {size // 1024:5d} KB  x{best / plain:.2f}")


if __name__ == "__main__":
    main()
