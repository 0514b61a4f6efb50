"""The public declassification rows: a tenant's public page of declassified matters, a
search on it, its JSON and its Atom feed, read without signing in, at 10,000 published
entries. Registered by run.py after the other rows.

The entries are the bench's own, made once per database, untimed: as many declassified
items as the demo lacks to reach 10,000 publications, each with its public copy, written
in bulk (server.core.bulk) in one transaction, then VACUUM ANALYZE on PostgreSQL as
autovacuum would within a minute of a bulk load."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from bench import declass_bulk
from bench.context import SLUG, BenchContext
from bench.harness import Op, scenario
from server import db

PUBLISHED = 10_000
PUBLIC = f"/t/{SLUG}/public/declassified"
TOPICS = (
    "会议纪要",
    "工作方案",
    "统计报表",
    "通知",
    "项目申报材料",
    "规划草案",
    "检查报告",
    "技术文件",
    "合同文本",
    "往来函件",
)
LEVELS = ("top_secret", "secret", "confidential")
SEARCH = "会议纪要"  # one entry in ten


async def _published(ctx: BenchContext) -> int:
    """The demo tenant's publications, made up to PUBLISHED once; how many there are."""

    async def make() -> int:
        from server.core.bulk import insert_rows
        from server.declassification.tables import ClassifiedItem, Publication
        from server.units.tables import Unit

        tenant = await ctx.tenant()
        t0 = time.perf_counter()
        async with db.transaction(tenant.id):
            have = await Publication.count().where(Publication.tenant == tenant.id)
            missing = max(0, PUBLISHED - have)
            units = (
                await Unit.select(Unit.id, Unit.name)
                .where(Unit.tenant == tenant.id, Unit.deleted_at.is_null(), Unit.kind != "district")
                .order_by(Unit.id)
                .limit(60)
            )
            if missing and not units:
                raise RuntimeError("the demo tenant has no unit to publish for")
            now = datetime.now(UTC)
            items, copies = [], []
            for i in range(missing):
                unit = units[i % len(units)]
                declassified = date(2015, 1, 1) + timedelta(days=(i * 37) % 4000)
                level = LEVELS[i % 3]
                reference = f"BENCH-{declassified.year}-{i:05d}"
                title = f"{unit['name']}{TOPICS[i % len(TOPICS)]}（第{i % 97 + 1}号）"
                item = {
                    "uuid": uuid4(),
                    "tenant": tenant.id,
                    "reference": reference,
                    "public_title": title,
                    "level": level,
                    "classified_on": declassified - timedelta(days=3650),
                    "term_kind": "years",
                    "term_years": 10,
                    "term_ends_on": declassified - timedelta(days=1),
                    "knowledge_scope": "本单位相关人员",
                    "custodian_unit": unit["id"],
                    "basis": "保密事项范围第3项",
                    "status": "declassified",
                    "declassified_on": declassified,
                    "publication": "published",
                    "created_by": "bench",
                    "created_at": now,
                    "updated_at": now,
                }
                items.append(item)
                copies.append(
                    {
                        "uuid": uuid4(),
                        "tenant": tenant.id,
                        "reference": reference,
                        "public_title": title,
                        "unit_name": unit["name"],
                        "unit": unit["id"],
                        "level": level,
                        "declassified_on": declassified,
                        "what": "" if i % 4 else "第二部分",
                        "published_at": now - timedelta(minutes=missing - i),
                        "published_by": "bench",
                        "withdrawn_at": now if i % 250 == 0 else None,
                        "withdrawn_reason": "误发" if i % 250 == 0 else "",
                    }
                )
            await insert_rows(ClassifiedItem, items)
            ids = {
                r["uuid"]: r["id"]
                for r in await ClassifiedItem.select(ClassifiedItem.id, ClassifiedItem.uuid).where(
                    ClassifiedItem.tenant == tenant.id, ClassifiedItem.reference.like("BENCH-%")
                )
            }
            for item, copy in zip(items, copies, strict=True):
                copy["item"] = ids[item["uuid"]]
            await insert_rows(Publication, copies)
            total = await Publication.count().where(Publication.tenant == tenant.id)
        vacuum = await declass_bulk.vacuum("classified_items", "declassified_publications")
        ctx.note(
            f"declassification public: {total:,} published entries ({missing:,} made by the bench in "
            f"{time.perf_counter() - t0:.1f} s, untimed" + (f", VACUUM ANALYZE {vacuum:.1f} s" if vacuum else "") + ")"
        )
        return total

    return await ctx.memo("declass_public", make)


def _row(key: str, label: str, url: str, *, expect: str, concurrency: int = 1) -> None:
    async def make(ctx: BenchContext) -> Op:
        await _published(ctx)
        client = await ctx.browser(None, fresh=concurrency > 1)
        first = await ctx.get_ok(client, url)
        if expect not in first.text:
            raise RuntimeError(f"GET {url}: {expect!r} is not in the answer")
        if concurrency == 1 and not ctx.once(f"declass.profile.{key}"):
            await ctx.profile_queries(f"public {key}", f"declass.{key}", lambda: ctx.get_ok(client, url))

        async def op() -> None:
            await ctx.get_ok(client, url)

        return op

    scenario(f"declass.{key}", label, concurrency=concurrency)(make)


_row("public.page", "declassified public page (10,000 entries) · anonymous · page 1", PUBLIC, expect="page=2")
_row(
    "public.search",
    f"  search {SEARCH!r} and a year · anonymous",
    f"{PUBLIC}?q={SEARCH}&year=2020",
    expect=SEARCH,
)
_row("public.json", "  JSON, page 1 of 50 · anonymous", f"{PUBLIC}.json", expect='"next"')
_row(
    "public.json_deep",
    "  JSON, page 200 of 200 (per_page 50, offset) · anonymous",
    f"{PUBLIC}.json?page=200",
    expect='"items"',
)
_row("public.atom", "  Atom feed, newest 100 · anonymous", f"{PUBLIC}.atom", expect="<entry>")
_row(
    "public.concurrent",
    "declassified public page · 8 anonymous clients at once",
    PUBLIC,
    expect="page=2",
    concurrency=8,
)
