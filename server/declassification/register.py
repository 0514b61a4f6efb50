"""The register of classified items: an item's fields checked (by hand or from a workbook's
row), its references resolved within the actor's scope, items written one by one or in
bulk, read, listed, changed while active, and exported to Excel. Metadata only: the
register never holds a secret, so a title that looks like the real (secret) one is refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from piccolo.query.functions.aggregate import Count

from server import db, roles
from server.actor import Actor
from server.audit import bulk as audit_bulk
from server.audit import service as audit
from server.core.bulk import new_row
from server.core.chunks import chunks
from server.core.errors import Conflict, Forbidden
from server.core.i18n import _, _l
from server.core.once import update_once
from server.core.pagination import Page
from server.core.validation import Checker
from server.declassification import access, terms
from server.declassification.tables import ClassifiedItem, ReviewTask
from server.documents.xlsx import write_workbook
from server.units import service as units
from tenants.service import TenantRef

LABELS = {
    "reference": _l("Reference number"),
    "public_title": _l("Public title"),
    "title_is_secret": _l("Title marked secret"),
    "level": _l("Classification level"),
    "classified_on": _l("Classified on"),
    "term_kind": _l("Kind of term"),
    "term_years": _l("Term in years"),
    "term_until": _l("Classified until"),
    "term_condition": _l("Condition ending the term"),
    "knowledge_scope": _l("Knowledge scope"),
    "origin": _l("Original or derived"),
    "source_item_id": _l("Source item"),
    "source_reference": _l("Source item's reference number"),
    "originating_unit_id": _l("Originating unit"),
    "originating_body": _l("Originating body"),
    "custodian_unit_id": _l("Custodian unit"),
    "responsible_person_id": _l("Person responsible for classification"),
    "basis": _l("Basis of classification"),
    "handler": _l("Handler"),
    # list filters
    "unit": _l("Unit"),
    "status": _l("Status"),
    "q": _l("Search"),
    "due_within": _l("Term ends within (days)"),
    "year": _l("Year classified"),
}
ORIGINS = {"original": _l("Original classification"), "derived": _l("Derived classification")}
STATUSES = {
    "active": _l("Still classified"),
    "partly_declassified": _l("Partly declassified"),
    "declassified": _l("Declassified"),
    "expired": _l("Declassified by expiry of term"),
}
# a public title longer than this is taken for more than a reference or description
TITLE_GUARD_LEN = 100
SECRET_MARKS = ("绝密", "机密", "秘密", "★")
# the fields of an item's term (its level and date too), and of its origin
TERM_FIELDS = ("level", "classified_on", "term_kind", "term_years", "term_until", "term_condition")
ORIGIN_FIELDS = ("origin", "source_item_id", "source_reference", "originating_unit_id", "originating_body")
# fields an item's input may hold, in the order a form and a workbook show them
FIELDS = (
    "reference",
    "public_title",
    *TERM_FIELDS,
    "knowledge_scope",
    *ORIGIN_FIELDS,
    "custodian_unit_id",
    "responsible_person_id",
    "basis",
    "handler",
)
SOURCE_FIELDS = ("source_item_id", "source_reference")
# the references an item's input names by public id, and the column each fills
REFS = {
    "custodian_unit_id": "custodian_unit",
    "source_item_id": "source_item",
    "originating_unit_id": "originating_unit",
    "responsible_person_id": "responsible_person",
}
# what an item's values may write (check_item's and resolve_refs's keys)
COLUMNS = frozenset(c._meta.name for c in ClassifiedItem._meta.columns) - {"id", "uuid", "tenant"}
# who registers and changes items, and how they see them (access.py's views)
WRITERS = {roles.OFFICE_ADMIN, roles.UNIT_OFFICER}
WRITE_VIEWS = (access.OFFICE, access.UNIT)


def title_refused() -> str:
    return _(
        "The register holds no secrets: give a short, non-secret reference or description "
        "here, not the real title (a title marked 绝密, 机密, 秘密 or ★, or longer than "
        "%(max)d characters, is refused).",
        max=TITLE_GUARD_LEN,
    )


# ---------------------------------------------------------------- checking an item


def _check_title(check: Checker) -> str:
    title = check.text("public_title", required=True, max_len=200)
    marked = check.boolean("title_is_secret")
    if marked or len(title) > TITLE_GUARD_LEN or any(mark in title for mark in SECRET_MARKS):
        check.fail("public_title", title_refused())
    return title


def _check_classified_on(check: Checker, today: date) -> date | None:
    day = check.date("classified_on", required=True)
    if day and day > today:
        check.fail("classified_on", _("%(field)s cannot be in the future.", field=check.label("classified_on")))
    return day


def _derived_from_source(check: Checker) -> bool:
    """A derived item naming its source: its level and term may come from the source."""
    return check.data.get("origin") == "derived" and any(_given(check, f) for f in SOURCE_FIELDS)


def _given(check: Checker, field: str) -> bool:
    return check.data.get(field) not in (None, "")


def _check_term(check: Checker, level: str, classified_on: date | None, origin: str) -> dict[str, Any]:
    """The term's columns: years (1 to the level's ceiling), a date after the
    classification, or a condition in words. A derived item with none: the default of its
    level (or, with a source, the source's term: resolve_refs copies it)."""
    out: dict[str, Any] = {
        "term_kind": "",
        "term_years": None,
        "term_until": None,
        "term_condition": "",
        "term_defaulted": False,
    }
    if not _given(check, "term_kind") and origin == "derived":
        if level in terms.MAX_YEARS:
            out.update(term_kind="years", term_years=terms.default_years(level), term_defaulted=True)
        return out
    kind = check.choice("term_kind", terms.TERM_KINDS)
    out["term_kind"] = kind
    if kind == "years":
        ceiling = terms.MAX_YEARS.get(level, max(terms.MAX_YEARS.values()))
        out["term_years"] = check.required_integer(
            "term_years",
            ceiling,
            _(
                "%(field)s must be from 1 to %(max)d years (the ceiling of this level).",
                field=check.label("term_years"),
                max=ceiling,
            ),
        )
    elif kind == "date":
        until = check.date("term_until", required=True)
        if until and classified_on and until <= classified_on:
            check.fail(
                "term_until",
                _("%(field)s must be after the day it was classified.", field=check.label("term_until")),
            )
        out["term_until"] = until
    elif kind == "condition":
        out["term_condition"] = check.text("term_condition", required=True, max_len=1000)
    return out


def _check_origin(check: Checker) -> str:
    origin = check.choice("origin", ORIGINS, required=False, default="original")
    if origin == "derived" and not any(
        _given(check, f) for f in (*SOURCE_FIELDS, "originating_unit_id", "originating_body")
    ):
        check.fail(
            "source_item_id",
            _("A derived item names its source: an item of the register, an originating unit or body."),
        )
    return origin


def check_item(check: Checker, *, partial: bool = False, today: date | None = None) -> dict:
    """One item's fields from `check.data` (a form, the API or a workbook's row), as the
    columns they fill: the references by public id are left to resolve_refs. `partial`: only
    the fields given, and the whole term (its kind with what that needs, the term's end)
    when any part of it is given. `today`: the tenant's day (a classification may not be
    later); the server's by default. Errors go to `check` (the caller calls check.done())."""
    today = today or date.today()
    readers = {
        "reference": lambda: check.text("reference", required=True, max_len=100),
        "public_title": lambda: _check_title(check),
        "level": lambda: check.choice("level", terms.LEVELS, required=not _derived_from_source(check)),
        "classified_on": lambda: _check_classified_on(check, today),
        "origin": lambda: _check_origin(check),
        "originating_body": lambda: check.text("originating_body", max_len=200),
        "knowledge_scope": lambda: check.text("knowledge_scope", max_len=2000),
        "basis": lambda: check.text("basis", required=True, max_len=2000),
        "handler": lambda: check.text("handler", max_len=100),
    }
    values = check.fields(readers, partial=partial)
    if partial and "public_title" not in values and check.present("title_is_secret"):
        values["public_title"] = _check_title(check)
    term_given = any(check.present(f) for f in ("term_kind", "term_years", "term_until", "term_condition"))
    if not partial or term_given:
        values.update(
            _check_term(check, values.get("level", ""), values.get("classified_on"), values.get("origin", ""))
        )
        values["term_ends_on"] = _term_end(values)
    return values


def _term_end(values: dict) -> date | None:
    if not values.get("classified_on") or not values.get("term_kind"):
        return None
    return terms.term_end(values["classified_on"], values["term_kind"], values["term_years"], values["term_until"])


# ---------------------------------------------------------------- references


def _everyone(actor: Actor) -> Actor:
    """The actor without a unit scope: for what is looked up tenant-wide (an originating
    unit may be any unit of the tenant)."""
    return replace(actor, scope_unit_id=None, scope_path=None)


async def _source(tenant: TenantRef, actor: Actor, source_id: Any) -> dict:
    return await access.item(tenant, actor, source_id)


async def resolve_refs(tenant: TenantRef, actor: Actor, check: Checker, values: dict) -> dict:
    """The references of `check.data` as row ids in `values` (custodian_unit, source_item,
    originating_unit, responsible_person), each refused under its field when it names
    nothing the actor may use: the custodian unit within the actor's scope, a source item
    the actor sees, any unit of the tenant as originator, a person of the tenant. A derived
    item takes its source's level, and its source's term when it marks none (ending when
    the source's does). Returns `values`."""
    no_unit = _("%(field)s: no such unit in your scope.", field=check.label("custodian_unit_id"))
    if check.present("custodian_unit_id") or not values.get("custodian_unit"):
        unit = await check.found("custodian_unit_id", partial(units.unit_pk, tenant, actor), no_unit)
        if unit is None and not check.present("custodian_unit_id") and actor.scope_unit_id:
            unit = actor.scope_unit_id  # a unit officer's items are their unit's unless they say
        if unit is None and "custodian_unit_id" not in check.errors:
            check.fail("custodian_unit_id", _("%(field)s is required.", field=check.label("custodian_unit_id")))
        values["custodian_unit"] = unit
    if check.present("originating_unit_id"):
        missing = _("%(field)s: no such unit.", field=check.label("originating_unit_id"))
        values["originating_unit"] = await check.found(
            "originating_unit_id", partial(units.unit_pk, tenant, _everyone(actor)), missing
        )
    if check.present("responsible_person_id"):
        values["responsible_person"] = await _person(tenant, check)
    if any(check.present(f) for f in SOURCE_FIELDS):
        source, field = await _find_source(tenant, actor, check)
        values["source_item"] = source["id"] if source else None
        if source and values.get("origin") != "derived":
            check.fail(field, _("Only a derived item has a source item."))
        elif source:
            _copy_source(check, values, source)
    return values


async def _find_source(tenant: TenantRef, actor: Actor, check: Checker) -> tuple[dict | None, str]:
    """The source item by its id, else by its reference number (among the items the actor
    sees); and the field it was named by."""
    if _given(check, "source_item_id") or not _given(check, "source_reference"):
        missing = _("%(field)s: no such item in the register you see.", field=check.label("source_item_id"))
        return await check.found("source_item_id", partial(_source, tenant, actor), missing), "source_item_id"
    reference = check.text("source_reference", max_len=100)
    found = (
        await ClassifiedItem.select(ClassifiedItem.uuid)
        .where(ClassifiedItem.tenant == tenant.id, ClassifiedItem.reference == reference)
        .where(*await access.scope_where(tenant, actor))
        .limit(2)
    )
    if len(found) != 1:
        check.fail(
            "source_reference",
            _("No item with this reference number in the register you see.")
            if not found
            else _("Several items you see have this reference number: pick the source by its id."),
        )
        return None, "source_reference"
    return await _source(tenant, actor, found[0]["uuid"]), "source_reference"


async def _person(tenant: TenantRef, check: Checker) -> int | None:
    person_id = check.uuid("responsible_person_id")
    if person_id is None:
        return None
    found = await units.person_pks(tenant, [str(person_id)])
    if not found:
        check.fail(
            "responsible_person_id",
            _("%(field)s: no such person.", field=check.label("responsible_person_id")),
        )
    return found.get(str(person_id))


def _copy_level_and_term(check: Checker, values: dict, source: dict) -> None:
    if not _given(check, "level"):
        values["level"] = source["level"]
        check.errors.pop("level", None)
    if _given(check, "term_kind"):
        return
    values.update(term_kind=source["term_kind"], term_years=None, term_until=None, term_defaulted=False)
    values["term_condition"] = source["term_condition"] if source["term_kind"] == "condition" else ""
    if source["term_ends_on"] is not None:
        values.update(term_kind="date", term_until=source["term_ends_on"])
        if values.get("classified_on") and source["term_ends_on"] <= values["classified_on"]:
            field = "source_item_id" if _given(check, "source_item_id") else "source_reference"
            check.fail(field, _("The source item's term had ended before this item was classified."))
    values["term_ends_on"] = _term_end(values)


def _copy_source(check: Checker, values: dict, source: dict) -> None:
    """A derived item's level and term from its source when its input gives none, and its
    originator: the source's custodian unit unless another is named."""
    if not _given(check, "originating_unit_id") and not _given(check, "originating_body"):
        values["originating_unit"] = source["custodian_unit"]
    _copy_level_and_term(check, values, source)


# ---------------------------------------------------------------- writing


async def insert_items(tenant: TenantRef, actor: Actor, rows: list[dict]) -> list[dict]:
    """Checked and resolved items (check_item and resolve_refs's values) written in bulk
    on the caller's transaction, one audit event each; the rows written, each with its
    `id` and `uuid`."""
    made = [
        new_row(tenant=tenant.id, **{k: v for k, v in row.items() if k in COLUMNS}, created_by=actor.name)
        for row in rows
    ]
    done = [(actor, {"reference": r["reference"], "level": r["level"]}) for r in made]
    await audit_bulk.insert_recorded(
        ClassifiedItem, made, tenant.id, "declass.item_create", "classified_item", done, ids=True
    )
    return made


def _forbid_writers(actor: Actor) -> None:
    if actor.role not in WRITERS:
        raise Forbidden()


async def create_item(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict:
    """Register one item (the office anywhere, a unit's officer in their subtree)."""
    _forbid_writers(actor)
    check = Checker(data, LABELS)
    values = check_item(check, today=units.today(tenant))
    await resolve_refs(tenant, actor, check, values)
    await _check_reference_free(tenant, check, values)
    check.done()
    try:
        async with db.atomic():
            made = await insert_items(tenant, actor, [values])
    except Exception as exc:
        # the same reference registered for the unit at the same moment (the unique index)
        if not db.unique_violation(exc):
            raise
        raise Conflict(reference_taken(), errors={"reference": reference_taken()}) from exc
    return await get_item(tenant, actor, made[0]["uuid"])


def reference_taken() -> str:
    return _("This reference number is already in the register of the custodian unit.")


async def _check_reference_free(tenant: TenantRef, check: Checker, values: dict, exclude: int | None = None) -> None:
    """A reference names one item of a custodian unit (a unique index says so too)."""
    if "reference" in check.errors or not values.get("custodian_unit") or not values.get("reference"):
        return
    where = [
        ClassifiedItem.tenant == tenant.id,
        ClassifiedItem.custodian_unit == values["custodian_unit"],
        ClassifiedItem.reference == values["reference"],
    ]
    if exclude is not None:
        where.append(ClassifiedItem.id != exclude)
    if await ClassifiedItem.exists().where(*where):
        check.fail("reference", reference_taken())


# ---------------------------------------------------------------- reading


def _ref(value: Any) -> str | None:
    return None if value is None else str(value)


def _public(row: dict, today: date, open_tasks: int) -> dict:
    """An item as the API and pages show it."""
    live = row["status"] in ("active", "partly_declassified")
    return {
        "id": str(row["uuid"]),
        **{k: row[k] for k in ("reference", "public_title", "level", "classified_on", "term_kind")},
        "level_label": str(terms.LEVELS.get(row["level"], row["level"])),
        "term_years": row["term_years"],
        "term_until": row["term_until"],
        "term_condition": row["term_condition"],
        "term_defaulted": row["term_defaulted"],
        "term_ends_on": row["term_ends_on"],
        "days_left": terms.days_left(row["term_ends_on"], today) if live else None,
        "knowledge_scope": row["knowledge_scope"],
        "origin": row["origin"],
        "source_item_id": _ref(row["source_uuid"]),
        "source_reference": row["source_reference"] or "",
        "originating_unit_id": _ref(row["originating_unit_uuid"]),
        "originating_unit_name": row["originating_unit_name"] or "",
        "originating_body": row["originating_body"],
        "custodian_unit_id": str(row["unit_uuid"]),
        "unit_name": row["unit_name"],
        "responsible_person_id": _ref(row["responsible_uuid"]),
        "responsible_name": row["responsible_name"] or "",
        "basis": row["basis"],
        "handler": row["handler"],
        "status": row["status"],
        "status_label": str(STATUSES.get(row["status"], row["status"])),
        "declassified_on": row["declassified_on"],
        "declassified_part": row["declassified_part"],
        "publication": row["publication"],
        "last_reviewed_on": row["last_reviewed_on"],
        "open_tasks": open_tasks,
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


async def _open_tasks(tenant: TenantRef, item_pks: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for batch in chunks(item_pks):
        rows = (
            await ReviewTask.select(ReviewTask.item, Count(ReviewTask.id, alias="n"))
            .where(ReviewTask.tenant == tenant.id, ReviewTask.item.is_in(list(batch)), ReviewTask.status == "open")
            .group_by(ReviewTask.item)
        )
        counts.update({r["item"]: r["n"] for r in rows})
    return counts


async def get_item(tenant: TenantRef, actor: Actor, item_id: Any) -> dict:
    """One item as the actor sees it (404 outside their part of the register), with its
    term's end and days left, its status, its open review tasks, and whether they may
    change it (`may_edit`)."""
    row = await access.item(tenant, actor, item_id)
    tasks = await _open_tasks(tenant, [row["id"]])
    return {
        **_public(row, units.today(tenant), tasks.get(row["id"], 0)),
        "view": row["view"],
        "may_edit": row["view"] in WRITE_VIEWS and row["status"] == "active",
    }


def _check_filters(check: Checker) -> dict[str, Any]:
    return {
        "level": check.choice("level", terms.LEVELS, required=False),
        "status": check.choice("status", STATUSES, required=False),
        "origin": check.choice("origin", ORIGINS, required=False),
        "q": check.text("q", max_len=100),
        "due_within": check.integer("due_within", default=-1, minimum=0, maximum=36500)
        if _given(check, "due_within")
        else None,
        "year": check.integer("year", minimum=1900, maximum=2200) if _given(check, "year") else None,
    }


async def _filters(tenant: TenantRef, actor: Actor, query: dict[str, Any]) -> tuple[list, bool]:
    """The query's filters on ClassifiedItem, and whether it asks for what is due."""
    check = Checker(query, LABELS)
    f = _check_filters(check)
    missing = _("%(field)s: no such unit in your scope.", field=check.label("unit"))
    unit_pk = await check.found("unit", partial(units.unit_pk, tenant, actor), missing)
    check.done()
    where = []
    if unit_pk is not None:
        path = await units.unit_path(tenant, unit_pk)
        where.append(ClassifiedItem.custodian_unit.path.like((path or "/none/") + "%"))
    for key in ("level", "status", "origin"):
        if f[key]:
            where.append(getattr(ClassifiedItem, key) == f[key])
    if f["q"]:
        where.append(db.contains(ClassifiedItem.reference, f["q"]) | db.contains(ClassifiedItem.public_title, f["q"]))
    if f["year"] is not None:
        where += [
            ClassifiedItem.classified_on >= date(f["year"], 1, 1),
            ClassifiedItem.classified_on <= date(f["year"], 12, 31),
        ]
    due = f["due_within"] is not None
    if due:
        until = units.today(tenant) + timedelta(days=f["due_within"])
        where += [
            ClassifiedItem.status.is_in(["active", "partly_declassified"]),
            ClassifiedItem.term_ends_on.is_not_null(),
            ClassifiedItem.term_ends_on <= until,
        ]
    return where, due


async def _rows(tenant: TenantRef, where: list, due: bool, *, limit: int | None = None, offset: int = 0) -> list[dict]:
    query = ClassifiedItem.select(*access.ITEM_COLUMNS).where(ClassifiedItem.tenant == tenant.id, *where)
    if due:
        query = query.order_by(ClassifiedItem.term_ends_on)
    else:
        query = query.order_by(ClassifiedItem.classified_on, ascending=False)
    query = query.order_by(ClassifiedItem.id, ascending=False)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return await query


async def list_items(tenant: TenantRef, actor: Actor, query: dict[str, Any], page: int = 1, per_page: int = 50) -> Page:
    """The items in the actor's part of the register, newest classification first (by the
    end of their term when `due_within` asks what is due). Filters: unit (its subtree),
    level, status, origin, q (reference or public title), due_within (days), year."""
    scope = await access.scope_where(tenant, actor)
    where, due = await _filters(tenant, actor, query)
    total = await ClassifiedItem.count().where(ClassifiedItem.tenant == tenant.id, *scope, *where)
    rows = await _rows(tenant, [*scope, *where], due, limit=per_page, offset=(page - 1) * per_page)
    tasks = await _open_tasks(tenant, [r["id"] for r in rows])
    today = units.today(tenant)
    return Page([_public(r, today, tasks.get(r["id"], 0)) for r in rows], total, page, per_page)


async def form_choices(tenant: TenantRef, actor: Actor) -> dict[str, Any]:
    """What an item's form offers: custodian units in the actor's scope, any unit of the
    tenant as originator, the people in post in the actor's scope, the levels, kinds of
    term and origins."""
    people: dict[str, str] = {}
    for post in await units.current_posts_with_pks(tenant, actor):
        people.setdefault(post["person_id"], f"{post['person_name']} · {post['unit_name']}")
    return {
        "units": await units.unit_choices(tenant, actor),
        "originators": await units.unit_choices(tenant, _everyone(actor)),
        "people": sorted(people.items(), key=lambda kv: kv[1]),
        "levels": terms.LEVELS,
        "term_kinds": terms.TERM_KINDS,
        "origins": ORIGINS,
        "statuses": STATUSES,
    }


# ---------------------------------------------------------------- changing


def _as_input(row: dict) -> dict[str, Any]:
    """A stored item as the input that would make it (the base a change applies to)."""
    data = {k: row[k] for k in FIELDS if k in row and not k.endswith("_id")}
    data.update(
        source_reference="",
        custodian_unit_id=_ref(row["unit_uuid"]),
        source_item_id=_ref(row["source_uuid"]),
        originating_unit_id=_ref(row["originating_unit_uuid"]),
        responsible_person_id=_ref(row["responsible_uuid"]),
    )
    if data["term_kind"] != "years":
        data["term_years"] = None
    return data


def _touched(data: dict[str, Any]) -> set[str]:
    """The fields a change may be refused under: those it gives, and the whole term (or
    the whole origin) when it gives part of it."""
    fields = set(data)
    if fields & set(TERM_FIELDS):
        fields |= set(TERM_FIELDS)
    if fields & set(ORIGIN_FIELDS):
        fields |= set(ORIGIN_FIELDS)
    if "title_is_secret" in fields:
        fields.add("public_title")
    return fields


async def _check_no_cycle(tenant: TenantRef, check: Checker, item_pk: int, source_pk: int | None) -> None:
    """A source may not derive, however far back, from the item itself."""
    seen: set[int] = set()
    while source_pk is not None and source_pk not in seen:
        if source_pk == item_pk:
            check.fail("source_item_id", _("An item cannot derive from itself, however far back."))
            return
        seen.add(source_pk)
        row = (
            await ClassifiedItem.select(ClassifiedItem.source_item)
            .where(ClassifiedItem.tenant == tenant.id, ClassifiedItem.id == source_pk)
            .first()
        )
        source_pk = row["source_item"] if row else None


async def update_item(tenant: TenantRef, actor: Actor, item_id: Any, data: dict[str, Any]) -> dict:
    """Change the fields given of an active item (the office, or the officer of its unit):
    the term's end recomputed, the change audited with the fields it changed. An item
    already declassified is refused (409): its decisions changed it."""
    _forbid_writers(actor)
    row = await access.item(tenant, actor, item_id, allow=WRITE_VIEWS)
    data = {k: v for k, v in data.items() if k in (*FIELDS, "title_is_secret")}
    if data.get("source_reference") not in (None, "") and data.get("source_item_id") in (None, ""):
        data["source_item_id"] = None  # named anew by its reference
    given = Checker(data, LABELS)
    given.changes([*FIELDS, "title_is_secret"])
    given.done()
    check = Checker({**_as_input(row), **data}, LABELS)
    values = check_item(check, today=units.today(tenant))
    await resolve_refs(tenant, actor, check, values)
    if values.get("source_item") is not None:
        await _check_no_cycle(tenant, check, row["id"], values["source_item"])
    await _check_reference_free(tenant, check, values, exclude=row["id"])
    touched = _touched(data)
    check.errors = {k: v for k, v in check.errors.items() if k in touched}
    check.done()
    # what the fields given write: their columns, and the term's end with the term
    columns = {REFS.get(f, f) for f in touched}
    if touched & set(TERM_FIELDS):
        columns |= {"term_defaulted", "term_ends_on"}
    if touched & set(ORIGIN_FIELDS):
        columns |= {"originating_unit"}
    changed = {k: v for k, v in values.items() if k in columns & COLUMNS and row.get(k) != v}
    return await _write_change(tenant, actor, row, changed)


async def _write_change(tenant: TenantRef, actor: Actor, row: dict, changed: dict[str, Any]) -> dict:
    try:
        await _write(tenant, actor, row, changed)
    except Exception as exc:
        if not db.unique_violation(exc):
            raise
        raise Conflict(reference_taken(), errors={"reference": reference_taken()}) from exc
    return await get_item(tenant, actor, row["uuid"])


async def _write(tenant: TenantRef, actor: Actor, row: dict, changed: dict[str, Any]) -> None:
    if changed:
        async with db.atomic():
            await update_once(
                ClassifiedItem,
                {getattr(ClassifiedItem, k): v for k, v in changed.items()}
                | {ClassifiedItem.updated_at: datetime.now(UTC)},
                (ClassifiedItem.id == row["id"], ClassifiedItem.status == "active"),
                Conflict(_("Only an item still classified can be changed; its decisions changed this one.")),
            )
            await audit.record(
                tenant.id,
                actor,
                "declass.item_update",
                "classified_item",
                str(row["uuid"]),
                detail={"reference": row["reference"], "fields": sorted(changed)},
            )
    elif row["status"] != "active":
        raise Conflict(_("Only an item still classified can be changed; its decisions changed this one."))


# ---------------------------------------------------------------- export


async def export_items(tenant: TenantRef, actor: Actor, query: dict[str, Any]) -> bytes:
    """The items of the actor's part of the register (as filtered) as a workbook."""
    scope = await access.scope_where(tenant, actor)
    where, due = await _filters(tenant, actor, query)
    await audit.record(tenant.id, actor, "export.classified_items", "classified_item", "", detail=query or None)
    rows = await _rows(tenant, [*scope, *where], due)
    today = units.today(tenant)
    headers = [str(LABELS[k]) for k in ("reference", "public_title", "level", "classified_on", "term_kind")]
    headers += [str(_l("Term ends on")), str(_l("Days left"))]
    headers += [str(LABELS[k]) for k in ("knowledge_scope", "origin")]
    headers += [str(LABELS["source_item_id"]), str(LABELS["originating_unit_id"]), str(LABELS["originating_body"])]
    headers += [str(LABELS["custodian_unit_id"]), str(LABELS["responsible_person_id"])]
    headers += [str(LABELS["basis"]), str(LABELS["handler"]), str(LABELS["status"]), str(_l("Declassified on"))]
    out = []
    for r in rows:
        item = _public(r, today, 0)
        out.append(
            [
                item["reference"],
                item["public_title"],
                item["level_label"],
                item["classified_on"],
                _term_text(item),
                item["term_ends_on"],
                item["days_left"],
                item["knowledge_scope"],
                str(ORIGINS.get(item["origin"], item["origin"])),
                item["source_reference"],
                item["originating_unit_name"],
                item["originating_body"],
                item["unit_name"],
                item["responsible_name"],
                item["basis"],
                item["handler"],
                item["status_label"],
                item["declassified_on"],
            ]
        )
    return write_workbook([(str(_l("Classified items")), headers, out)])


def _term_text(item: dict) -> str:
    """The term in words, as the register reads it."""
    if item["term_kind"] == "years":
        text = _("%(years)s years", years=item["term_years"] or 0)
        return text + (" " + _("(by default of its level)") if item["term_defaulted"] else "")
    if item["term_kind"] == "date":
        return _("Until %(date)s", date=item["term_until"].isoformat() if item["term_until"] else "")
    return _("Until: %(condition)s", condition=item["term_condition"])
