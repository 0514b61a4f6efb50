"""Findings and their rectification: recorded from a checklist item or a device (fixed on
the spot, or to be rectified by a deadline under the leader the registry names), then
open → rectifying → submitted (what the unit did) → verified by a team member other than
the recorder, or the office; or reopened with the reason. Each change is one conditional
UPDATE, so of two at once one wins and the other is told it came too late; each writes
the finding's history and an audit event in the same transaction.

A finding on a unit and checklist item that an earlier round also found is recurring.
A deadline finding past its deadline and not yet submitted is overdue. What findings
cost the unit in its assessment, and deadlines that pass: finding_costs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from server import db, roles
from server.actor import Actor
from server.audit import service as audit
from server.core.errors import Conflict, Forbidden, NotFound
from server.core.i18n import _, _l
from server.core.pagination import Page, read_page
from server.core.rows import public
from server.core.validation import Checker
from server.inspections import access, attachments, checklist, finding_costs
from server.inspections.access import ALL_VIEWS, OFFICE, TEAM, UNIT
from server.inspections.tables import Device, Finding, FindingEvent, TeamMember
from server.units import service as units
from tenants.service import TenantRef, get_owned

LABELS = {
    "item": _l("Checklist item"),
    "device_id": _l("Device"),
    "area": _l("Inspection area"),
    "severity": _l("Severity"),
    "description": _l("Description"),
    "basis": _l("Legal basis"),
    "mode": _l("Handling"),
    "deadline": _l("Rectification deadline"),
    "leak": _l("Confirmed leak"),
    "note": _l("Note"),
    "accepted": _l("Verdict"),
    "state": _l("State"),
    "overdue": _l("Overdue"),
    "round": _l("Round"),
    "file": _l("File"),
}
EVENT_KINDS = {
    "recorded": _l("Recorded"),
    "rectifying": _l("Rectification started"),
    "submitted": _l("Rectification submitted"),
    "verified": _l("Verified"),
    "reopened": _l("Reopened"),
    "overdue": _l("Deadline passed"),
    "comment": _l("Comment"),
}
START_FROM = ("open", "reopened")
REOPEN_FROM = ("submitted", "verified")
# who acts on a finding: the office and the team judge it, the unit rectifies it; a
# district admin only reads
ACTING = (OFFICE, TEAM, UNIT)
JUDGES = (OFFICE, TEAM)
SUBMITTERS = (OFFICE, UNIT)
MAX_DEADLINE_DAYS = 366


# ---------------------------------------------------------------- reading


def _public(tenant: TenantRef, row: dict, today: date, deductions: list[dict]) -> dict:
    return public(
        row,
        "item",
        "area",
        "severity",
        "description",
        "basis",
        "mode",
        "deadline",
        "state",
        "leak",
        "recurring",
        "recorded_by",
        "created_at",
        "submitted_at",
        "verified_at",
        "verified_by",
        "unit_name",
        "round_name",
        inspection_id=str(row["inspection_uuid"]),
        round_id=str(row["round_uuid"]),
        unit_id=str(row["unit_uuid"]),
        device_id=str(row["device_uuid"]) if row["device_uuid"] else None,
        device_label=row["device_label"] or "",
        responsible_id=str(row["responsible_uuid"]) if row["responsible_uuid"] else None,
        responsible_name=row["responsible_name"] or "",
        area_label=str(checklist.AREAS.get(row["area"], row["area"])),
        severity_label=str(checklist.SEVERITIES[row["severity"]]),
        mode_label=str(checklist.MODES[row["mode"]]),
        state_label=str(checklist.STATES[row["state"]]),
        overdue=finding_costs.is_overdue(row, today),
        deductions=[{**d, "link": _assessment_link(tenant, d)} for d in deductions],
    )


def _assessment_link(tenant: TenantRef, d: dict) -> str:
    return f"/t/{tenant.slug}/assessments/{d['year']}/units/{d['unit_id']}" if d["applied"] else ""


async def deductions(tenant: TenantRef, finding_pks: list[int]) -> dict[int, str]:
    """What each finding cost its unit, in a few words (for exports); none: absent."""
    costs = await finding_costs.of(tenant, await finding_costs.rows_of(tenant, finding_pks))
    return {pk: deduction_text(found) for pk, found in costs.items() if found}


def deduction_text(found: list[dict]) -> str:
    parts = []
    for d in found:
        if not d["applied"]:
            parts.append(d["problem"])
        elif d["kind"] == "veto":
            parts.append(_("Veto: %(name)s (%(year)d)", name=d["name"], year=d["year"]))
        else:
            parts.append(_("−%(points)g %(name)s (%(year)d)", points=d["points"], name=d["name"], year=d["year"]))
    return "; ".join(parts)


async def _scope(tenant: TenantRef, actor: Actor) -> list:
    """The findings the actor may see: the office all, a district admin or a unit's officer
    those of their units, an inspector those of their teams' units."""
    if actor.role == roles.OFFICE_ADMIN:
        return []
    if actor.role in (roles.DISTRICT_ADMIN, roles.UNIT_OFFICER):
        return [Finding.unit.path.like((actor.scope_path or "/nothing/") + "%")]
    if actor.role == roles.INSPECTOR:
        teams = [
            m["team"]
            for m in await TeamMember.select(TeamMember.team).where(
                TeamMember.tenant == tenant.id, TeamMember.user_id == actor.id
            )
        ]
        return [Finding.inspection.team.is_in(teams or [0])]
    raise Forbidden()


async def _filters(tenant: TenantRef, query: dict[str, Any]) -> list:
    check = Checker(query, LABELS)
    state = check.choice("state", checklist.STATES, required=False)
    overdue = check.boolean("overdue") if query.get("overdue") not in (None, "") else None
    round_id = check.uuid("round")
    check.done()
    today = units.today(tenant)
    where = []
    if state:
        where.append(Finding.state == state)
    if overdue is True:
        where.append(finding_costs.overdue_filter(today))
    elif overdue is False:
        where.append(
            (Finding.mode != "deadline")
            | Finding.state.not_in(list(finding_costs.PENDING))
            | Finding.deadline.is_null()
            | (Finding.deadline >= today)
        )
    if round_id:
        where.append(Finding.inspection.round.uuid == round_id)
    return where


async def _page_of(tenant: TenantRef, where: list, page: int, per_page: int) -> Page:
    where = [Finding.tenant == tenant.id, *where]
    order = [Finding.created_at, Finding.id]
    shown = await read_page(Finding, where, finding_costs.COLUMNS, order, page, per_page, ascending=False)
    costs = await finding_costs.of(tenant, shown.items)
    today = units.today(tenant)
    shown.items = [_public(tenant, r, today, costs[r["id"]]) for r in shown.items]
    return shown


async def list_findings(
    tenant: TenantRef, actor: Actor, query: dict[str, Any], page: int = 1, per_page: int = 50
) -> Page:
    """The findings in the actor's scope, newest first; filters: state, overdue, round."""
    scope = await _scope(tenant, actor)
    return await _page_of(tenant, [*scope, *await _filters(tenant, query)], page, per_page)


async def inspection_findings(tenant: TenantRef, actor: Actor, inspection_id: Any) -> tuple[dict, list[dict]]:
    """One unit's inspection (as the actor sees it) and all its findings."""
    row = await access.inspection(tenant, actor, inspection_id, allow=ALL_VIEWS)
    found = await _page_of(tenant, [Finding.inspection == row["id"]], 1, 1_000_000)
    return row, found.items


async def _finding(tenant: TenantRef, actor: Actor, finding_id: Any, allow: tuple[str, ...]) -> tuple[dict, dict]:
    """The finding and its inspection as the actor sees it (404 outside, 403 for a view
    not in `allow`)."""
    owned = await get_owned(Finding, tenant, finding_id, Finding.id, Finding.inspection)
    insp = await access.inspection_by_pk(tenant, actor, owned["inspection"], allow=allow)
    row = await Finding.select(*finding_costs.COLUMNS).where(Finding.id == owned["id"]).first()
    return row, insp


def _owners(row: dict) -> list[str]:
    return [f"finding:{row['uuid']}", f"rectification:{row['uuid']}"]


def may(row: dict, insp: dict, actor: Actor) -> dict[str, bool]:
    """What the actor may do with the finding now."""
    view, state = insp["view"], row["state"]
    judge = view in JUDGES and row["recorded_by_id"] != actor.id
    return {
        "start": view in ACTING and state in START_FROM,
        "submit": view in SUBMITTERS and state in finding_costs.PENDING,
        "verify": judge and state == "submitted",
        "reopen": judge and state in REOPEN_FROM,
        "comment": view in ACTING,
    }


async def finding_detail(tenant: TenantRef, actor: Actor, finding_id: Any) -> dict:
    """The finding with its history and comments, its files (evidence, rectifications),
    the deduction it caused and what the actor may do."""
    row, insp = await _finding(tenant, actor, finding_id, ALL_VIEWS)
    history = (
        await FindingEvent.select(FindingEvent.kind, FindingEvent.note, FindingEvent.actor, FindingEvent.at)
        .where(FindingEvent.tenant == tenant.id, FindingEvent.finding == row["id"])
        .order_by(FindingEvent.at)
        .order_by(FindingEvent.id)
    )
    files = await attachments.list_for(tenant, insp["id"], _owners(row))
    item = checklist.item(insp["checklist"], row["item"]) if row["item"] else None
    costs = await finding_costs.of(tenant, [row])
    return {
        **_public(tenant, row, units.today(tenant), costs[row["id"]]),
        "item_text": item["text"] if item else "",
        "events": [{**e, "kind_label": str(EVENT_KINDS.get(e["kind"], e["kind"]))} for e in history],
        "evidence": files[f"finding:{row['uuid']}"],
        "rectification_files": files[f"rectification:{row['uuid']}"],
        "may": may(row, insp, actor),
        "view": insp["view"],
    }


async def leader_findings(tenant: TenantRef, actor: Actor) -> list[dict]:
    """The findings not yet verified of the units where the leader holds a post now."""
    if not actor.person_id:
        return []
    today = units.today(tenant)
    posts = await units.posts_on(tenant, today, people=[actor.person_id], positions=units.LEADER_POSITIONS)
    unit_pks = sorted({p["unit"] for p in posts})
    if not unit_pks:
        return []
    rows = (
        await Finding.select(*finding_costs.COLUMNS)
        .where(Finding.tenant == tenant.id, Finding.unit.is_in(unit_pks), Finding.state != "verified")
        .order_by(Finding.deadline)
        .order_by(Finding.id)
    )
    return [_public(tenant, r, today, []) for r in rows]


# ---------------------------------------------------------------- recording


async def unit_devices(tenant: TenantRef, unit_pk: int) -> list[dict]:
    """The unit's register, to record a finding on one of its devices."""
    rows = (
        await Device.select(Device.uuid, Device.kind, Device.label, Device.holder)
        .where(Device.tenant == tenant.id, Device.unit == unit_pk, Device.deleted_at.is_null())
        .order_by(Device.kind)
        .order_by(Device.label)
    )
    return [
        public(r, "kind", "label", "holder", kind_label=str(checklist.DEVICE_KINDS.get(r["kind"], r["kind"])))
        for r in rows
    ]


def _origin(check: Checker, insp: dict, device: dict | None) -> tuple[str, str, str]:
    """The item (if any), the area and the default basis a finding takes from its origin."""
    code = check.text("item", max_len=16)
    item = checklist.item(insp["checklist"], code) if code else None
    if code and item is None:
        check.fail("item", _("%(field)s is not one of the allowed values.", field=check.label("item")))
    if not code and device is None and "device_id" not in check.errors:
        check.fail("item", _("Name the checklist item or the device the finding is about."))
    if item is None:
        return code, check.choice("area", checklist.AREAS, required=device is not None), ""
    given = check.text("area", max_len=8)
    if given and given != item["area"]:
        check.fail("area", _("%(field)s must be the area of the checklist item.", field=check.label("area")))
    return code, item["area"], item.get("basis", "")


async def _device(tenant: TenantRef, check: Checker, insp: dict) -> dict | None:
    async def find(device_id):
        found = (
            await Device.select(Device.id, Device.label)
            .where(
                Device.tenant == tenant.id,
                Device.uuid == device_id,
                Device.unit == insp["unit"],
                Device.deleted_at.is_null(),
            )
            .first()
        )
        if found is None:
            raise NotFound()
        return found

    return await check.found(
        "device_id", find, _("%(field)s: no such device in the unit's register.", field=check.label("device_id"))
    )


def _handling(tenant: TenantRef, check: Checker) -> tuple[str, date | None, str]:
    """On the spot (what was done, said) or by a deadline within the coming year."""
    mode = check.choice("mode", checklist.MODES)
    deadline = check.date("deadline", required=mode == "deadline")
    note = check.text("note", required=mode == "on_spot", max_len=2000)
    today = units.today(tenant)
    if mode == "on_spot" and deadline:
        check.fail("deadline", _("A finding corrected on the spot has no deadline."))
    elif deadline and not today <= deadline <= today + timedelta(days=MAX_DEADLINE_DAYS):
        check.fail("deadline", _("%(field)s must fall within the coming year.", field=check.label("deadline")))
    return mode, deadline, note


async def responsible_leader(tenant: TenantRef, unit_pk: int, day: date) -> int | None:
    """Who answers for a rectification: the unit's leader in charge of secrecy work on
    the day, else its principal (none when the registry has neither)."""
    posts = await units.posts_on(tenant, day, units=[unit_pk], positions=("secrecy_lead", "principal"))
    for position in ("secrecy_lead", "principal"):
        holder = next((p["person"] for p in posts if p["position"] == position), None)
        if holder is not None:
            return holder
    return None


async def _recurs(tenant: TenantRef, insp: dict, item: str) -> bool:
    """An earlier round found the same unit wanting on the same item."""
    if not item:
        return False
    return await Finding.exists().where(
        Finding.tenant == tenant.id,
        Finding.unit == insp["unit"],
        Finding.item == item,
        Finding.inspection.round.starts_on < insp["round_starts_on"],
    )


async def create_finding(
    tenant: TenantRef,
    actor: Actor,
    inspection_id: Any,
    data: dict[str, Any],
    files: list[tuple[str, bytes]] = (),
) -> dict:
    """A finding recorded by the office or the unit's team while the inspection is open;
    files are evidence (of the correction, for one fixed on the spot)."""
    insp = await access.recording(tenant, actor, inspection_id)
    check = Checker(data, LABELS)
    device = await _device(tenant, check, insp)
    item, area, basis = _origin(check, insp, device)
    severity = check.choice("severity", checklist.SEVERITIES)
    description = check.text("description", required=True, max_len=2000)
    basis = check.text("basis", max_len=500) or basis
    mode, deadline, note = _handling(tenant, check)
    leak = check.boolean("leak")
    check.done()
    today = units.today(tenant)
    now = datetime.now(UTC)
    on_spot = mode == "on_spot"
    row = Finding(
        tenant=tenant.id,
        inspection=insp["id"],
        unit=insp["unit"],
        item=item,
        area=area,
        device=device["id"] if device else None,
        severity=severity,
        description=description,
        basis=basis,
        mode=mode,
        deadline=deadline,
        responsible=None if on_spot else await responsible_leader(tenant, insp["unit"], today),
        # the team saw it put right: another member or the office still verifies it
        state="submitted" if on_spot else "open",
        submitted_at=now if on_spot else None,
        leak=leak,
        recurring=await _recurs(tenant, insp, item),
        recorded_by_id=actor.id,
        recorded_by=actor.name,
    )
    async with db.atomic():
        await row.save()
        history = [("recorded", "" if on_spot else note)] + ([("submitted", note)] if on_spot else [])
        await FindingEvent.insert(
            *[FindingEvent(tenant=tenant.id, finding=row.id, kind=k, note=n, actor=actor.name) for k, n in history]
        )
        for filename, content in files:
            await attachments.store(tenant, actor, insp, f"finding:{row.uuid}", filename, content)
        detail = {
            "unit": insp["unit_name"],
            "item": item,
            "area": area,
            "severity": severity,
            "mode": mode,
            "deadline": deadline.isoformat() if deadline else None,
            "leak": leak,
            "recurring": row.recurring,
            "files": len(files),
        }
        await audit.record(tenant.id, actor, "inspection.finding_create", "inspection_finding", row.uuid, detail=detail)
    return await finding_detail(tenant, actor, row.uuid)


# ---------------------------------------------------------------- changes of state


async def _acting(tenant: TenantRef, actor: Actor, finding_id: Any, views: tuple[str, ...]) -> tuple[dict, dict]:
    """The finding for an actor whose view may make this change: a district admin reads
    only; a team member whose conflict of interest with the unit is not confirmed waits."""
    row, insp = await _finding(tenant, actor, finding_id, ALL_VIEWS)
    if insp["view"] not in views:
        raise Forbidden()
    if insp["view"] == TEAM:
        member = await access.membership(tenant, insp["team"], actor.id)
        if member and access.unresolved_conflict(member, insp["unit"]):
            raise Forbidden(
                _("You once held a post in this unit: the office must confirm the conflict of interest first.")
            )
    return row, insp


def _too_late(row: dict) -> Conflict:
    state = str(checklist.STATES[row["state"]])
    return Conflict(_("This finding is %(state)s: that cannot be done now.", state=state))


async def _move(
    tenant: TenantRef, actor: Actor, row: dict, from_: tuple[str, ...], kind: str, note: str, **values: Any
) -> dict:
    """One change of state: the conditional UPDATE that two at once cannot both pass, the
    history entry, the audit event and what it costs the unit, in one transaction."""
    async with db.atomic():
        changed = (
            await Finding.update(values)
            .where(Finding.tenant == tenant.id, Finding.id == row["id"], Finding.state.is_in(list(from_)))
            .returning(Finding.state)
        )
        if not changed:
            raise _too_late(await Finding.select(Finding.state).where(Finding.id == row["id"]).first())
        await FindingEvent.insert(
            FindingEvent(tenant=tenant.id, finding=row["id"], kind=kind, note=note, actor=actor.name)
        )
        detail = {"from": row["state"], "to": values["state"], "note": note}
        await audit.record(
            tenant.id, actor, f"inspection.finding_{kind}", "inspection_finding", row["uuid"], detail=detail
        )
        if values["state"] not in finding_costs.PENDING:
            await finding_costs.reminders_done(tenant, row)
        await finding_costs.tell_assessment(tenant, actor.name, [row["id"]])
    return await finding_detail(tenant, actor, row["uuid"])


def _note(data: dict[str, Any], *, required: bool) -> str:
    check = Checker(data, LABELS)
    note = check.text("note", required=required, max_len=2000)
    check.done()
    return note


async def start(tenant: TenantRef, actor: Actor, finding_id: Any, data: dict[str, Any]) -> dict:
    """The unit (or the team, or the office) says the rectification is under way."""
    row, _insp = await _acting(tenant, actor, finding_id, ACTING)
    note = _note(data, required=False)
    if row["state"] not in START_FROM:
        raise _too_late(row)
    return await _move(tenant, actor, row, START_FROM, "rectifying", note, state="rectifying")


async def submit(
    tenant: TenantRef, actor: Actor, finding_id: Any, data: dict[str, Any], files: list[tuple[str, bytes]] = ()
) -> dict:
    """The unit's officer (or the office) hands in what was done: a note and its files."""
    row, insp = await _acting(tenant, actor, finding_id, SUBMITTERS)
    note = _note(data, required=True)
    if row["state"] not in finding_costs.PENDING:
        raise _too_late(row)
    async with db.atomic():
        for filename, content in files:
            await attachments.store(tenant, actor, insp, f"rectification:{row['uuid']}", filename, content)
        return await _move(
            tenant,
            actor,
            row,
            finding_costs.PENDING,
            "submitted",
            note,
            state="submitted",
            submitted_at=datetime.now(UTC),
        )


async def verify(tenant: TenantRef, actor: Actor, finding_id: Any, data: dict[str, Any]) -> dict:
    """Another team member than the recorder, or the office, accepts the rectification
    (verified) or sends it back with the reason (reopened; a verified one too)."""
    row, _insp = await _acting(tenant, actor, finding_id, JUDGES)
    check = Checker(data, LABELS)
    if data.get("accepted") in (None, ""):
        check.fail("accepted", _("%(field)s is required.", field=check.label("accepted")))
    accepted = check.boolean("accepted")
    note = check.text("note", required=not accepted and "accepted" not in check.errors, max_len=2000)
    check.done()
    if row["recorded_by_id"] == actor.id:
        raise Forbidden(
            _("Whoever recorded a finding does not verify it: another member of the team or the office does.")
        )
    if accepted:
        if row["state"] != "submitted":
            raise _too_late(row)
        values = {"state": "verified", "verified_at": datetime.now(UTC), "verified_by": actor.name}
        return await _move(tenant, actor, row, ("submitted",), "verified", note, **values)
    if row["state"] not in REOPEN_FROM:
        raise _too_late(row)
    values = {"state": "reopened", "verified_at": None, "verified_by": ""}
    return await _move(tenant, actor, row, REOPEN_FROM, "reopened", note, **values)


async def comment(tenant: TenantRef, actor: Actor, finding_id: Any, data: dict[str, Any]) -> dict:
    row, _insp = await _acting(tenant, actor, finding_id, ACTING)
    note = _note(data, required=True)
    async with db.atomic():
        await FindingEvent.insert(
            FindingEvent(tenant=tenant.id, finding=row["id"], kind="comment", note=note, actor=actor.name)
        )
        detail = {"note": note}
        await audit.record(
            tenant.id, actor, "inspection.finding_comment", "inspection_finding", row["uuid"], detail=detail
        )
    return await finding_detail(tenant, actor, row["uuid"])
