"""`make bench`: throughput and latency of Luzhi's pages for the demo tenant, on
SQLite and PostgreSQL, printed as one table. Figures, not tests: nothing fails.

The parent process prepares each database (fresh, migrated, seeded through the
CLI) and runs one worker process per database — the app binds its database
engine process-wide — then prints what the workers report. See bench/README.md.

    .venv/bin/python bench/run.py            # both databases, 300 iterations
    .venv/bin/python bench/run.py --quick    # fewer iterations
    .venv/bin/python bench/run.py --db sqlite --only 'units.*.office' --queries
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# run as a script, bench/ itself would be on the path; the project root is wanted
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PICCOLO_CONF", "server.piccolo_conf")

from bench import databases  # noqa: E402
from bench.harness import (  # noqa: E402
    DEFAULT_ITERATIONS,
    DEFAULT_WARMUP,
    SCENARIOS,
    Skipped,
    fmt,
    rate,
    run_scenario,
    select,
    table,
    versus,
)

RESULT_MARK = "BENCH-RESULT "


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Luzhi benchmarks (figures, not tests)")
    parser.add_argument("--quick", action="store_true", help="60 iterations, 5 warm-up (a rough look)")
    parser.add_argument(
        "-n", "--iterations", type=int, help=f"timed iterations per scenario (default {DEFAULT_ITERATIONS})"
    )
    parser.add_argument("--warmup", type=int, help=f"untimed iterations first (default {DEFAULT_WARMUP})")
    parser.add_argument("--concurrency", type=int, default=None, help="clients of the concurrent scenarios")
    parser.add_argument(
        "--db", action="append", choices=databases.KINDS, help="only this database (repeatable; default both)"
    )
    parser.add_argument("--only", action="append", metavar="GLOB", help="scenario keys to run, e.g. 'units.*.office'")
    parser.add_argument("--queries", action="store_true", help="also list the queries of one request per page")
    parser.add_argument("--list", action="store_true", help="list the scenario keys and exit")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.iterations = args.iterations or (60 if args.quick else DEFAULT_ITERATIONS)
    args.warmup = args.warmup if args.warmup is not None else (5 if args.quick else DEFAULT_WARMUP)
    return args


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- worker (one database)


def load_scenarios() -> None:
    """Register every scenario, in the order the report lists them."""
    from bench import scenarios  # noqa: F401 - the core rows

    # isort: split
    from bench import audit, inspections  # noqa: F401 - the audit rows, then the inspection rows, after the others

    # isort: split
    from bench import declass_due, declass_import, declass_public  # noqa: F401 - the declassification rows, last


async def work(args: argparse.Namespace) -> dict:
    load_scenarios()
    from bench.context import BenchContext
    from server import db
    from server.app import create_app
    from server.settings import Settings

    settings = Settings.from_env()
    kind = "postgres" if settings.is_postgres else "sqlite"
    app = create_app(settings)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
    # importing WeasyPrint here (to check HarfBuzz) parses its default stylesheets;
    # PDFs are made in the pool's processes, which this does not touch
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    await db.open_pool()  # the ASGI lifespan does not run under httpx's ASGITransport
    ctx = BenchContext(app, settings, os.environ["LUZHI_DEMO_PASSWORD"])
    results = []
    try:
        size = await ctx.data_size()
        for s in select(args.only):
            t0 = time.perf_counter()
            try:
                timing = await run_scenario(s, ctx, args.iterations, args.warmup, args.concurrency)
            except Skipped as why:  # cannot run on this machine: say so, keep the others
                ctx.note(f"{s.label.strip()} ({s.key}): skipped, {why}")
                log(f"  [{kind}] {s.key}: skipped, {why}")
                continue
            results.append({"key": s.key, **timing.as_dict()})
            log(f"  [{kind}] {s.key}: {rate(timing.per_second, s.unit)}/s ({time.perf_counter() - t0:.1f} s)")
    finally:
        await ctx.aclose()
        await db.close_pool()
    profiles = {
        key: [{"sql": q.sql, "ms": q.seconds * 1000, "rows": q.rows} for q in queries]
        for key, queries in ctx.profiles.items()
    }
    return {"kind": kind, "size": size, "results": results, "notes": ctx.notes, "profiles": profiles}


def worker_main(args: argparse.Namespace) -> None:
    payload = asyncio.run(work(args))
    print(RESULT_MARK + json.dumps(payload), flush=True)


# ---------------------------------------------------------------- parent


def run_database(kind: str, args: argparse.Namespace, var_dir: Path) -> dict | None:
    log(f"[{kind}] preparing a fresh database (migrate, demo seed)...")
    try:
        database = databases.prepare(kind, var_dir)
    except Exception as exc:  # one database failing should not hide the other's figures
        log(f"[{kind}] could not prepare the database: {exc}")
        return None
    log(f"[{kind}] migrate {database.migrate_s:.1f} s, seed {database.seed_s:.1f} s; benchmarking...")
    command = [sys.executable, str(HERE / "run.py"), "--worker"]
    command += ["-n", str(args.iterations), "--warmup", str(args.warmup)]
    if args.concurrency:
        command += ["--concurrency", str(args.concurrency)]
    for pattern in args.only or []:
        command += ["--only", pattern]
    done = subprocess.run(command, env=database.env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode != 0 or not lines:
        log(f"[{kind}] worker failed (exit {done.returncode}); see its output above\n{done.stdout}")
        return None
    payload = json.loads(lines[-1][len(RESULT_MARK) :])
    payload["prepare"] = {"migrate_s": database.migrate_s, "seed_s": database.seed_s}
    return payload


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def environment_lines(kinds: list[str], load: float) -> list[str]:
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("litestar", "piccolo", "Jinja2", "httpx"))
    engines = [f"SQLite {databases.sqlite_version()}"]
    if "postgres" in kinds:
        engines.append(f"PostgreSQL {databases.pg_version()}")
    cpus = os.cpu_count() or 1
    busy = " — other work is running, figures will be noisy" if load > cpus * 0.5 else ""
    return [
        f"machine:  {cpus} CPUs, {platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"load average {load:.1f} before the run{busy}",
        f"software: {', '.join(engines)}; {versions}",
    ]


def _runs(kind: str, label: str, r: dict) -> list[str]:
    """A note listing each run of a row whose runs take seconds."""
    if not r.get("samples_s") or r["p50_ms"] < 1000:
        return []
    each = ", ".join(f"{t:.2f}" for t in r["samples_s"])
    times = f"{len(r['samples_s'])} runs" if len(r["samples_s"]) > 1 else "1 run"
    return [f"  [{kind}] {label.strip()}: {times} of {each} s"]


def report(payloads: list[dict], args: argparse.Namespace, kinds: list[str], load: float) -> str:
    out = [
        "Luzhi benchmark — demo tenant, requests through the ASGI app in-process (no network)",
        f"{args.iterations} timed iterations per row after {args.warmup} warm-up unless column n says fewer "
        "(long operations); one client unless noted",
        *environment_lines(kinds, load),
    ]
    for p in payloads:
        size, prep = p["size"], p["prepare"]
        out.append(
            f"data ({p['kind']}): {size['units']:,} units, {size['people']:,} people, {size['posts']:,} posts, "
            f"{size['notices']:,} live notices as seeded "
            f"(migrate {prep['migrate_s']:.1f} s, seed {prep['seed_s']:.1f} s)"
        )
    rows, runs = [], []
    for p in payloads:
        by_key = {r["key"]: r for r in p["results"]}
        for r in p["results"]:
            s = SCENARIOS[r["key"]]
            ratio = versus(r, by_key.get(s.baseline) if s.baseline else None, s.vs)
            rows.append(
                [
                    p["kind"],
                    s.label,
                    str(r["concurrency"]),
                    str(r["n"]),
                    rate(r["per_second"], s.unit),
                    fmt(r["p50_ms"], 2),
                    fmt(r["p99_ms"], 2),
                    ratio,
                ]
            )
            runs += _runs(p["kind"], s.label, r)
            for name, label in s.parts:  # an op timed in parts: a row per part, under its total
                part = (r.get("parts") or {}).get(name)
                if part is None:
                    continue
                rows.append(
                    [
                        p["kind"],
                        label,
                        "1",
                        str(part["n"]),
                        rate(part["per_second"], s.unit),
                        fmt(part["p50_ms"], 2),
                        fmt(part["p99_ms"], 2),
                        "",
                    ]
                )
                runs += _runs(p["kind"], label, part)
        if p is not payloads[-1]:
            rows.append([""] * 8)
    headers = ["database", "scenario", "clients", "n", "per second", "p50 ms", "p99 ms", "vs baseline"]
    out += ["", table(headers, rows)]
    out += ["", "notes:", *runs]
    for p in payloads:
        out += [f"  [{p['kind']}] {note}" for note in p["notes"]]
    if args.queries:
        for p in payloads:
            for key, queries in p["profiles"].items():
                out += ["", f"queries of one request, {key} [{p['kind']}]:"]
                out += [f"  {q['ms']:7.2f} ms {q['rows']:5d} rows  {q['sql'][:160]}" for q in queries]
    return "\n".join(out)


def main() -> int:
    args = parse_args()
    if args.worker:
        worker_main(args)
        return 0
    load_scenarios()
    if args.list:
        for s in SCENARIOS.values():
            print(f"{s.key:32} {s.label.strip()}")
        return 0
    if not select(args.only):
        log(f"no scenario matches {args.only}; try --list")
        return 2
    kinds = args.db or list(databases.KINDS)
    if "postgres" in kinds and not databases.pg_reachable():
        log(f"PostgreSQL is not reachable at {databases.PG_SERVER}: skipping it")
        kinds = [k for k in kinds if k != "postgres"]
    load = load_average()
    started = time.perf_counter()
    payloads, failed = [], False
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix=f"luzhi-bench-{kind}-") as var_dir:
            payload = run_database(kind, args, Path(var_dir))
        failed |= payload is None
        payloads += [payload] if payload else []
    if payloads:
        print(report(payloads, args, [p["kind"] for p in payloads], load))
    log(f"\n(bench took {time.perf_counter() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
