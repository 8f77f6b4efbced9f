"""/excerpt's window check: the longest excerpt is 300 s, as the browser computes it in floats."""


def _excerpt(world, start: float, end: float):  # type: ignore[no-untyped-def]
    return world.client.get(f"/api/hearings/{world.ids['hearing']}/excerpt", params={"start": start, "end": end},
                            headers=world.auth("judge"))


def test_a_window_of_300_s_with_a_float_rounding_error_is_not_refused(world) -> None:
    """512.07 - 212.07 is 300.00000000000006: the search page's hits past 128 s were refused with 422."""
    r = _excerpt(world, 212.07, 512.07)
    assert r.status_code == 409, r.text  # nothing of the hearing is recorded: it got past the window check


def test_a_window_longer_than_300_s_is_still_refused(world) -> None:
    r = _excerpt(world, 212.07, 512.08)
    assert r.status_code == 422, r.text
