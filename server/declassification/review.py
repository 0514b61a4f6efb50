"""Expiry and the year's review of the register. Each day the scan finds the items whose
term ends within the tenant's lead time and takes each one through the stages its date
calls for, each stage exactly once: a review task for the custodian unit (the lead time),
the unit's principal (60 days before the end), and the day after the end with no decision
the item declassified by expiry (自行解密), recorded, with the task escalated to the bureau.
A stage is claimed by one conditional UPDATE of `expiry_stage`, so two schedulers at once
act once. The year's review notes each item looked at (once per item and year), and its
progress by unit feeds the assessment's classification indicator.

An approved decision that gives the item a new term must set `expiry_stage` back to 0 (the
new term starts its stages again); one that declassifies it takes it out of the scan by its
status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count

from server import db, events, roles
from server.actor import Actor
from server.audit import service as audit
from server.core.bulk import update_rows
from server.core.chunks import chunks, rows_in
from server.core.errors import Conflict, Forbidden
from server.core.i18n import _, _l
from server.core.pagination import Page, read_page
from server.core.rows import joined
from server.core.validation import Checker
from server.declassification import access, tasks
from server.declassification import settings as declass_settings
from server.declassification.tables import ClassifiedItem, Review, ReviewTask
from server.declassification.terms import ESCALATE_DAYS, LEVELS, days_left
from server.units import service as units
from tenants.service import TenantRef, settings_of

# still classified: the scan, the due list and the year's review look at these alone
ACTIVE = ("active", "partly_declassified")
# the tenant setting of the lead time, in days, and its check (the rules are settings.py's)
SETTING = declass_settings.LEAD
check_lead_days = declass_settings.check_lead_days
# the longest `within_days` of the due list
MAX_DAYS = 3650
# the stages of the scan, as `expiry_stage` counts them
LEAD, PRINCIPAL, EXPIRED = 1, 2, 3
SYSTEM = Actor.system("declassification")
OUTCOMES = {"keep": _l("Kept as it is"), "decision": _l("Decision proposed")}
# what the API's review may say: a decision is recorded by the decision's own call
API_OUTCOMES = {"keep": OUTCOMES["keep"]}
ESCALATIONS = {0: _l("Custodian unit"), 1: _l("Unit principal"), 2: _l("Secrecy bureau")}
TASK_KINDS = {"expiry": _l("Term ending"), "source": _l("Source changed"), "annual": _l("Annual review")}
LABELS = {
    "within_days": _l("Ending within (days)"),
    "outcome": _l("Outcome"),
    "note": _l("Note"),
    "year": _l("Year"),
}
# the reminder subjects of an item's open expiry task (server.reminders.sources reads them)
DUE_PREFIX = "declass:"
EXPIRED_PREFIX = "declass-expired:"


# ---------------------------------------------------------------- the lead time


async def lead_days(tenant: TenantRef) -> int:
    """How many days before a term ends its review task opens (default and minimum 90)."""
    return declass_settings.lead_days_of(await settings_of(tenant))


# ---------------------------------------------------------------- the daily scan


def _marks(today: date, lead: int) -> dict[int, date]:
    """The latest term end that calls for each stage today."""
    return {
        LEAD: today + timedelta(days=lead),
        PRINCIPAL: today + timedelta(days=ESCALATE_DAYS),
        EXPIRED: today - timedelta(days=1),
    }


async def _due(tenant: TenantRef, marks: dict[int, date]) -> list[int]:
    """The items some stage is due for, by the (tenant, status, term_ends_on) index: what is
    due, not the register's size. Held in row order on PostgreSQL, so that two scans at once
    wait for each other instead of crossing."""
    query = (
        ClassifiedItem.select(ClassifiedItem.id)
        .where(
            ClassifiedItem.tenant == tenant.id,
            ClassifiedItem.status.is_in(list(ACTIVE)),
            ClassifiedItem.term_ends_on <= marks[LEAD],
            (ClassifiedItem.expiry_stage < LEAD)
            | ((ClassifiedItem.term_ends_on <= marks[PRINCIPAL]) & (ClassifiedItem.expiry_stage < PRINCIPAL))
            | ((ClassifiedItem.term_ends_on <= marks[EXPIRED]) & (ClassifiedItem.expiry_stage < EXPIRED)),
        )
        .order_by(ClassifiedItem.id)
    )
    if db.is_postgres():
        query = query.lock_rows()
    return [r["id"] for r in await query]


async def _claim(tenant: TenantRef, pks: Sequence[int], stage: int, until: date) -> list[dict]:
    """Raise these items to `stage` where it is due and not yet reached: the rows this call
    won (a scan running at the same moment wins none of them)."""
    values: dict[Any, Any] = {ClassifiedItem.expiry_stage: stage, ClassifiedItem.updated_at: datetime.now(UTC)}
    if stage == EXPIRED:
        values[ClassifiedItem.status] = "expired"
    won: list[dict] = []
    for batch in chunks(list(pks)):
        won += await (
            ClassifiedItem.update(values)
            .where(
                ClassifiedItem.tenant == tenant.id,
                ClassifiedItem.id.is_in(list(batch)),
                ClassifiedItem.status.is_in(list(ACTIVE)),
                ClassifiedItem.term_ends_on <= until,
                ClassifiedItem.expiry_stage < stage,
            )
            .returning(
                ClassifiedItem.id, ClassifiedItem.uuid, ClassifiedItem.custodian_unit, ClassifiedItem.term_ends_on
            )
        )
    return won


async def _open(tenant: TenantRef, rows: list[dict]) -> int:
    """An expiry task for each of these items that has none open, due on its term's end
    (made together, then each given its date by one prepared statement)."""
    made = await tasks.open_tasks(tenant, SYSTEM, rows, "expiry")
    ends = {r["id"]: r["term_ends_on"] for r in rows}
    await update_rows(ReviewTask, ["due_on"], [(ends[t["item"]], t["id"]) for t in made])
    return len(made)


async def _escalate(tenant: TenantRef, rows: list[dict], level: int) -> None:
    """The items' open expiry tasks raised to `level` (1 the unit's principal, 2 the bureau);
    a task closed meanwhile is opened again, since the stage found no decision."""
    await _open(tenant, rows)
    for batch in chunks([r["id"] for r in rows]):
        await ReviewTask.update({ReviewTask.escalation: level}).where(
            ReviewTask.tenant == tenant.id,
            ReviewTask.item.is_in(list(batch)),
            ReviewTask.kind == "expiry",
            ReviewTask.status == "open",
            ReviewTask.escalation < level,
        )
    to = "principal" if level == 1 else "bureau"
    await audit.record_each(
        tenant.id,
        "declass.escalate",
        "classified_item",
        [(SYSTEM, str(r["uuid"]), {"to": to, "term_ends_on": r["term_ends_on"].isoformat()}) for r in rows],
    )


async def _expire(tenant: TenantRef, rows: list[dict]) -> None:
    """自行解密: declassified the day after the term ended, recorded, waiting for the
    decision whether to publish it (`publication` stays "")."""
    await update_rows(
        ClassifiedItem, ["declassified_on"], [(r["term_ends_on"] + timedelta(days=1), r["id"]) for r in rows]
    )
    await audit.record_each(
        tenant.id,
        "declass.expired",
        "classified_item",
        [
            (SYSTEM, str(r["uuid"]), {"declassified_on": (r["term_ends_on"] + timedelta(days=1)).isoformat()})
            for r in rows
        ],
    )
    await _escalate(tenant, rows, 2)


async def scan(tenant: TenantRef, today: date) -> dict:
    """The day's expiry scan, in the caller's transaction: each item due for a stage goes
    through it once (an item reached late goes through each stage it skipped, once). How
    many items reached each stage."""
    marks = _marks(today, await lead_days(tenant))
    due = await _due(tenant, marks)
    found = {"reminded": 0, "escalated": 0, "expired": 0}
    if not due:
        return found
    async with db.atomic():
        reminded = await _claim(tenant, due, LEAD, marks[LEAD])
        await _open(tenant, reminded)
        escalated = await _claim(tenant, due, PRINCIPAL, marks[PRINCIPAL])
        if escalated:
            await _escalate(tenant, escalated, 1)
        expired = await _claim(tenant, due, EXPIRED, marks[EXPIRED])
        if expired:
            await _expire(tenant, expired)
    return {"reminded": len(reminded), "escalated": len(escalated), "expired": len(expired)}


# ---------------------------------------------------------------- what reminders read


async def awaiting(tenant: TenantRef, *, expired: bool) -> list[dict]:
    """Open expiry tasks the reminders speak of: on items still classified (`expired`
    False: the unit has to decide) or declassified by expiry (True: their publication
    waits). Each with the item, its unit, its responsible person and its reminder subjects
    (the unit's officers, the responsible person, the unit's principal), and `escalated_on`."""
    statuses = ["expired"] if expired else list(ACTIVE)
    rows = await ReviewTask.select(
        ReviewTask.unit,
        ReviewTask.escalation,
        ReviewTask.created_at,
        *joined(ReviewTask.unit, "name"),
        *joined(ReviewTask.item, "uuid", "reference", "term_ends_on", "declassified_on", "responsible_person"),
        ReviewTask.item.responsible_person.name.as_alias("responsible_name"),
    ).where(
        ReviewTask.tenant == tenant.id,
        ReviewTask.kind == "expiry",
        ReviewTask.status == "open",
        ReviewTask.item.status.is_in(statuses),
        ReviewTask.unit.deleted_at.is_null(),
    )
    prefix = EXPIRED_PREFIX if expired else DUE_PREFIX
    for r in rows:
        stem = f"{prefix}{r['item_uuid']}"
        r["subjects"] = (stem, f"{stem}:lead", f"{stem}:head")
        # the day the principal was due to hear of it (the task may have opened later)
        r["escalated_on"] = r["item_term_ends_on"] - timedelta(days=ESCALATE_DAYS)
    return rows


# ---------------------------------------------------------------- what is due, and tasks


DUE_COLUMNS = (
    *access.LIST_COLUMNS,
    ClassifiedItem.term_ends_on,
    ClassifiedItem.expiry_stage,
    ClassifiedItem.last_reviewed_on,
    *joined(ClassifiedItem.custodian_unit, "uuid", "name", prefix="unit_"),
    *joined(ClassifiedItem.responsible_person, "name", prefix="responsible_"),
)


def _item_summary(r: dict, today: date, prefix: str = "") -> dict:
    """An item's reference, title, level and term's end, from a row naming the item's
    columns with `prefix` (a task's row: "item_")."""
    level, ends = r[f"{prefix}level"], r[f"{prefix}term_ends_on"]
    return {
        "reference": r[f"{prefix}reference"],
        "public_title": r[f"{prefix}public_title"],
        "level": level,
        "level_label": str(LEVELS.get(level, level)),
        "term_ends_on": ends,
        "days_left": days_left(ends, today),
    }


def _item_json(r: dict, today: date) -> dict:
    return {
        "id": str(r["uuid"]),
        **_item_summary(r, today),
        "status": r["status"],
        "unit_id": str(r["unit_uuid"]),
        "unit_name": r["unit_name"],
        "responsible_name": r["responsible_name"] or "",
        "expiry_stage": r["expiry_stage"],
        "last_reviewed_on": r["last_reviewed_on"],
    }


def _task_json(t: dict) -> dict:
    return {
        "id": str(t["uuid"]),
        "kind": t["kind"],
        "kind_label": str(TASK_KINDS.get(t["kind"], t["kind"])),
        "reason": t["reason"],
        "due_on": t["due_on"],
        "escalation": t["escalation"],
        "escalation_label": str(ESCALATIONS.get(t["escalation"], "")),
        "created_at": t["created_at"],
    }


async def _open_tasks_of(tenant: TenantRef, item_pks: list[int]) -> dict[int, dict]:
    """Each item's open task (its expiry task before any other, the most escalated first)."""
    found: dict[int, dict] = {}
    rank = {"expiry": 0, "source": 1, "annual": 2}
    still_open = [ReviewTask.tenant == tenant.id, ReviewTask.status == "open"]
    for t in await rows_in(ReviewTask.item, item_pks, where=still_open):
        best = found.get(t["item"])
        if best is None or (rank.get(t["kind"], 9), -t["escalation"]) < (
            rank.get(best["kind"], 9),
            -best["escalation"],
        ):
            found[t["item"]] = t
    return found


def check_within(data: dict[str, Any], lead: int) -> int:
    check = Checker(data, LABELS)
    within = check.integer("within_days", default=lead, minimum=1, maximum=MAX_DAYS)
    check.done()
    return within


async def due_items(tenant: TenantRef, actor: Actor, data: dict[str, Any], page: int, per_page: int) -> dict:
    """The actor's items still classified whose term ends within `within_days` (default:
    the lead time; 1 to 3650; an end already passed and not yet expired counts), soonest
    first, each with its days left and its open task."""
    lead = await lead_days(tenant)
    within = check_within(data, lead)
    today = units.today(tenant)
    where = [
        ClassifiedItem.tenant == tenant.id,
        ClassifiedItem.status.is_in(list(ACTIVE)),
        ClassifiedItem.term_ends_on <= today + timedelta(days=within),
        *await access.scope_where(tenant, actor),
    ]
    order = [ClassifiedItem.term_ends_on, ClassifiedItem.id]
    shown = await read_page(ClassifiedItem, where, DUE_COLUMNS, order, page, per_page)
    open_ = await _open_tasks_of(tenant, [r["id"] for r in shown.items])
    shown.items = [
        {**_item_json(r, today), "task": _task_json(open_[r["id"]]) if r["id"] in open_ else None} for r in shown.items
    ]
    return {"within_days": within, "lead_days": lead, "today": today, "page": shown}


async def _task_scope(tenant: TenantRef, actor: Actor) -> list:
    """Whose open tasks the actor works on: an officer their units', a leader the escalated
    ones of the units they lead, a district admin their district's, the office all."""
    if actor.role == roles.OFFICE_ADMIN:
        return []
    if actor.role in (roles.DISTRICT_ADMIN, roles.UNIT_OFFICER) and actor.scope_path:
        return [ReviewTask.unit.path.like(actor.scope_path + "%")]
    if actor.role == roles.LEADER:
        return [ReviewTask.unit.is_in(await access.led_units(tenant, actor) or [0]), ReviewTask.escalation >= 1]
    raise Forbidden()


TASK_COLUMNS = (
    *ReviewTask.all_columns(),
    *joined(ReviewTask.unit, "uuid", "name"),
    *(
        getattr(ReviewTask.item, name).as_alias(f"item_{name}")
        for name in ("uuid", "reference", "public_title", "level", "status", "term_ends_on")
    ),
)


async def open_review_tasks(tenant: TenantRef, actor: Actor, page: int, per_page: int) -> Page:
    """The actor's open review tasks, the most escalated first, then by due date."""
    where = [ReviewTask.tenant == tenant.id, ReviewTask.status == "open", *await _task_scope(tenant, actor)]
    total = await ReviewTask.count().where(*where)
    rows = (
        await ReviewTask.select(*TASK_COLUMNS)
        .where(*where)
        .order_by(ReviewTask.escalation, ascending=False)
        .order_by(ReviewTask.due_on)
        .order_by(ReviewTask.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    today = units.today(tenant)
    items = [
        {
            **_task_json(r),
            "item_id": str(r["item_uuid"]),
            **_item_summary(r, today, "item_"),
            "item_status": r["item_status"],
            "unit_id": str(r["unit_uuid"]),
            "unit_name": r["unit_name"],
        }
        for r in rows
    ]
    return Page(items, total, page, per_page)


# ---------------------------------------------------------------- the year's review


async def record_review(tenant: TenantRef, actor: Actor, item_id: Any, data: dict[str, Any]) -> dict:
    """The item looked at in this year's review and kept as it is: once per item and year
    (a second review the same year is refused, 409); sets `last_reviewed_on` and closes
    the item's open annual task. By the custodian unit's officer or the office."""
    item = await access.item(tenant, actor, item_id, allow=(access.UNIT, access.OFFICE))
    check = Checker(data, LABELS)
    outcome = check.choice("outcome", API_OUTCOMES)
    note = check.text("note", max_len=2000)
    check.done()
    if item["status"] not in ACTIVE:
        raise Conflict(_("This item is no longer classified: there is nothing to review."))
    return await note_review(tenant, actor, item, outcome, note)


async def note_review(tenant: TenantRef, actor: Actor, item: dict, outcome: str, note: str = "") -> dict:
    """Record this year's review of `item` (a row with id and uuid), in the caller's
    transaction; `outcome` keep or decision (a decision proposed in the review). Conflict
    when the item was already reviewed this year."""
    today = units.today(tenant)
    async with db.atomic():
        made = await (
            Review.insert(
                Review(
                    tenant=tenant.id,
                    item=item["id"],
                    year=today.year,
                    outcome=outcome,
                    note=note,
                    reviewed_on=today,
                    reviewed_by=actor.name[:100],
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(Review.id)
        )
        if not made:
            raise Conflict(_("This item was already reviewed in %(year)s.", year=today.year))
        await ClassifiedItem.update(
            {ClassifiedItem.last_reviewed_on: today, ClassifiedItem.updated_at: datetime.now(UTC)}
        ).where(ClassifiedItem.tenant == tenant.id, ClassifiedItem.id == item["id"])
        closed = await tasks.close_tasks(tenant, item["id"], ["annual"])
        detail = {"year": today.year, "outcome": outcome, "note": note, "tasks_closed": closed}
        await audit.record(tenant.id, actor, "declass.review", "classified_item", str(item["uuid"]), detail=detail)
        # the unit's share reviewed on time is an automatic indicator of the assessment
        await events.publish(events.INDICATOR_INPUTS, tenant, people=[], units=[item["custodian_unit"]])
    return {
        "item_id": str(item["uuid"]),
        "year": today.year,
        "outcome": outcome,
        "outcome_label": str(OUTCOMES[outcome]),
        "note": note,
        "reviewed_on": today,
        "reviewed_by": actor.name[:100],
    }


def check_year(data: dict[str, Any], today: date) -> int:
    check = Checker(data, LABELS)
    year = check.integer("year", default=today.year, minimum=2000, maximum=today.year + 1)
    check.done()
    return year


async def reviewed_on_time(tenant: TenantRef, unit_pks: Sequence[int] | None, year: int) -> dict[int, tuple[int, int]]:
    """Per unit (these, or every unit with items when None): (items reviewed in `year`,
    items still classified), for the assessment's classification indicator."""
    out: dict[int, tuple[int, int]] = {pk: (0, 0) for pk in unit_pks or []}
    for batch in [None] if unit_pks is None else chunks(list(unit_pks)):
        totals = await (
            ClassifiedItem.select(ClassifiedItem.custodian_unit, Count(ClassifiedItem.id).as_alias("n"))
            .where(
                ClassifiedItem.tenant == tenant.id,
                ClassifiedItem.status.is_in(list(ACTIVE)),
                *([] if batch is None else [ClassifiedItem.custodian_unit.is_in(list(batch))]),
            )
            .group_by(ClassifiedItem.custodian_unit)
        )
        reviewed = await (
            Review.select(Review.item.custodian_unit.as_alias("unit"), Count(Review.id).as_alias("n"))
            .where(
                Review.tenant == tenant.id,
                Review.year == year,
                Review.item.status.is_in(list(ACTIVE)),
                *([] if batch is None else [Review.item.custodian_unit.is_in(list(batch))]),
            )
            .group_by(Review.item.custodian_unit)
        )
        done = {r["unit"]: r["n"] for r in reviewed}
        for r in totals:
            out[r["custodian_unit"]] = (done.get(r["custodian_unit"], 0), r["n"])
    return out


async def _progress_units(tenant: TenantRef, actor: Actor) -> list[dict] | None:
    """The units whose progress the actor follows (None: every unit of the tenant)."""
    if actor.role == roles.OFFICE_ADMIN:
        return None
    if actor.role in (roles.DISTRICT_ADMIN, roles.UNIT_OFFICER):
        return await units.units_in_scope(tenant, actor)
    if actor.role == roles.LEADER:
        led = set(await access.led_units(tenant, actor))
        return [u for u in await units.units_in_scope(tenant, Actor.system()) if u["pk"] in led]
    raise Forbidden()


async def review_progress(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict:
    """The year's review by unit in the actor's scope: items still classified, reviewed
    in the year, and the share; with the totals."""
    year = check_year(data, units.today(tenant))
    scoped = await _progress_units(tenant, actor)
    counts = await reviewed_on_time(tenant, None if scoped is None else [u["pk"] for u in scoped], year)
    known = scoped if scoped is not None else await units.units_in_scope(tenant, Actor.system())
    # an officer and a leader see their own units even with nothing registered yet
    show_empty = actor.role in (roles.UNIT_OFFICER, roles.LEADER)
    rows = []
    for u in known:
        reviewed, total = counts.get(u["pk"], (0, 0))
        if total or show_empty:
            rows.append(_share_row(u, reviewed, total))
    reviewed = sum(r["reviewed"] for r in rows)
    total = sum(r["items"] for r in rows)
    return {"year": year, "units": rows, "items": total, "reviewed": reviewed, "share": _share(reviewed, total)}


def _share(reviewed: int, total: int) -> float:
    return round(reviewed / total, 4) if total else 0.0


def _share_row(unit: dict, reviewed: int, total: int) -> dict:
    return {
        "unit_id": unit["id"],
        "unit_name": unit["name"],
        "depth": unit["depth"],
        "items": total,
        "reviewed": reviewed,
        "share": _share(reviewed, total),
    }


async def unreviewed(tenant: TenantRef, actor: Actor, year: int, page: int, per_page: int) -> Page:
    """The actor's items still classified with no review in `year`, by unit and reference
    (what is left of the year's review)."""
    where = [
        ClassifiedItem.tenant == tenant.id,
        ClassifiedItem.status.is_in(list(ACTIVE)),
        ClassifiedItem.id.not_in(Review.select(Review.item).where(Review.tenant == tenant.id, Review.year == year)),
        *await access.scope_where(tenant, actor),
    ]
    today = units.today(tenant)
    order = [ClassifiedItem.custodian_unit.name, ClassifiedItem.reference]
    return await read_page(
        ClassifiedItem, where, DUE_COLUMNS, order, page, per_page, shape=lambda r: _item_json(r, today)
    )
