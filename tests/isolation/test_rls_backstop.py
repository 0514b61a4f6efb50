"""PostgreSQL's row-level security: the backstop under every query the app forgets
to filter. Checked with the app's own engine (the role requests log in as) against
what the owner sees, on every table with a tenant column the database has, so a
table added tomorrow is covered the day it is migrated."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from server import db
from server.accounts.passwords import sha256
from server.accounts.sessions import COOKIE, DatabaseSessionStore
from server.migrate import setup_app_role
from server.scheduler import purge_sign_in_state
from server.settings import Settings
from server.units.tables import Unit
from tests.conftest import login
from tests.isolation.support import Pair, tenant_tables

# the package fixture builds two tenants once: its tests run in one worker (make test: -n 2)
pytestmark = pytest.mark.xdist_group("isolation")


def _postgres_only(env) -> None:
    if env.kind != "postgres":
        pytest.skip("row-level security exists on PostgreSQL only")


async def _owner(env) -> asyncpg.Connection:
    """The owner's connection (the URL migrations use). With row_security off it sees
    every row or fails, never a filtered view."""
    url = env.settings.database_url.replace("postgresql://", "postgres://", 1)
    return await asyncpg.connect(url, server_settings={"row_security": "off"})


async def _tenant_tables(env) -> set[str]:
    """Every table with a tenant column, as the database has them (and as Piccolo
    declares them)."""
    owner = await _owner(env)
    try:
        rows = await owner.fetch(
            "SELECT c.table_name FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.table_schema = 'public' AND c.column_name = 'tenant' AND t.table_type = 'BASE TABLE'"
        )
    finally:
        await owner.close()
    found = {r["table_name"] for r in rows}
    missing = {t._meta.tablename for t in tenant_tables()} - found
    assert not missing, f"declared with a tenant column but not in the database: {missing}"
    return found


async def _as_app(sql: str, *args, tenant: int | None = None, session: str | None = None) -> list:
    """One statement as the app runs it: its engine, a transaction for `tenant` (and
    the session key hash the session store would name), rolled back afterwards."""
    tx = db.Transaction(tenant, write=True)
    await tx.begin()
    try:
        if session is not None:
            await db.reveal_session(session)
        return await db.engine().current_transaction.get().connection.fetch(sql, *args)
    finally:
        await tx.end(commit=False)


async def test_every_tenant_table_has_forced_row_level_security_and_a_policy(env):
    _postgres_only(env)
    names = await _tenant_tables(env)
    assert {"units", "people", "users", "api_tokens", "audit_events", "web_sessions", "reminders"} <= names
    owner = await _owner(env)
    try:
        rows = await owner.fetch(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "(SELECT count(*) FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = c.relname) "
            "AS policies "
            "FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1::text[])",
            list(names),
        )
    finally:
        await owner.close()
    problems = [
        f"{r['relname']}: enabled={r['relrowsecurity']} forced={r['relforcerowsecurity']} policies={r['policies']}"
        for r in rows
        if not (r["relrowsecurity"] and r["relforcerowsecurity"] and r["policies"])
    ]
    assert len(rows) == len(names) and not problems, "\n".join(problems)


async def test_the_app_role_is_no_superuser_owns_nothing_and_cannot_step_out(env, pair: Pair):
    _postgres_only(env)
    app = env.settings.db_app_role
    (me,) = await _as_app(
        "SELECT current_user AS cur, session_user AS ses, r.rolsuper, r.rolbypassrls, "
        "(SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) AS owned "
        "FROM pg_roles r WHERE r.rolname = current_user"
    )
    assert (me["cur"], me["ses"]) == (app, app), "the app must log in as its own role, not switch to it"
    assert not me["rolsuper"] and not me["rolbypassrls"] and me["owned"] == 0, dict(me)
    owner = await _owner(env)
    try:
        owner_name = await owner.fetchval("SELECT current_user")
        units = await owner.fetchval("SELECT count(*) FROM units")
    finally:
        await owner.close()
    assert units, "the suite's tenants have units"
    # RESET ROLE goes back to the login role: still the app, still filtered
    tx = db.Transaction(None, write=False)
    await tx.begin()
    try:
        conn = db.engine().current_transaction.get().connection
        await conn.execute("RESET ROLE")
        assert await conn.fetchval("SELECT current_user") == app
        assert await conn.fetchval("SELECT count(*) FROM units") == 0
    finally:
        await tx.end(commit=False)
    # nor can it become the owner, or turn the policies off
    for statement, refusal in (
        (f'SET ROLE "{owner_name}"', "permission denied"),
        (f'SET SESSION AUTHORIZATION "{owner_name}"', "permission denied"),
        ("SET row_security = off; SELECT count(*) FROM units", "row-level security"),
    ):
        tx = db.Transaction(None, write=False)
        await tx.begin()
        try:
            with pytest.raises(asyncpg.PostgresError, match=refusal):
                await db.engine().current_transaction.get().connection.execute(statement)
        finally:
            await tx.end(commit=False)
    assert not await _as_app("SELECT 1 FROM units")


async def test_every_tenant_table_shows_the_app_the_current_tenants_rows_only(env, pair: Pair, make_client):
    _postgres_only(env)
    a, b = pair.a.tenant.id, pair.b.tenant.id
    for world in (pair.a, pair.b):  # (web sessions of both)
        assert (await login(await make_client(), world.slug, "office")).status_code == 303
    names = await _tenant_tables(env)
    owner = await _owner(env)
    try:
        counts = {
            name: {
                r["tenant"]: r["n"]
                for r in await owner.fetch(f"SELECT tenant, count(*) AS n FROM {name} GROUP BY tenant")  # noqa: S608 - names from the catalog
            }
            for name in names
        }
        app = env.settings.db_app_role
        updatable = {n for n in names if await owner.fetchval("SELECT has_table_privilege($1, $2, 'UPDATE')", app, n)}
    finally:
        await owner.close()
    problems = []
    for name in sorted(names):
        seen = {}
        for tenant in (None, a, b):
            rows = await _as_app(f"SELECT tenant, count(*) AS n FROM {name} GROUP BY tenant", tenant=tenant)  # noqa: S608
            seen[tenant] = {r["tenant"]: r["n"] for r in rows}
        # without a tenant: platform rows only, all of them; with one: that tenant's, all of them
        expected = {None: {k: v for k, v in counts[name].items() if k is None}}
        expected |= {t: {k: v for k, v in counts[name].items() if k == t} for t in (a, b)}
        if seen != expected:
            problems.append(f"{name}: the app sees {seen}, the owner counts {expected}")
        if name not in updatable:
            continue
        # an UPDATE without WHERE reaches B's rows only, and cannot hand them to A
        touched = await _as_app(f"UPDATE {name} SET tenant = tenant RETURNING tenant", tenant=b)  # noqa: S608
        if len(touched) != counts[name].get(b, 0) or {r["tenant"] for r in touched} - {b}:
            problems.append(f"{name}: B's UPDATE reached {len(touched)} rows of { ({r['tenant'] for r in touched}) }")
        if counts[name].get(b):
            try:
                await _as_app(f"UPDATE {name} SET tenant = $1", a, tenant=b)  # noqa: S608
                problems.append(f"{name}: B's rows were handed to A")
            except asyncpg.PostgresError as exc:
                if "row-level security" not in str(exc):
                    raise
    assert not problems, "\n".join(problems)
    # the walk compared real rows: both tenants have some in most tables, and platform
    # rows (an operator's audit trail) exist and stayed out of the tenants' view above
    filled = {n for n in names if counts[n].get(a) and counts[n].get(b)}
    assert len(filled) >= 0.75 * len(names), f"tables without rows of both tenants: {sorted(names - filled)}"
    assert counts["audit_events"].get(None), "no platform audit events to hide"


async def test_a_web_session_is_found_by_its_own_key_only(env, pair: Pair, make_client):
    _postgres_only(env)
    a, b = pair.a.tenant.id, pair.b.tenant.id
    browser = await make_client()
    assert (await login(browser, pair.a.slug, "office")).status_code == 303
    key_hash = sha256(browser.cookies[COOKIE])
    query = "SELECT tenant FROM web_sessions WHERE key_hash = $1"
    # a forgotten filter finds no one else's session: not from B, not without a tenant
    assert await _as_app(query, key_hash, tenant=b) == []
    assert await _as_app(query, key_hash) == []
    assert [r["tenant"] for r in await _as_app(query, key_hash, tenant=a)] == [a]
    # the key's own hash shows that one session, whatever the transaction's tenant
    for tenant in (None, b):
        rows = await _as_app("SELECT key_hash, tenant FROM web_sessions", tenant=tenant, session=key_hash)
        assert {r["key_hash"] for r in rows if r["tenant"] == a} == {key_hash}, tenant
        assert {r["tenant"] for r in rows} <= {a, tenant}
    # and no session of A can be made from B's transaction, named key or not
    for session in (None, "0" * 64):
        with pytest.raises(asyncpg.PostgresError, match="row-level security"):
            await _as_app(
                "INSERT INTO web_sessions (key_hash, tenant, data, created_at, last_seen_at) "
                "VALUES ($1, $2, '{}', now(), now())",
                "f" * 64,
                a,
                tenant=b,
                session=session,
            )


async def test_a_pooled_connection_carries_no_tenant_or_session_into_the_next_use(env, pair: Pair, make_client):
    """The pool does not reset a connection it takes back (db._PooledConnection): a request's
    tenant and revealed session must end with its transaction all the same."""
    _postgres_only(env)
    browser = await make_client()
    assert (await login(browser, pair.a.slug, "office")).status_code == 303
    for _ in range(3):
        assert (await browser.get(f"/t/{pair.a.slug}/units")).status_code == 200
    pool = db.engine().pool
    assert pool is not None
    connections = [await pool.acquire() for _ in range(pool.get_size())]
    try:
        for connection in connections:
            row = await connection.fetchrow(
                "SELECT current_setting('luzhi.tenant', true) AS tenant, current_setting('luzhi.session', true) AS s"
            )
            assert (row["tenant"] or "", row["s"] or "") == ("", ""), dict(row)
            # and so a forgotten filter outside a transaction finds nobody's rows
            assert await connection.fetch("SELECT id FROM units LIMIT 1") == []
    finally:
        for connection in connections:
            await pool.release(connection)


async def _session_row(env, key_hash: str, **change) -> dict | None:
    owner = await _owner(env)
    try:
        for column, value in change.items():
            await owner.execute(f"UPDATE web_sessions SET {column} = $1 WHERE key_hash = $2", value, key_hash)  # noqa: S608
        row = await owner.fetchrow("SELECT * FROM web_sessions WHERE key_hash = $1", key_hash)
    finally:
        await owner.close()
    return dict(row) if row else None


async def test_the_edge_still_recognises_touches_and_ends_sessions(env, pair: Pair, make_client):
    _postgres_only(env)
    browser = await make_client()
    assert (await login(browser, pair.a.slug, "office")).status_code == 303
    key = browser.cookies[COOKIE]
    # A's session at B's address is recognised as someone else's: 404, not a sign-in page
    assert (await browser.get(f"/t/{pair.b.slug}/units")).status_code == 404
    # touched outside any transaction, as the edge does once the request's has ended
    store = DatabaseSessionStore(env.settings)
    session = await store.fetch(key)
    assert session is not None and session.tenant_id == pair.a.tenant.id
    session.seen -= 300
    await store.touch(session)
    assert (await _session_row(env, sha256(key)))["last_seen_at"] > datetime.now(UTC) - timedelta(minutes=1)
    # expired: removed by the first request that brings it, even at B's address
    await _session_row(env, sha256(key), last_seen_at=datetime.now(UTC) - timedelta(days=2))
    assert (await browser.get(f"/t/{pair.b.slug}/units")).status_code == 303
    assert await _session_row(env, sha256(key)) is None


async def test_the_purge_removes_expired_sessions_of_every_tenant(env, pair: Pair, make_client):
    _postgres_only(env)
    hashes = []
    for world in (pair.a, pair.b):
        browser = await make_client()
        assert (await login(browser, world.slug, "office")).status_code == 303
        hashes.append(sha256(browser.cookies[COOKIE]))
        await _session_row(env, hashes[-1], last_seen_at=datetime.now(UTC) - timedelta(days=2))
    await purge_sign_in_state(env.settings)
    assert [await _session_row(env, h) for h in hashes] == [None, None]


async def test_the_app_may_only_append_to_the_audit_trail(env, pair: Pair):
    _postgres_only(env)
    app = env.settings.db_app_role
    owner = await _owner(env)
    try:
        rights = await owner.fetch(
            "SELECT c.relname AS name, c.relkind AS kind, "
            "has_table_privilege($1, c.oid, 'SELECT') AS s, has_table_privilege($1, c.oid, 'INSERT') AS i, "
            "has_table_privilege($1, c.oid, 'UPDATE') AS u, has_table_privilege($1, c.oid, 'DELETE') AS d, "
            "has_table_privilege($1, c.oid, 'TRUNCATE, REFERENCES, TRIGGER') AS other "
            "FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')",
            app,
        )
        sequences = await owner.fetch(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'S' "
            "AND NOT CASE WHEN relkind = 'S' THEN has_sequence_privilege($1, oid, 'USAGE') END",
            app,
        )
    finally:
        await owner.close()
    by_name = {r["name"]: (r["s"], r["i"], r["u"], r["d"], r["other"]) for r in rights}
    assert by_name.pop("audit_events") == (True, True, False, False, False)
    # Piccolo's record of migrations is the owner's alone
    assert by_name.pop("migration") == (False, False, False, False, False)
    assert {n: r for n, r in by_name.items() if r != (True, True, True, True, False)} == {}
    assert not sequences
    # (TRUNCATE would empty a table past every policy)
    with pytest.raises(asyncpg.PostgresError, match="permission denied"):
        await _as_app("UPDATE audit_events SET action = action", tenant=pair.a.tenant.id)
    with pytest.raises(asyncpg.PostgresError, match="permission denied"):
        await _as_app("DELETE FROM audit_events", tenant=pair.a.tenant.id)


async def test_migrate_repairs_an_app_role_of_an_older_deployment(env):
    """Older versions made the role NOLOGIN (the app switched to it); a role that could
    bypass the policies is corrected too. (A role of its own: the suite's is in use.)"""
    _postgres_only(env)
    role = f"luzhi_rls_probe_{uuid.uuid4().hex[:8]}"
    owner = await _owner(env)
    await owner.execute(f"CREATE ROLE {role} NOLOGIN BYPASSRLS")
    try:
        settings = dataclasses.replace(env.settings, db_app_role=role, db_app_password="it's-a-secret")
        for _ in range(2):  # and a second run changes nothing
            await setup_app_role(settings)
            attrs = await owner.fetchrow(
                "SELECT rolcanlogin, rolbypassrls, rolsuper, rolpassword IS NOT NULL AS has_password "
                "FROM pg_authid WHERE rolname = $1",
                role,
            )
            assert dict(attrs) == {"rolcanlogin": True, "rolbypassrls": False, "rolsuper": False, "has_password": True}
            assert await owner.fetchval("SELECT has_table_privilege($1, 'units', 'SELECT, UPDATE')", role)
            assert not await owner.fetchval("SELECT has_table_privilege($1, 'audit_events', 'UPDATE')", role)
    finally:
        await owner.execute(f"DROP OWNED BY {role}")
        await owner.execute(f"DROP ROLE {role}")
        await owner.close()


def test_the_app_connects_with_the_owners_address_and_its_own_name():
    settings = Settings.from_env(
        {
            "LUZHI_DATABASE_URL": "postgresql://luzhi:owner-secret@db.example:5433/luzhi?sslmode=require",
            "LUZHI_SECRET_KEY": "x",
            "LUZHI_DB_APP_PASSWORD": "p@ss:w/rd",
        }
    )
    assert db.app_dsn(settings) == "postgresql://luzhi_app:p%40ss%3Aw%2Frd@db.example:5433/luzhi?sslmode=require"
    without = dataclasses.replace(settings, db_app_password=None, db_app_role="app")
    assert db.app_dsn(without) == "postgresql://app@db.example:5433/luzhi?sslmode=require"


async def test_rows_cannot_be_written_into_another_tenant(env, pair: Pair):
    _postgres_only(env)
    with pytest.raises(Exception, match="row-level security"):
        async with db.transaction(pair.b.tenant.id):
            await Unit.insert(Unit(tenant=pair.a.tenant.id, name="越权写入", kind="municipal"))
    async with db.transaction(pair.a.tenant.id, write=False):
        assert not await Unit.exists().where(Unit.name == "越权写入")
