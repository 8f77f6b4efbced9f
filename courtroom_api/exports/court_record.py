"""The court record (庭审笔录) as DOCX (python-docx) and PDF (fpdf2 with a CJK font, and fallback fonts
for the scripts it lacks: the Arabic script of a Uyghur statement, Tibetan, Mongolian).

Both carry page numbers and line numbers (restarting on each page, as court records are cited by
page and line), each speaker's turn one paragraph prefixed by its time and the speaker's role label.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from courtroom_api.exports.records import MIN_GAP_SHOWN_S, CourtRecord, clock, marked, speaker_turns

TITLE = "庭审笔录"
# What XML 1.0 (so a DOCX) cannot hold: control characters (a pasted vertical tab), U+FFFE/U+FFFF, lone surrogates
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Printed in the PDF for a character no installed font draws: the mark Chinese texts use for a missing character
MISSING = "□"
# Where a printed line may break: between any two CJK characters (Chinese has no spaces), and at spaces
# Scripts whose letters join or reorder (Hebrew, Arabic incl. Uyghur, Syriac, Thaana, Indic, Tibetan,
# Mongolian, Arabic presentation forms): only lines holding them are shaped
_NEEDS_SHAPING = re.compile("[\u0590-\u0dff\u0f00-\u0fff\u1800-\u18af\ufb1d-\ufdff\ufe70-\ufefc]")
# Chinese line-breaking rules (GB/T 15834, as 禁则): marks that close never start a line, marks that open
# never end one; the few characters before are carried down instead (no mark hangs into the margin)
_NO_LINE_START = frozenset("，。、；：？！）」』》〉】〕］｝”’…—·～%‰℃,.;:?!)]}")
_NO_LINE_END = frozenset("（「『《〈【〔［｛“‘([{")
_MOST_CARRIED = 4
_PIECES = re.compile(r"\s+|[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+")


def _header_lines(record: CourtRecord) -> list[str]:
    h = record.header
    lines = [f"案号 Case: {h.case_number}"]
    if h.cause:
        lines.append(f"案由 Cause: {h.cause}")
    if h.started_at:
        # a hearing recessed overnight ends on a later day (both times are the court's): that day is printed
        same_day = h.ended_at is not None and h.ended_at.date() == h.started_at.date()
        end = "" if h.ended_at is None else f" — {h.ended_at:%H:%M}" if same_day else f" — {h.ended_at:%Y-%m-%d %H:%M}"
        lines.append(f"开庭时间 Time: {h.started_at:%Y-%m-%d %H:%M}{end} ({h.zone})")
    if h.courtroom:
        lines.append(f"地点 Courtroom: {h.courtroom}")
    if h.participants:
        lines.append("到庭人员 Present: " + "；".join(h.participants))
    return lines


def _speech_lines(record: CourtRecord) -> list[str]:
    """The turns, and where the recording has no audio a line saying so, in time order."""
    lines = [(t.start, 1, f"[{clock(t.start)[:8]}] {t.label}：{marked(t.text, t.sealed)}")
             for t in speaker_turns(record.segments, record.gaps)]
    lines += [(g.start, 0, f"[{clock(g.start)[:8]}] （{'休庭' if g.recess else '录音中断'}{_duration(g.end - g.start)}，"
                           f"至 {clock(g.end)[:8]}）")
              for g in record.gaps if g.end - g.start >= MIN_GAP_SHOWN_S]
    return [line for _, _, line in sorted(lines, key=lambda item: (item[0], item[1]))]


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return "".join(f"{n}{unit}" for n, unit in ((hours, "小时"), (minutes, "分"), (secs, "秒")) if n) or "0秒"


def _signature_lines(record: CourtRecord) -> list[str]:
    signed = record.header.signed_by
    return ["签名 Signed: " + "；".join(signed)] if signed else ["（未签署 not signed）"]


def to_docx(record: CourtRecord) -> bytes:
    """DOCX with Word's own line numbering (restarting per page) and a PAGE field in the footer."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(11)
    style.font.name = "Noto Sans CJK SC"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Sans CJK SC")
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(f"{record.header.court}\n{TITLE}")
    run.bold = True
    run.font.size = Pt(16)
    for line in _header_lines(record) + [""] + _speech_lines(record) + [""] + _signature_lines(record):
        doc.add_paragraph(_NOT_XML.sub(" ", line))
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)  # A4, as the PDF (python-docx starts in Letter)
    numbering = OxmlElement("w:lnNumType")
    numbering.set(qn("w:countBy"), "1")
    numbering.set(qn("w:restart"), "newPage")
    # in the schema's order of a section's properties (Word may refuse or ignore it out of order)
    section._sectPr.insert_element_before(numbering, "w:pgNumType", "w:cols", "w:formProt", "w:vAlign",
                                          "w:noEndnote", "w:titlePg", "w:textDirection", "w:bidi", "w:rtlGutter",
                                          "w:docGrid", "w:printerSettings", "w:sectPrChange")
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("第 ")
    _add_field(footer.add_run(), "PAGE")
    footer.add_run(" 页 / 共 ")
    _add_field(footer.add_run(), "NUMPAGES")
    footer.add_run(" 页")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _add_field(run, instruction: str) -> None:  # type: ignore[no-untyped-def]
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    begin, text, end = OxmlElement("w:fldChar"), OxmlElement("w:instrText"), OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    text.set(qn("xml:space"), "preserve")
    text.text = instruction
    end.set(qn("w:fldCharType"), "end")
    run._r.extend([begin, text, end])


def to_pdf(record: CourtRecord) -> bytes:
    """PDF with a line number in the left margin of every printed line and ``第 n 页 / 共 N 页``."""
    from fpdf import FPDF

    from courtroom_api.exports.fonts import fallback_plan, find_cjk_font

    font = find_cjk_font()
    header = _header_lines(record)
    texts = [record.header.court, *header, "", *_speech_lines(record), "", *_signature_lines(record)]
    plan = fallback_plan({ord(ch) for text in texts for ch in text})
    printed = [_printable(text, plan.undrawable) for text in texts]
    court, lines = printed[0][0], [text for text, _ in printed[1:]]
    if missing := sum(count for _, count in printed):  # the reader is told text is missing, and where it is
        lines.insert(len(header), f"注：本 PDF 有 {missing} 个字符无法打印，以 {MISSING} 标出，原文见 DOCX 或 JSON 导出。"
                                  f"Note: {missing} character(s) could not be printed and show as {MISSING}; "
                                  "the DOCX and JSON exports hold them.")

    class _RecordPdf(FPDF):
        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("cjk", size=9)
            self.cell(0, 10, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")

    pdf = _RecordPdf(format="A4")
    pdf.add_font("cjk", fname=str(font.path), collection_font_number=font.collection_index)
    if plan.fonts:
        names = [f"fallback{i}" for i in range(len(plan.fonts))]
        for name, path in zip(names, plan.fonts, strict=True):
            pdf.add_font(name, fname=str(path))
        pdf.set_fallback_fonts(names)
    pdf.set_margins(25, 20, 20)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("cjk", size=15)
    pdf.cell(0, 9, court, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 9, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _numbered_lines(pdf, lines)
    return bytes(pdf.output())


def _printable(text: str, undrawable: frozenset[int]) -> tuple[str, int]:
    """``text`` as the PDF can print it, and how many characters show as :data:`MISSING`. fpdf2 drops a
    character no font has with a log line only, so the printed line read complete with words gone. A
    control character or space no font has prints as a space, an invisible one (a joiner, a direction mark,
    an emoji's variation selector) as nothing."""
    if not undrawable or undrawable.isdisjoint(map(ord, text)):
        return text, 0
    out: list[str] = []
    missing = 0
    for ch in text:
        if ord(ch) not in undrawable:
            out.append(ch)
        elif ch.isspace() or unicodedata.category(ch) == "Cc":
            out.append(" ")
        elif unicodedata.category(ch) == "Cf" or "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef":
            continue
        else:
            out.append(MISSING)
            missing += 1
    return "".join(out), missing


def _wrap(paragraph: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """``paragraph`` as the lines it prints in ``width``, each filled: a line breaks between any two
    Chinese characters or at a space, so a turn's time and speaker stay on the line its words start on
    (fpdf2 breaks at spaces only, and moved a whole Chinese sentence to the next line). A line's width is
    the sum of its pieces' (a piece is one Chinese character or one word, and a word's Arabic letters join
    within it): measuring the growing line anew for each piece took 33 s for a Uyghur hearing, where
    fpdf2 shapes every string it measures. As Chinese is typeset, a closing mark (，。」) never starts a
    line and an opening one (「（) never ends it: the character before is carried down with it."""
    lines: list[str] = []
    line: list[tuple[str, float]] = []  # the line's pieces and their widths
    used = 0.0
    for piece in _PIECES.findall(paragraph):
        if used + (size := measure(piece)) <= width:
            line.append((piece, size))
            used += size
            continue
        carried = [] if piece.isspace() else [(piece, size)]
        while len(line) > 1 and len(carried) < _MOST_CARRIED and not line[-1][0].isspace() and (
                (carried and carried[0][0][0] in _NO_LINE_START) or line[-1][0][-1] in _NO_LINE_END):
            carried.insert(0, line.pop())
        while len(line) > 1 and line[-1][0][-1] in _NO_LINE_END:  # (past the cap too: never end on one)
            carried.insert(0, line.pop())
        if "".join(p for p, _ in line).strip():
            lines.append("".join(p for p, _ in line).rstrip())
        line, text = carried, "".join(p for p, _ in carried)
        while (cut := _fits(text, width, measure)) < len(text):  # a word longer than the line: cut where it fills
            lines.append(text[:cut])
            text = text[cut:]
            line = [(text, sum(map(measure, text)))]  # what is left of it starts the line
        used = sum(w for _, w in line)
    lines.append("".join(p for p, _ in line).rstrip())
    return lines or [""]


def _fits(text: str, width: float, measure: Callable[[str], float]) -> int:
    """How many leading characters of ``text`` fit in ``width`` (at least one), measured forward a
    character at a time: measuring ever shorter prefixes from the whole word took 67 s for a pasted
    6,000-digit account number, and a 20,000-character line never finished."""
    used = 0.0
    for count, ch in enumerate(text):
        used += measure(ch)
        if used > width:
            return max(1, count)
    return len(text)


def _shaped(pdf, on: bool) -> None:  # type: ignore[no-untyped-def]
    """Text shaping on for the paragraphs that need it only. Arabic script joins its letters and runs right
    to left: harfbuzz shapes the line and orders its runs (without, Uyghur printed as detached letters in
    reverse); left to right is the record's direction. On for every line, one Uyghur word (or a pasted
    zero-width space a fallback font has) made a 3,000-line Chinese record four times slower."""
    if bool(pdf.text_shaping) != on:
        pdf.set_text_shaping(on, direction="ltr")


def _numbered_lines(pdf, paragraphs: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Wrap each paragraph and print it line by line, numbering lines per page in the margin."""
    line_h, width = 6.5, pdf.w - pdf.l_margin - pdf.r_margin
    bottom = pdf.h - 22
    number = 0
    pdf.set_font("cjk", size=11)
    # in the text's size, 11, shaped or not: each piece measured once
    measures = {on: lru_cache(maxsize=None)(pdf.get_string_width) for on in (False, True)}
    for paragraph in paragraphs:
        shaped = _NEEDS_SHAPING.search(paragraph) is not None
        _shaped(pdf, shaped)
        for text in _wrap(paragraph, width, measures[shaped]):
            if pdf.get_y() + line_h > bottom:
                pdf.add_page()
                number = 0
            number += 1
            y = pdf.get_y()
            pdf.set_font("cjk", size=7)
            pdf.set_xy(pdf.l_margin - 12, y)
            pdf.cell(9, line_h, str(number), align="R")
            pdf.set_font("cjk", size=11)
            pdf.set_xy(pdf.l_margin, y)
            pdf.cell(width, line_h, text, new_x="LMARGIN", new_y="NEXT")
