"""A clerk's change while a live hearing writes: it waits its turn, it does not fail."""


def test_a_change_waits_for_a_live_hearings_write_instead_of_failing(world, another_writer) -> None:
    services = world.client.app.state.services
    case_id = world.ids["case"]
    cause = world.client.get(f"/api/cases/{case_id}", headers=world.auth("clerk")).json()["cause_of_action"]
    # Reads the caller and the case, then writes the case and the audit chain: on SQLite a deferred
    # transaction doing that while another writer holds the lock failed at once ("database is locked").
    with another_writer(services.write_sessions, 0.4):
        r = world.client.patch(f"/api/cases/{case_id}", json={"cause_of_action": cause},
                               headers=world.auth("clerk"))
    assert r.status_code == 200, r.text
    assert r.json()["cause_of_action"] == cause
