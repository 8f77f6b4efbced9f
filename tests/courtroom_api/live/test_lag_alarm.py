"""The transcription-lag alarm: raised past its threshold, cleared only well below it."""

from courtroom_api.live.lag import LagAlarm


def test_lag_alarm_is_raised_once_and_cleared_with_hysteresis() -> None:
    alarm = LagAlarm(on_s=10.0, off_s=5.0)
    readings = [1.0, 9.0, 12.0, 15.0, 8.0, 6.0, 4.0, 3.0, 11.0]
    changes = [(i, c) for i, c in enumerate(alarm.update(x) for x in readings) if c is not None]
    assert [(i, c["active"]) for i, c in changes] == [(2, True), (6, False), (8, True)]
    raised, cleared = changes[0][1], changes[1][1]
    assert raised["kind"] == "transcription_lag" and raised["value"] == 12.0 and "12 s behind" in raised["message"]
    assert "up to 15 s" in cleared["message"]  # the worst seen while it was on
