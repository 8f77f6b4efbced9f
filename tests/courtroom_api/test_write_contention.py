"""A clerk's change while a live hearing writes: it waits its turn, it does not fail."""

import threading

from models.audit import append_event


def test_a_change_waits_for_a_live_hearings_write_instead_of_failing(world) -> None:
    services = world.client.app.state.services
    case_id = world.ids["case"]
    cause = world.client.get(f"/api/cases/{case_id}", headers=world.auth("clerk")).json()["cause_of_action"]
    has_lock, errors = threading.Event(), []

    def live_hearing_filing_a_final() -> None:
        try:
            with services.write_sessions() as s:
                append_event(s, actor="system", action="segment.file", obj="segment:0")  # holds the write lock
                has_lock.set()
                threading.Event().wait(0.4)
                s.commit()
        except BaseException as exc:  # asserted below
            errors.append(exc)
            has_lock.set()

    writer = threading.Thread(target=live_hearing_filing_a_final)
    writer.start()
    assert has_lock.wait(10)
    # Reads the caller and the case, then writes the case and the audit chain: on SQLite a deferred
    # transaction doing that while another writer holds the lock failed at once ("database is locked").
    r = world.client.patch(f"/api/cases/{case_id}", json={"cause_of_action": cause}, headers=world.auth("clerk"))
    writer.join()
    assert errors == []
    assert r.status_code == 200, r.text
    assert r.json()["cause_of_action"] == cause
