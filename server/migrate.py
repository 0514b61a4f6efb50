"""Run Piccolo's migrations of every app, creating the database first if needed."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from server.settings import Settings


async def ensure_database(settings: Settings) -> None:
    if not settings.is_postgres:
        path = Path(settings.database_url.split("sqlite:///", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as conn:
            # readers never wait for the writer
            conn.execute("PRAGMA journal_mode=WAL")
        return
    import asyncpg

    url = urlparse(settings.database_url)
    name = url.path.lstrip("/")
    admin = urlunparse(url._replace(path="/postgres", scheme="postgres"))
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def migrate(settings: Settings) -> None:
    os.environ.setdefault("PICCOLO_CONF", "server.piccolo_conf")
    await ensure_database(settings)
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")
