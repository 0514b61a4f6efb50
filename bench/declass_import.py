"""The declassification register's Excel import at 10,000 items: the office uploads a
workbook through the import form (read, every row checked by the register's rules with
its references looked up in bulk, the preview kept) and applies it (10,000 items and
their audit events in one transaction). Registered by run.py after the other rows.

Each run's workbook has references of its own, so every apply writes everything. The
items are spread over the demo's units (named by name, a few by code), a responsible
person named on one row in three, one row in five derived (from a body outside in
words, or from an item of the first, untimed import by its reference, taking its level
and term)."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta
from typing import Any

from bench import workbook_import
from bench.context import BenchContext
from bench.harness import Op
from server import db

ITEMS = 10_000
TOPICS = ("会议纪要", "工作方案", "统计报表", "通知", "项目申报材料", "规划草案", "检查报告", "技术文件")
LEVELS = (("绝密", 30), ("机密", 20), ("秘密", 10))
BODIES = ("省保密局", "省财政厅", "国家某部委", "省发展改革委")


async def _targets(ctx: BenchContext) -> list[dict]:
    """The units a row may name unambiguously (by name, or by code when it has one),
    each with the people whose name is unique among those in post there."""
    from server.declassification.imports_workbook import text_key
    from server.units import service as units

    tenant, actor = await ctx.tenant(), await ctx.actor("office")
    async with db.transaction(tenant.id, write=False):
        listed = (await units.list_units(tenant, actor, per_page=1_000_000)).items
        pks = {u["id"]: u["pk"] for u in await units.units_in_scope(tenant, actor)}
        posts = await units.posts_on(tenant, units.today(tenant), units=sorted(pks.values()))
    names: dict[str, int] = {}
    for unit in listed:
        names[text_key(unit["name"])] = names.get(text_key(unit["name"]), 0) + 1
    people: dict[int, dict[str, set[int]]] = {}
    for post in posts:
        people.setdefault(post["unit"], {}).setdefault(post["person_name"], set()).add(post["person"])
    targets = []
    for unit in listed:
        if unit["kind"] == "district" or names[text_key(unit["name"])] > 1:
            continue
        held = people.get(pks[unit["id"]], {})
        unique = sorted(name for name, who in held.items() if len(who) == 1 and name == name.strip() and name)
        targets.append({"name": unit["name"], "code": unit["code"], "people": unique})
    if not targets:
        raise RuntimeError("the demo tenant has no unit an import row could name")
    return targets


def _workbook(targets: list[dict], run: int, today: date, sources: list[str]) -> bytes:
    """A clean ITEMS-row register workbook whose references are this run's own."""
    import openpyxl

    from server.declassification.imports_workbook import COLUMNS, TEMPLATE_HEADERS

    rng = random.Random(run)
    book = openpyxl.Workbook()  # strings shared, as Excel saves them (a write-only book inlines each)
    sheet = book.active
    sheet.title = "国家秘密事项"
    sheet.append([TEMPLATE_HEADERS[k] for k in COLUMNS])  # the template's header row
    for i in range(ITEMS):
        unit = targets[i % len(targets)]
        level, years = LEVELS[i % 3]
        classified = today - timedelta(days=30 + rng.randrange(3000))
        term: Any = f"{rng.randint(1, years)}年"
        if i % 7 == 3:
            term = classified + timedelta(days=400 + rng.randrange(3000))  # an end date
        elif i % 11 == 5:
            term = "项目验收后解密"
        origin, source, originator = "原始", None, None
        if i % 5 == 4:
            origin, term = "派生", None  # by default of its level, or its source's term
            if sources and i % 10 == 9:
                # the source's level and term (classified before the source's term ends)
                source, level, classified = sources[i % len(sources)], None, today - timedelta(days=30)
            else:
                source = BODIES[i % len(BODIES)]
        person = unit["people"][i % len(unit["people"])] if unit["people"] and i % 3 == 0 else None
        sheet.append(
            [
                f"BENCH-IMP-{run:03d}-{i:05d}",
                f"{TOPICS[i % len(TOPICS)]}（第{i % 97 + 1}号）",
                level,
                classified,
                term,
                "本单位相关人员",
                origin,
                source,
                originator,
                unit["code"] if unit["code"] and i % 13 == 0 else unit["name"],
                person,
                "经办人",
                "保密事项范围第3项",
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def _sources(tenant: Any, today: date) -> list[str]:
    """References of the first import's original items whose term ends after today."""
    from server.declassification.tables import ClassifiedItem

    async with db.transaction(tenant.id, write=False):
        rows = await (
            ClassifiedItem.select(ClassifiedItem.reference)
            .where(
                ClassifiedItem.tenant == tenant.id,
                ClassifiedItem.reference.like("BENCH-IMP-000-%"),
                ClassifiedItem.origin == "original",
                ClassifiedItem.term_ends_on > today,
            )
            .order_by(ClassifiedItem.reference)
            .limit(500)
        )
    return [r["reference"] for r in rows]


FORM = workbook_import.ImportForm(
    previews="classified-items/imports",
    filename="register.xlsx",
    unit="items",
    rows=ITEMS,
    written={"added": ITEMS},
)


@workbook_import.row(
    "declass.import.office", f"import classified items workbook ({ITEMS:,} items) · office · preview + apply", FORM
)
async def declass_import(ctx: BenchContext) -> Op:
    """The office uploads a 10,000-item register workbook through the import form and
    applies it. Untimed: building the workbook (before each run) and, between the two
    requests, reading the preview back to check it is clean. The rate is items per
    second."""
    from server.declassification import imports
    from server.declassification import imports_workbook as workbook
    from server.units import service as units

    tenant = await ctx.tenant()
    today = units.today(tenant)
    targets = await _targets(ctx)
    sources: list[str] = []  # the first import's, still classified: later ones derive from them

    def register(run: int) -> bytes:
        return _workbook(targets, run, today, sources)

    op = await workbook_import.through_the_form(ctx, FORM, imports, register)
    # The warm-up: one workbook (run 0, no sources yet) through the service calls alone.
    await workbook_import.through_the_services(
        ctx,
        FORM,
        imports,
        register(0),
        workbook.read_items,
        what="declassification import · office",
        about=f"{len(targets)} units named",
    )
    sources += await _sources(tenant, today)
    return op
