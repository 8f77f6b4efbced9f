"""Search benchmark: build N transcript segments, then time the query kinds of issue 2.

    python bench/search.py --rows 1000000            # SQLite, and PostgreSQL when reachable
    python bench/search.py --quick                    # 100,000 rows
    python bench/search.py --rows 200000 --no-pg

Prints build time, index size and p50/p95 latency (warm: one untimed pass first) of
``models.search.search_transcripts`` with limit 20 for 1-, 2-, 4-character Chinese terms, an
English word, a phrase and a role-filtered query. PostgreSQL runs in a throwaway database that is
dropped at the end. Targets (2 cores): p95 <= 50 ms for 3+ characters and English, <= 200 ms for
1-2 character Chinese.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_corpus import BenchSegment, generate  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from models.db import make_engine, session_factory, upgrade  # noqa: E402
from models.search import search_transcripts  # noqa: E402
from models.textgrams import gram_text  # noqa: E402
from models.types import SearchQuery  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BATCH = 20_000
QUERIES: dict[str, list[tuple[str, frozenset[str]]]] = {
    "zh 1 char": [(t, frozenset()) for t in "欠债息租赔伤房罚押雪"],
    "zh 2 chars": [
        (t, frozenset())
        for t in ("利息", "借款", "违约", "租金", "赔偿", "鉴定", "押金", "工资", "借条", "宣判")
    ],
    "zh 4 chars": [
        (t, frozenset())
        for t in (
            "借款合同",
            "违约责任",
            "诉讼请求",
            "举证期限",
            "利息损失",
            "劳动合同",
            "财产保全",
            "质证意见",
            "银行流水",
            "精神损害",
        )
    ],
    "English word": [
        (t, frozenset())
        for t in (
            "contract",
            "interest",
            "evidence",
            "witness",
            "damages",
            "lease",
            "guarantee",
            "appeal",
            "liability",
            "payment",
        )
    ],
    "phrase": [
        (t, frozenset())
        for t in (
            '"breach of contract"',
            '"bank statement"',
            '"no further questions"',
            "借款合同纠纷",
            "请求法院依法调整",
            '"wire transfer"',
        )
    ],
    "role-filtered": [
        ("利息", frozenset({"defendant"})),
        ("违约责任", frozenset({"presiding_judge"})),
        ("contract", frozenset({"agent"})),
        ("调解", frozenset({"plaintiff", "defendant"})),
        ("借条", frozenset({"witness"})),
    ],
}


@dataclass
class Built:
    url: str
    build_s: float
    index_bytes: int
    total_bytes: int


def _segment_rows(rows: int, now: str):  # -> Iterator[tuple]
    for seg in generate(rows):
        yield (
            seg.hearing_index + 1,
            seg.start_s,
            seg.end_s,
            seg.text,
            "[]",
            seg.role,
            0.9,
            "bench",
            "base",
            "draft",
            seg.sealed,
            gram_text(seg.text),
            now,
            now,
        )


def _cases_and_hearings(rows: int) -> tuple[int, int]:
    """How many cases and hearings the corpus of ``rows`` segments spans."""
    last: BenchSegment | None = None
    for seg in generate(rows):
        last = seg
    assert last is not None
    return last.case_index + 1, last.hearing_index + 1


def _hearing_rows(n_hearings: int, n_cases: int):
    base = datetime(2019, 1, 1, tzinfo=UTC)
    for h in range(n_hearings):
        case = min(n_cases, 1 + h * n_cases // n_hearings)
        yield h + 1, case, base + timedelta(hours=9 + 13 * h)


SEG_COLS = (
    "hearing_id, start_s, end_s, text, words, role, confidence, engine, model, status, sealed, "
    "search_grams, updated_at, created_at"
)


def build_sqlite(path: Path, rows: int) -> Built:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    n_cases, n_hearings = _cases_and_hearings(rows)
    engine = make_engine(url)
    raw = engine.raw_connection()
    cur = raw.cursor()
    t0 = time.perf_counter()
    cur.execute("BEGIN")
    now = "2024-01-01 00:00:00.000000"
    cur.executemany(
        "INSERT INTO cases (id, case_number, title, cause_of_action, procedure, status, updated_at, created_at) "
        "VALUES (?, ?, '', '', 'ordinary', 'closed', ?, ?)",
        [(c + 1, f"(20{19 + c % 6})吉2424民初{c + 1}号", now, now) for c in range(n_cases)],
    )
    cur.executemany(
        "INSERT INTO hearings (id, case_id, title, status, started_at, created_at) VALUES (?, ?, '', 'ended', ?, ?)",
        [(h, c, s.strftime("%Y-%m-%d %H:%M:%S.%f"), now) for h, c, s in _hearing_rows(n_hearings, n_cases)],
    )
    batch: list[tuple] = []
    sql = f"INSERT INTO transcript_segments ({SEG_COLS}) VALUES ({', '.join('?' * 14)})"
    for row in _segment_rows(rows, now):
        batch.append(row)
        if len(batch) == BATCH:
            cur.executemany(sql, batch)
            batch.clear()
    cur.executemany(sql, batch)
    cur.execute("COMMIT")
    cur.execute("ANALYZE")
    build = time.perf_counter() - t0
    index_bytes = _sqlite_fts_bytes(cur)
    raw.close()
    engine.dispose()
    return Built(url, build, index_bytes, path.stat().st_size)


def reuse_sqlite(path: Path) -> Built:
    """An already built benchmark database (build time unknown: reported as 0)."""
    engine = make_engine(f"sqlite:///{path}")
    raw = engine.raw_connection()
    index_bytes = _sqlite_fts_bytes(raw.cursor())
    raw.close()
    engine.dispose()
    print(f"reusing {path} (build time not measured in this run)")
    return Built(f"sqlite:///{path}", 0.0, index_bytes, path.stat().st_size)


def _sqlite_fts_bytes(cur) -> int:  # type: ignore[no-untyped-def]
    try:
        cur.execute("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'segment%fts%'")
        return int(cur.fetchone()[0] or 0)
    except Exception:  # dbstat not compiled in: fall back to page counts of the shadow tables
        cur.execute("PRAGMA page_size")
        page = cur.fetchone()[0]
        cur.execute("SELECT SUM(length(block)) FROM segment_fts_data")
        a = cur.fetchone()[0] or 0
        cur.execute("SELECT SUM(length(block)) FROM segment_grams_fts_data")
        return int(a + (cur.fetchone()[0] or 0)) or page


PG_INDEXES = {
    "ix_transcript_segments_text_trgm": "ON transcript_segments USING gin (text gin_trgm_ops, role)",
    "ix_transcript_segments_grams_tsv": "ON transcript_segments USING gin (search_tsv, role)",
    "ix_transcript_segments_id_brin": "ON transcript_segments USING brin (id) "
    "WITH (pages_per_range = 32, autosummarize = on)",
}


def build_postgres(server_url: str, rows: int) -> tuple[Built, str]:
    name = f"courtroom_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        return _load_postgres(url, rows), name
    except BaseException:
        _drop_database(server_url, name)
        raise


def _drop_database(server_url: str, name: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _load_postgres(url: str, rows: int) -> Built:
    upgrade(url)
    n_cases, n_hearings = _cases_and_hearings(rows)
    engine = make_engine(url)
    raw = engine.raw_connection()
    cur = raw.cursor()
    for ix in PG_INDEXES:
        cur.execute(f"DROP INDEX {ix}")  # bulk load first, build the GIN indexes once after
    t0 = time.perf_counter()
    now = datetime(2024, 1, 1, tzinfo=UTC)
    with cur.copy(
        "COPY cases (id, case_number, title, cause_of_action, procedure, status, updated_at, created_at) FROM STDIN"
    ) as cp:
        for c in range(n_cases):
            cp.write_row(
                (c + 1, f"(20{19 + c % 6})吉2424民初{c + 1}号", "", "", "ordinary", "closed", now, now)
            )
    with cur.copy("COPY hearings (id, case_id, title, status, started_at, created_at) FROM STDIN") as cp:
        for h, c, s in _hearing_rows(n_hearings, n_cases):
            cp.write_row((h, c, "", "ended", s, now))
    with cur.copy(f"COPY transcript_segments ({SEG_COLS}) FROM STDIN") as cp:
        for row in _segment_rows(rows, now):  # type: ignore[arg-type]
            cp.write_row(row)
    load = time.perf_counter() - t0
    cur.execute("SET maintenance_work_mem = '512MB'")
    for ix, ddl in PG_INDEXES.items():
        cur.execute(f"CREATE INDEX {ix} {ddl}")
    cur.execute("ANALYZE")
    raw.commit()
    build = time.perf_counter() - t0
    cur.execute(
        "SELECT SUM(pg_relation_size(c.oid)) FROM pg_class c WHERE relname = ANY(%s)", (list(PG_INDEXES),)
    )
    index_bytes = int(cur.fetchone()[0])
    cur.execute("SELECT pg_database_size(current_database())")
    total = int(cur.fetchone()[0])
    raw.close()
    engine.dispose()
    print(f"  postgres: load {load:.1f} s, GIN index build {build - load:.1f} s")
    return Built(url, build, index_bytes, total)


def time_queries(url: str, repeat: int) -> dict[str, dict[str, float]]:
    engine = make_engine(url)
    results: dict[str, dict[str, float]] = {}
    with session_factory(engine)() as session:
        for kind, queries in QUERIES.items():
            times, hits = [], 0
            for rep in range(repeat + 1):
                for q, roles in queries:
                    t0 = time.perf_counter()
                    found = search_transcripts(session, SearchQuery(text=q, roles=roles, limit=20))
                    if rep:  # the first pass warms caches and is not timed
                        times.append((time.perf_counter() - t0) * 1000)
                        hits += len(found)
            times.sort()
            results[kind] = {
                "p50_ms": statistics.median(times),
                "p95_ms": times[max(0, round(0.95 * len(times)) - 1)],
                "max_ms": times[-1],
                "mean_hits": hits / len(times),
            }
    engine.dispose()
    return results


def report(label: str, rows: int, built: Built, results: dict[str, dict[str, float]]) -> None:
    print(
        f"\n{label}: {rows:,} segments, build {built.build_s:.1f} s, search index "
        f"{built.index_bytes / 2**20:.0f} MiB, database {built.total_bytes / 2**20:.0f} MiB"
    )
    print(f"  {'query':<15}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'hits':>7}")
    for kind, r in results.items():
        print(f"  {kind:<15}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}{r['mean_hits']:>7.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over each query list")
    parser.add_argument("--sqlite-path", type=Path, default=Path("data/bench/search.sqlite3"))
    parser.add_argument(
        "--pg-url", default=DEFAULT_PG, help="server (maintenance database) for the throwaway db"
    )
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--reuse-sqlite", action="store_true", help="time queries on an existing --sqlite-path (no build)"
    )
    parser.add_argument("--keep-pg", action="store_true", help="keep the throwaway database (prints its URL)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    rows = 100_000 if args.quick else args.rows
    figures: dict[str, object] = {"rows": rows}
    if not args.no_sqlite:
        if args.reuse_sqlite and args.sqlite_path.is_file():
            built = reuse_sqlite(args.sqlite_path)
        else:
            built = build_sqlite(args.sqlite_path, rows)
        results = time_queries(built.url, args.repeat)
        report("SQLite", rows, built, results)
        figures["sqlite"] = {"build_s": built.build_s, "index_bytes": built.index_bytes, "queries": results}
    if not args.no_pg:
        figures["postgres"] = _run_postgres(args.pg_url, rows, args.repeat, args.keep_pg)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


def _run_postgres(server_url: str, rows: int, repeat: int, keep: bool) -> object:
    try:
        probe = create_engine(server_url)
        with probe.connect() as conn:
            conn.execute(text("select 1"))
        probe.dispose()
    except Exception as exc:  # no server: say so and go on
        print(f"\nPostgreSQL not reachable at {server_url}: {exc}")
        return None
    built, name = build_postgres(server_url, rows)
    try:
        results = time_queries(built.url, repeat)
        report("PostgreSQL", rows, built, results)
    finally:
        if keep:
            print(f"  kept: {built.url}")
        else:
            _drop_database(server_url, name)
    return {"build_s": built.build_s, "index_bytes": built.index_bytes, "queries": results}


if __name__ == "__main__":
    sys.exit(main())
