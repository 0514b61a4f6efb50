"""Publication: what the public page shows of declassified items. A published entry is a
copy of the publishable fields alone (reference, public title, unit, level, date, what was
declassified), so the public side reads this table and never the register; an entry is
withdrawn with a reason, never deleted. The office decides, item by item, whether a
declassified item is published or withheld."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from piccolo.columns import Column

from server import db, roles
from server.actor import Actor
from server.audit import service as audit
from server.core.errors import Conflict, Forbidden
from server.core.i18n import _, _l
from server.core.once import update_once
from server.core.pagination import PER_PAGE, Page, read_page
from server.core.rows import pick, public
from server.core.validation import Checker
from server.declassification import access, tasks
from server.declassification.tables import ClassifiedItem, Publication
from server.declassification.terms import LEVELS
from server.units import service as units
from tenants.service import TenantRef, get_owned

# an item in one of these states may go on the public page
DECLASSIFIED = ("declassified", "partly_declassified", "expired")
STATUSES = {
    "declassified": _l("Declassified"),
    "partly_declassified": _l("Partly declassified"),
    # 自行解密: the term passed with no decision
    "expired": _l("Declassified by expiry of term"),
}


def _now() -> datetime:
    return datetime.now(UTC)


async def publish_item(
    tenant: TenantRef, actor: Actor, item: dict, *, what: str, declassified_on: date, undecided_only: bool = False
) -> dict:
    """Put a declassified item on the public page: its Publication row (copies of the
    publishable fields of `item`: id, uuid, reference, public_title, level, custodian_unit,
    unit_name) and the item marked published; audit declass.publish. Call it once the item's
    status is declassified, partly_declassified or expired. Once per item: Conflict (409)
    when it is already published (or not declassified). An item withheld before may be
    published (a later decision), unless `undecided_only` (the office's desk decides once)."""
    allowed = [""] if undecided_only else ["", "withheld"]
    async with db.atomic():
        marked = await update_once(
            ClassifiedItem,
            {ClassifiedItem.publication: "published", ClassifiedItem.updated_at: _now()},
            (
                ClassifiedItem.tenant == tenant.id,
                ClassifiedItem.id == item["id"],
                ClassifiedItem.publication.is_in(allowed),
                ClassifiedItem.status.is_in(list(DECLASSIFIED)),
            ),
        )
        if not marked:
            raise Conflict(_not_publishable_message(await _state_of(tenant, item["id"])))
        # an item declassified by expiry waited for this decision: its task is done
        await tasks.close_tasks(tenant, item["id"], ["expiry"])
        row = {
            "uuid": uuid4(),
            "tenant": tenant.id,
            "item": item["id"],
            "reference": item["reference"],
            "public_title": item["public_title"],
            "unit_name": item["unit_name"],
            "unit": item["custodian_unit"],
            "level": item["level"],
            "declassified_on": declassified_on,
            "what": what,
            "published_at": _now(),
            "published_by": actor.name,
        }
        await Publication.insert(Publication(**row))
        await audit.record(
            tenant.id,
            actor,
            "declass.publish",
            "declassified_publication",
            str(row["uuid"]),
            detail={"item": str(item["uuid"]), "reference": item["reference"], "what": what},
        )
    return await _entry_by_uuid(tenant, row["uuid"])


async def _state_of(tenant: TenantRef, pk: int) -> dict | None:
    return (
        await ClassifiedItem.select(ClassifiedItem.status, ClassifiedItem.publication)
        .where(ClassifiedItem.tenant == tenant.id, ClassifiedItem.id == pk)
        .first()
    )


def _not_publishable_message(state: dict | None) -> str:
    if state and state["publication"] == "published":
        return _("This item is already published.")
    if state and state["publication"] == "withheld" and state["status"] in DECLASSIFIED:
        return _("The publication of this item has already been decided.")
    return _("Only a declassified item can be published.")


# ---------------------------------------------------------------- the office's decisions

LABELS = {
    "publish": _l("Publish"),
    "what": _l("What was declassified"),
    "reason": _l("Reason"),
}
WAITING_COLUMNS = (
    *access.LIST_COLUMNS,
    ClassifiedItem.declassified_on,
    ClassifiedItem.declassified_part,
    ClassifiedItem.term_ends_on,
    ClassifiedItem.custodian_unit.name.as_alias("unit_name"),
)


def _office(actor: Actor) -> None:
    if actor.role != roles.OFFICE_ADMIN:
        raise Forbidden()


async def waiting(tenant: TenantRef, actor: Actor, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Declassified items (by a decision or by expiry) the office has not yet decided to
    publish or withhold, the longest waiting first."""
    _office(actor)
    where = (
        ClassifiedItem.tenant == tenant.id,
        ClassifiedItem.status.is_in(list(DECLASSIFIED)),
        ClassifiedItem.publication == "",
    )
    order = [ClassifiedItem.declassified_on, ClassifiedItem.id]
    return await read_page(ClassifiedItem, where, WAITING_COLUMNS, order, page, per_page, shape=_waiting)


def _waiting(row: dict) -> dict:
    return public(
        row,
        "reference",
        "public_title",
        "level",
        "status",
        by_expiry=row["status"] == "expired",
        unit=row["unit_name"],
        declassified_on=_declassified_on(row),
        part=row["declassified_part"],
    )


def _declassified_on(row: dict) -> date | None:
    """The day declassified: a decision's, or for an item declassified by expiry the day
    after its term ended."""
    if row["declassified_on"] is not None:
        return row["declassified_on"]
    return row["term_ends_on"] + timedelta(days=1) if row["term_ends_on"] else None


async def decide(tenant: TenantRef, actor: Actor, item_id: Any, data: dict[str, Any]) -> dict:
    """The office's decision on a declassified item: publish it (with what was declassified:
    by default the part a partial declassification named, empty for the whole item) or
    withhold it (with a reason). Answers {item_id, publication, entry}."""
    _office(actor)
    # the item first: another tenant's id is not found, whatever the form says
    item = await access.item(tenant, actor, item_id, allow=(access.OFFICE,))
    check = Checker(data, LABELS)
    publish = check.boolean("publish")
    what = check.text("what", max_len=2000)
    reason = check.text("reason", required=not publish, max_len=2000)
    if "publish" not in data:
        check.fail("publish", _("%(field)s is required.", field=check.label("publish")))
    check.done()
    if item["status"] not in DECLASSIFIED:
        raise Conflict(_("Only a declassified item can be published."))
    if publish:
        on = _declassified_on(item) or units.today(tenant)
        entry = await publish_item(
            tenant, actor, item, what=what or item["declassified_part"], declassified_on=on, undecided_only=True
        )
        return {"item_id": str(item["uuid"]), "publication": "published", "entry": entry}
    await _withhold(tenant, actor, item, reason)
    return {"item_id": str(item["uuid"]), "publication": "withheld", "entry": None}


async def _withhold(tenant: TenantRef, actor: Actor, item: dict, reason: str) -> None:
    async with db.atomic():
        await update_once(
            ClassifiedItem,
            {ClassifiedItem.publication: "withheld", ClassifiedItem.updated_at: _now()},
            (ClassifiedItem.tenant == tenant.id, ClassifiedItem.id == item["id"], ClassifiedItem.publication == ""),
            Conflict(_("The publication of this item has already been decided.")),
        )
        await tasks.close_tasks(tenant, item["id"], ["expiry"])
        await audit.record(
            tenant.id,
            actor,
            "declass.withhold",
            "classified_item",
            str(item["uuid"]),
            detail={"reference": item["reference"], "reason": reason},
        )


async def withdraw(tenant: TenantRef, actor: Actor, publication_id: Any, data: dict[str, Any]) -> dict:
    """Withdraw a published entry with a reason: it stays on the public page, marked
    withdrawn with the reason and the day. Once: Conflict the second time."""
    _office(actor)
    check = Checker(data, LABELS)
    reason = check.text("reason", required=True, max_len=2000)
    check.done()
    row = await get_owned(Publication, tenant, publication_id, Publication.id, Publication.uuid, Publication.reference)
    async with db.atomic():
        await update_once(
            Publication,
            {Publication.withdrawn_at: _now(), Publication.withdrawn_reason: reason},
            (Publication.tenant == tenant.id, Publication.id == row["id"], Publication.withdrawn_at.is_null()),
            Conflict(_("This entry has already been withdrawn.")),
        )
        await audit.record(
            tenant.id,
            actor,
            "declass.withdraw",
            "declassified_publication",
            str(row["uuid"]),
            detail={"reference": row["reference"], "reason": reason},
        )
    return await _entry_by_uuid(tenant, row["uuid"])


# ---------------------------------------------------------------- what was published

# the office's view of an entry; the public one is a strict subset (PUBLIC_FIELDS)
ENTRY_COLUMNS = (
    Publication.uuid,
    Publication.reference,
    Publication.public_title,
    Publication.unit_name,
    Publication.level,
    Publication.declassified_on,
    Publication.what,
    Publication.published_at,
    Publication.published_by,
    Publication.withdrawn_at,
    Publication.withdrawn_reason,
)


async def _entry_by_uuid(tenant: TenantRef, uid: Any) -> dict:
    row = (
        await Publication.select(*ENTRY_COLUMNS).where(Publication.tenant == tenant.id, Publication.uuid == uid).first()
    )
    return _entry(tenant, row)


def _local_day(tenant: TenantRef, moment: datetime | None) -> date | None:
    return moment.astimezone(ZoneInfo(tenant.timezone)).date() if moment else None


def _entry(tenant: TenantRef, row: dict) -> dict:
    """An entry as the office sees it: what the public sees, its level, and who published it."""
    return {**public_entry(tenant, row), **pick(row, "level", "published_at", "published_by")}


async def _entries_page(
    where: list, columns: Sequence[Column], newest: Column, shape: Callable[[dict], dict], page: int, per_page: int
) -> Page:
    """The entries matching `where`, a page of them, by `newest` (the latest made first
    among equals), each as `shape` makes it."""
    return await read_page(
        Publication, where, columns, [newest, Publication.id], page, per_page, ascending=False, shape=shape
    )


async def entries(tenant: TenantRef, actor: Actor, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """The office's list of published entries (withdrawn ones too), the newest first."""
    _office(actor)
    where = [Publication.tenant == tenant.id]
    return await _entries_page(where, ENTRY_COLUMNS, Publication.published_at, partial(_entry, tenant), page, per_page)


# ---------------------------------------------------------------- the public side

# every field the public side shows of an entry, and nothing else: the JSON's keys, the
# page's and the feed's content. Read from the Publication copy alone.
PUBLIC_FIELDS = (
    "id",
    "reference",
    "public_title",
    "unit",
    "declassified_on",
    "what",
    "withdrawn",
    "withdrawn_on",
    "withdrawn_reason",
)
_PUBLIC_COLUMNS = (
    Publication.uuid,
    Publication.reference,
    Publication.public_title,
    Publication.unit_name,
    Publication.declassified_on,
    Publication.what,
    Publication.published_at,
    Publication.withdrawn_at,
    Publication.withdrawn_reason,
)
FEED_LIMIT = 100
MAX_QUERY = 100


def public_filters(query: dict[str, Any]) -> dict[str, Any]:
    """The public list's filters from a query string, leniently: a value that cannot be
    one (a year that is not a number, an unknown level) is left out."""
    out: dict[str, Any] = {"q": str(query.get("q") or "").strip()[:MAX_QUERY], "unit": "", "year": None, "level": ""}
    out["unit"] = str(query.get("unit") or "").strip()[:200]
    year = str(query.get("year") or "").strip()
    if year.isdigit() and 1900 <= int(year) <= 9999:
        out["year"] = int(year)
    if query.get("level") in LEVELS:
        out["level"] = query["level"]
    return out


def _public_where(tenant: TenantRef, filters: dict[str, Any]) -> list:
    where = [Publication.tenant == tenant.id]
    if filters["q"]:
        where.append(
            db.contains(Publication.reference, filters["q"]) | db.contains(Publication.public_title, filters["q"])
        )
    if filters["unit"]:
        where.append(Publication.unit_name == filters["unit"])
    if filters["year"]:
        where.append(Publication.declassified_on >= date(filters["year"], 1, 1))
        where.append(Publication.declassified_on <= date(filters["year"], 12, 31))
    if filters["level"]:
        where.append(Publication.level == filters["level"])
    return where


def public_entry(tenant: TenantRef, row: dict) -> dict:
    """An entry as the public sees it: PUBLIC_FIELDS, no more."""
    return public(
        row,
        "reference",
        "public_title",
        unit=row["unit_name"],
        declassified_on=row["declassified_on"],
        what=row["what"],
        withdrawn=row["withdrawn_at"] is not None,
        withdrawn_on=_local_day(tenant, row["withdrawn_at"]),
        withdrawn_reason=row["withdrawn_reason"],
    )


async def public_list(tenant: TenantRef, filters: dict[str, Any], page: int = 1, per_page: int = PER_PAGE) -> Page:
    """The published entries matching the filters (public_filters), the most recently
    declassified first. No actor: anyone may read it."""
    where = _public_where(tenant, filters)
    shape = partial(public_entry, tenant)
    return await _entries_page(where, _PUBLIC_COLUMNS, Publication.declassified_on, shape, page, per_page)


async def public_choices(tenant: TenantRef) -> dict[str, Any]:
    """The public filters' choices: the units and years that have entries, the levels."""
    unit_rows = await Publication.select(Publication.unit_name).where(Publication.tenant == tenant.id).distinct()
    years: list[int] = []
    first = await _edge_day(tenant, ascending=True)
    if first is not None:
        last = await _edge_day(tenant, ascending=False)
        years = list(range(last.year, first.year - 1, -1))
    return {
        "units": sorted(r["unit_name"] for r in unit_rows),
        "years": years,
        "levels": LEVELS,
    }


async def _edge_day(tenant: TenantRef, *, ascending: bool) -> date | None:
    """The first or last day declassified (one step along the (tenant, day) index)."""
    row = (
        await Publication.select(Publication.declassified_on)
        .where(Publication.tenant == tenant.id)
        .order_by(Publication.declassified_on, ascending=ascending)
        .first()
    )
    return row["declassified_on"] if row else None


async def public_feed(tenant: TenantRef, limit: int = FEED_LIMIT) -> list[dict]:
    """The newest published entries (by when they were published), for the Atom feed:
    public fields, plus when each was published (the entry's date in the feed)."""
    rows = (
        await Publication.select(*_PUBLIC_COLUMNS)
        .where(Publication.tenant == tenant.id)
        .order_by(Publication.published_at, ascending=False)
        .order_by(Publication.id, ascending=False)
        .limit(limit)
    )
    return [
        {**public_entry(tenant, r), "published_at": r["published_at"], "withdrawn_at": r["withdrawn_at"]} for r in rows
    ]
