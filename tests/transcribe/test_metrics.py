from transcribe.metrics import cer, speaker_error_rate, wer


def test_error_rates_ignore_case_and_punctuation():
    assert wer("Yes, Your Honour.", "yes your honor") == 0.0
    assert cer("请坐下。现在开庭。", "请坐下，现在开庭") == 0.0
    assert cer("现在开庭", "现在开停") == 0.25


def test_a_character_in_another_speakers_line_is_an_error_by_speaker_not_in_the_plain_text():
    # the judge's 请 written at the end of the clerk's line: the hearing's text is right, the record is not
    clerk, judge = "请审判长入庭。", "请坐下。"
    assert cer(clerk + judge, "请审判长入庭请" + "坐下") == 0.0
    assert speaker_error_rate([(clerk, "请审判长入庭请"), (judge, "坐下")], "zh") == 2 / 9
    assert speaker_error_rate([(clerk, clerk), (judge, judge)], "zh") == 0.0
    assert speaker_error_rate([("Please rise.", "Please"), ("Be seated.", "rise. Be seated.")], "en") == 2 / 4
