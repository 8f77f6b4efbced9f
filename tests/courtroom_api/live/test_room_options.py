"""A hearing's room is transcribed with the court's settings and its case's names as vocabulary."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from courtroom_api.config import get_settings
from courtroom_api.live.transcription import case_vocabulary, room_options


def test_case_names_and_cause_of_action_prompt_the_transcriber(world) -> None:
    services = world.client.app.state.services
    vocabulary = case_vocabulary(services, world.ids["hearing"])
    assert "张三" in vocabulary and "买卖合同纠纷" in vocabulary
    assert "赵六" not in vocabulary  # another case's participant
    assert case_vocabulary(services, 10**9) == ()


def test_room_options_come_from_the_transcribe_settings(tmp_path) -> None:
    settings = get_settings(data_dir=tmp_path, transcribe={
        "language": "zh", "languages": ["zh"], "hotwords": ["借条", "张三"], "beam_size": 3,
        "activity_dbfs": -40.0, "bleed_margin_db": 6.0, "glossary": ["原告", "借条"]})
    online, gate = room_options(settings, ("张三", "买卖合同纠纷"))
    assert online.language == "zh" and online.languages == ("zh",) and online.final_beam_size == 3
    # once each: the court's glossary, then the case's words, then the hotwords (nearest the audio)
    assert online.vocabulary == ("原告", "借条", "张三", "买卖合同纠纷")
    assert (gate.activity_dbfs, gate.bleed_margin_db) == (-40.0, 6.0)


def test_the_court_glossary_is_prompted_unless_a_court_empties_it(tmp_path) -> None:
    online, _ = room_options(get_settings(data_dir=tmp_path), ("张三",))
    assert online.vocabulary[-1] == "张三" and {"法庭调查", "原告", "质证"} <= set(online.vocabulary)
    online, _ = room_options(get_settings(data_dir=tmp_path, transcribe={"glossary": []}), ("张三",))
    assert online.vocabulary == ("张三",)


def test_language_auto_is_detection_and_an_unknown_one_is_refused_at_settings_load(tmp_path, monkeypatch) -> None:
    """COURTROOM_TRANSCRIBE__LANGUAGE=auto was accepted at start and then every live decode failed
    ('auto' is not a valid language code), where `courtroom transcribe --language auto` detects."""
    monkeypatch.setenv("COURTROOM_TRANSCRIBE__LANGUAGE", "auto")
    online, _ = room_options(get_settings(data_dir=tmp_path))
    assert online.language is None  # detection among the court's languages
    monkeypatch.setenv("COURTROOM_TRANSCRIBE__LANGUAGE", "EN")
    assert get_settings(data_dir=tmp_path).transcribe.language == "en"
    for name, value in (("COURTROOM_TRANSCRIBE__LANGUAGE", "mandarin"), ("COURTROOM_TRANSCRIBE__LANGUAGES", '["zh", "xx"]')):
        monkeypatch.setenv("COURTROOM_TRANSCRIBE__LANGUAGE", "zh")
        monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError, match="unknown language"):
            get_settings(data_dir=tmp_path)
