"""The declassification register's daily expiry scan (server.declassification.review.scan,
what the scheduler's job runs for each tenant) at a register of 10,000 and of 100,000
items, each time with the same 100 items due: its cost follows what is due, not the
register's size, so the two rows should be alike. Registered by run.py after the other
rows.

Each register is a bench tenant of its own (`bench-declass-due-10k`, `…-100k`: the demo
tenant's register holds whatever the demo and the other rows put there), made once per
database, untimed: 20 units and their items written in bulk (server.core.bulk), then
VACUUM ANALYZE on PostgreSQL as autovacuum would after a bulk load. Of the items, 100 are
due at every run — 60 reach the lead time (a review task), 30 are within 60 days of
their end (a task, then the unit's principal), 10 ended days ago (a task, the principal,
then declassified by expiry, 自行解密) — and set back untimed before each run (stage 0,
still classified, their tasks gone). The rest are not due: terms ending years away,
terms on a condition, and items declassified long ago."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from bench import declass_bulk
from bench.context import BenchContext
from bench.harness import Op, scenario, staged
from server import db
from server.actor import Actor

SIZES = (10_000, 100_000)
UNITS = 20
# (how many, days from today to the term's end): reach the lead time, the principal, expiry
DUE = ((60, range(61, 91)), (30, range(1, 61)), (10, range(-10, 0)))
DUE_COUNT = sum(n for n, _days in DUE)
EXPECTED = {"reminded": DUE_COUNT, "escalated": 40, "expired": 10}
LEVELS = ("top_secret", "secret", "confidential")


def _item(tenant_id: int, unit: int, i: int, today: date, now: datetime, ends: date | None, status: str) -> dict:
    """One register row; `ends` None: a term on a condition."""
    classified = today - timedelta(days=30 + (i * 13) % 3000)
    return {
        "uuid": uuid4(),
        "tenant": tenant_id,
        "reference": f"BENCH-DUE-{i:06d}",
        "public_title": f"基准事项（第{i % 97 + 1}号）",
        "level": LEVELS[i % 3],
        "classified_on": classified,
        "term_kind": "date" if ends else "condition",
        "term_until": ends,
        "term_condition": "" if ends else "项目验收后解密",
        "term_ends_on": ends,
        "knowledge_scope": "本单位相关人员",
        "custodian_unit": unit,
        "basis": "保密事项范围第3项",
        "status": status,
        "declassified_on": ends + timedelta(days=1) if status == "declassified" and ends else None,
        "created_by": "bench",
        "created_at": now,
        "updated_at": now,
    }


def _rows(tenant_id: int, unit_pks: list[int], size: int, today: date) -> list[dict]:
    """`size` items: the DUE_COUNT due ones first, then the rest, none of them due."""
    now = datetime.now(UTC)
    rows, i = [], 0
    for count, days in DUE:
        for k in range(count):
            ends = today + timedelta(days=days[k % len(days)])
            rows.append(_item(tenant_id, unit_pks[i % len(unit_pks)], i, today, now, ends, "active"))
            i += 1
    while i < size:
        kind = i % 20
        if kind < 3:  # on a condition: never due by the calendar
            ends, status = None, "active"
        elif kind < 6:  # declassified long ago
            ends, status = today - timedelta(days=400 + (i * 7) % 3000), "declassified"
        else:  # ending in one to fifteen years
            ends, status = today + timedelta(days=365 + (i * 31) % (14 * 365)), "active"
        rows.append(_item(tenant_id, unit_pks[i % len(unit_pks)], i, today, now, ends, status))
        i += 1
    return rows


async def _register(ctx: BenchContext, size: int) -> tuple[object, list[int]]:
    """The bench tenant with a register of `size` items (made once): (tenant, due item ids)."""

    async def make() -> tuple[object, list[int]]:
        from server.core.bulk import insert_rows
        from server.declassification.tables import ClassifiedItem
        from server.platform import service as platform
        from server.units import service as units
        from server.units.bulk import add_units
        from tenants import service as tenants

        slug = f"bench-declass-due-{size // 1000}k"
        tenant = await tenants.resolve(slug)
        t0 = time.perf_counter()
        if tenant is None:
            async with db.transaction(None):
                spec = {"slug": slug, "name": f"基准解密局{size}"}
                tenant = await platform.create_tenant(Actor.system("bench"), spec)
        async with db.transaction(tenant.id):
            have = await ClassifiedItem.count().where(ClassifiedItem.tenant == tenant.id)
            if not have:
                specs = [{"name": f"基准单位{n + 1}", "kind": "municipal", "parent": None} for n in range(UNITS)]
                made = await add_units(tenant, Actor.system("bench"), specs)
                await insert_rows(ClassifiedItem, _rows(tenant.id, [u["pk"] for u in made], size, units.today(tenant)))
            total = await ClassifiedItem.count().where(ClassifiedItem.tenant == tenant.id)
            due = await (
                ClassifiedItem.select(ClassifiedItem.id)
                .where(ClassifiedItem.tenant == tenant.id, ClassifiedItem.reference < f"BENCH-DUE-{DUE_COUNT:06d}")
                .order_by(ClassifiedItem.id)
            )
        made_s = time.perf_counter() - t0
        vacuum = await declass_bulk.vacuum("classified_items") if not have else 0.0
        ctx.note(
            f"declassification due scan · {slug}: {total:,} items, {len(due)} due at each run "
            + (f"(made by the bench in {made_s:.1f} s, untimed" if not have else "(made earlier")
            + (f", VACUUM ANALYZE {vacuum:.1f} s)" if vacuum else ")")
        )
        return tenant, [r["id"] for r in due]

    return await ctx.memo(f"declass_due.{size}", make)


async def _set_back(tenant, due: list[int]) -> None:
    """The due items as they were before any scan: stage 0, still classified, no task."""
    from server.declassification.tables import ClassifiedItem, ReviewTask

    async with db.transaction(tenant.id):
        await ReviewTask.delete().where(ReviewTask.tenant == tenant.id, ReviewTask.item.is_in(due))
        await ClassifiedItem.update(
            {ClassifiedItem.expiry_stage: 0, ClassifiedItem.status: "active", ClassifiedItem.declassified_on: None}
        ).where(ClassifiedItem.tenant == tenant.id, ClassifiedItem.id.is_in(due))


def _row(size: int, baseline: str | None) -> None:
    key = f"declass.due_scan.{size // 1000}k"

    @scenario(
        key,
        f"declassification due scan, {DUE_COUNT} due · register of {size:,} items",
        iterations=30,
        warmup=2,
        unit="scans",
        baseline=baseline,
        vs="p50",
    )
    async def make(ctx: BenchContext) -> Op:
        """One tenant's daily scan in its transaction, as the scheduler's job runs it."""
        from server.declassification import review
        from server.units import service as units

        tenant, due = await _register(ctx, size)
        today = units.today(tenant)

        async def scan() -> dict:
            async with db.transaction(tenant.id):
                return await review.scan(tenant, today)

        # once untimed, its queries recorded: what the scan reads and writes
        await _set_back(tenant, due)
        with ctx.recording_queries() as queries:
            found = await scan()
        if found != EXPECTED:
            raise RuntimeError(f"declassification due scan at {size:,} items: {found}, expected {EXPECTED}")
        search = next((q for q in queries if "expiry_stage" in q.sql and q.sql.startswith("SELECT")), None)
        ctx.note(
            f"declassification due scan · {size:,} items: {len(queries)} queries "
            f"({sum(q.seconds for q in queries) * 1000:.1f} ms in them); the search for what is due "
            f"returned {search.rows if search else '?'} rows in {search.seconds * 1000 if search else 0:.2f} ms"
        )

        async def op() -> None:
            found = await scan()
            if found != EXPECTED:
                raise RuntimeError(f"declassification due scan at {size:,} items: {found}, expected {EXPECTED}")

        async def setup() -> None:
            await _set_back(tenant, due)

        return staged(setup, op)


_row(SIZES[0], None)
_row(SIZES[1], f"declass.due_scan.{SIZES[0] // 1000}k")
