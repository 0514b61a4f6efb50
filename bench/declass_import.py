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
import time
from datetime import date, timedelta
from typing import Any

from bench.context import SLUG, BenchContext
from bench.harness import Op, Parts, scenario, staged
from server import db

ITEMS = 10_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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


@scenario(
    "declass.import.office",
    f"import classified items workbook ({ITEMS:,} items) · office · preview + apply",
    iterations=2,
    warmup=0,  # make() imports once first, through the service
    unit="items",
    parts=(
        ("preview", "  preview: POST …/classified-items/imports (read, check, keep)"),
        ("apply", "  apply: POST …/classified-items/imports/{id}/apply (write)"),
    ),
)
async def declass_import(ctx: BenchContext) -> Op:
    """The office uploads a 10,000-item register workbook through the import form and
    applies it. Untimed: building the workbook (before each run) and, between the two
    requests, reading the preview back to check it is clean. The rate is items per
    second."""
    from urllib.parse import parse_qs, urlsplit

    from server.declassification import imports
    from server.declassification import imports_workbook as workbook
    from server.units import service as units

    office = await ctx.browser("office")
    tenant, actor = await ctx.tenant(), await ctx.actor("office")
    today = units.today(tenant)
    targets = await _targets(ctx)
    runs = iter(range(1, 1_000))
    upload: list[bytes] = []
    sources: list[str] = []  # the first import's, still classified: later ones derive from them

    async def check_preview(import_id: str) -> None:
        async with db.transaction(tenant.id, write=False):
            detail = await imports.import_detail(tenant, actor, import_id)
        if not detail["clean"] or detail["counts"] != {"new": ITEMS}:
            raise RuntimeError(f"import preview not clean: {detail['counts']}, errors {detail['errors'][:3]}")

    async def setup() -> None:
        upload[:] = [_workbook(targets, next(runs), today, sources)]

    async def op() -> Parts:
        clock = time.perf_counter
        t0 = clock()
        response = await office.post(
            f"/t/{SLUG}/classified-items/imports",
            data={"_csrf": await ctx.csrf(office)},
            files={"file": ("register.xlsx", upload[0], XLSX)},
        )
        preview_s = clock() - t0
        location = response.headers.get("location", "")
        if response.status_code != 303 or "/classified-items/imports/" not in location:
            raise RuntimeError(f"import upload: {response.status_code} {location!r}")
        import_id = urlsplit(location).path.rsplit("/", 1)[-1]
        await check_preview(import_id)  # untimed: the op reports the two requests only
        t0 = clock()
        response = await ctx.post_form(office, f"/t/{SLUG}/classified-items/imports/{import_id}/apply", {}, expect=303)
        apply_s = clock() - t0
        result = parse_qs(urlsplit(response.headers.get("location", "")).query)
        if result.get("added") != [str(ITEMS)]:
            raise RuntimeError(f"import apply: {result}")
        return Parts({"preview": preview_s, "apply": apply_s}, items=ITEMS)

    # The warm-up: one workbook (run 0, no sources yet) through the service calls alone,
    # each in a transaction of its own (as a request has), queries recorded; and the
    # workbook's parsing on its own.
    first = _workbook(targets, 0, today, [])
    t0 = time.perf_counter()
    sheet = workbook.read_items(first)
    read_s = time.perf_counter() - t0
    walls, counts = {}, {}
    with ctx.recording_queries() as queries:
        t0 = time.perf_counter()
        async with db.transaction(tenant.id):
            preview = await imports.preview_import(tenant, actor, "register.xlsx", first)
        walls["preview"], counts["preview"] = time.perf_counter() - t0, (len(queries), sum(q.seconds for q in queries))
        if not preview["clean"] or len(preview["rows"]) != ITEMS:
            raise RuntimeError(f"import preview not clean: {preview['counts']}, errors {preview['errors'][:3]}")
        t0 = time.perf_counter()
        async with db.transaction(tenant.id):
            done = await imports.apply_import(tenant, actor, preview["id"])
        walls["apply"] = time.perf_counter() - t0
        counts["apply"] = (len(queries) - counts["preview"][0], sum(q.seconds for q in queries) - counts["preview"][1])
    if done["added"] != ITEMS:
        raise RuntimeError(f"import apply through the service: {done}")
    sources += await _sources(tenant, today)
    ctx.note(
        f"declassification import · office: {len(sheet):,} items ({len(first) / 1024:,.0f} KB .xlsx, "
        f"{len(targets)} units named). Untimed first import through the services alone: read_items() "
        f"{read_s:.2f} s; preview_import() {walls['preview']:.2f} s incl. the read, {counts['preview'][0]} queries "
        f"taking {counts['preview'][1]:.2f} s; apply_import() {walls['apply']:.2f} s, {counts['apply'][0]} queries "
        f"taking {counts['apply'][1]:.2f} s"
    )
    return staged(setup, op)
