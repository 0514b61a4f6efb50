"""Run Piccolo's migrations of every app, creating the database first if needed; on
PostgreSQL then set up the role the application logs in as."""

from __future__ import annotations

import json
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


async def setup_app_role(settings: Settings) -> None:
    """As the owner: the application's LOGIN role (no superuser, no BYPASSRLS, owning
    nothing, so every policy applies to it), forced row-level security on every table
    with a tenant column, and the role's rights, all in one transaction. Last step of
    a migration, so that no migration grants anything after it."""
    import asyncpg

    from server.migration_sql import APP_ROLE_SQL, APPEND_ONLY, OWNER_ONLY

    conn = await asyncpg.connect(settings.database_url.replace("postgresql://", "postgres://", 1))
    try:
        async with conn.transaction():
            for name, value in (
                ("luzhi.app_role", settings.db_app_role),
                ("luzhi.owner_only", "{" + ",".join(sorted(OWNER_ONLY)) + "}"),
                ("luzhi.append_only", json.dumps(APPEND_ONLY)),
            ):
                await conn.execute("SELECT set_config($1, $2, true)", name, value)
            await conn.execute(APP_ROLE_SQL)
            if settings.db_app_password:
                statement = await conn.fetchval(
                    "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)",
                    settings.db_app_role,
                    settings.db_app_password,
                )
                await conn.execute(statement)
    finally:
        await conn.close()


async def migrate(settings: Settings) -> None:
    # Piccolo finds its configuration by this variable; its DB is these settings' owner
    os.environ.setdefault("PICCOLO_CONF", "server.piccolo_conf")
    await ensure_database(settings)
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from server import piccolo_conf

    piccolo_conf.use(settings)

    result = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")
    if settings.is_postgres:
        await setup_app_role(settings)
