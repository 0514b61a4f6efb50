"""What findings cost a unit, and deadlines that pass. A verified finding takes off the
deduction of its severity in the assessment of its round's year, a confirmed leak is the
scheme's veto, a rectification whose deadline passed the deduction "overdue"; the
assessment is told through events (FINDING_ADJUSTMENTS, and again for every finding of a
year when that year's assessment opens) and asked what it holds (FINDING_DEDUCTIONS),
never imported. A deadline that passed is noted once in the finding's history by the
day's reminders, which also find what to remind of here, and are told by an event
(REMINDERS_SETTLED) when a finding no longer waits for its unit."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from server import db, events
from server.actor import Actor
from server.audit import service as audit
from server.core.chunks import rows_in
from server.core.i18n import _
from server.core.rows import joined
from server.inspections.tables import Finding, FindingEvent
from tenants.service import TenantRef

# a deadline finding still waiting for the unit: overdue once its deadline has passed
PENDING = ("open", "rectifying", "reopened")
# the reminders of a deadline finding
REMINDER_KINDS = ("finding_due", "finding_overdue")
# the scheme's items findings are deducted under (besides one per severity)
OVERDUE_ITEM = "overdue"
LEAK_ITEM = "leak"
# a finding as it is shown and judged: with its inspection, round, unit, device and leader
COLUMNS = (
    *Finding.all_columns(),
    *joined(Finding.inspection, "uuid", "team"),
    *joined(Finding.inspection.round, "uuid", "name", "starts_on"),
    *joined(Finding.unit, "uuid", "name", "path"),
    *joined(Finding.device, "uuid", "label"),
    *joined(Finding.responsible, "uuid", "name"),
)


async def rows_of(tenant: TenantRef, finding_pks: list[int]) -> list[dict]:
    """These findings (by row id) as they are shown and judged (COLUMNS)."""
    return await rows_in(Finding.id, finding_pks, *COLUMNS, where=[Finding.tenant == tenant.id])


def is_overdue(row: dict, today: date) -> bool:
    """Past its deadline and the unit has not yet submitted what it did."""
    return (
        row["mode"] == "deadline"
        and row["state"] in PENDING
        and row["deadline"] is not None
        and row["deadline"] < today
    )


def overdue_filter(today: date):
    return (Finding.mode == "deadline") & Finding.state.is_in(list(PENDING)) & (Finding.deadline < today)


async def overdue_noted(tenant: TenantRef, finding_pks: list[int]) -> set[int]:
    """The findings whose history says their deadline passed."""
    where = [FindingEvent.tenant == tenant.id, FindingEvent.kind == "overdue"]
    return {e["finding"] for e in await rows_in(FindingEvent.finding, finding_pks, FindingEvent.finding, where=where)}


def _adjustments(row: dict, late: bool) -> list[dict]:
    """What the finding should cost the unit in its assessment: the deduction of its
    severity (and the veto, for a leak) once verified; the deduction "overdue" once its
    deadline passed without a rectification."""
    out = []
    source = f"finding:{row['uuid']}"
    if row["state"] == "verified":
        note = _("Inspection finding (%(round)s): %(text)s", round=row["round_name"], text=row["description"])[:2000]
        out.append({"source": source, "kind": "deduction", "item": row["severity"], "note": note})
        if row["leak"]:
            out.append({"source": source, "kind": "veto", "item": LEAK_ITEM, "note": note})
    if late:
        note = _(
            "Rectification overdue (deadline %(date)s): %(text)s",
            date=row["deadline"].isoformat(),
            text=row["description"],
        )[:2000]
        out.append({"source": f"overdue:{row['uuid']}", "kind": "deduction", "item": OVERDUE_ITEM, "note": note})
    return out


async def of(tenant: TenantRef, rows: list[dict]) -> dict[int, list[dict]]:
    """Each finding's deductions as the assessment holds them (or why it cannot)."""
    late = await overdue_noted(tenant, [r["id"] for r in rows])
    wanted = {
        r["id"]: [{**a, "unit": r["unit"], "year": r["round_starts_on"].year} for a in _adjustments(r, r["id"] in late)]
        for r in rows
    }
    answer: dict[tuple[str, str], dict] = {}
    flat = [w for ws in wanted.values() for w in ws]
    if flat:
        await events.publish(events.FINDING_DEDUCTIONS, tenant, wanted=flat, answer=answer)
    return {
        pk: [answer[(w["source"], w["kind"])] for w in ws if (w["source"], w["kind"]) in answer]
        for pk, ws in wanted.items()
    }


# ---------------------------------------------------------------- deadlines and reminders


def subjects(row: dict) -> tuple[str, str]:
    """What a finding's reminders are about: the unit's officers, its responsible leader."""
    return f"finding:{row['uuid']}", f"finding:{row['uuid']}:lead"


async def reminders_done(tenant: TenantRef, row: dict) -> None:
    """The finding waits for its unit no more: its reminders not yet sent are cancelled,
    in the caller's transaction."""
    await events.publish(events.REMINDERS_SETTLED, tenant, kinds=REMINDER_KINDS, subjects=subjects(row))


async def awaiting(tenant: TenantRef, day: date, *, overdue: bool) -> list[dict]:
    """Deadline findings the unit has not yet submitted: those past their deadline on the
    day (overdue), or those still within it."""
    if overdue:
        where = overdue_filter(day)
    else:
        where = (Finding.mode == "deadline") & Finding.state.is_in(list(PENDING)) & (Finding.deadline >= day)
    rows = await Finding.select(
        Finding.uuid,
        Finding.unit,
        Finding.deadline,
        Finding.description,
        Finding.responsible,
        *joined(Finding.unit, "name"),
        *joined(Finding.responsible, "name"),
        *joined(Finding.inspection.round, "name"),
    ).where(Finding.tenant == tenant.id, Finding.unit.deleted_at.is_null(), where)
    return [{**r, "subjects": subjects(r)} for r in rows]


async def mark_overdue(tenant: TenantRef, day: date) -> int:
    """Note in the history of each finding whose deadline passed by the day that it did
    (once: the findings are locked while looked at), and tell the assessment."""
    fresh = [
        r["id"]
        for r in await Finding.select(Finding.id).where(
            Finding.tenant == tenant.id,
            overdue_filter(day),
            Finding.id.not_in(
                FindingEvent.select(FindingEvent.finding).where(
                    FindingEvent.tenant == tenant.id, FindingEvent.kind == "overdue"
                )
            ),
        )
    ]
    if not fresh:
        return 0
    if db.is_postgres():
        await Finding.select(Finding.id).where(Finding.id.is_in(fresh)).order_by(Finding.id).lock_rows()
    fresh = sorted(set(fresh) - await overdue_noted(tenant, fresh))
    if not fresh:
        return 0
    system = Actor.system("reminders")
    rows = await Finding.select(Finding.id, Finding.uuid, Finding.deadline).where(Finding.id.is_in(fresh))
    async with db.atomic():
        await FindingEvent.insert(
            *[
                FindingEvent(
                    tenant=tenant.id,
                    finding=r["id"],
                    kind="overdue",
                    note=_("The deadline %(date)s passed without a rectification.", date=r["deadline"].isoformat()),
                    actor=system.name,
                )
                for r in rows
            ]
        )
        await audit.record_many(
            tenant.id, system, "inspection.finding_overdue", "inspection_finding", [r["uuid"] for r in rows]
        )
        await tell_assessment(tenant, system.name, fresh)
    return len(fresh)


# ---------------------------------------------------------------- into the assessment


async def tell_assessment(tenant: TenantRef, actor_name: str, finding_pks: list[int]) -> None:
    """Say, unit by unit and year by year, what these findings should cost now."""
    rows = await rows_of(tenant, finding_pks)
    late = await overdue_noted(tenant, [r["id"] for r in rows])
    grouped: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for r in rows:
        grouped[(r["unit"], r["round_starts_on"].year)].append(r)
    for (unit, year), found in sorted(grouped.items()):
        await events.publish(
            events.FINDING_ADJUSTMENTS,
            tenant,
            unit=unit,
            year=year,
            sources=[s for r in found for s in (f"finding:{r['uuid']}", f"overdue:{r['uuid']}")],
            adjustments=[a for r in found for a in _adjustments(r, r["id"] in late)],
            actor=actor_name,
        )


async def _on_assessment_opened(tenant: TenantRef, *, year: int, actor: str = "") -> None:
    """Findings verified (or gone overdue) before the year's assessment opened reach it now."""
    pks = [
        r["id"]
        for r in await Finding.select(Finding.id).where(
            Finding.tenant == tenant.id,
            Finding.inspection.round.starts_on >= date(year, 1, 1),
            Finding.inspection.round.starts_on <= date(year, 12, 31),
        )
    ]
    if pks:
        await tell_assessment(tenant, actor or Actor.system().name, pks)


events.subscribe(events.ASSESSMENT_OPENED, _on_assessment_opened)
