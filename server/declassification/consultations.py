"""Consulting the originating unit about a derived item: the custodian unit's officer asks,
with a deadline; the originating unit's officer or one of its leaders answers (agree, keep,
change the level, with reasons), once; for a body outside the tenant, named in words, the
custodian unit's officer records the body's written answer. Reminders before and after the
deadline (server.reminders reads `awaiting`); once it passes unanswered, the consultation is
escalated up the unit tree, and later to the bureau, each stage once (`escalate`).

The originating unit sees the consultation with the item's reference, public title, level,
date of classification and custodian unit, and nothing else of the custodian's register:
reading the item itself stays the register's (access.py) to allow."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server import db, events, roles
from server.actor import Actor
from server.audit import service as audit
from server.core.chunks import chunks
from server.core.errors import Conflict, Forbidden, NotFound
from server.core.i18n import _, _l
from server.core.once import update_once
from server.core.pagination import Page
from server.core.rows import joined
from server.core.validation import Checker
from server.declassification import access, terms
from server.declassification import settings as declass_settings
from server.declassification.tables import ClassifiedItem, Consultation
from server.units import service as units
from tenants.service import TenantRef, get_owned, parse_id, settings_of

# the tenant's settings (optional): days to answer by default, days from the first
# escalation (the deadline passed) to the second (the bureau); their rules are settings.py's
DAYS_SETTING = declass_settings.CONSULT
ESCALATE_SETTING = declass_settings.ESCALATE
MAX_DAYS = 366
NOTE_MAX = 4000
OLDEST = 10  # the FOIA practice: close the ten oldest first

ANSWERS = {
    "agree": _l("Agrees (the item may be declassified)"),
    "keep": _l("Keep it classified"),
    "change_level": _l("Change its level"),
}
# answers that must say why
REASONED = ("keep", "change_level")
STATUSES = {"open": _l("Awaiting an answer"), "answered": _l("Answered")}
DIRECTIONS = {"incoming": _l("Put to my unit"), "outgoing": _l("Asked by my unit")}
ESCALATIONS = {
    0: _l("Not escalated"),
    1: _l("Escalated up the unit tree"),
    2: _l("Escalated to the bureau"),
}
LABELS = {
    "question": _l("Question"),
    "deadline": _l("Answer by"),
    "answer": _l("Answer"),
    "note": _l("Reasons"),
    "direction": _l("Direction"),
    "status": _l("Status"),
    "overdue": _l("Overdue"),
}
# the reminders of a consultation (server/reminders/rules.py)
REMINDER_KINDS = ("consult_due", "consult_overdue")

COLUMNS = (
    *Consultation.all_columns(),
    *joined(Consultation.item, "uuid", "reference", "public_title", "level", "classified_on", "custodian_unit"),
    Consultation.item.custodian_unit.name.as_alias("custodian_name"),
    Consultation.item.custodian_unit.path.as_alias("custodian_path"),
    Consultation.item.custodian_unit.parent.as_alias("custodian_parent"),
    *joined(Consultation.originating_unit, "uuid", "name", "path", "parent"),
)


# ---------------------------------------------------------------- who sees, who answers


def local_day(tenant: TenantRef, instant: datetime | None) -> date | None:
    return instant.astimezone(ZoneInfo(tenant.timezone)).date() if instant else None


async def _led(tenant: TenantRef, actor: Actor) -> list[int]:
    return await access.led_units(tenant, actor) if actor.role == roles.LEADER else []


def _sides(actor: Actor, row: dict, led: list[int]) -> tuple[bool, bool]:
    """(incoming, outgoing): whether the consultation is the actor's as the originating
    unit's side, and as the custodian's (who may read the item too)."""
    if actor.role == roles.OFFICE_ADMIN:
        return True, True
    if actor.role in (roles.DISTRICT_ADMIN, roles.UNIT_OFFICER):
        incoming = bool(row["originating_unit_path"]) and access.in_scope(actor, row["originating_unit_path"])
        return incoming, access.in_scope(actor, row["custodian_path"])
    if actor.role == roles.LEADER:
        return row["originating_unit"] in led, row["item_custodian_unit"] in led
    return False, False


def _may_answer(actor: Actor, row: dict, led: list[int]) -> bool:
    """The originating unit's officer or one of its leaders; for a body outside the
    tenant, the custodian unit's officer recording its written answer."""
    if row["status"] != "open":
        return False
    if row["originating_unit"] is None:
        return actor.role == roles.UNIT_OFFICER and access.in_scope(actor, row["custodian_path"])
    if actor.role == roles.UNIT_OFFICER:
        return access.in_scope(actor, row["originating_unit_path"])
    return actor.role == roles.LEADER and row["originating_unit"] in led


async def _scope_where(tenant: TenantRef, actor: Actor, direction: str) -> list:
    """The actor's consultations as filters: those put to their units (incoming), those
    their units asked (outgoing), or both."""
    if actor.role == roles.OFFICE_ADMIN:
        return []
    if actor.role in (roles.DISTRICT_ADMIN, roles.UNIT_OFFICER) and actor.scope_path:
        incoming = Consultation.originating_unit.path.like(actor.scope_path + "%")
        outgoing = Consultation.item.custodian_unit.path.like(actor.scope_path + "%")
    elif actor.role == roles.LEADER:
        led = await access.led_units(tenant, actor) or [0]
        incoming = Consultation.originating_unit.is_in(led)
        outgoing = Consultation.item.custodian_unit.is_in(led)
    else:
        raise Forbidden()
    if direction == "incoming":
        return [incoming]
    if direction == "outgoing":
        return [outgoing]
    return [incoming | outgoing]


# ---------------------------------------------------------------- rows as shown


def _public(tenant: TenantRef, row: dict, today: date, sides: tuple[bool, bool], may_answer: bool) -> dict:
    incoming, outgoing = sides
    opened = local_day(tenant, row["created_at"])
    answered = local_day(tenant, row["answered_at"])
    until = answered or today
    return {
        "id": str(row["uuid"]),
        # the item's own page is the custodian's side alone
        "item_id": str(row["item_uuid"]) if outgoing else None,
        "item_reference": row["item_reference"],
        "item_public_title": row["item_public_title"],
        "item_level": row["item_level"],
        "item_level_label": str(terms.LEVELS.get(row["item_level"], row["item_level"])),
        "item_classified_on": row["item_classified_on"],
        "custodian_unit_name": row["custodian_name"],
        "originating_unit_id": str(row["originating_unit_uuid"]) if row["originating_unit_uuid"] else None,
        "originating_unit_name": row["originating_unit_name"] or "",
        "originating_body": row["originating_body"],
        "answering": row["originating_unit_name"] or row["originating_body"],
        "question": row["question"],
        "deadline": row["deadline"],
        "status": row["status"],
        "status_label": str(STATUSES.get(row["status"], row["status"])),
        "answer": row["answer"],
        "answer_label": str(ANSWERS[row["answer"]]) if row["answer"] in ANSWERS else "",
        "note": row["note"],
        "escalation": row["escalation"],
        "escalation_label": str(ESCALATIONS.get(row["escalation"], "")),
        "requested_by": row["requested_by"],
        "answered_by": row["answered_by"],
        "answered_at": row["answered_at"],
        "created_at": row["created_at"],
        "days_open": max(0, (until - opened).days),
        "days_overdue": max(0, (until - row["deadline"]).days),
        "overdue": row["status"] == "open" and row["deadline"] < today,
        "answered_on_time": None if answered is None else answered <= row["deadline"],
        "incoming": incoming,
        "outgoing": outgoing,
        "may_answer": may_answer,
    }


async def _shown(tenant: TenantRef, actor: Actor | None, rows: list[dict]) -> list[dict]:
    """Rows as the actor sees them (None: the custodian's side, for another service)."""
    today = units.today(tenant)
    if actor is None:
        return [_public(tenant, r, today, (False, True), False) for r in rows]
    led = await _led(tenant, actor)
    return [_public(tenant, r, today, _sides(actor, r, led), _may_answer(actor, r, led)) for r in rows]


async def _row(tenant: TenantRef, pk: int) -> dict:
    return await Consultation.select(*COLUMNS).where(Consultation.tenant == tenant.id, Consultation.id == pk).first()


async def _visible(tenant: TenantRef, actor: Actor, consultation_id: Any) -> tuple[dict, list[int]]:
    """The consultation (row) when the actor sees it from either side; NotFound otherwise."""
    owned = await get_owned(Consultation, tenant, consultation_id, Consultation.id)
    row = await _row(tenant, owned["id"])
    led = await _led(tenant, actor)
    if not any(_sides(actor, row, led)):
        raise NotFound()
    return row, led


async def consultation(tenant: TenantRef, actor: Actor, consultation_id: Any) -> dict:
    """One consultation as the actor sees it (404 for whom it is not put to, nor asked by)."""
    row, _led_units = await _visible(tenant, actor, consultation_id)
    return (await _shown(tenant, actor, [row]))[0]


# ---------------------------------------------------------------- asking


async def default_days(tenant: TenantRef) -> int:
    return declass_settings.consult_days_of(await settings_of(tenant))


def _consultable(item: dict, today: date) -> None:
    """Only a derived item still classified and within its term, with an originating unit
    of the tenant or a body outside it."""
    if item["origin"] != "derived":
        why = _("Only a derived item is put to its originating unit: this item was classified originally.")
        raise Conflict(why, {"origin": why})
    if item["originating_unit"] is None and not item["originating_body"]:
        why = _("The item names no originating unit or body to consult: register it first.")
        raise Conflict(why, {"originating_unit_id": why})
    ended = item["term_ends_on"] is not None and item["term_ends_on"] < today
    if item["status"] in ("declassified", "expired") or ended:
        raise Conflict(_("The item is declassified already: there is nothing to consult on."))


async def _hold_item(tenant: TenantRef, item_pk: int) -> None:
    """Two requests about one item take turns (SQLite's write transaction already does)."""
    if db.is_postgres():
        await (
            ClassifiedItem.select(ClassifiedItem.id)
            .where(ClassifiedItem.tenant == tenant.id, ClassifiedItem.id == item_pk)
            .lock_rows()
        )


async def open_consultation(tenant: TenantRef, item_pk: int) -> dict | None:
    """The item's open consultation (id, uuid, deadline), if any."""
    return (
        await Consultation.select(Consultation.id, Consultation.uuid, Consultation.deadline)
        .where(Consultation.tenant == tenant.id, Consultation.item == item_pk, Consultation.status == "open")
        .first()
    )


def _check_request(data: dict[str, Any], today: date, days: int) -> dict[str, Any]:
    check = Checker(data, LABELS)
    question = check.text("question", max_len=NOTE_MAX)
    deadline = check.date("deadline")
    if deadline is not None and deadline <= today:
        check.fail("deadline", _("%(field)s must be after today.", field=check.label("deadline")))
    elif deadline is not None and deadline > today + timedelta(days=MAX_DAYS):
        check.fail("deadline", _("%(field)s must be within a year.", field=check.label("deadline")))
    check.done()
    return {"question": question, "deadline": deadline or today + timedelta(days=days)}


async def request(tenant: TenantRef, actor: Actor, item_id: Any, data: dict[str, Any]) -> dict:
    """Put the derived item to its originating unit (or record that a body outside was
    asked): one open consultation per item at a time (409 naming it otherwise)."""
    item = await access.item(tenant, actor, item_id, allow=(access.UNIT,))
    _consultable(item, units.today(tenant))
    values = _check_request(data, units.today(tenant), await default_days(tenant))
    async with db.atomic():
        await _hold_item(tenant, item["id"])
        if found := await open_consultation(tenant, item["id"]):
            raise Conflict(
                _(
                    "The item has an open consultation already (answer by %(date)s).",
                    date=found["deadline"].isoformat(),
                ),
                {"consultation_id": str(found["uuid"])},
            )
        made = await Consultation.insert(
            Consultation(
                tenant=tenant.id,
                item=item["id"],
                originating_unit=item["originating_unit"],
                originating_body="" if item["originating_unit"] else item["originating_body"],
                question=values["question"],
                deadline=values["deadline"],
                requested_by=actor.name,
            )
        ).returning(Consultation.id, Consultation.uuid)
        await audit.record(
            tenant.id,
            actor,
            "declass.consult",
            "classified_consultation",
            str(made[0]["uuid"]),
            detail={"item": str(item["uuid"]), "deadline": values["deadline"].isoformat()},
        )
    return (await _shown(tenant, actor, [await _row(tenant, made[0]["id"])]))[0]


# ---------------------------------------------------------------- answering


def _check_answer(data: dict[str, Any]) -> dict[str, str]:
    check = Checker(data, LABELS)
    answer = check.choice("answer", ANSWERS)
    note = check.text("note", max_len=NOTE_MAX)
    if answer in REASONED and not note:
        check.fail("note", _("Give the reasons for this answer."))
    check.done()
    return {"answer": answer, "note": note}


def subjects(row: dict) -> tuple[str, str, str]:
    """What a consultation's reminders are about: the answering unit's officers, and once
    escalated the unit above it and the answering unit's principal."""
    return f"consult:{row['uuid']}", f"consult:{row['uuid']}:up", f"consult:{row['uuid']}:principal"


async def answer(tenant: TenantRef, actor: Actor, consultation_id: Any, data: dict[str, Any]) -> dict:
    """The originating unit's answer, once (a second one: 409)."""
    row, led = await _visible(tenant, actor, consultation_id)
    if row["status"] != "open":
        raise Conflict(_("This consultation has been answered already."))
    if not _may_answer(actor, row, led):
        raise Forbidden(_("Only the originating unit answers a consultation."))
    values = _check_answer(data)
    async with db.atomic():
        await update_once(
            Consultation,
            {
                Consultation.status: "answered",
                Consultation.answer: values["answer"],
                Consultation.note: values["note"],
                Consultation.answered_by: actor.name,
                Consultation.answered_at: datetime.now(UTC),
            },
            (Consultation.tenant == tenant.id, Consultation.id == row["id"], Consultation.status == "open"),
            Conflict(_("This consultation has been answered already.")),
        )
        detail = {"item": str(row["item_uuid"]), "answer": values["answer"]}
        if row["originating_body"]:
            detail["on_behalf_of"] = row["originating_body"]
        await audit.record(
            tenant.id, actor, "declass.consult_answer", "classified_consultation", str(row["uuid"]), detail=detail
        )
        await events.publish(events.REMINDERS_SETTLED, tenant, kinds=REMINDER_KINDS, subjects=subjects(row))
        if row["originating_unit"] is not None:
            # the share answered on time is an automatic indicator of the originating unit's assessment
            await events.publish(events.INDICATOR_INPUTS, tenant, people=[], units=[row["originating_unit"]])
    return (await _shown(tenant, actor, [await _row(tenant, row["id"])]))[0]


# ---------------------------------------------------------------- lists


def _check_filters(query: dict[str, Any]) -> dict[str, Any]:
    check = Checker(query, LABELS)
    out = {
        "direction": check.choice("direction", DIRECTIONS, required=False),
        "status": check.choice("status", STATUSES, required=False),
        "overdue": check.boolean("overdue") if query.get("overdue") not in (None, "") else None,
    }
    check.done()
    return out


def _overdue(today: date):
    return (Consultation.status == "open") & (Consultation.deadline < today)


async def _where(tenant: TenantRef, actor: Actor, query: dict[str, Any]) -> list:
    wanted = _check_filters(query)
    today = units.today(tenant)
    where = [Consultation.tenant == tenant.id, *await _scope_where(tenant, actor, wanted["direction"])]
    if wanted["status"]:
        where.append(Consultation.status == wanted["status"])
    if wanted["overdue"] is True:
        where.append(_overdue(today))
    elif wanted["overdue"] is False:
        where.append((Consultation.status != "open") | (Consultation.deadline >= today))
    return where


def _oldest_open_first(query):
    """Open before answered ("open" > "answered"), the oldest first."""
    return (
        query.order_by(Consultation.status, ascending=False).order_by(Consultation.created_at).order_by(Consultation.id)
    )


async def list_consultations(
    tenant: TenantRef, actor: Actor, query: dict[str, Any], page: int = 1, per_page: int = 50
) -> Page:
    """The actor's consultations, open ones first, the oldest first; filters: direction
    (incoming: put to the actor's units; outgoing: asked by them), status, overdue."""
    where = await _where(tenant, actor, query)
    total = await Consultation.count().where(*where)
    rows = (
        await _oldest_open_first(Consultation.select(*COLUMNS).where(*where))
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(await _shown(tenant, actor, rows), total, page, per_page)


async def overview(tenant: TenantRef, actor: Actor) -> dict:
    """The bureau's view of what is open in the actor's scope: the ten oldest, how many
    are overdue and escalated, and per answering unit (or body) how many wait and since when."""
    where = [*await _where(tenant, actor, {}), Consultation.status == "open"]
    rows = await _oldest_open_first(Consultation.select(*COLUMNS).where(*where))
    shown = await _shown(tenant, actor, rows)
    per: dict[str, dict] = {}
    for r in shown:
        key = r["originating_unit_id"] or f"body:{r['originating_body']}"
        unit = per.setdefault(key, {"name": r["answering"], "open": 0, "overdue": 0, "escalated": 0, "oldest_days": 0})
        unit["open"] += 1
        unit["overdue"] += r["overdue"]
        unit["escalated"] += r["escalation"] > 0
        unit["oldest_days"] = max(unit["oldest_days"], r["days_open"])
    by_unit = sorted(per.values(), key=lambda u: (-u["overdue"], -u["oldest_days"], u["name"]))
    return {
        "oldest": shown[:OLDEST],
        "open": len(shown),
        "overdue": sum(r["overdue"] for r in shown),
        "escalated": {stage: sum(r["escalation"] == stage for r in shown) for stage in (1, 2)},
        "by_unit": by_unit,
    }


# ---------------------------------------------------------------- for the item and other services


async def item_consultations(tenant: TenantRef, actor: Actor, item: dict) -> list[dict]:
    """An item's consultations, newest first, for whoever sees the item: `item` as
    access.item returns it (its row id) or as the register shows it (its public id)."""
    pk = item["id"]
    of_item = Consultation.item == pk if isinstance(pk, int) else Consultation.item.uuid == parse_id(pk)
    rows = (
        await Consultation.select(*COLUMNS)
        .where(Consultation.tenant == tenant.id, of_item)
        .order_by(Consultation.created_at, ascending=False)
        .order_by(Consultation.id, ascending=False)
    )
    return await _shown(tenant, actor, rows)


async def answered(tenant: TenantRef, item_pk: int) -> dict | None:
    """The item's latest answered consultation (as the custodian sees it), or None."""
    row = (
        await Consultation.select(*COLUMNS)
        .where(Consultation.tenant == tenant.id, Consultation.item == item_pk, Consultation.status == "answered")
        .order_by(Consultation.answered_at, ascending=False)
        .order_by(Consultation.id, ascending=False)
        .first()
    )
    return (await _shown(tenant, None, [row]))[0] if row else None


async def answered_on_time(tenant: TenantRef, unit_pks: list[int], year: int) -> dict[int, tuple[int, int]]:
    """Per originating unit: (answered by the deadline, come due) of the consultations whose
    deadline falls in the year; one comes due when answered or when its deadline has passed."""
    today = units.today(tenant)
    out: dict[int, list[int]] = {pk: [0, 0] for pk in unit_pks}
    for batch in chunks(sorted(set(unit_pks))):
        rows = await Consultation.select(
            Consultation.originating_unit, Consultation.deadline, Consultation.status, Consultation.answered_at
        ).where(
            Consultation.tenant == tenant.id,
            Consultation.originating_unit.is_in(list(batch)),
            Consultation.deadline >= date(year, 1, 1),
            Consultation.deadline <= date(year, 12, 31),
        )
        for r in rows:
            day = local_day(tenant, r["answered_at"])
            if day is None and r["deadline"] >= today:
                continue  # not due yet
            counts = out[r["originating_unit"]]
            counts[1] += 1
            counts[0] += day is not None and day <= r["deadline"]
    return {pk: (c[0], c[1]) for pk, c in out.items()}


# ---------------------------------------------------------------- deadlines: reminders and escalation


async def escalate_days(tenant: TenantRef) -> int:
    return declass_settings.escalate_days_of(await settings_of(tenant))


async def escalate(tenant: TenantRef, day: date) -> dict[int, int]:
    """Raise the consultations whose deadline passed unanswered by the day: stage 1 (up the
    unit tree), and `escalate_days` later stage 2 (the bureau). Each stage is one
    conditional UPDATE, so it happens once however many schedulers run; how many per stage."""
    system = Actor.system("declassification")
    later = await escalate_days(tenant)
    raised: dict[int, int] = {}
    for stage, passed_before in ((1, day), (2, day - timedelta(days=later))):
        rows = await (
            Consultation.update({Consultation.escalation: stage})
            .where(
                Consultation.tenant == tenant.id,
                Consultation.status == "open",
                Consultation.escalation == stage - 1,
                Consultation.deadline < passed_before,
            )
            .returning(Consultation.uuid, Consultation.deadline)
        )
        if rows:
            await audit.record_each(
                tenant.id,
                "declass.consult_escalate",
                "classified_consultation",
                [(system, str(r["uuid"]), {"stage": stage, "deadline": r["deadline"].isoformat()}) for r in rows],
            )
            raised[stage] = len(rows)
    return raised


async def awaiting(tenant: TenantRef, day: date, *, overdue: bool) -> list[dict]:
    """What the reminders remind of: for each open consultation within its deadline on the
    day (or past it: `overdue`), the answering unit's officers (the originating unit, or for
    a body outside the tenant the custodian unit, which records its answer); once escalated,
    the officers of the unit above and the answering unit's principal too. Each as
    {subject, anchor, unit, person, path (under /t/<slug>), context}."""
    when = Consultation.deadline < day if overdue else Consultation.deadline >= day
    rows = await Consultation.select(*COLUMNS).where(
        Consultation.tenant == tenant.id, Consultation.status == "open", when
    )
    escalated = {_answering(r)[0] for r in rows if r["escalation"]}
    principals: dict[int, list[int]] = defaultdict(list)
    for p in await units.posts_on(tenant, day, units=sorted(escalated), positions=("principal",), live_units=True):
        principals[p["unit"]].append(p["person"])
    out = []
    for r in rows:
        unit, parent, name = _answering(r)
        common = {
            "anchor": r["deadline"],
            "path": f"/declassification/consultations/{r['uuid']}",
            "context": {"unit": name, "person": name, "title": r["item_reference"], "due": r["deadline"]},
        }
        officers, up, principal = subjects(r)
        out.append({**common, "subject": officers, "unit": unit, "person": None})
        if r["escalation"]:
            if parent is not None:
                out.append({**common, "subject": up, "unit": parent, "person": None})
            out += [{**common, "subject": principal, "unit": unit, "person": p} for p in principals.get(unit, [])]
    return out


def _answering(row: dict) -> tuple[int, int | None, str]:
    """The unit that answers (the originating unit; for a body outside the tenant, the
    custodian unit that records its answer), the unit above it, and the name reminded of."""
    if row["originating_unit"] is not None:
        return row["originating_unit"], row["originating_unit_parent"], row["originating_unit_name"]
    return row["item_custodian_unit"], row["custodian_parent"], row["originating_body"]
