"""PostgreSQL's row-level security: the backstop under every query the app forgets
to filter. Checked with the app's own engine (the role without table ownership
that requests use), so what holds here holds for requests."""

from __future__ import annotations

import pytest

from server import db
from server.units.tables import Unit
from tests.isolation.support import Pair, tenant_tables

# tables with a tenant column that deliberately have no row-level security -> why
RLS_EXEMPT = {
    "web_sessions": "the edge must find a session by the hash of its cookie's random key whatever tenant it "
    "belongs to (an operator's session has none; one of another tenant must be recognised to answer 404), so a "
    "tenant policy cannot apply. The rows hold no tenant data and no route reads a session other than the "
    "caller's own; the edge compares the session's tenant with the URL's (the sweep's 'A-url' calls check it).",
}


def _postgres_only(env) -> None:
    if env.kind != "postgres":
        pytest.skip("row-level security exists on PostgreSQL only")


async def _tenant_table_names() -> set[str]:
    """Tenant-owned tables, as Piccolo declares them and as the database has them."""
    declared = {t._meta.tablename for t in tenant_tables()}
    async with db.transaction(None, write=False):
        rows = await Unit.raw(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant'"
        )
    return declared | {r["table_name"] for r in rows}


async def test_every_tenant_table_has_row_level_security(env):
    _postgres_only(env)
    names = await _tenant_table_names()
    assert {"units", "people", "posts", "users", "api_tokens", "audit_events"} <= names
    # (and the reminder domain's, found the same way)
    assert {"reminder_rules", "notify_settings", "notify_preferences", "reminder_runs", "reminders", "deliveries"} <= (
        names
    )
    assert set(RLS_EXEMPT) <= names, f"stale RLS exemptions: {set(RLS_EXEMPT) - names}"
    async with db.transaction(None, write=False):
        rows = await Unit.raw(
            "SELECT c.relname, c.relrowsecurity, "
            "(SELECT count(*) FROM pg_policies p "
            "WHERE p.schemaname = 'public' AND p.tablename = c.relname) AS policies "
            "FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
        )
        role = await Unit.raw(
            "SELECT current_user AS name, (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user) AS bypass"
        )
    by_name = {r["relname"]: r for r in rows}
    problems = []
    for name in sorted(names - set(RLS_EXEMPT)):
        row = by_name.get(name)
        if row is None:
            problems.append(f"{name}: no such table")
        elif not row["relrowsecurity"]:
            problems.append(f"{name}: row-level security is not enabled")
        elif not row["policies"]:
            problems.append(f"{name}: row-level security has no policy")
    assert not problems, "\n".join(problems)
    # and the app's connections are subject to it: not the owner, not BYPASSRLS
    assert role[0]["name"] == env.settings.db_app_role and not role[0]["bypass"]
    owners = {r["relname"] for r in await _owned_by(env.settings.db_app_role)}
    assert not owners & names, f"the app role owns {owners & names}: policies do not apply to owners"


async def _owned_by(role: str) -> list[dict]:
    async with db.transaction(None, write=False):
        return await Unit.raw(
            "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE c.relnamespace = 'public'::regnamespace AND r.rolname = {}",
            role,
        )


async def test_unfiltered_queries_see_only_the_current_tenant(env, pair: Pair):
    _postgres_only(env)
    a, b = pair.a.tenant.id, pair.b.tenant.id
    # no tenant filter at all, in B's transaction: B's units, none of A's
    async with db.transaction(b, write=False):
        units = await Unit.select(Unit.id, Unit.tenant)
    assert units and {u["tenant"] for u in units} == {b}
    # no tenant at all: no unit of anyone
    async with db.transaction(None, write=False):
        assert await Unit.select(Unit.id) == []
    # the same for every protected table, read and written without a filter
    for name in sorted(await _tenant_table_names() - set(RLS_EXEMPT)):
        async with db.transaction(b, write=False):
            seen = await Unit.raw(f"SELECT DISTINCT tenant FROM {name}")  # noqa: S608 - names from the catalog
        assert {r["tenant"] for r in seen} <= {b}, f"{name}: B's transaction sees tenants {seen}"
        async with db.transaction(None, write=False):
            seen = await Unit.raw(f"SELECT DISTINCT tenant FROM {name}")  # noqa: S608
        assert {r["tenant"] for r in seen} <= {None}, f"{name}: a transaction without tenant sees {seen}"
        # an UPDATE with no WHERE touches B's rows only (rolled back)
        tx = db.Transaction(b, write=True)
        await tx.begin()
        try:
            touched = await Unit.raw(f"UPDATE {name} SET tenant = tenant RETURNING tenant")  # noqa: S608
        finally:
            await tx.end(commit=False)
        assert touched and {r["tenant"] for r in touched} == {b}, f"{name}: UPDATE reached {touched[:3]}"
        # and no row can be handed over to A from B's transaction (WITH CHECK)
        tx = db.Transaction(b, write=True)
        await tx.begin()
        try:
            with pytest.raises(Exception, match="row-level security"):
                await Unit.raw(f"UPDATE {name} SET tenant = {{}}", a)  # noqa: S608
        finally:
            await tx.end(commit=False)
    # nothing above stuck
    async with db.transaction(a, write=False):
        assert await Unit.count().where(Unit.tenant == a) == len(pair.a.units) + 1


async def test_rows_cannot_be_written_into_another_tenant(env, pair: Pair):
    _postgres_only(env)
    with pytest.raises(Exception, match="row-level security"):
        async with db.transaction(pair.b.tenant.id):
            await Unit.insert(Unit(tenant=pair.a.tenant.id, name="越权写入", kind="municipal"))
    async with db.transaction(pair.a.tenant.id, write=False):
        assert not await Unit.exists().where(Unit.name == "越权写入")
