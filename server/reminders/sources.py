"""What is waiting to be done, as of a day, for each kind of reminder: the things a
rule may fire on, and (at sending time) whether they are still waiting."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from server.assessment import sources as assessment
from server.declassification import consultations as declass_consultations
from server.declassification import review as declass_review
from server.inspections import finding_costs
from server.responsibility import confirmations
from server.responsibility import notices as responsibility_notices
from server.training import service as training
from server.units import service as units
from tenants.service import TenantRef, settings_of


@dataclass
class Waiting:
    """One thing someone must do, anchored on a day (issue, due date, year end)."""

    subject: str
    anchor: date
    unit: int | None
    person: int | None  # who must act; none when it falls to the unit's officers
    link: str  # where the person acts
    oversight: str  # where those it is escalated to look
    context: dict[str, Any] = field(default_factory=dict)


def local_day(tenant: TenantRef, instant: datetime) -> date:
    """The day an instant falls on in the tenant's zone."""
    return instant.astimezone(ZoneInfo(tenant.timezone)).date()


async def notices(tenant: TenantRef, kind: str, day: date) -> list[Waiting]:
    rows = await responsibility_notices.unsigned(tenant, day)
    t = f"/t/{tenant.slug}"
    return [
        Waiting(
            f"notice:{r['uuid']}",
            local_day(tenant, r["issued_at"]),
            r["unit"],
            r["person"],
            f"{t}/notices/{r['uuid']}",
            f"{t}/notices/{r['uuid']}",
            {"person": r["person_name"], "unit": r["unit_name"], "title": r["title"]},
        )
        for r in rows
    ]


async def _confirmation_period(tenant: TenantRef, kind: str, day: date) -> confirmations.Period:
    period_kind = confirmations.period_kind(await settings_of(tenant))
    period = confirmations.due_period(day, period_kind)
    if kind == "confirmation_due" and day > period.due:
        # the period now running is the next to fall due
        return confirmations.period_containing(day, period_kind)
    return period


async def confirmations_owed(tenant: TenantRef, kind: str, day: date) -> list[Waiting]:
    """Leaders who have not confirmed a period: the one falling due around the day
    ("due"), or every period whose due date has passed and that they neither confirmed
    nor were excused from ("overdue"; a leader who skipped two quarters is asked for two)."""
    period_kind = confirmations.period_kind(await settings_of(tenant))
    posts = await units.posts_on(tenant, day, positions=units.LEADER_POSITIONS, live_units=True)
    if kind == "confirmation_overdue":
        owed = await confirmations.outstanding(tenant, None, day, period_kind)
        late = {person: [p for p in periods if p.due < day] for person, periods in owed.items()}
    else:
        period = await _confirmation_period(tenant, kind, day)
        given, waived = await confirmations.answered(tenant, None, [period.key])
        done = {person for person, _key in given.keys() | waived}
        late = {p["person"]: [period] for p in posts if p["start_date"] <= period.end and p["person"] not in done}
    t = f"/t/{tenant.slug}"
    out: dict[str, Waiting] = {}
    for p in sorted(posts, key=lambda p: (p["person"], p["unit"])):
        for period in late.get(p["person"], []):
            subject = f"confirmation:{p['person_uuid']}:{period.key}"
            out.setdefault(
                subject,
                Waiting(
                    subject,
                    period.due,
                    p["unit"],
                    p["person"],
                    f"{t}/me/confirmation",
                    f"{t}/people/{p['person_uuid']}",
                    {"person": p["person_name"], "unit": p["unit_name"], "title": period.key, "due": period.due},
                ),
            )
    return list(out.values())


async def training_short(tenant: TenantRef, kind: str, day: date) -> list[Waiting]:
    """Leaders and classified personnel whose hours this year fall short of what they owe."""
    year = day.year
    posts = await units.posts_on(tenant, day, live_units=True)
    req = await training.requirements(tenant, year)
    hours = await training.hours_by_person(tenant, None, year)
    leading = {p["person"] for p in posts if p["position"] in units.LEADER_POSITIONS}
    t = f"/t/{tenant.slug}"
    out: dict[int, Waiting] = {}
    for p in sorted(posts, key=lambda p: (p["person"], p["unit"])):
        if p["person"] in out or (p["person"] not in leading and p["classified_level"] in ("", "none")):
            continue
        owed = training.required_of(req, p["person"] in leading, p["classified_level"])
        done = hours.get(p["person"], 0.0)
        if done + 1e-9 >= owed:
            continue
        out[p["person"]] = Waiting(
            f"training:{p['person_uuid']}:{year}",
            date(year, 12, 31),
            p["unit"],
            p["person"],
            f"{t}/me",
            f"{t}/people/{p['person_uuid']}",
            {
                "person": p["person_name"],
                "unit": p["unit_name"],
                "title": str(year),
                "hours": f"{done:g}",
                "required": f"{owed:g}",
            },
        )
    return list(out.values())


async def self_assessments(tenant: TenantRef, kind: str, day: date) -> list[Waiting]:
    """Units of an open assessment that have not submitted their self-assessment."""
    rows = await assessment.pending_self_assessments(tenant)
    t = f"/t/{tenant.slug}"
    return [
        Waiting(
            f"assessment:{r['year']}:{r['unit_uuid']}",
            r["due"],
            r["unit"],
            None,
            f"{t}/assessments/{r['year']}/units/{r['unit_uuid']}",
            f"{t}/assessments/{r['year']}/units/{r['unit_uuid']}",
            {"person": r["unit_name"], "unit": r["unit_name"], "title": str(r["year"]), "due": r["due"]},
        )
        for r in rows
    ]


async def findings(tenant: TenantRef, kind: str, day: date) -> list[Waiting]:
    """Inspection findings the unit has to rectify by a deadline (soon, or already past):
    each for the unit's officers and for the leader answerable for it."""
    overdue = kind == "finding_overdue"
    t = f"/t/{tenant.slug}"
    out = []
    for r in await finding_costs.awaiting(tenant, day, overdue=overdue):
        officers, lead = r["subjects"]
        page = f"{t}/findings/{r['uuid']}"
        context = {"unit": r["unit_name"], "title": r["description"][:60], "due": r["deadline"]}
        out.append(Waiting(officers, r["deadline"], r["unit"], None, page, page, {**context, "person": r["unit_name"]}))
        if r["responsible"] is not None:
            # the leader sees the unit's open findings on the portal
            person = {**context, "person": r["responsible_name"]}
            out.append(Waiting(lead, r["deadline"], r["unit"], r["responsible"], f"{t}/me", page, person))
    return out


async def classified_items(tenant: TenantRef, kind: str, day: date) -> list[Waiting]:
    """Classified items with an open expiry review task: whose term ends soon (due), for the
    unit's officers, the item's responsible person and, once escalated 60 days before the
    end, the unit's principal; or declassified by expiry with their publication undecided
    (expired), for the officers and the principal (the office hears through the digest)."""
    expired = kind == "declass_expired"
    rows = await declass_review.awaiting(tenant, expired=expired)
    t = f"/t/{tenant.slug}"
    heads = await unit_officers(tenant, sorted({r["unit"] for r in rows if expired or r["escalation"] >= 1}), day)
    out = []
    for r in rows:
        officers, lead, head = r["subjects"]
        page = f"{t}/classified-items/{r['item_uuid']}"
        context = {"unit": r["unit_name"], "title": r["item_reference"], "due": r["item_term_ends_on"]}
        opened = local_day(tenant, r["created_at"])
        anchor = r["item_term_ends_on"] if expired else opened
        out.append(Waiting(officers, anchor, r["unit"], None, page, page, {**context, "person": r["unit_name"]}))
        if r["item_responsible_person"] is not None and not expired:
            person = {**context, "person": r["responsible_name"]}
            out.append(Waiting(lead, anchor, r["unit"], r["item_responsible_person"], page, page, person))
        if expired or r["escalation"] >= 1:
            since = anchor if expired else max(opened, r["escalated_on"])
            for principal in heads.get(r["unit"], {}).get("principal", []):
                out.append(
                    Waiting(head, since, r["unit"], principal, page, page, {**context, "person": r["unit_name"]})
                )
    return out


async def consultations(tenant: TenantRef, kind: str, day: date) -> list[Waiting]:
    """Consultations of originating units to answer by a deadline (soon, or already past):
    the answering unit's officers; once escalated, the unit above it and its principal."""
    t = f"/t/{tenant.slug}"
    rows = await declass_consultations.awaiting(tenant, day, overdue=kind == "consult_overdue")
    return [
        Waiting(r["subject"], r["anchor"], r["unit"], r["person"], t + r["path"], t + r["path"], r["context"])
        for r in rows
    ]


# the subject of the office's daily digest of one kind ("digest:<kind>"): a summary, always sent
DIGEST = "digest:"


def overview_link(tenant: TenantRef, kind: str, items: list[Waiting]) -> str:
    """Where the office sees every case of a kind at once."""
    t = f"/t/{tenant.slug}"
    if kind == "notice_unsigned":
        return f"{t}/coverage/list?metric=unsigned_overdue"
    if kind.startswith("confirmation"):
        return f"{t}/coverage/list?metric=confirmation_overdue"
    if kind == "training_short":
        return f"{t}/training"
    if kind.startswith("consult"):
        return f"{t}/declassification/consultations?overdue=1"
    if kind.startswith("declass"):
        return f"{t}/declassification/tasks"
    if kind.startswith("finding"):
        return f"{t}/findings?overdue=1" if kind == "finding_overdue" else f"{t}/findings"
    return f"{t}/assessments/{items[0].context['title']}"


Source = Callable[[TenantRef, str, date], Awaitable[list[Waiting]]]
SOURCES: dict[str, Source] = {
    "notice_unsigned": notices,
    "confirmation_due": confirmations_owed,
    "confirmation_overdue": confirmations_owed,
    "training_short": training_short,
    "assessment_due": self_assessments,
    "assessment_overdue": self_assessments,
    "finding_due": findings,
    "finding_overdue": findings,
    "declass_due": classified_items,
    "declass_expired": classified_items,
    "consult_due": consultations,
    "consult_overdue": consultations,
}


async def waiting_subjects(tenant: TenantRef, kind: str, day: date) -> set[str]:
    """What is still waiting on the day (a signed notice, a submitted confirmation or
    self-assessment, hours made up, a person gone: no longer)."""
    return {w.subject for w in await SOURCES[kind](tenant, kind, day)}


async def unit_officers(tenant: TenantRef, unit_pks: list[int], day: date) -> dict[int, dict[str, list[int]]]:
    """Per unit: the people holding its principal and secrecy officer posts."""
    out: dict[int, dict[str, list[int]]] = {u: {"principal": [], "secrecy_officer": []} for u in unit_pks}
    for r in await units.posts_on(tenant, day, units=unit_pks, positions=("principal", "secrecy_officer")):
        out[r["unit"]][r["position"]].append(r["person"])
    return out
