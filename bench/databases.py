"""Fresh databases for a run: a temporary SQLite file, and a dedicated PostgreSQL
database (`luzhi_bench`, dropped first) — each migrated and seeded with the demo
tenant through the CLI, as an operator would. Nothing else is touched."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from server.settings import ROOT

PG_SERVER = os.environ.get("LUZHI_BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
# two checkouts measuring side by side name databases of their own
PG_DATABASE = os.environ.get("LUZHI_BENCH_PG_DATABASE", "luzhi_bench")
DEMO_PASSWORD = "Bench-Password-2026"
KINDS = ("sqlite", "postgres")


@dataclass
class Database:
    kind: str
    env: dict[str, str]  # the LUZHI_* environment a worker process runs with
    migrate_s: float = 0.0
    seed_s: float = 0.0


# The only LUZHI_* settings a run takes from its caller's environment: what a
# deployment tunes and the bench may compare. Everything else is the bench's own,
# e.g. the password hashing cost stays the production one even where a developer
# shell lowers it for the test suite.
PASSED_THROUGH = ("LUZHI_PDF_WORKERS",)


def environment(kind: str, var_dir: Path) -> dict[str, str]:
    url = f"sqlite:///{var_dir / 'bench.sqlite3'}" if kind == "sqlite" else f"{PG_SERVER}/{PG_DATABASE}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUZHI_") or k in PASSED_THROUGH}
    return {
        **env,
        "LUZHI_DATABASE_URL": url,
        "LUZHI_VAR_DIR": str(var_dir),
        "LUZHI_SECRET_KEY": "bench-secret-key",
        "LUZHI_DEMO_PASSWORD": DEMO_PASSWORD,
        "LUZHI_SCHEDULER": "0",
        "PICCOLO_CONF": "server.piccolo_conf",
    }


def pg_reachable() -> bool:
    host, port = PG_SERVER.rsplit("@", 1)[-1].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


async def _pg(query: str, *args, fetch: bool = False):
    import asyncpg

    conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        return await (conn.fetchval(query, *args) if fetch else conn.execute(query, *args))
    finally:
        await conn.close()


def drop_pg_database() -> None:
    asyncio.run(
        _pg(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            PG_DATABASE,
        )
    )
    asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"'))


def pg_version() -> str:
    return asyncio.run(_pg("SHOW server_version", fetch=True))


def sqlite_version() -> str:
    return sqlite3.sqlite_version


def _cli(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"`luzhi {' '.join(args)}` failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - start


def prepare(kind: str, var_dir: Path) -> Database:
    """Create, migrate and seed one database; returns the worker's environment."""
    env = environment(kind, var_dir)
    if kind == "postgres":
        drop_pg_database()
    database = Database(kind, env)
    database.migrate_s = _cli(env, "migrate")
    database.seed_s = _cli(env, "demo", "seed")  # on PostgreSQL the seed ends with ANALYZE
    return database
