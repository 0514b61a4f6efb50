"""Periodic duty confirmations ("not sign and forget"): each period a leader states,
duty by duty, whether it was carried out; due a number of days after the period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton

from server import db, events
from server.actor import Actor
from server.audit import service as audit
from server.core.chunks import chunks
from server.core.errors import Conflict, NotFound, ValidationFailed
from server.core.i18n import _, _l, get_locale
from server.core.rows import public
from server.core.validation import Checker
from server.responsibility import catalog as catalogs
from server.responsibility.tables import Confirmation, ConfirmationWaiver
from server.units import service as units
from tenants.service import TenantRef, settings_of

MONTHS = {"monthly": 1, "quarterly": 3, "half-yearly": 6, "yearly": 12}
GRACE_DAYS = 15
# a period key's part after the year, as people name it
PERIOD_PARTS = {
    "Q1": _l("Q1 %(year)s"),
    "Q2": _l("Q2 %(year)s"),
    "Q3": _l("Q3 %(year)s"),
    "Q4": _l("Q4 %(year)s"),
    "H1": _l("H1 %(year)s"),
    "H2": _l("H2 %(year)s"),
}


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date
    due: date

    @property
    def columns(self) -> dict[str, Any]:
        """The period as a confirmation row keeps it."""
        return {"period": self.key, "period_start": self.start, "period_end": self.end, "due_date": self.due}

    @property
    def label(self) -> str:
        return period_label(self.key)


def period_label(key: str) -> str:
    """A period key (2026-Q3, 2026-H1, 2026-03, 2026) as people write it: 2026年第三季度, Q3 2026."""
    year, _sep, part = key.partition("-")
    if not part:
        return _("Year %(year)s", year=year)
    if part in PERIOD_PARTS:
        return str(PERIOD_PARTS[part]) % {"year": year}
    return format_skeleton("yMMM", date(int(year), int(part), 1), locale=get_locale())


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


def owed_periods(today: date, kind: str, since: date) -> list[Period]:
    """The periods that have ended by today, from the one holding `since` on, oldest first."""
    periods = []
    period = due_period(today, kind)
    while period.end >= since:
        periods.append(period)
        period = period_containing(period.start - timedelta(days=1), kind)
    return periods[::-1]


def horizon(today: date) -> date:
    """How far back a missed confirmation is still asked for: last year and this one
    (older years are closed in the assessment)."""
    return date(today.year - 1, 1, 1)


async def outstanding(
    tenant: TenantRef, person_pks: list[int] | None, today: date, kind: str
) -> dict[int, list[Period]]:
    """Per leader in post today (these people, or None for the whole tenant), the ended
    periods they owe and neither confirmed nor were excused from, oldest first: every
    period that ended since they took a leadership post, and always the last one."""
    due = due_period(today, kind)
    periods = owed_periods(today, kind, horizon(today))
    since: dict[int, date] = {}
    for r in await units.posts_on(tenant, today, people=person_pks, positions=units.LEADER_POSITIONS):
        since[r["person"]] = min(since.get(r["person"], r["start_date"]), r["start_date"], due.start)
    given, waived = await answered(tenant, person_pks, [p.key for p in periods])
    done = given.keys() | waived
    return {
        person: owed
        for person, start in since.items()
        if (owed := [p for p in periods if p.end >= start and (person, p.key) not in done])
    }


async def answered(
    tenant: TenantRef,
    person_pks: Sequence[int] | None,
    period_keys: list[str],
    *,
    waived_before: datetime | None = None,
) -> tuple[dict[tuple[int, str], datetime], set[tuple[int, str]]]:
    """For these people (None: everyone) and periods: when each (person, period) was
    confirmed, and which were waived (by a moment, when given)."""
    given: dict[tuple[int, str], datetime] = {}
    waived: set[tuple[int, str]] = set()
    for batch in [None] if person_pks is None else chunks(person_pks):
        rows = await Confirmation.select(Confirmation.person, Confirmation.period, Confirmation.submitted_at).where(
            Confirmation.tenant == tenant.id,
            Confirmation.period.is_in(period_keys),
            *([Confirmation.person.is_in(batch)] if batch is not None else []),
        )
        given.update({(r["person"], r["period"]): r["submitted_at"] for r in rows})
        rows = await ConfirmationWaiver.select(ConfirmationWaiver.person, ConfirmationWaiver.period).where(
            ConfirmationWaiver.tenant == tenant.id,
            ConfirmationWaiver.period.is_in(period_keys),
            *([ConfirmationWaiver.person.is_in(batch)] if batch is not None else []),
            *([ConfirmationWaiver.waived_at < waived_before] if waived_before else []),
        )
        waived |= {(r["person"], r["period"]) for r in rows}
    return given, waived


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
    """What the actor owes now: the oldest period not yet confirmed (a missed one first,
    so a late confirmation is given for it), its duties, and every period owed."""
    if not actor.person_id:
        return None
    today = units.today(tenant)
    owed = (await outstanding(tenant, [actor.person_id], today, period_kind(await settings_of(tenant)))).get(
        actor.person_id, []
    )
    if not owed:
        return None
    duties = await my_duties(tenant, actor)
    if not duties:
        return None
    return {"period": owed[0], "duties": duties, "overdue": today > owed[0].due, "owed": owed}


async def submit(tenant: TenantRef, actor: Actor, period_key: str, data: dict[str, Any]) -> dict:
    """Items: for each duty i, `done_i` (yes/no) and `note_i`; every duty must be answered.
    Any period owed may be confirmed, a missed one late."""
    owed = await pending(tenant, actor)
    period = next((p for p in owed["owed"] if p.key == period_key), None) if owed else None
    if period is None:
        if await Confirmation.exists().where(
            Confirmation.tenant == tenant.id, Confirmation.person == actor.person_id, Confirmation.period == period_key
        ):
            raise Conflict(_("This period has already been confirmed."))
        raise NotFound(_("No confirmation is due for this period."))
    late = units.today(tenant) > period.due
    errors: dict[str, str] = {}
    items = []
    # "all carried out": a busy leader answers once and writes notes only where needed
    all_done = str(data.get("all_done", "")).lower() in {"1", "yes", "true"}
    for i, duty in enumerate(owed["duties"]):
        answer = str(data.get(f"done_{i}", "")).lower() or ("yes" if all_done else "")
        note = str(data.get(f"note_{i}", "")).strip()
        # the summary above the form lists every error: each names its duty
        named = {"number": i + 1, "duty": _short(duty)}
        if answer not in {"yes", "no", "true", "false", "1", "0"}:
            errors[f"done_{i}"] = _("Duty %(number)d “%(duty)s”: say whether it was carried out.", **named)
        done = answer in {"yes", "true", "1"}
        if not done and answer and not note:
            errors[f"note_{i}"] = _("Duty %(number)d “%(duty)s”: explain briefly why it was not carried out.", **named)
        if len(note) > 500:
            errors[f"note_{i}"] = _("The note is too long (at most 500 characters).")
        items.append({"duty": duty, "done": done, "note": note})
    if errors:
        raise ValidationFailed(errors)
    async with db.atomic():
        row = Confirmation(
            tenant=tenant.id, person=actor.person_id, **period.columns, submitted_at=datetime.now(UTC), items=items
        )
        # two submits at once: the (tenant, person, period) key keeps the first
        if not await Confirmation.insert(row).on_conflict(action="DO NOTHING").returning(Confirmation.id):
            raise Conflict(_("This period has already been confirmed."))
        submitted = {"period": period.key, "late": late}
        await audit.record(tenant.id, actor, "confirmation.submit", "confirmation", row.uuid, detail=submitted)
        await _answered(tenant, actor.person_id, await units.person_uuid(tenant, actor.person_id), period)
    return {"id": str(row.uuid), **submitted, "items": items}


def _short(duty: str, limit: int = 24) -> str:
    """A duty's text short enough to name it in a message."""
    return duty if len(duty) <= limit else duty[: limit - 1] + "…"


async def _answered(tenant: TenantRef, person_pk: int, person_uuid: str, period: Period) -> None:
    """A period confirmed or waived: the indicators count it, its reminders stop."""
    await events.publish(events.INDICATOR_INPUTS, tenant, people=[person_pk])
    subject = f"confirmation:{person_uuid}:{period.key}"
    await events.publish(
        events.REMINDERS_SETTLED, tenant, kinds=("confirmation_due", "confirmation_overdue"), subjects=(subject,)
    )


WAIVER_LABELS = {"reason": _l("Reason"), "period": _l("Period"), "person_id": _l("Leader")}


async def waive(tenant: TenantRef, actor: Actor, person_id: Any, data: dict[str, Any]) -> dict:
    """Excuse a leader from a missed period (on leave, in post only days, ...), with a
    reason: it is no longer listed, counted in coverage, or expected by the assessment."""
    check = Checker(data, WAIVER_LABELS)
    key = check.text("period", required=True, max_len=16)
    reason = check.text("reason", required=True, max_len=200)
    check.done()
    person_pk = await units.person_pk(tenant, actor, person_id)
    owed = (await outstanding(tenant, [person_pk], units.today(tenant), period_kind(await settings_of(tenant)))).get(
        person_pk, []
    )
    period = next((p for p in owed if p.key == key), None)
    if period is None:
        raise ValidationFailed({"period": _("%(field)s: this leader owes no confirmation for it.", field=_("Period"))})
    async with db.atomic():
        row = ConfirmationWaiver(
            tenant=tenant.id, person=person_pk, period=period.key, reason=reason, waived_by=actor.name[:100]
        )
        if not await ConfirmationWaiver.insert(row).on_conflict(action="DO NOTHING").returning(ConfirmationWaiver.id):
            raise Conflict(_("This period has already been waived."))
        person_uuid = await units.person_uuid(tenant, person_pk)
        waived = {"period": period.key, "reason": reason}
        await audit.record(tenant.id, actor, "confirmation.waive", "person", person_uuid, detail=waived)
        await _answered(tenant, person_pk, person_uuid, period)
    return {"id": str(row.uuid), "person_id": person_uuid, **waived}


async def history(tenant: TenantRef, person_pk: int) -> list[dict]:
    rows = (
        await Confirmation.select()
        .where(Confirmation.tenant == tenant.id, Confirmation.person == person_pk)
        .order_by(Confirmation.period_start, ascending=False)
        .output(load_json=True)
    )
    zone = ZoneInfo(tenant.timezone)
    return [
        public(
            r,
            "period",
            "due_date",
            "submitted_at",
            "items",
            late=r["submitted_at"].astimezone(zone).date() > r["due_date"],
        )
        for r in rows
    ]
