"""schemathesis over the OpenAPI spec, against a real server: no input makes it fail with a 5xx.

Run as the clerk (who may reach most endpoints) on a seeded database; hypothesis settings are kept
small so the whole run stays within the CI budget.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from live_server import PASSWORD, LiveServer


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory) -> LiveServer:
    data = tmp_path_factory.mktemp("fuzz")
    # The bundled model: a server refuses one it cannot resolve (none is loaded, as no hearing starts).
    srv = LiveServer(data, f"sqlite:///{data / 'courtroom.sqlite3'}")
    assert srv.cli("db", "upgrade").returncode == 0
    assert srv.cli("users", "add", "admin", "--role", "admin", "--password", PASSWORD).returncode == 0
    srv.start()
    admin = httpx.Client(base_url=srv.base, headers=srv.token("admin"))
    court = admin.post("/api/courts", json={"code": "F1", "name": "fuzz court"}).json()
    admin.post("/api/courtrooms", json={"court_id": court["id"], "name": "room", "profile_name": "demo"})
    admin.post("/api/users", json={"login": "clerk", "password": PASSWORD, "role": "clerk"})
    clerk = httpx.Client(base_url=srv.base, headers=srv.token("clerk"))
    case = clerk.post("/api/cases", json={"case_number": "F-1"}).json()
    clerk.post(f"/api/cases/{case['id']}/hearings", json={})
    yield srv
    srv.stop()


def test_no_server_errors(fuzz_server: LiveServer) -> None:
    """Every operation (but start/stop, which would replay audio, and logout, which would end the
    clerk's token for the rest of the run) gets generated inputs; none may 5xx."""
    schema = schemathesis.openapi.from_url(f"{fuzz_server.base}/openapi.json")
    headers = fuzz_server.token("clerk")
    failures: list[str] = []
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        if operation.path.endswith(("/start", "/stop", "/auth/logout")):
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case) -> None:
            response = case.call(base_url=fuzz_server.base, headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}")

        run()
    assert not failures, "\n".join(failures[:20])
