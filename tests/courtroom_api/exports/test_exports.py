import io
import json
import zipfile
from datetime import datetime

import pypdfium2 as pdfium
from docx import Document

from courtroom_api.exports.court_record import to_docx, to_pdf
from courtroom_api.exports.records import (
    SEALED_TEXT,
    CourtRecord,
    ExportSegment,
    ExportWord,
    RecordHeader,
    redact,
    speaker_turns,
)
from courtroom_api.exports.subtitles import to_json_lines, to_srt, to_webvtt

SEGMENTS = (
    ExportSegment(1, 0.5, 3.25, "现在开庭。", role="presiding_judge", seat="judge"),
    ExportSegment(2, 3.5, 7.0, "I object <strongly> & firmly.", role="plaintiff", participant_name="张三",
                  words=(ExportWord(3.5, 3.8, "I", 0.9),)),
    ExportSegment(3, 7.5, 9.0, "住址是保密的。", role="witness", sealed=True),
)
HEADER = RecordHeader(
    court="吉林省某某县人民法院", case_number="(2024)吉2424民初123号", cause="买卖合同纠纷",
    courtroom="第一法庭", started_at=datetime(2024, 5, 1, 9, 0), participants=("原告 张三", "被告 李四"),
)


def test_webvtt_has_voice_tags_and_escapes_text() -> None:
    vtt = to_webvtt(SEGMENTS)
    assert vtt.startswith("WEBVTT\n")
    assert "00:00:00.500 --> 00:00:03.250\n<v 审判长>现在开庭。" in vtt
    assert "<v 原告 张三>I object &lt;strongly&gt; &amp; firmly." in vtt


def test_srt_numbering_and_comma_times() -> None:
    srt = to_srt(SEGMENTS).split("\n")
    assert srt[:3] == ["1", "00:00:00,500 --> 00:00:03,250", "审判长：现在开庭。"]


def test_json_lines_round_trip_with_words() -> None:
    rows = [json.loads(line) for line in to_json_lines(SEGMENTS).splitlines()]
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert rows[1]["words"] == [{"start": 3.5, "end": 3.8, "text": "I", "p": 0.9}]


def test_redaction_hides_sealed_text_only_for_those_who_may_not_see_it() -> None:
    assert redact(SEGMENTS, True)[2].text == "住址是保密的。"
    hidden = redact(SEGMENTS, False)
    assert hidden[2].text == SEALED_TEXT and hidden[0].text == "现在开庭。"
    assert "住址" not in to_webvtt(hidden)


def test_the_bench_copy_marks_the_sealed_lines_and_the_parties_copy_marks_nothing_twice() -> None:
    """The judge's and clerk's exports printed a sealed line like any other: a clerk filing or printing the
    record could not tell what must not go to the parties."""
    for readable, expected in ((True, "【不公开 sealed】住址是保密的。"), (False, SEALED_TEXT)):
        segments = redact(SEGMENTS, readable)
        docx = "\n".join(p.text for p in Document(io.BytesIO(to_docx(CourtRecord(HEADER, segments)))).paragraphs)
        pdf = pdfium.PdfDocument(to_pdf(CourtRecord(HEADER, segments)))
        printed = pdf[0].get_textpage().get_text_range()
        pdf.close()
        for text in (docx, printed, to_webvtt(segments), to_srt(segments)):
            assert expected in text and "】【" not in text, text
        assert "不公开" not in docx.split("[00:00:07]")[0]  # only the sealed line is marked


def test_docx_opens_with_line_and_page_numbers() -> None:
    data = to_docx(CourtRecord(HEADER, SEGMENTS * 30))
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "庭审笔录" in text and "(2024)吉2424民初123号" in text
    assert "[00:00:03] 原告 张三：I object <strongly> & firmly." in text
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    assert 'w:lnNumType w:countBy="1" w:restart="newPage"' in xml
    footer = "".join(zipfile.ZipFile(io.BytesIO(data)).read(n).decode()
                     for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if "footer" in n)
    assert "PAGE" in footer


def test_pdf_renders_with_cjk_text_page_and_line_numbers() -> None:
    data = to_pdf(CourtRecord(HEADER, SEGMENTS * 30))
    pdf = pdfium.PdfDocument(data)
    try:
        _check_pdf(pdf)
    finally:
        pdf.close()


def _check_pdf(pdf: pdfium.PdfDocument) -> None:
    assert len(pdf) >= 2
    first = pdf[0].get_textpage().get_text_range()
    assert "庭审笔录" in first and "审判长" in first
    assert f"第 1 页 / 共 {len(pdf)} 页" in first
    last = pdf[len(pdf) - 1].get_textpage().get_text_range()
    assert "签名" in last or "未签署" in last
    bitmap = pdf[0].render(scale=0.5).to_pil()
    assert bitmap.size[0] > 100 and bitmap.getextrema() != ((255, 255), (255, 255), (255, 255))
    # Line numbers restart on each page: the second page starts with line 1.
    second = pdf[1].get_textpage().get_text_range().split()
    assert "1" in second[:3]


def test_court_record_joins_a_speakers_pieces_into_one_turn() -> None:
    """Live transcription hands a long sentence out in pieces; the record has one paragraph per turn."""
    pieces = (
        ExportSegment(1, 4.7, 5.8, "现在开庭。", role="presiding_judge", seat="judge"),
        ExportSegment(2, 6.3, 8.1, "本庭今天审理", role="presiding_judge", seat="judge"),
        ExportSegment(3, 8.2, 10.6, "借款合同纠纷一案。", role="presiding_judge", seat="judge"),
        ExportSegment(4, 11.1, 12.5, "Is the plaintiff present?", role="presiding_judge", seat="judge"),
        ExportSegment(5, 13.3, 13.8, "Yes,", role="plaintiff", participant_name="张伟", seat="plaintiff"),
        ExportSegment(6, 14.1, 16.2, "Your Honor.", role="plaintiff", participant_name="张伟", seat="plaintiff"),
        ExportSegment(7, 17.0, 18.4, "The parties have been", role="clerk", seat="clerk"),
        ExportSegment(8, 18.4, 19.9, "informed.", role="clerk", seat="clerk"),
        ExportSegment(9, 20.0, 21.0, "住址是", role="clerk", seat="clerk", sealed=True),
        ExportSegment(10, 30.0, 31.0, "Please continue.", role="clerk", seat="clerk"),
    )
    turns = speaker_turns(pieces)
    assert [(t.label, t.text, t.segment_ids) for t in turns] == [
        ("审判长", "现在开庭。本庭今天审理借款合同纠纷一案。Is the plaintiff present?", (1, 2, 3, 4)),
        ("原告 张伟", "Yes, Your Honor.", (5, 6)),
        ("书记员", "The parties have been informed.", (7, 8)),
        ("书记员", "住址是", (9,)),  # sealed: its own turn
        ("书记员", "Please continue.", (10,)),  # 9 s later: a new turn
    ]
    assert (turns[0].start, turns[0].end) == (4.7, 12.5)
    text = "\n".join(p.text for p in Document(io.BytesIO(to_docx(CourtRecord(HEADER, pieces)))).paragraphs)
    assert "[00:00:04] 审判长：现在开庭。本庭今天审理借款合同纠纷一案。Is the plaintiff present?" in text
    assert "[00:00:13] 原告 张伟：Yes, Your Honor." in text and "本庭今天审理\n" not in text


def test_the_record_says_where_the_recording_has_no_audio_and_no_turn_runs_across_it() -> None:
    """A restart mid-sentence: the plaintiff's two halves were joined into one seamless turn, and nothing
    in the record said that 56 minutes of audio are missing between them."""
    from courtroom_api.exports.records import RecordingGap

    halves = (ExportSegment(1, 110.0, 115.0, "我方请求被告", role="plaintiff", seat="plaintiff"),
              ExportSegment(2, 116.5, 118.0, "返还借款。", role="plaintiff", seat="plaintiff"))
    gap = RecordingGap(115.2, 116.3)  # a gap of 1.1 s between the halves: shown, and the turn ends there
    assert [t.text for t in speaker_turns(halves)] == ["我方请求被告返还借款。"]
    assert [t.text for t in speaker_turns(halves, (gap,))] == ["我方请求被告", "返还借款。"]
    assert [t.text for t in speaker_turns(halves, (RecordingGap(115.2, 115.6),))] == ["我方请求被告返还借款。"]
    long_gap = (ExportSegment(3, 3521.0, 3523.0, "继续开庭。", role="presiding_judge", seat="judge"),)
    record = CourtRecord(HEADER, halves + long_gap, (gap, RecordingGap(118.5, 3520.78)))
    text = [p.text for p in Document(io.BytesIO(to_docx(record))).paragraphs]
    start = text.index("[00:01:50] 原告：我方请求被告")
    assert text[start:start + 5] == ["[00:01:50] 原告：我方请求被告", "[00:01:55] （录音中断1秒，至 00:01:56）",
                                     "[00:01:56] 原告：返还借款。", "[00:01:58] （录音中断56分42秒，至 00:58:40）",
                                     "[00:58:41] 审判长：继续开庭。"]
