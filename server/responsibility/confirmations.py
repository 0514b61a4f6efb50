"""Periodic duty confirmations ("not sign and forget"): each period a leader states,
duty by duty, whether it was carried out; due a number of days after the period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server import db
from server.actor import Actor
from server.audit import service as audit
from server.reminders import outbox
from server.responsibility import catalog as catalogs
from server.responsibility.tables import Confirmation
from server.units import service as units
from server.units.tables import Person
from server.web.errors import Conflict, NotFound, ValidationFailed
from server.web.i18n import _
from tenants.service import TenantRef, settings_of

MONTHS = {"monthly": 1, "quarterly": 3, "half-yearly": 6, "yearly": 12}
GRACE_DAYS = 15


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date
    due: date


def period_containing(day: date, kind: str = "quarterly") -> Period:
    months = MONTHS[kind]
    index = (day.month - 1) // months
    start = date(day.year, index * months + 1, 1)
    end_month = start.month + months
    end = (date(day.year + 1, 1, 1) if end_month > 12 else date(day.year, end_month, 1)) - timedelta(days=1)
    key = {
        1: f"{day.year}-{start.month:02d}",
        3: f"{day.year}-Q{index + 1}",
        6: f"{day.year}-H{index + 1}",
        12: f"{day.year}",
    }[months]
    return Period(key, start, end, end + timedelta(days=GRACE_DAYS))


def due_period(today: date, kind: str = "quarterly") -> Period:
    """The period leaders confirm now: the last one that has ended."""
    current = period_containing(today, kind)
    return period_containing(current.start - timedelta(days=1), kind)


def period_kind(settings: dict[str, Any]) -> str:
    kind = settings.get("confirmation_period")
    return kind if kind in MONTHS else "quarterly"


async def duties_of_person(tenant: TenantRef, actor: Actor, person_id: Any) -> list[str]:
    """Every duty the person carries through their current leadership posts, once each."""
    posts = await units.current_leader_posts(tenant, actor, person=person_id)
    if not posts:
        return []
    catalog = await catalogs.current_catalog(tenant)
    duties = await catalogs.catalog_duties(tenant, catalog["id"])
    assigned = await catalogs.assignments_by_post(tenant, [p["id"] for p in posts])
    seen: list[str] = []
    for post in posts:
        parts = catalogs.duties_for_post(post["position"], duties, assigned[post["id"]])
        for text in parts["duties"] + parts["assigned"] + parts["personal"]:
            if text not in seen:
                seen.append(text)
    return seen


async def my_duties(tenant: TenantRef, actor: Actor) -> list[str]:
    if not actor.person_id:
        return []
    try:
        return await duties_of_person(tenant, actor, await units.person_uuid(tenant, actor.person_id))
    except NotFound:  # the person record was archived: no duties left to confirm
        return []


async def pending(tenant: TenantRef, actor: Actor) -> dict | None:
    """The confirmation the actor owes now, with its duties, or None."""
    if not actor.person_id:
        return None
    period = due_period(units.today(tenant), period_kind(await settings_of(tenant)))
    if await Confirmation.exists().where(
        Confirmation.tenant == tenant.id, Confirmation.person == actor.person_id, Confirmation.period == period.key
    ):
        return None
    duties = await my_duties(tenant, actor)
    if not duties:
        return None
    return {"period": period, "duties": duties, "overdue": units.today(tenant) > period.due}


async def submit(tenant: TenantRef, actor: Actor, period_key: str, data: dict[str, Any]) -> dict:
    """Items: for each duty i, `done_i` (yes/no) and `note_i`; every duty must be answered."""
    owed = await pending(tenant, actor)
    if owed is None or owed["period"].key != period_key:
        if await Confirmation.exists().where(
            Confirmation.tenant == tenant.id, Confirmation.person == actor.person_id, Confirmation.period == period_key
        ):
            raise Conflict(_("This period has already been confirmed."))
        raise NotFound(_("No confirmation is due for this period."))
    errors: dict[str, str] = {}
    items = []
    # "all carried out": a busy leader answers once and writes notes only where needed
    all_done = str(data.get("all_done", "")).lower() in {"1", "yes", "true"}
    for i, duty in enumerate(owed["duties"]):
        answer = str(data.get(f"done_{i}", "")).lower() or ("yes" if all_done else "")
        note = str(data.get(f"note_{i}", "")).strip()
        if answer not in {"yes", "no", "true", "false", "1", "0"}:
            errors[f"done_{i}"] = _("Say whether this duty was carried out.")
        done = answer in {"yes", "true", "1"}
        if not done and answer and not note:
            errors[f"note_{i}"] = _("Explain briefly why this duty was not carried out.")
        if len(note) > 500:
            errors[f"note_{i}"] = _("The note is too long (at most 500 characters).")
        items.append({"duty": duty, "done": done, "note": note})
    if errors:
        raise ValidationFailed(errors)
    period = owed["period"]
    async with db.atomic():
        row = Confirmation(
            tenant=tenant.id,
            person=actor.person_id,
            period=period.key,
            period_start=period.start,
            period_end=period.end,
            due_date=period.due,
            submitted_at=datetime.now(UTC),
            items=items,
        )
        await row.save()
        await audit.record(
            tenant.id,
            actor,
            "confirmation.submit",
            "confirmation",
            row.uuid,
            detail={"period": period.key, "late": owed["overdue"]},
        )
        person = await Person.select(Person.uuid).where(Person.id == actor.person_id).first()
        await outbox.settle(
            tenant.id, ("confirmation_due", "confirmation_overdue"), f"confirmation:{person['uuid']}:{period.key}"
        )
    return {"id": str(row.uuid), "period": period.key, "late": owed["overdue"], "items": items}


async def history(tenant: TenantRef, person_pk: int) -> list[dict]:
    rows = (
        await Confirmation.select()
        .where(Confirmation.tenant == tenant.id, Confirmation.person == person_pk)
        .order_by(Confirmation.period_start, ascending=False)
        .output(load_json=True)
    )
    return [
        {
            "id": str(r["uuid"]),
            "period": r["period"],
            "due_date": r["due_date"],
            "submitted_at": r["submitted_at"],
            "late": r["submitted_at"].astimezone(ZoneInfo(tenant.timezone)).date() > r["due_date"],
            "items": r["items"],
        }
        for r in rows
    ]
