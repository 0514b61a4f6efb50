"""The audit rows: writing chained audit events (one transaction and one event each)
for the demo tenant alone, by 8 clients at once in that tenant (they take turns on its
chain head), and by 8 clients in 8 tenants (they never wait on each other); and
`luzhi audit verify`'s check of the demo tenant's whole chain. Registered by run.py
after the other rows."""

from __future__ import annotations

import itertools
import time

from bench.context import BenchContext
from bench.harness import Op, scenario
from server import db
from server.actor import Actor

TENANTS = 8
ACTOR = Actor(kind="system", name="bench", client_addr="127.0.0.1")


async def _write(tenant_id: int, i: int) -> None:
    from server.audit import service as audit

    async with db.transaction(tenant_id):
        await audit.record(tenant_id, ACTOR, "unit.update", "unit", f"bench-{i}", detail={"name": f"基准单位{i}"})


async def _bench_tenants(ctx: BenchContext) -> list[int]:
    """8 tenants of the bench's own (created once per database, untimed)."""

    async def make() -> list[int]:
        from server.platform import service as platform
        from tenants import service as tenants

        ids = []
        for n in range(TENANTS):
            slug = f"bench-audit-{n}"
            ref = await tenants.resolve(slug)
            if ref is None:
                async with db.transaction(None):
                    ref = await platform.create_tenant(Actor.system("bench"), {"slug": slug, "name": f"基准{n}号局"})
            ids.append(ref.id)
        return ids

    return await ctx.memo("audit.tenants", make)


def _writes(tenant_ids: list[int]) -> Op:
    """One event a call, the tenants taking turns."""
    counter = itertools.count()

    async def op() -> int:
        i = next(counter)
        await _write(tenant_ids[i % len(tenant_ids)], i)
        return 1

    return op


@scenario("audit.write.one", "audit event written, chained · 1 tenant", unit="events")
async def write_one(ctx: BenchContext) -> Op:
    return _writes([(await ctx.tenant()).id])


@scenario("audit.write.one.8", "the same, 8 writers in 1 tenant", concurrency=8, unit="events")
async def write_one_contended(ctx: BenchContext) -> Op:
    return _writes([(await ctx.tenant()).id])


@scenario(
    "audit.write.8tenants",
    "the same, 8 writers in 8 tenants",
    concurrency=8,
    unit="events",
    baseline="audit.write.one.8",
)
async def write_many_tenants(ctx: BenchContext) -> Op:
    return _writes(await _bench_tenants(ctx))


@scenario("audit.verify", "luzhi audit verify · demo tenant's whole chain", iterations=5, warmup=1, unit="events")
async def verify_chain(ctx: BenchContext) -> Op:
    from server.audit import service as audit

    tenant = await ctx.tenant()

    async def op() -> int:
        async with db.transaction(tenant.id, write=False):
            verdict = await audit.verify(tenant.id)
        if not verdict.ok:
            raise RuntimeError(f"the demo tenant's chain is broken: {verdict.problem}")
        return verdict.events

    start = time.perf_counter()
    events = await op()
    seconds = time.perf_counter() - start
    ctx.note(f"audit.verify: the demo tenant's chain holds {events} events (checked once, untimed: {seconds:.2f} s)")
    return op
