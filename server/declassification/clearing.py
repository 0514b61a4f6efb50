"""Archive clearing projects and the pilot's statistics. A project (the bureau's, or one
unit's) collects batches of documents cleared: each batch one unit, level, year the
documents were made and outcome (kept, declassified, corrected), with how many documents
and who cleared them. The statistics add up the batches of a year by item year, unit and
level, beside what the register decided in that year (declassified by decision or by
expiry, extended, level changed, corrected).

Who sees what: the office every project and batch; a district admin and a unit officer
the projects of units in their scope and the bureau's projects, of which only the batches
of their units. Nobody else reads them."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count, Sum

from server import db, roles
from server.actor import Actor
from server.audit import service as audit
from server.core.chunks import chunks
from server.core.errors import Conflict, Forbidden, NotFound
from server.core.i18n import _, _l
from server.core.once import update_once
from server.core.pagination import Page, read_page
from server.core.validation import Checker
from server.declassification import access
from server.declassification.tables import ClassifiedItem, ClearingEntry, ClearingProject, Decision
from server.declassification.terms import LEVEL_RANK, LEVELS
from server.units import service as units
from tenants.service import TenantRef, get_owned

READERS = {roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.UNIT_OFFICER}
WRITERS = READERS
OUTCOMES = {
    "kept": _l("Kept classified"),
    "declassified": _l("Declassified"),
    "corrected": _l("Classification corrected"),
}
STATUSES = {"open": _l("Open"), "closed": _l("Closed")}
LABELS = {
    "name": _l("Name"),
    "year": _l("Year"),
    "unit_id": _l("Unit"),
    "level": _l("Classification level"),
    "item_year": _l("Year the documents were made"),
    "outcome": _l("Outcome"),
    "count": _l("Number of documents"),
    "item_id": _l("Classified item"),
    "cleared_on": _l("Cleared on"),
    "unit": _l("Unit"),
    "status": _l("Status"),
}
MAX_COUNT = 1_000_000
# the earliest year a cleared document may have been made
FIRST_ITEM_YEAR = 1949
PROJECT_COLUMNS = (
    *ClearingProject.all_columns(),
    ClearingProject.unit.uuid.as_alias("unit_uuid"),
    ClearingProject.unit.name.as_alias("unit_name"),
    ClearingProject.unit.path.as_alias("unit_path"),
)
ENTRY_COLUMNS = (
    *ClearingEntry.all_columns(),
    ClearingEntry.unit.uuid.as_alias("unit_uuid"),
    ClearingEntry.unit.name.as_alias("unit_name"),
    ClearingEntry.item.uuid.as_alias("item_uuid"),
    ClearingEntry.item.reference.as_alias("item_reference"),
)
DOCUMENTS = Sum(ClearingEntry.count).as_alias("n")


# ---------------------------------------------------------------- scope


def _reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise Forbidden()
    if actor.role != roles.OFFICE_ADMIN and not actor.scope_path:
        raise Forbidden()


def _entry_scope(actor: Actor) -> list:
    """The batches the actor sees, as filters on ClearingEntry."""
    _reader(actor)
    return [] if actor.role == roles.OFFICE_ADMIN else [ClearingEntry.unit.path.like(actor.scope_path + "%")]


def _project_scope(actor: Actor) -> list:
    """The projects the actor sees: the bureau's, and those of units in their scope."""
    _reader(actor)
    if actor.role == roles.OFFICE_ADMIN:
        return []
    return [ClearingProject.unit.is_null() | ClearingProject.unit.path.like(actor.scope_path + "%")]


def _sees(actor: Actor, row: dict) -> bool:
    return actor.role == roles.OFFICE_ADMIN or row["unit"] is None or access.in_scope(actor, row["unit_path"])


async def _project(tenant: TenantRef, actor: Actor, project_id: Any) -> dict:
    """The project the public id names, when the actor sees it (404 otherwise)."""
    _reader(actor)
    owned = await get_owned(ClearingProject, tenant, project_id, ClearingProject.id)
    row = await ClearingProject.select(*PROJECT_COLUMNS).where(ClearingProject.id == owned["id"]).first()
    if not _sees(actor, row):
        raise NotFound()
    return row


# ---------------------------------------------------------------- figures


def _zero() -> dict[str, int]:
    return {"documents": 0, "kept": 0, "declassified": 0, "corrected": 0}


def _add(figures: dict[str, int], outcome: str, n: Any) -> None:
    figures["documents"] += int(n or 0)
    if outcome in OUTCOMES:
        figures[outcome] += int(n or 0)


async def _totals(where: list) -> dict[str, int]:
    figures = _zero()
    for r in await ClearingEntry.select(ClearingEntry.outcome, DOCUMENTS).where(*where).group_by(ClearingEntry.outcome):
        _add(figures, r["outcome"], r["n"])
    return figures


async def _by_person(where: list) -> list[dict]:
    """Who cleared what: each person's documents by outcome, the most first."""
    people: dict[str, dict[str, int]] = defaultdict(_zero)
    for r in await (
        ClearingEntry.select(ClearingEntry.cleared_by, ClearingEntry.outcome, DOCUMENTS)
        .where(*where)
        .group_by(ClearingEntry.cleared_by, ClearingEntry.outcome)
    ):
        _add(people[r["cleared_by"]], r["outcome"], r["n"])
    rows = [{"cleared_by": name, **figures} for name, figures in people.items()]
    return sorted(rows, key=lambda r: (-r["documents"], r["cleared_by"]))


async def _by_unit(where: list) -> list[dict]:
    """Each unit's documents by outcome, in the unit tree's order."""
    found: dict[int, dict] = {}
    for r in await (
        ClearingEntry.select(
            ClearingEntry.unit,
            ClearingEntry.unit.uuid.as_alias("unit_uuid"),
            ClearingEntry.unit.name.as_alias("unit_name"),
            ClearingEntry.unit.path.as_alias("unit_path"),
            ClearingEntry.outcome,
            DOCUMENTS,
        )
        .where(*where)
        .group_by(
            ClearingEntry.unit,
            ClearingEntry.unit.uuid,
            ClearingEntry.unit.name,
            ClearingEntry.unit.path,
            ClearingEntry.outcome,
        )
    ):
        row = found.setdefault(
            r["unit"],
            {"unit_id": str(r["unit_uuid"]), "unit_name": r["unit_name"], "path": r["unit_path"], **_zero()},
        )
        _add(row, r["outcome"], r["n"])
    rows = sorted(found.values(), key=lambda r: r["path"])
    return [{k: v for k, v in r.items() if k != "path"} for r in rows]


# ---------------------------------------------------------------- projects


def _project_json(row: dict, totals: dict[str, int] | None = None) -> dict:
    return {
        "id": str(row["uuid"]),
        "name": row["name"],
        "year": row["year"],
        "unit_id": str(row["unit_uuid"]) if row["unit"] is not None else None,
        "unit_name": row["unit_name"] if row["unit"] is not None else "",
        "status": row["status"],
        "status_label": str(STATUSES.get(row["status"], row["status"])),
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "totals": totals or _zero(),
    }


def _entry_json(r: dict) -> dict:
    return {
        "unit_id": str(r["unit_uuid"]),
        "unit_name": r["unit_name"],
        "level": r["level"],
        "level_label": str(LEVELS.get(r["level"], r["level"])),
        "item_year": r["item_year"],
        "outcome": r["outcome"],
        "outcome_label": str(OUTCOMES.get(r["outcome"], r["outcome"])),
        "count": r["count"],
        "item_id": str(r["item_uuid"]) if r["item"] is not None else None,
        "item_reference": (r["item_reference"] or "") if r["item"] is not None else "",
        "cleared_by": r["cleared_by"],
        "cleared_on": r["cleared_on"],
    }


def check_list_filters(data: dict[str, Any]) -> dict[str, Any]:
    check = Checker(data, LABELS)
    found = {
        "year": check.integer("year", default=0, minimum=2000, maximum=9999) if check.present("year") else None,
        "status": check.choice("status", STATUSES, required=False) or None,
    }
    check.done()
    return found


async def list_projects(tenant: TenantRef, actor: Actor, data: dict[str, Any], page: int, per_page: int) -> Page:
    """The projects the actor sees (newest year first), each with the documents of its
    batches the actor sees, by outcome; filtered by `year` and `status`."""
    filters = check_list_filters({k: v for k, v in data.items() if v not in (None, "")})
    where = [ClearingProject.tenant == tenant.id, *_project_scope(actor)]
    if filters["year"] is not None:
        where.append(ClearingProject.year == filters["year"])
    if filters["status"]:
        where.append(ClearingProject.status == filters["status"])
    order = [ClearingProject.year, ClearingProject.id]
    shown = await read_page(ClearingProject, where, PROJECT_COLUMNS, order, page, per_page, ascending=False)
    rows = shown.items
    totals: dict[int, dict[str, int]] = defaultdict(_zero)
    for batch in chunks([r["id"] for r in rows]):
        for r in await (
            ClearingEntry.select(ClearingEntry.project, ClearingEntry.outcome, DOCUMENTS)
            .where(ClearingEntry.tenant == tenant.id, ClearingEntry.project.is_in(list(batch)), *_entry_scope(actor))
            .group_by(ClearingEntry.project, ClearingEntry.outcome)
        ):
            _add(totals[r["project"]], r["outcome"], r["n"])
    shown.items = [_project_json(r, totals[r["id"]]) for r in rows]
    return shown


async def project_detail(tenant: TenantRef, actor: Actor, project_id: Any, page: int = 1, per_page: int = 50) -> dict:
    """A project with the batches the actor sees (newest first, a page of them), their
    totals, and who cleared what, by person and by unit."""
    row = await _project(tenant, actor, project_id)
    where = [ClearingEntry.tenant == tenant.id, ClearingEntry.project == row["id"], *_entry_scope(actor)]
    order = [ClearingEntry.cleared_on, ClearingEntry.id]
    shown = await read_page(
        ClearingEntry, where, ENTRY_COLUMNS, order, page, per_page, ascending=False, shape=_entry_json
    )
    return {
        **_project_json(row, await _totals(where)),
        "entries": {
            "items": shown.items,
            "total": shown.total,
            "page": shown.page,
            "per_page": shown.per_page,
            "pages": shown.pages,
        },
        "by_person": await _by_person(where),
        "by_unit": await _by_unit(where),
    }


def _writer(actor: Actor) -> None:
    if actor.role not in WRITERS:
        raise Forbidden()


async def create_project(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict:
    """A clearing project: the office's for the whole bureau (no unit) or for a unit; a
    district admin's or a unit officer's for a unit in their scope (their own unless they
    name one)."""
    _writer(actor)
    _reader(actor)
    today = units.today(tenant)
    check = Checker(data, LABELS)
    name = check.text("name", required=True, max_len=200)
    year = check.integer("year", default=today.year, minimum=2000, maximum=today.year + 1)
    missing = _("%(field)s: no such unit in your scope.", field=check.label("unit_id"))
    unit = await check.found("unit_id", partial(units.unit_pk, tenant, actor), missing)
    if unit is None and "unit_id" not in check.errors and actor.role != roles.OFFICE_ADMIN:
        unit = actor.scope_unit_id  # a unit officer's (a district's) project is their own unit's
    check.done()
    async with db.atomic():
        row = ClearingProject(tenant=tenant.id, name=name, year=year, unit=unit, created_by=actor.name[:100])
        await row.save()
        await audit.record(
            tenant.id,
            actor,
            "declass.clearing_create",
            "clearing_project",
            row.uuid,
            detail={"name": name, "year": year, "unit": unit},
        )
    return await project_detail(tenant, actor, row.uuid)


async def close_project(tenant: TenantRef, actor: Actor, project_id: Any) -> dict:
    """No more batches: once (a second close, 409). The bureau's projects are the office's."""
    _writer(actor)
    row = await _project(tenant, actor, project_id)
    if row["unit"] is None and actor.role != roles.OFFICE_ADMIN:
        raise Forbidden()
    async with db.atomic():
        await update_once(
            ClearingProject,
            {ClearingProject.status: "closed"},
            (ClearingProject.id == row["id"], ClearingProject.status == "open"),
            Conflict(_("The clearing project is closed already.")),
        )
        await audit.record(
            tenant.id, actor, "declass.clearing_close", "clearing_project", row["uuid"], detail={"name": row["name"]}
        )
    return await project_detail(tenant, actor, project_id)


def _closed() -> Conflict:
    return Conflict(_("The clearing project is closed: no more batches can be recorded."))


async def _entry_item(tenant: TenantRef, actor: Actor, check: Checker) -> dict | None:
    missing = _("%(field)s: no such item in the register you see.", field=check.label("item_id"))
    return await check.found("item_id", partial(access.item, tenant, actor), missing)


async def _entry_unit(tenant: TenantRef, actor: Actor, check: Checker, project: dict, item: dict | None) -> int | None:
    """The batch's unit: the one named (in the actor's scope and the project's unit's
    subtree), else the item's, the project's, or the officer's own."""
    missing = _("%(field)s: no such unit in your scope.", field=check.label("unit_id"))
    unit = await check.found("unit_id", partial(units.unit_pk, tenant, actor), missing)
    if "unit_id" in check.errors:
        return None
    if unit is None:
        unit = item["custodian_unit"] if item else project["unit"] or actor.scope_unit_id
    if unit is None:
        check.fail("unit_id", _("%(field)s is required.", field=check.label("unit_id")))
        return None
    path = await units.unit_path(tenant, unit) or ""
    if project["unit"] is not None and not path.startswith(project["unit_path"]):
        check.fail("unit_id", _("The unit is not within the project's unit."))
    elif not (actor.role == roles.OFFICE_ADMIN or access.in_scope(actor, path)):
        check.fail("unit_id", missing)
    elif item and item["custodian_unit"] != unit:
        check.fail("item_id", _("The item is another unit's."))
    return unit


def _entry_fields(check: Checker, item: dict | None, today: date) -> dict[str, Any]:
    level = check.choice("level", LEVELS, required=item is None) or (item["level"] if item else "")
    item_year = None
    if check.present("item_year") and check.data.get("item_year") not in (None, ""):
        item_year = check.integer("item_year", minimum=FIRST_ITEM_YEAR, maximum=today.year)
    elif item is not None:
        item_year = item["classified_on"].year
    else:
        check.fail("item_year", _("%(field)s is required.", field=check.label("item_year")))
    cleared_on = check.date("cleared_on") or today
    if cleared_on > today:
        check.fail("cleared_on", _("%(field)s cannot be in the future.", field=check.label("cleared_on")))
    elif item_year is not None and item_year > cleared_on.year and "item_year" not in check.errors:
        check.fail("item_year", _("Documents cannot be cleared before the year they were made."))
    return {
        "level": level,
        "item_year": item_year,
        "outcome": check.choice("outcome", OUTCOMES),
        "count": check.integer("count", default=1, minimum=1, maximum=MAX_COUNT),
        "cleared_on": cleared_on,
    }


async def record_entry(tenant: TenantRef, actor: Actor, project_id: Any, data: dict[str, Any]) -> dict:
    """A batch of documents cleared in an open project (a closed one refuses it, 409): one
    unit, level, year the documents were made and outcome, how many, who and when; an item
    of the register may be named, its unit, level and year then being the defaults."""
    _writer(actor)
    project = await _project(tenant, actor, project_id)
    if project["status"] != "open":
        raise _closed()
    today = units.today(tenant)
    check = Checker(data, LABELS)
    item = await _entry_item(tenant, actor, check)
    unit = await _entry_unit(tenant, actor, check, project, item)
    fields = _entry_fields(check, item, today)
    check.done()
    async with db.atomic():
        # holds the project open until this batch is in: a close at the same time waits, or wins
        await update_once(
            ClearingProject,
            {ClearingProject.status: "open"},
            (ClearingProject.id == project["id"], ClearingProject.status == "open"),
            _closed(),
        )
        row = ClearingEntry(
            tenant=tenant.id,
            project=project["id"],
            item=item["id"] if item else None,
            unit=unit,
            cleared_by=actor.name[:100],
            **fields,
        )
        await row.save()
        await audit.record(
            tenant.id,
            actor,
            "declass.clearing_record",
            "clearing_project",
            project["uuid"],
            detail={**fields, "cleared_on": fields["cleared_on"].isoformat(), "unit": unit, "item": row.item},
        )
    entry = await ClearingEntry.select(*ENTRY_COLUMNS).where(ClearingEntry.id == row.id).first()
    return {"project_id": str(project["uuid"]), **_entry_json(entry)}


# ---------------------------------------------------------------- statistics


def _year_bounds(tenant: TenantRef, year: int) -> tuple[date, date, datetime, datetime]:
    zone = ZoneInfo(tenant.timezone)
    first, last = date(year, 1, 1), date(year, 12, 31)
    return (
        first,
        last,
        datetime.combine(first, time.min, zone),
        datetime.combine(last + timedelta(days=1), time.min, zone),
    )


async def _statistics_filters(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    today = units.today(tenant)
    check = Checker({k: v for k, v in data.items() if v not in (None, "")}, LABELS)
    year = check.integer("year", default=today.year, minimum=2000, maximum=today.year + 1)
    missing = _("%(field)s: no such unit in your scope.", field=check.label("unit"))
    unit = await check.found("unit", partial(units.unit_pk, tenant, actor), missing)
    level = check.choice("level", LEVELS, required=False)
    check.done()
    path = await units.unit_path(tenant, unit) if unit is not None else None
    unit_id = str(check.uuid("unit")) if unit is not None else None
    return {"year": year, "unit": unit, "unit_id": unit_id, "unit_path": path, "level": level}


async def _clearing_figures(tenant: TenantRef, actor: Actor, f: dict[str, Any]) -> dict:
    first, last, _start, _end = _year_bounds(tenant, f["year"])
    where = [
        ClearingEntry.tenant == tenant.id,
        ClearingEntry.cleared_on >= first,
        ClearingEntry.cleared_on <= last,
        *_entry_scope(actor),
    ]
    if f["unit_path"]:
        where.append(ClearingEntry.unit.path.like(f["unit_path"] + "%"))
    if f["level"]:
        where.append(ClearingEntry.level == f["level"])
    by_year: dict[int, dict[str, int]] = defaultdict(_zero)
    by_level: dict[str, dict[str, int]] = defaultdict(_zero)
    for r in await (
        ClearingEntry.select(ClearingEntry.item_year, ClearingEntry.level, ClearingEntry.outcome, DOCUMENTS)
        .where(*where)
        .group_by(ClearingEntry.item_year, ClearingEntry.level, ClearingEntry.outcome)
    ):
        _add(by_year[r["item_year"]], r["outcome"], r["n"])
        _add(by_level[r["level"]], r["outcome"], r["n"])
    totals = _zero()
    for figures in by_year.values():
        for key, n in figures.items():
            totals[key] += n
    return {
        "totals": totals,
        "by_item_year": [{"item_year": y, **by_year[y]} for y in sorted(by_year)],
        "by_unit": await _by_unit(where),
        "by_level": [
            {"level": lv, "level_label": str(LEVELS.get(lv, lv)), **by_level[lv]}
            for lv in sorted(by_level, key=lambda lv: LEVEL_RANK.get(lv, 9))
        ],
    }


def _item_filters(actor: Actor, f: dict[str, Any], item: Any) -> list:
    """The actor's scope, the unit's subtree and the level, as filters on an item (a
    ClassifiedItem, or a decision's item)."""
    where = []
    if actor.role != roles.OFFICE_ADMIN:
        where.append(item.custodian_unit.path.like(actor.scope_path + "%"))
    if f["unit_path"]:
        where.append(item.custodian_unit.path.like(f["unit_path"] + "%"))
    if f["level"]:
        where.append(item.level == f["level"])
    return where


async def _register_figures(tenant: TenantRef, actor: Actor, f: dict[str, Any]) -> dict:
    """What the register decided in the year: approved decisions by kind (effective in the
    year, or approved in it when no date was given), and items declassified by expiry."""
    first, last, start, end = _year_bounds(tenant, f["year"])
    in_year = ((Decision.effective_on >= first) & (Decision.effective_on <= last)) | (
        Decision.effective_on.is_null() & (Decision.approved_at >= start) & (Decision.approved_at < end)
    )
    where = [
        Decision.tenant == tenant.id,
        Decision.status == "approved",
        in_year,
        *_item_filters(actor, f, Decision.item),
    ]
    kinds = {
        r["decision"]: r["n"]
        for r in await Decision.select(Decision.decision, Count(Decision.id).as_alias("n"))
        .where(*where)
        .group_by(Decision.decision)
    }
    in_part = await Decision.count().where(*where, Decision.decision == "declassify", Decision.part != "")
    expired = await ClassifiedItem.count().where(
        ClassifiedItem.tenant == tenant.id,
        ClassifiedItem.status == "expired",
        ClassifiedItem.declassified_on >= first,
        ClassifiedItem.declassified_on <= last,
        *_item_filters(actor, f, ClassifiedItem),
    )
    return {
        "declassified_by_decision": int(kinds.get("declassify", 0)),
        "declassified_in_part": int(in_part),
        "declassified_by_expiry": int(expired),
        "extended": int(kinds.get("extend", 0)),
        "level_changed": int(kinds.get("change_level", 0)),
        "corrected": int(kinds.get("correct", 0)),
    }


async def statistics(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict:
    """The pilot's statistics of a year (`year`, default this one) in the actor's scope,
    narrowed to a unit's subtree (`unit`) and a level (`level`): documents cleared in the
    year's batches (kept, declassified, corrected) by the year they were made, by unit and
    by level; and the register's decisions of the year."""
    _reader(actor)
    f = await _statistics_filters(tenant, actor, data)
    unit_name = ""
    if f["unit"] is not None:
        unit_name = next((u["name"] for u in await units.units_in_scope(tenant, actor) if u["pk"] == f["unit"]), "")
    return {
        "year": f["year"],
        "unit_id": f["unit_id"],
        "unit_name": unit_name,
        "level": f["level"],
        "clearing": await _clearing_figures(tenant, actor, f),
        "register": await _register_figures(tenant, actor, f),
    }
