"""API benchmark: live fan-out to many WebSocket viewers, and search through the API vs the bare query.

    python bench/api.py fanout [--viewers 50] [--speed 1] [--quick]
    python bench/api.py search [--rows 1000000] [--db PATH | --pg URL] [--quick] [--repeat 3] [--client http.client]

fanout: a real ``courtroom serve`` process with the demo court; two hearings replay the bundled
sample at once (real capture, recorder and the real base model); ``--viewers`` WebSocket clients
watch hearing A and 5 watch hearing B. Prints the fan-out latency of transcript events beyond
transcription (client receive time - the transcriber's ``emitted_at``; same machine clock), of
every event beyond publishing (receive - hub ``t``), first vs second half p95 (growing lag), and the
server's resident memory over time. Target: transcript p95 <= 50 ms.

search: builds (or reuses) a SQLite dossier with N segments using ``bench/search.py``'s builder,
then times the same queries (limit 20, one untimed warm-up pass) through ``GET /api/search`` on a
real server (client in this process, server in its own) and through
``models.search.search_transcripts`` directly in a session of its own, each query through both back
to back. Target: API p95 <= 1.5x the bare query. ``--repeat`` passes over each list of 5-10 queries:
p95 of 30 samples is their second worst, so use ``--repeat 20`` or more to compare runs.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "courtroom_api"))

from live_server import LiveServer  # noqa: E402


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- fan-out ------------------------------------------------------------------------------------------
async def viewer(url: str, out: list[tuple[float, dict]], done: asyncio.Event) -> None:
    import websockets

    async with websockets.connect(url, max_queue=None) as ws:
        while not done.is_set():
            try:
                message = await asyncio.wait_for(ws.recv(), 1.0)
            except TimeoutError:
                continue
            except websockets.ConnectionClosed:
                return
            out.append((time.time(), json.loads(message)))


async def sample_memory(pid: int, out: list[tuple[float, float]], done: asyncio.Event) -> None:
    while not done.is_set():
        out.append((time.time(), rss_mib(pid)))
        await asyncio.sleep(1.0)


def _seed(srv: LiveServer) -> tuple[dict[str, str], list[int]]:
    out = srv.cli("demo", "seed")
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    passwords = json.loads((srv.data_dir / "demo-credentials.json").read_text())
    return passwords, []


async def run_fanout(args: argparse.Namespace) -> None:
    import tempfile

    data = Path(tempfile.mkdtemp(prefix="bench-api-"))
    srv = LiveServer(data, f"sqlite:///{data / 'courtroom.sqlite3'}",
                     extra_env={"COURTROOM_CAPTURE__SEGMENT_SECONDS": "10"})
    assert srv.cli("db", "upgrade").returncode == 0
    passwords, _ = _seed(srv)
    srv.start()
    try:
        await _fanout(srv, passwords, args)
    finally:
        srv.stop()


async def _fanout(srv: LiveServer, passwords: dict[str, str], args: argparse.Namespace) -> None:
    clerk = srv.token("clerk", passwords["clerk"])
    token = clerk["Authorization"].split()[1]
    async with httpx.AsyncClient(base_url=srv.base, headers=clerk, timeout=600) as c:
        case = (await c.get("/api/cases")).json()[0]["id"]
        hearings = [h["id"] for h in (await c.get(f"/api/cases/{case}/hearings")).json()][:1]
        room = (await c.get("/api/courtrooms")).json()[0]["id"]
        hearings.append((await c.post(f"/api/cases/{case}/hearings", json={"courtroom_id": room})).json()["id"])
        done = asyncio.Event()
        seen: list[list[tuple[float, dict]]] = [[] for _ in range(args.viewers + 5)]
        tasks = [asyncio.create_task(viewer(
            f"ws://127.0.0.1:{srv.port}/ws/hearings/{hearings[0 if i < args.viewers else 1]}?token={token}",
            seen[i], done)) for i in range(args.viewers + 5)]
        memory: list[tuple[float, float]] = []
        tasks.append(asyncio.create_task(sample_memory(srv.proc.pid, memory, done)))
        await asyncio.sleep(2)
        t0 = time.time()
        for hid in hearings:
            r = await c.post(f"/api/hearings/{hid}/start", json={"speed": args.speed})
            assert r.status_code == 200, r.text
        duration = 61.23 / args.speed
        await asyncio.sleep(duration + 2)
        args.stopped_at = time.time()
        for hid in hearings:
            await c.post(f"/api/hearings/{hid}/stop")
        await asyncio.sleep(2)
        done.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    report_fanout(seen, memory, t0, args)


def report_fanout(seen: list[list[tuple[float, dict]]], memory: list[tuple[float, float]], t0: float,
                  args: argparse.Namespace) -> None:
    """Live = received before stop was pressed; flush = the finals a stop drains from the transcriber."""
    live, flush, every, halves = [], [], [], ([], [])
    # Where a live transcript event's time goes: transcriber -> hub (attribution; a final is stored
    # first) and hub -> viewer (queues, sockets, the viewers' own process), by kind.
    legs: dict[str, tuple[list[float], list[float]]] = {"partial": ([], []), "final": ([], [])}
    mid = t0 + (args.stopped_at - t0) / 2
    for events in seen:
        for received, e in events:
            if e.get("seq") is None:
                continue
            every.append((received - e["t"]) * 1000)
            if e["type"].startswith("transcript.") and e["data"].get("emitted_at"):
                ms = (received - e["data"]["emitted_at"]) * 1000
                (live if received < args.stopped_at else flush).append(ms)
                if received < args.stopped_at:
                    halves[0 if received < mid else 1].append(ms)
                    to_hub, to_viewer = legs.setdefault(e["type"].split(".", 1)[1], ([], []))
                    to_hub.append((e["t"] - e["data"]["emitted_at"]) * 1000)
                    to_viewer.append((received - e["t"]) * 1000)
    finals = [sum(1 for _, e in ev if e["type"] == "transcript.final") for ev in seen[: args.viewers]]
    print(f"fan-out: {args.viewers} viewers on hearing A + 5 on hearing B, 2 hearings replaying the demo at "
          f"{args.speed}x, real base model on this machine")
    for label, values in (("live transcript events", live), ("flushed at stop", flush), ("every event", every)):
        ref = "beyond publish" if label == "every event" else "beyond transcription"
        print(f"  {label:<23} {ref:<21} n={len(values):<6} p50={pct(values, .5):8.1f} ms "
              f"p95={pct(values, .95):8.1f} ms max={max(values, default=float('nan')):8.1f} ms")
    for kind, (to_hub, to_viewer) in legs.items():
        print(f"  live {kind + 's':<18} n={len(to_hub):<6} transcriber->hub p50 {pct(to_hub, .5):.1f} p95 "
              f"{pct(to_hub, .95):.1f} ms; hub->viewer p50 {pct(to_viewer, .5):.1f} p95 {pct(to_viewer, .95):.1f} ms")
    print(f"  growing lag? live transcript p95 first half {pct(halves[0], .95):.1f} ms, second half "
          f"{pct(halves[1], .95):.1f} ms")
    print(f"  finals per viewer of hearing A: min {min(finals, default=0)} max {max(finals, default=0)}")
    rss = [m for _, m in memory]
    if rss:
        marks = [rss[min(len(rss) - 1, int(len(rss) * f))] for f in (0.25, 0.5, 0.75)]
        print(f"  server RSS MiB: start {rss[0]:.0f}, 25% {marks[0]:.0f}, 50% {marks[1]:.0f}, 75% {marks[2]:.0f}, "
              f"end {rss[-1]:.0f}, peak {max(rss):.0f}")


# -- search -------------------------------------------------------------------------------------------
MODES = ("bare", "api", "bare_1session")


def run_search(args: argparse.Namespace) -> None:
    import search as search_bench  # bench/search.py (the dossier's benchmark)

    db = Path(args.db)
    pg_name = None
    t = time.perf_counter()
    if args.pg:  # a fresh database on that server, dropped afterwards
        built, pg_name = search_bench.build_postgres(args.pg, args.rows)
        url = built.url
        print(f"built {args.rows:,} segments in {time.perf_counter() - t:.0f} s in PostgreSQL database {pg_name}")
    else:
        if not db.exists():
            search_bench.build_sqlite(db, args.rows)
            print(f"built {args.rows:,} segments in {time.perf_counter() - t:.0f} s at {db}")
        url = f"sqlite:///{db.resolve()}"
    data = db.parent / ("api-bench-data-pg" if pg_name else "api-bench-data")
    data.mkdir(parents=True, exist_ok=True)
    srv = LiveServer(data, url)
    try:
        srv.cli("users", "add", "bench-appeal", "--role", "appeal_judge", "--password", "bench-password")
        srv.start()
        try:
            results = time_search(srv, url, args.repeat, args.client)
            floor = time_floor(_http_client(srv, args.client))
        finally:
            srv.stop()
    finally:
        if pg_name:
            search_bench._drop_database(args.pg, pg_name)
    report_search(args, results)
    for path, ms in floor.items():
        print(f"  floor: GET {path:<13} p50 {statistics.median(ms):.2f} ms, p95 {pct(ms, 0.95):.2f} ms "
              f"(same server and client, no database query)")


def time_search(srv: LiveServer, url: str, repeat: int, client: str) -> dict[str, dict[str, list[float]]]:
    """Each query through the API and bare, back to back, so that both meet the same machine load.

    bare: ``search_transcripts`` in its own session (one transaction, as a request has); bare_1session:
    the same in one session kept open for the whole run (no BEGIN/ROLLBACK per query: the old figure).
    The first pass is untimed (warm-up) and checks that the API returns the bare query's segments.
    """
    import search as search_bench

    from models.db import make_engine, session_factory
    from models.search import search_transcripts
    from models.types import SearchQuery

    engine = make_engine(url)
    sessions = session_factory(engine)
    get = _http_client(srv, client)
    times: dict[str, dict[str, list[float]]] = {}
    with sessions() as long_lived:
        for kind, queries in search_bench.QUERIES.items():
            times[kind] = {m: [] for m in MODES}
            for rep in range(repeat + 1):
                for q, roles in queries:
                    query = SearchQuery(text=q, roles=roles, limit=20)
                    params = urlencode({"q": q, "role": sorted(roles), "limit": 20}, doseq=True)
                    for mode in MODES[rep % 3:] + MODES[: rep % 3]:  # rotate: no mode always runs first
                        t0 = time.perf_counter()
                        if mode == "api":
                            got = [h["segment_id"] for h in json.loads(get("/api/search?" + params))]
                        elif mode == "bare":
                            with sessions() as session:
                                want = [h.segment_id for h in search_transcripts(session, query)]
                        else:
                            search_transcripts(long_lived, query)
                        ms = (time.perf_counter() - t0) * 1000
                        if rep:
                            times[kind][mode].append(ms)
                    if not rep and got != want:
                        raise SystemExit(f"API and bare query disagree on {q!r}: {got} vs {want}")
    engine.dispose()
    return times


def time_floor(get, n: int = 300) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    """What an HTTP request costs on this server and client without a search: an empty endpoint, and
    one that checks the token and loads the user as the search route does."""
    out: dict[str, list[float]] = {}
    for path in ("/api/health", "/api/auth/me"):
        get(path)
        out[path] = []
        for _ in range(n):
            t0 = time.perf_counter()
            get(path)
            out[path].append((time.perf_counter() - t0) * 1000)
    return out


def _http_client(srv: LiveServer, client: str):  # type: ignore[no-untyped-def]
    """GET path → body bytes on one kept-alive connection.

    ``http.client`` (default) costs the client ~0.05 ms a request; ``httpx`` ~0.4 ms of Python on
    this machine, which the bare side has no counterpart for (kept as an option to compare).
    """
    headers = srv.token("bench-appeal", "bench-password")
    if client == "httpx":
        c = httpx.Client(base_url=srv.base, headers=headers, timeout=60)

        def get_httpx(path: str) -> bytes:
            r = c.get(path)
            r.raise_for_status()
            return r.content

        return get_httpx
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)

    def get(path: str) -> bytes:
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError):  # idle keep-alive closed (5 s)
            conn.close()
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit(f"GET {path}: {r.status} {body[:300]!r}")
        return body

    return get


def report_search(args: argparse.Namespace, results: dict[str, dict[str, list[float]]]) -> None:
    n = {kind: len(t["api"]) for kind, t in results.items()}
    print(f"search at {args.rows:,} segments ({'PostgreSQL' if args.pg else 'SQLite'}), ms, limit 20, client {args.client}, "
          f"{min(n.values())}-{max(n.values())} timed requests per kind, interleaved with the bare query")
    print("  bare = search_transcripts in its own session; 1-session = all queries in one open session")
    print(f"  {'query':<15}{'bare p50':>9}{'bare p95':>9}{'api p50':>9}{'api p95':>9}{'ratio':>7}"
          f"{'1-sess p95':>11}{'ratio':>7}")
    for kind, t in results.items():
        bare, api, one = (pct(t[m], 0.95) for m in MODES)
        print(f"  {kind:<15}{statistics.median(t['bare']):>9.2f}{bare:>9.2f}{statistics.median(t['api']):>9.2f}"
              f"{api:>9.2f}{api / bare:>7.2f}{one:>11.2f}{api / one:>7.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    f = sub.add_parser("fanout")
    f.add_argument("--viewers", type=int, default=50)
    f.add_argument("--speed", type=float, default=1.0, help="replay pace (1 = real time)")
    f.add_argument("--quick", action="store_true", help="replay at 2x (30 s)")
    s = sub.add_parser("search")
    s.add_argument("--rows", type=int, default=1_000_000)
    s.add_argument("--db", default=str(ROOT / "data" / "bench" / "api-search.sqlite3"))
    s.add_argument("--repeat", type=int, default=3)
    s.add_argument("--pg", default=None, metavar="URL",
                   help="build the segments in a new database on this PostgreSQL server (e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres) instead of --db; dropped afterwards")
    s.add_argument("--quick", action="store_true", help="100,000 rows")
    s.add_argument("--client", choices=("http.client", "httpx"), default="http.client",
                   help="HTTP client of the API side (httpx adds ~0.4 ms of client-side Python per request)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.what == "fanout":
        if args.quick:
            args.speed = max(args.speed, 2.0)
        asyncio.run(run_fanout(args))
    else:
        if args.quick and args.rows == 1_000_000:
            args.rows = 100_000
            args.db = args.db.replace(".sqlite3", "-100k.sqlite3")
        run_search(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
