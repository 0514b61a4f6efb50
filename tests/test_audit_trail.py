"""The audit trail: append-only in the database, hash-chained per tenant, verifiable
from the command line, readable and exportable by the audit administrator."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import subprocess
import sys
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import anyio
import asyncpg
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from server import db
from server.actor import Actor
from server.audit import chain, labels
from server.audit import service as audit
from server.audit.tables import AuditEvent, AuditHead
from server.settings import ROOT
from tenants.tables import Tenant
from tests.conftest import PG_URL, SYSTEM, login, new_slug
from tests.factories import make_unit, make_world


async def luzhi(env, *args: str) -> subprocess.CompletedProcess:
    def run():
        return subprocess.run(
            [sys.executable, "-m", "server.cli", *args], env=env.env, cwd=ROOT, capture_output=True, text=True
        )

    return await anyio.to_thread.run_sync(run)


async def chain_rows(tenant_id: int) -> list[dict]:
    async with db.transaction(tenant_id, write=False):
        return (
            await AuditEvent.select()
            .where(AuditEvent.tenant == tenant_id)
            .order_by(AuditEvent.seq)
            .output(load_json=True)
        )


def assert_linked(rows: list[dict]) -> None:
    """seq 1..n, every event linked to the one before and its hash its fields'."""
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    prev = chain.GENESIS
    for row in rows:
        assert row["prev_hash"] == prev, f"event {row['seq']} forks the chain"
        assert row["hash_alg"] == "sm3"
        assert chain.digest(row) == row["hash"]
        prev = row["hash"]


async def bare_tenant() -> int:
    """A tenant row without provisioning, so its chain starts empty."""
    slug = new_slug()
    async with db.transaction(None):
        await Tenant.insert(Tenant(slug=slug, name="链测试局"))
        return (await Tenant.select(Tenant.id).where(Tenant.slug == slug).first())["id"]


async def write(tenant_id: int, count: int, actor: Actor = SYSTEM) -> None:
    for i in range(count):
        async with db.transaction(tenant_id):
            await audit.record(tenant_id, actor, "unit.update", "unit", f"u{i}", detail={"name": f"单位{i}"})


@asynccontextmanager
async def as_owner(env):
    """Piccolo's queries through the tables' owner (who may delete, as the purge does)."""
    app = db.engine()
    owner = db.make_engine(env.settings, as_owner=True)
    db.bind(owner)
    try:
        yield
    finally:
        db.bind(app)


async def tamper(env, *statements: str) -> None:
    """Change rows behind the application's back, as an attacker holding the database would."""
    if env.kind == "postgres":
        conn = await asyncpg.connect(PG_URL)
        try:
            async with conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")  # no triggers
                for statement in statements:
                    await conn.execute(statement)
        finally:
            await conn.close()
        return

    def run() -> None:
        conn = sqlite3.connect(db.sqlite_path(env.settings.database_url))
        try:
            triggers = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"
            ).fetchall()
            for name, _sql in triggers:
                conn.execute(f"DROP TRIGGER {name}")
            for statement in statements:
                conn.execute(statement)
            for _name, sql in triggers:
                conn.execute(sql)
            conn.commit()
        finally:
            conn.close()

    await anyio.to_thread.run_sync(run)


# ---------------------------------------------------------------- the chain


async def test_real_traffic_is_chained_and_verifies(env, client):
    world = await make_world()
    t = world.tenant.id
    await make_unit(world.tenant, "市审计局", "municipal")
    assert (await login(client, world.slug, "office")).status_code == 303
    assert (await login(client, world.slug, "office", "wrong-password")).status_code != 303
    assert (await client.get(f"/t/{world.slug}/audit")).status_code == 403  # a refusal, audited too

    rows = await chain_rows(t)
    assert len(rows) > 10
    assert_linked(rows)
    actions = {r["action"] for r in rows}
    assert {"user.create", "unit.create", "auth.login", "access.denied"} <= actions
    unit = next(r for r in rows if r["action"] == "unit.create" and r["object_name"] == "市审计局")
    assert unit["object_type"] == "unit"
    async with db.transaction(t, write=False):
        verdict = await audit.verify(t)
        in_small_chunks = await audit.verify(t, chunk=4)
        head = await AuditHead.select().where(AuditHead.chain == t).first()
    assert verdict.ok and verdict.events == len(rows) == in_small_chunks.events
    assert (verdict.head_seq, verdict.head_hash) == (rows[-1]["seq"], rows[-1]["hash"]) == (head["seq"], head["hash"])

    result = await luzhi(env, "audit", "verify", "--tenant", world.slug)
    assert result.returncode == 0, result.stderr
    assert f"{len(rows)} events" in result.stdout and rows[-1]["hash"] in result.stdout
    platform = await luzhi(env, "audit", "verify", "--platform")
    assert platform.returncode == 0, platform.stderr


async def test_stored_times_give_back_the_hashed_value(env):
    """The hash covers `at` to the microsecond, so it must survive the database's round trip."""
    t = await bare_tenant()
    await write(t, 3)
    for row in await chain_rows(t):
        assert row["at"].tzinfo is not None and row["at"].microsecond == chain.utc(row["at"]).microsecond
        assert chain.digest(row) == row["hash"]


async def test_the_application_cannot_change_or_delete_events(env):
    t = await bare_tenant()
    await write(t, 2)
    for statement in (
        "UPDATE audit_events SET actor_name = 'mallory' WHERE tenant = {}",
        "DELETE FROM audit_events WHERE tenant = {}",
    ):
        with pytest.raises(Exception, match="append-only|permission denied"):
            async with db.transaction(t):
                await AuditEvent.raw(statement, t)
    assert_linked(await chain_rows(t))


async def test_the_retention_purge_keeps_180_days(env):
    t = await bare_tenant()
    # 3 events of 200 days ago, written as the writer would have then, and 2 of today
    old = datetime.now(UTC) - timedelta(days=200)
    prev = chain.GENESIS
    async with db.transaction(t):
        for seq in (1, 2, 3):
            event = {
                "tenant": t,
                "seq": seq,
                "at": old + timedelta(seconds=seq),
                "actor_kind": "system",
                "actor_id": None,
                "actor_name": "tests",
                "action": "unit.update",
                "object_type": "unit",
                "object_id": str(seq),
                "object_name": "",
                "outcome": "success",
                "client_addr": "",
                "detail": {},
                "prev_hash": prev,
            }
            prev = chain.digest(event)
            await AuditEvent.insert(AuditEvent(**event, hash=prev, hash_alg="sm3"))
        await AuditHead.insert(AuditHead(chain=t, tenant=t, seq=3, hash=prev))
    await write(t, 2)
    assert_linked(await chain_rows(t))

    with pytest.raises(ValueError):
        async with db.transaction(t):
            await audit.purge(t, SYSTEM, keep_days=90)
    async with as_owner(env):
        # told that today is a year later, the purge would delete today's events: the database refuses
        with pytest.raises(Exception, match="append-only"):
            async with db.transaction(t):
                await audit.purge(t, SYSTEM, now=datetime.now(UTC) + timedelta(days=365))
        async with db.transaction(t):
            assert await audit.purge(t, SYSTEM) == 3
        # the owner is bound by the triggers too
        with pytest.raises(Exception, match="append-only"):
            async with db.transaction(t):
                await AuditEvent.raw("UPDATE audit_events SET outcome = 'success' WHERE tenant = {}", t)
        if env.kind == "postgres":
            with pytest.raises(Exception, match="append-only"):
                async with db.transaction(t):
                    await AuditEvent.raw("TRUNCATE audit_events")
        if env.kind == "postgres":
            # the purge's own setting does not open recent events to deletion
            with pytest.raises(Exception, match="append-only"):
                async with db.transaction(t):
                    await AuditEvent.raw("SELECT set_config('luzhi.audit_purge', 'on', true)")
                    await AuditEvent.raw("DELETE FROM audit_events WHERE tenant = {}", t)
    rows = await chain_rows(t)
    assert [r["seq"] for r in rows] == [4, 5, 6] and rows[-1]["action"] == "audit.purge"
    assert rows[-1]["detail"]["through_seq"] == 3 and rows[-1]["detail"]["through_hash"] == prev
    async with db.transaction(t, write=False):
        verdict = await audit.verify(t)
    assert verdict.ok and verdict.events == 3 and verdict.head_seq == 6


# ---------------------------------------------------------------- tampering, found by `luzhi audit verify`


async def _tampered(env, *statements: str) -> tuple[subprocess.CompletedProcess, audit.Verdict]:
    world_id = await bare_tenant()
    slug = (await Tenant.select(Tenant.slug).where(Tenant.id == world_id).first())["slug"]
    await write(world_id, 6)
    clean = await luzhi(env, "audit", "verify", "--tenant", slug)
    assert clean.returncode == 0 and "6 events" in clean.stdout, clean.stderr
    await tamper(env, *(s.format(t=world_id) for s in statements))
    async with db.transaction(world_id, write=False):
        verdict = await audit.verify(world_id)
    return await luzhi(env, "audit", "verify", "--tenant", slug), verdict


# tamperings of a chain of 6 events ({t}: its tenant)
CHANGE_3 = "UPDATE audit_events SET object_id = 'other' WHERE tenant = {t} AND seq = 3"
DELETE_4 = "DELETE FROM audit_events WHERE tenant = {t} AND seq = 4"
# events 2 and 3 trade places (their positions swapped, through a free one)
SWAP_2_AND_3 = [
    "UPDATE audit_events SET seq = 100 WHERE tenant = {t} AND seq = 2",
    "UPDATE audit_events SET seq = 2 WHERE tenant = {t} AND seq = 3",
    "UPDATE audit_events SET seq = 3 WHERE tenant = {t} AND seq = 100",
]
CUT_AFTER_4 = "DELETE FROM audit_events WHERE tenant = {t} AND seq > 4"
HEAD_BACK_TO_4 = (
    "UPDATE audit_heads SET seq = 4, hash = (SELECT hash FROM audit_events WHERE tenant = {t} AND seq = 4) "
    "WHERE chain = {t}"
)


async def _names_the_broken_event(env, statements: list[str], event: int, named: str, kind: str) -> None:
    """verify, on the command line and in the service, finds the chain broken at `event`
    and says how (`named` in the message, `kind` of the verdict)."""
    result, verdict = await _tampered(env, *statements)
    assert result.returncode == 1
    assert f"BROKEN at event {event}" in result.stderr and named in result.stderr and verdict.kind == kind


async def test_verify_names_a_changed_field(env):
    await _names_the_broken_event(env, [CHANGE_3], 3, "changed", "changed")


async def test_verify_names_a_deleted_event(env):
    await _names_the_broken_event(env, [DELETE_4], 4, "missing", "missing")


async def test_verify_names_a_reordered_event(env):
    await _names_the_broken_event(env, SWAP_2_AND_3, 2, "does not link", "unlinked")


async def test_verify_finds_a_cut_tail_against_the_head(env):
    await _names_the_broken_event(env, [CUT_AFTER_4], 5, "head is event 6", "head")


async def test_verify_finds_a_cut_tail_against_the_kept_day_head(env):
    # the attacker also moves the chain head back to what is left: today's kept head still names event 6
    await _names_the_broken_event(env, [CUT_AFTER_4, HEAD_BACK_TO_4], 5, "head kept for", "cut_tail")


# ---------------------------------------------------------------- concurrent writers


async def test_concurrent_writers_never_fork_the_chain(env):
    a, b = await bare_tenant(), await bare_tenant()

    async def one(tenant_id: int, i: int) -> None:
        async with db.transaction(tenant_id):
            if i % 5 == 0:
                await audit.record_many(tenant_id, SYSTEM, "duty.assign", "post", [f"{i}a", f"{i}b", f"{i}c"])
            else:
                await audit.record(tenant_id, SYSTEM, "unit.update", "unit", str(i))
            await asyncio.sleep(0)  # let the others run while this one holds its place in the chain

    await asyncio.gather(*(one(t, i) for i in range(30) for t in (a, b)))
    for t in (a, b):
        rows = await chain_rows(t)
        assert len(rows) == 24 + 6 * 3
        assert_linked(rows)
        async with db.transaction(t, write=False):
            assert (await audit.verify(t, chunk=7)).ok


async def test_a_tenant_never_waits_for_another_tenants_writer(env):
    if env.kind != "postgres":
        pytest.skip("SQLite has one writer at a time for the whole database")
    a, b = await bare_tenant(), await bare_tenant()
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold_a() -> None:
        async with db.transaction(a):
            await audit.record(a, SYSTEM, "unit.update", "unit", "held")
            holding.set()
            await release.wait()

    held = asyncio.create_task(hold_a())
    await holding.wait()
    await asyncio.wait_for(write(b, 2), timeout=30)  # while A's transaction holds A's chain head
    second_a = asyncio.create_task(write(a, 1))
    await asyncio.sleep(0.3)
    assert not held.done() and not second_a.done(), "A's second writer must wait for the first"
    release.set()
    await asyncio.gather(held, second_a)
    assert [r["object_id"] for r in await chain_rows(a)] == ["held", "u0"]
    assert_linked(await chain_rows(a))
    assert_linked(await chain_rows(b))


# ---------------------------------------------------------------- the page, the export, the report


async def test_only_the_audit_administrator_reads_the_trail(env, client, make_client):
    world = await make_world()
    await login(client, world.slug, "office")
    assert (await client.get(f"/t/{world.slug}/audit")).status_code == 403
    assert (await client.get(f"/api/v1/t/{world.slug}/audit")).status_code == 403
    assert (await client.get(f"/t/{world.slug}/audit/export.xlsx")).status_code == 403
    auditor = await make_client()
    assert (await login(auditor, world.slug, "auditadmin")).status_code == 303
    page = await auditor.get(f"/t/{world.slug}/audit")
    assert page.status_code == 200 and "审计" in page.text or "Audit" in page.text


async def test_page_filters_export_and_verify(env, client):
    world = await make_world()
    t = world.tenant.id
    await make_unit(world.tenant, "市审计局", "municipal")
    await login(client, world.slug, "office", "wrong-password")
    assert (await login(client, world.slug, "auditadmin")).status_code == 303
    base = f"/t/{world.slug}/audit"

    api = (await client.get(f"/api/v1/t/{world.slug}/audit", params={"action": "unit.create"})).json()
    assert api["total"] == 6 and {e["action"] for e in api["items"]} == {"unit.create"}
    assert {e["object_name"] for e in api["items"]} >= {"市审计局", "甲区"}
    refused = (await client.get(f"/api/v1/t/{world.slug}/audit", params={"outcome": "denied"})).json()
    assert refused["total"] == 1 and refused["items"][0]["action"] == "auth.login"
    by_object = (await client.get(f"/api/v1/t/{world.slug}/audit", params={"object": "审计局"})).json()
    assert [e["object_name"] for e in by_object["items"]] == ["市审计局"]
    by_type = (await client.get(f"/api/v1/t/{world.slug}/audit", params={"object_type": "person"})).json()
    assert by_type["total"] == 4 and {e["object_type"] for e in by_type["items"]} == {"person"}
    by_actor = (await client.get(f"/api/v1/t/{world.slug}/audit", params={"actor": "auditadmin"})).json()
    assert by_actor["total"] >= 1 and {e["action"] for e in by_actor["items"]} == {"auth.login"}
    today = datetime.now(ZoneInfo(world.tenant.timezone)).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    future = (await client.get(f"/api/v1/t/{world.slug}/audit", params={"from": tomorrow})).json()
    assert future["total"] == 0
    paged = (await client.get(f"/api/v1/t/{world.slug}/audit", params={"per_page": 5, "page": 2})).json()
    assert len(paged["items"]) == 5 and paged["total"] > 10
    bad = await client.get(f"/api/v1/t/{world.slug}/audit", params={"from": "yesterday"})
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["from"]

    page = await client.get(base, params={"action": "unit.create", "lang": "zh_CN"})
    assert page.status_code == 200 and "市审计局" in page.text
    assert "unit.create" in page.text  # the code, as the label's title
    for bad_filter in ({"until": "2026-13-01"}, {"until": "9999-12-31"}, {"from": "2026-02-01", "until": "2026-01-01"}):
        assert (await client.get(base, params=bad_filter)).status_code == 422
    verified = await client.get(base, params={"verify": "1"})
    assert verified.status_code == 200 and "alert ok" in verified.text

    export = await client.get(f"{base}/export.xlsx", params={"action": "unit.create"})
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 6 and "市审计局" in {r[8] for r in rows[1:]}
    exported = (await client.get(f"/api/v1/t/{world.slug}/audit", params={"action": "audit.export"})).json()
    assert exported["total"] == 1 and exported["items"][0]["detail"]["rows"] == 6
    assert_linked(await chain_rows(t))

    await tamper(env, f"UPDATE audit_events SET actor_name = 'mallory' WHERE tenant = {t} AND seq = 2")
    broken = await client.get(base, params={"verify": "1"})
    assert broken.status_code == 200 and "alert bad" in broken.text
    assert str(labels.BREAKS["changed"]) in broken.text


async def test_monthly_report_pdf_shows_the_day_heads(env, client):
    world = await make_world()
    await login(client, world.slug, "office", "wrong-password")
    await login(client, world.slug, "auditadmin")
    now = datetime.now(ZoneInfo(world.tenant.timezone))
    month = f"{now.year:04d}-{now.month:02d}"
    bad = await client.get(f"/t/{world.slug}/audit/report.pdf", params={"month": "2026-13"})
    assert bad.status_code == 422
    response = await client.get(f"/t/{world.slug}/audit/report.pdf")  # this month by default
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    rows = await chain_rows(world.tenant.id)
    kept_head = [r for r in rows if r["action"] != "audit.report"][-1]["hash"]
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    assert kept_head in text
    assert reader.metadata.title and world.tenant.name in reader.metadata.title
    assert rows[-1]["action"] == "audit.report" and rows[-1]["object_id"] == month
