import html
import re

from transcribe.formats import render
from transcribe.types import Segment, Word


def _cues(vtt: str) -> list[list[str]]:
    assert vtt.startswith("WEBVTT\n\n")
    return [block.splitlines() for block in vtt[len("WEBVTT\n\n"):].split("\n\n") if block.strip()]


def test_vtt_escapes_text_and_voice() -> None:
    """What a court says and who says it may hold &, < and "-->": the WebVTT cue stays one cue with
    that text and that voice (a raw "-->" starts a new cue's timing; a raw & or < is markup)."""
    said = "Smith & Wesson said x < y --> z"
    segments = [Segment(3725.5, 3727.25, said, (Word(3725.5, 3727.25, " Smith", 0.9),), 0, "judge", "Judge", "en"),
                Segment(1.0, 2.0, "hello\n\nagain", (), 1, "seat<1>", "R&D <b>", "en"),
                Segment(2.0, 3.0, "no voice & co", (), 2, "", "", "en")]
    cues = _cues(render(segments, "vtt"))
    assert [len(c) for c in cues] == [2, 2, 2]  # timing line + one text line each
    assert cues[0][0] == "01:02:05.500 --> 01:02:07.250"
    for cue in cues:
        assert "-->" not in cue[1]
        assert not re.search(r"&(?!amp;|lt;|gt;)", cue[1])  # every & starts an escape
    voice, text = re.fullmatch(r"<v ([^<>]*)>([^<>]*)", cues[0][1]).groups()  # type: ignore[union-attr]
    assert (voice, html.unescape(text)) == ("Judge", said)
    voice, text = re.fullmatch(r"<v ([^<>]*)>([^<>]*)", cues[1][1]).groups()  # type: ignore[union-attr]
    assert (html.unescape(voice), html.unescape(text)) == ("R&D <b>", "hello again")
    assert html.unescape(cues[2][1]) == "no voice & co"


def test_srt_and_txt_keep_a_segment_on_one_line() -> None:
    """A line break inside a segment's text (or a blank line, which ends an SRT cue) went into SRT and TXT
    as it was: an SRT player read the rest as a broken cue, a TXT reader as a line without a time."""
    segments = [Segment(1.0, 2.0, "hello\n\nagain\r\nand", (), 0, "judge", "Judge", "en"),
                Segment(2.0, 3.0, "next\nline", (), 1, "clerk", "", "en")]
    srt = render(segments, "srt")
    assert [block.splitlines() for block in srt.split("\n\n") if block.strip()] == [
        ["1", "00:00:01,000 --> 00:00:02,000", "Judge: hello again and"],
        ["2", "00:00:02,000 --> 00:00:03,000", "clerk: next line"]]
    assert render(segments, "txt") == "[00:00:01.000] Judge: hello again and\n[00:00:02.000] clerk: next line\n"
