"""Inspections in bulk, at moments in the past: what the services do one request at a
time, for many records at once (the demo), with the same rows, history, audit events and
assessment costs. A unit's device register imported from Excel (devices_import); a
team's records at a unit (fieldwork: checklist results, must-interviews, clues, notes;
devices: the sample, its results, measures; findings); finalising; and the findings'
later life (rectification, verification, reopening, deadlines passing), whose costs
finding_costs tells the assessment as the services do.

Under the services' rules: only the office or a member of the unit's team records, not
one whose conflict of interest is unconfirmed, and not once finalised; the interviewees
are the registry's must-interview list as of the visit day; the sample is
devices.draw_devices' draw of the register; finalising passes fieldwork's gate; a
finding's changes follow its states and who may make them, and whoever recorded it
does not verify it. No user input here: a record the services would refuse is a
programming error (ValueError), not a message.

Rounds and teams are the services' (rounds.create_round, add_team, assign: a few calls
each); date_round puts their moments in the past. The bulk writes settle no reminders:
they serve a bureau whose scheduler has not run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.actor import Actor
from server.audit import bulk as audit
from server.core.bulk import insert_new, insert_rows, new_row, update_rows
from server.core.chunks import chunks
from server.core.errors import Forbidden, NotFound
from server.core.i18n import _
from server.inspections import access, checklist, devices, fieldwork, finding_costs, findings
from server.inspections.tables import (
    Clue,
    Device,
    DeviceCheck,
    DeviceImport,
    Finding,
    FindingEvent,
    Inspection,
    Interview,
    ItemResult,
    Measure,
    Round,
    Team,
)
from server.units import service as units
from tenants.service import TenantRef


def _must(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(what)


def _day(tenant: TenantRef, at: datetime) -> date:
    """The day of a moment where the bureau is (as units.today reads it)."""
    return at.astimezone(ZoneInfo(tenant.timezone)).date()


class _Audit:
    """Audit events gathered by action, stored together (each action's events chained
    as the services chain them)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], list[tuple[Actor, Any, dict | None]]] = defaultdict(list)

    def add(self, action: str, object_type: str, actor: Actor, object_id: Any, detail: dict | None = None) -> None:
        self.items[(action, object_type)].append((actor, object_id, detail))

    async def store(self, tenant: TenantRef) -> None:
        for (action, object_type), items in self.items.items():
            await audit.record_each(tenant.id, action, object_type, items)


# ---------------------------------------------------------------- the device register


@dataclass
class Register:
    """A unit's device register as its keeper imported it from a workbook at a moment:
    devices as {kind, label, classified, holder, location}, all new to the register."""

    actor: Actor
    unit_pk: int
    devices: list[dict[str, Any]]
    at: datetime
    filename: str = "register.xlsx"


def _register_rows(register: Register) -> list[dict[str, Any]]:
    """The import's rows as devices_import.preview_import keeps them."""
    _must(register.actor.role in devices.KEEPERS, f"{register.actor.name} keeps no device register")
    rows, seen = [], set()
    for line, d in enumerate(register.devices, start=2):
        label = devices.label_text(d["label"])
        _must(d["kind"] in checklist.DEVICE_KINDS and 0 < len(label) <= 200, f"line {line}: {d}")
        _must(len(d.get("holder", "")) <= 100 and len(d.get("location", "")) <= 200, f"line {line}: {d}")
        _must((d["kind"], label) not in seen, f"line {line}: {label} twice")
        seen.add((d["kind"], label))
        rows.append(
            {
                "line": line,
                "kind": d["kind"],
                "label": label,
                "classified": bool(d["classified"]),
                "holder": d.get("holder", ""),
                "location": d.get("location", ""),
                "status": "new",
                "before": None,
            }
        )
    return rows


async def import_registers(tenant: TenantRef, registers: Sequence[Register]) -> None:
    """devices_import.preview_import then apply_import of each unit's register workbook,
    into a register without those devices."""
    units_ = [r.unit_pk for r in registers]
    _must(len(set(units_)) == len(units_), "one register per unit")
    present = set()
    for batch in chunks(units_):
        present |= {
            r["unit"]
            for r in await Device.select(Device.unit).where(
                Device.tenant == tenant.id, Device.unit.is_in(list(batch)), Device.deleted_at.is_null()
            )
        }
    _must(not present, "these units' registers already hold devices")
    imports, made, trail = [], [], _Audit()
    for register in registers:
        rows = _register_rows(register)
        record = new_row(
            tenant=tenant.id,
            unit=register.unit_pk,
            user_id=register.actor.id or 0,
            filename=register.filename,
            status="applied",
            rows=rows,
            errors=[],
            created_at=register.at,
            applied_at=register.at,
        )
        imports.append(record)
        made += [
            new_row(
                tenant=tenant.id,
                unit=register.unit_pk,
                created_at=register.at,
                **{k: r[k] for k in ("kind", "label", "classified", "holder", "location")},
            )
            for r in rows
        ]
        trail.add(
            "device.import_preview", "device_import", register.actor, record["uuid"], {"rows": len(rows), "errors": 0}
        )
    for register, record in zip(registers, imports, strict=True):
        applied = {"added": len(record["rows"]), "updated": 0, "unchanged": 0}
        trail.add("device.import_apply", "device_import", register.actor, record["uuid"], applied)
    await insert_rows(DeviceImport, imports)
    await insert_rows(Device, made)
    await trail.store(tenant)


# ---------------------------------------------------------------- a team's records at a unit


@dataclass
class Result:
    """A checklist item's result and note."""

    actor: Actor
    code: str
    result: str
    at: datetime
    note: str = ""


@dataclass
class Interviewing:
    """A must-interview held (its day and summary) or waived (the reason)."""

    actor: Actor
    person_uuid: Any
    at: datetime
    held_on: date | None = None
    summary: str = ""
    waived_reason: str = ""
    interviewer: str = ""


@dataclass
class Check:
    """A drawn device's result."""

    actor: Actor
    device_uuid: Any
    result: str
    at: datetime
    note: str = ""


@dataclass
class Draw:
    """The sample drawn of the unit's register, and the results recorded of it."""

    actor: Actor
    size: int
    seed: str
    at: datetime
    checks: list[Check] = field(default_factory=list)


@dataclass
class NewFinding:
    """A finding recorded from a checklist item and/or a device; `uuid` and `pk` are set
    once written."""

    actor: Actor
    severity: str
    description: str
    mode: str  # on_spot (note: what was done) | deadline
    at: datetime
    item: str = ""
    area: str = ""  # when from a device alone
    device_uuid: Any = None
    deadline: date | None = None
    note: str = ""
    basis: str = ""
    leak: bool = False
    uuid: Any = None
    pk: int = 0


@dataclass
class NewMeasure:
    """A measure over a sampled device found in violation and/or a finding of the visit."""

    actor: Actor
    kind: str
    details: dict[str, Any]
    at: datetime
    device_uuid: Any = None
    finding: NewFinding | None = None


@dataclass
class Visit:
    """What was recorded on one unit's inspection (its public id)."""

    inspection: Any
    results: list[Result] = field(default_factory=list)
    interviews: list[Interviewing] = field(default_factory=list)
    draw: Draw | None = None
    findings: list[NewFinding] = field(default_factory=list)
    measures: list[NewMeasure] = field(default_factory=list)
    clues: list[tuple[Actor, str, datetime]] = field(default_factory=list)
    notes: tuple[Actor, str, datetime] | None = None


def _actors(visit: Visit) -> list[Actor]:
    found = [r.actor for r in visit.results] + [i.actor for i in visit.interviews]
    if visit.draw:
        found += [visit.draw.actor] + [c.actor for c in visit.draw.checks]
    found += [f.actor for f in visit.findings] + [m.actor for m in visit.measures] + [c[0] for c in visit.clues]
    found += [visit.notes[0]] if visit.notes else []
    return list({(a.id, a.name): a for a in found}.values())


async def _recording(tenant: TenantRef, actors: list[Actor], inspection_id: Any) -> dict:
    """The inspection, once every actor is found to be one who may record on it
    (access.recording's rule)."""
    if not actors:
        raise ValueError(f"inspection {inspection_id}: nothing recorded")
    try:
        row = await access.inspection(tenant, actors[0], inspection_id, allow=(access.OFFICE, access.TEAM))
        _must(row["status"] == "open", f"{row['unit_name']}: the inspection is finalised")
        for actor in actors:
            view = await access.view_of(tenant, actor, row)
            if view not in (access.OFFICE, access.TEAM):
                raise Forbidden()
            await access.must_record(tenant, actor, {**row, "view": view})
    except (Forbidden, NotFound) as exc:
        names = ", ".join(a.name for a in actors)
        raise ValueError(f"inspection {inspection_id}: not for {names} to record ({exc})") from exc
    return row


class _Visits:
    """The rows, history and audit events of many visits, stored together."""

    def __init__(self, tenant: TenantRef) -> None:
        self.tenant = tenant
        self.trail = _Audit()
        self.results: list[dict] = []
        self.interviews: list[dict] = []
        self.samples: list[tuple] = []
        self.checks: list[dict] = []
        self.findings: list[tuple[NewFinding, dict, dict]] = []  # (finding, row, inspection)
        self.measures: list[tuple[NewMeasure, dict]] = []
        self.clues: list[dict] = []
        self.notes: list[tuple] = []

    def add_results(self, row: dict, results: list[Result], recorded: set[str]) -> None:
        by_area: dict[str, dict[str, str]] = defaultdict(dict)
        actor_of: dict[str, Actor] = {}
        for r in results:
            item = checklist.item(row["checklist"], r.code)
            _must(item is not None and r.result in checklist.RESULTS, f"{row['unit_name']}: {r.code} {r.result}")
            _must(r.code not in recorded and len(r.note) <= fieldwork.MAX_NOTE, f"{row['unit_name']}: {r.code} again")
            recorded.add(r.code)
            self.results.append(
                {
                    "tenant": self.tenant.id,
                    "inspection": row["id"],
                    "item": r.code,
                    "result": r.result,
                    "note": r.note,
                    "updated_by": r.actor.name,
                    "updated_at": r.at,
                }
            )
            by_area[item["area"]][r.code] = r.result
            actor_of.setdefault(item["area"], r.actor)
        # as the pages save them: an area at a time
        for area, saved in by_area.items():
            self.trail.add("inspection.checklist", "inspection", actor_of[area], row["uuid"], {"results": saved})

    async def add_interviews(self, row: dict, held: list[Interviewing]) -> None:
        if not held:
            return
        listed = {p["person_id"]: p for p in (await fieldwork.interviews(self.tenant, row))["people"]}
        pks = await units.person_pks(self.tenant, list(listed))
        today = units.today(self.tenant)
        for i in held:
            person = listed.get(str(i.person_uuid))
            _must(person is not None, f"{row['unit_name']}: {i.person_uuid} is not on the must-interview list")
            _must(person["status"] == "missing", f"{row['unit_name']}: {person['name']} twice")
            person["status"] = "waived" if i.waived_reason else "held"
            if i.waived_reason:
                _must(i.held_on is None and not i.summary, f"{person['name']}: held and waived")
            else:
                _must(i.held_on is not None and i.held_on <= today and bool(i.summary), f"{person['name']}: {i}")
            self.interviews.append(
                {
                    "tenant": self.tenant.id,
                    "inspection": row["id"],
                    "person": pks[person["person_id"]],
                    "held_on": i.held_on,
                    "interviewer": "" if i.waived_reason else (i.interviewer or i.actor.name),
                    "summary": i.summary,
                    "waived_reason": i.waived_reason,
                    "recorded_by": i.actor.name,
                    "recorded_at": i.at,
                }
            )
            detail = {"person": person["name"], "status": person["status"]}
            self.trail.add("inspection.interview", "inspection", i.actor, row["uuid"], detail)

    def add_draw(self, row: dict, live: list[dict], draw: Draw) -> dict[str, dict]:
        """The sample (devices.draw's) with its results; the drawn devices by public id."""
        _must(row["sample_size"] is None, f"{row['unit_name']}: a sample was drawn already")
        _must(0 < draw.size <= len(live) and bool(draw.seed), f"{row['unit_name']}: a sample of {draw.size}")
        drawn = {str(d["uuid"]): d for d in devices.draw_devices(live, draw.size, draw.seed)}
        checked = {}
        for c in draw.checks:
            device = drawn.get(str(c.device_uuid))
            _must(device is not None and str(c.device_uuid) not in checked, f"{c.device_uuid} is not drawn, or twice")
            _must(c.result in checklist.DEVICE_RESULTS and c.at >= draw.at, f"{device['label']}: {c.result}")
            _must(c.result == "clean" or bool(c.note), f"{device['label']}: say what the violation is")
            checked[str(c.device_uuid)] = c
            detail = {"device": device["label"], "result": c.result}
            self.trail.add("inspection.device_result", "inspection", c.actor, row["uuid"], detail)
        for uuid, device in drawn.items():
            c = checked.get(uuid)
            self.checks.append(
                {
                    "tenant": self.tenant.id,
                    "inspection": row["id"],
                    "device": device["id"],
                    "result": c.result if c else "",
                    "note": c.note if c else "",
                    "checked_by": c.actor.name if c else "",
                    "checked_at": c.at if c else None,
                }
            )
        self.samples.append((draw.size, draw.seed, draw.at, row["id"]))
        detail = {"size": draw.size, "seed": draw.seed, "register": len(live)}
        self.trail.add("inspection.sample_draw", "inspection", draw.actor, row["uuid"], detail)
        return {uuid: {**d, "result": checked[uuid].result if uuid in checked else ""} for uuid, d in drawn.items()}

    async def add_findings(self, row: dict, live: dict[str, dict], new: list[NewFinding]) -> None:
        leaders: dict[date, int | None] = {}
        for f in new:
            device = live.get(str(f.device_uuid)) if f.device_uuid else None
            _must(f.device_uuid is None or device is not None, f"{f.device_uuid}: not in the unit's register")
            area, basis = _origin(row, f, device)
            _must(f.severity in checklist.SEVERITIES and 0 < len(f.description) <= 2000, f"{f.description!r}")
            day = _day(self.tenant, f.at)
            _handling(f, day)
            if f.mode == "deadline" and day not in leaders:
                leaders[day] = await findings.responsible_leader(self.tenant, row["unit"], day)
            on_spot = f.mode == "on_spot"
            values = new_row(
                tenant=self.tenant.id,
                inspection=row["id"],
                unit=row["unit"],
                item=f.item,
                area=area,
                device=device["id"] if device else None,
                severity=f.severity,
                description=f.description,
                basis=f.basis or basis,
                mode=f.mode,
                deadline=f.deadline,
                responsible=None if on_spot else leaders[day],
                state="submitted" if on_spot else "open",
                submitted_at=f.at if on_spot else None,
                leak=f.leak,
                recorded_by_id=f.actor.id,
                recorded_by=f.actor.name,
                created_at=f.at,
            )
            f.uuid = values["uuid"]
            self.findings.append((f, values, row))

    def add_measures(self, row: dict, drawn: dict[str, dict], measures: list[NewMeasure], own: list[NewFinding]):
        today = units.today(self.tenant)
        for m in measures:
            device = drawn.get(str(m.device_uuid)) if m.device_uuid else None
            _must(m.device_uuid is None or (device is not None and device["result"] == "violation"), f"{m}")
            _must(m.finding is None or any(m.finding is f for f in own), f"{m.kind}: not a finding of the visit")
            _must(device is not None or m.finding is not None, f"{m.kind}: about nothing")
            details = _measure_details(m, device, min(today, _day(self.tenant, m.at)))
            values = new_row(inspection=row["id"], device=device["id"] if device else None, details=details)
            self.measures.append((m, values))

    def add_clues_and_notes(self, row: dict, visit: Visit) -> None:
        for actor, text, at in visit.clues:
            _must(0 < len(text) <= fieldwork.MAX_CLUE, f"{row['unit_name']}: a clue of {len(text)} characters")
            clue = new_row(tenant=self.tenant.id, inspection=row["id"], text=text, created_by=actor.name, created_at=at)
            self.clues.append(clue)
            self.trail.add("inspection.clue_add", "inspection", actor, row["uuid"], {"clue": str(clue["uuid"])})
        if visit.notes:
            actor, text, _at = visit.notes
            _must(len(text) <= fieldwork.MAX_TEAM_NOTES, f"{row['unit_name']}: notes too long")
            self.notes.append((text, row["id"]))
            self.trail.add("inspection.notes", "inspection", actor, row["uuid"], {"length": len(text)})

    async def store(self) -> None:
        tenant = self.tenant
        await insert_rows(ItemResult, self.results)
        await insert_rows(Interview, self.interviews)
        await update_rows(Inspection, ("sample_size", "sample_seed", "sampled_at"), self.samples)
        await insert_rows(DeviceCheck, self.checks)
        await self._store_findings()
        await self._store_measures()
        await insert_rows(Clue, self.clues)
        await update_rows(Inspection, ("team_notes",), self.notes)
        await self.trail.store(tenant)

    async def _store_findings(self) -> None:
        rows = [values for _f, values, _row in self.findings]
        recurring = await _recurring(self.tenant, [(values, row) for _f, values, row in self.findings])
        for values in rows:
            values["recurring"] = values["uuid"] in recurring
        await insert_new(Finding, rows)
        history, trail = [], _Audit()
        for f, values, row in self.findings:
            f.pk = values["id"]
            on_spot = f.mode == "on_spot"
            made = [("recorded", "" if on_spot else f.note)] + ([("submitted", f.note)] if on_spot else [])
            history += [
                {"tenant": self.tenant.id, "finding": f.pk, "kind": k, "note": n, "actor": f.actor.name, "at": f.at}
                for k, n in made
            ]
            detail = {
                "unit": row["unit_name"],
                "item": f.item,
                "area": values["area"],
                "severity": f.severity,
                "mode": f.mode,
                "deadline": f.deadline.isoformat() if f.deadline else None,
                "leak": f.leak,
                "recurring": values["recurring"],
                "files": 0,
            }
            trail.add("inspection.finding_create", "inspection_finding", f.actor, f.uuid, detail)
        await insert_rows(FindingEvent, history)
        await trail.store(self.tenant)

    async def _store_measures(self) -> None:
        rows = []
        for m, values in self.measures:
            details = values["details"]
            if m.kind == "transfer" and not details["receipt_no"]:
                details["receipt_no"] = devices.receipt_number(details["transferred_on"], values["uuid"])
            rows.append(
                {
                    **values,
                    "tenant": self.tenant.id,
                    "finding": m.finding.pk if m.finding else None,
                    "kind": m.kind,
                    "created_by": m.actor.name,
                    "created_at": m.at,
                }
            )
            detail = {"kind": m.kind, **({"receipt_no": details["receipt_no"]} if m.kind == "transfer" else {})}
            self.trail.add("inspection.measure", "inspection_measure", m.actor, values["uuid"], detail)
        await insert_rows(Measure, rows)


def _origin(row: dict, f: NewFinding, device: dict | None) -> tuple[str, str]:
    """The area and default basis the finding takes from its item (findings._origin's rule)."""
    if not f.item:
        _must(device is not None and f.area in checklist.AREAS, f"{f.description}: no item, no device and area")
        return f.area, ""
    item = checklist.item(row["checklist"], f.item)
    _must(item is not None and f.area in ("", item["area"]), f"{f.item}: not an item of the round's checklist")
    return item["area"], item.get("basis", "")


def _handling(f: NewFinding, day: date) -> None:
    """On the spot (what was done, said) or by a deadline within the year from its day."""
    _must(f.mode in checklist.MODES, f"{f.description}: mode {f.mode}")
    if f.mode == "on_spot":
        _must(f.deadline is None and bool(f.note), f"{f.description}: on the spot, with what was done")
    else:
        latest = day + timedelta(days=findings.MAX_DEADLINE_DAYS)
        _must(f.deadline is not None and day <= f.deadline <= latest, f"{f.description}: {f.deadline}")


def _measure_details(m: NewMeasure, device: dict | None, day: date) -> dict[str, Any]:
    """The measure's particulars as devices checks them (each of its kind's fields, dates
    not after the day it was taken)."""
    _must(m.kind in checklist.MEASURES, f"measure {m.kind}")
    fields = devices.MEASURE_FIELDS[m.kind]
    _must(set(m.details) == set(fields), f"{m.kind}: {sorted(m.details)} for {fields}")
    _must(all(m.details[f] for f in fields if f != "receipt_no"), f"{m.kind}: a field left empty")
    for name in ("since", "transferred_on"):
        if name in m.details:
            _must(date.fromisoformat(m.details[name]) <= day, f"{m.kind}: {name} after the day")
    for item in m.details.get("preserved", []):
        _must(bool(item["name"]) and bool(devices.SHA256.fullmatch(item["sha256"])), f"{m.kind}: {item}")
    details = dict(m.details)
    if m.kind == "order_stop_use":
        _must(device is not None, "order_stop_use names its device")
        details["device"] = device["label"]
    return details


async def _recurring(tenant: TenantRef, new: list[tuple[dict, dict]]) -> set[Any]:
    """The new findings (values, inspection) an earlier round also found on their unit and
    item, among those stored and those new (findings._recurs's rule, for many at once)."""
    keyed = [(values, row) for values, row in new if values["item"]]
    if not keyed:
        return set()
    earliest: dict[tuple[int, str], date] = {}
    for values, row in keyed:
        key = (values["unit"], values["item"])
        earliest[key] = min(earliest.get(key, row["round_starts_on"]), row["round_starts_on"])
    for batch in chunks(sorted({values["unit"] for values, _row in keyed})):
        for r in await Finding.select(
            Finding.unit, Finding.item, Finding.inspection.round.starts_on.as_alias("starts_on")
        ).where(Finding.tenant == tenant.id, Finding.unit.is_in(list(batch)), Finding.item != ""):
            key = (r["unit"], r["item"])
            if key in earliest:
                earliest[key] = min(earliest[key], r["starts_on"])
    return {
        values["uuid"] for values, row in keyed if earliest[(values["unit"], values["item"])] < row["round_starts_on"]
    }


async def record_visits(tenant: TenantRef, visits: Sequence[Visit]) -> None:
    """What each visit recorded, as the services would have (one inspection once per call):
    fieldwork.save_area and record_interview, add_clue, update_notes; devices.draw,
    record_device and add_measure; findings.create_finding. Sets each NewFinding's uuid."""
    _must(len({str(v.inspection) for v in visits}) == len(visits), "an inspection twice")
    writes = _Visits(tenant)
    for visit in visits:
        row = await _recording(tenant, _actors(visit), visit.inspection)
        recorded = {
            r["item"]
            for r in await ItemResult.select(ItemResult.item).where(
                ItemResult.tenant == tenant.id, ItemResult.inspection == row["id"]
            )
        }
        writes.add_results(row, visit.results, recorded)
        await writes.add_interviews(row, visit.interviews)
        live = await devices.live_devices(tenant, row["unit"])
        drawn = writes.add_draw(row, live, visit.draw) if visit.draw else {}
        await writes.add_findings(row, {str(d["uuid"]): d for d in live}, visit.findings)
        writes.add_measures(row, drawn, visit.measures, visit.findings)
        writes.add_clues_and_notes(row, visit)
    await writes.store()


# ---------------------------------------------------------------- finalising


async def finalise(tenant: TenantRef, finals: Sequence[tuple[Actor, Any, datetime]]) -> None:
    """fieldwork.finalise of each (actor, inspection id, moment): once nothing is missing."""
    done, trail = [], _Audit()
    for actor, inspection_id, at in finals:
        row = await _recording(tenant, [actor], inspection_id)
        gaps = await fieldwork.missing(tenant, row)
        _must(not gaps, f"{row['unit_name']}: {[g['message'] for g in gaps]}")
        done.append(("finalised", at, actor.name, row["id"]))
        trail.add("inspection.finalise", "inspection", actor, row["uuid"])
    await update_rows(Inspection, ("status", "finalised_at", "finalised_by"), done)
    await trail.store(tenant)


# ---------------------------------------------------------------- a finding's later life


@dataclass
class Move:
    """A change of a finding (its public id) at a moment: rectifying, submitted, verified,
    reopened or comment, by whoever may; overdue, by the day's reminders once its
    deadline passed."""

    actor: Actor
    finding_uuid: Any
    kind: str
    at: datetime
    note: str = ""


# kind: (the states it may come from, the state it leads to, the views that may make it)
_MOVES = {
    "rectifying": (findings.START_FROM, "rectifying", findings.ACTING),
    "submitted": (finding_costs.PENDING, "submitted", findings.SUBMITTERS),
    "verified": (("submitted",), "verified", findings.JUDGES),
    "reopened": (findings.REOPEN_FROM, "reopened", findings.JUDGES),
    "comment": (tuple(checklist.STATES), None, findings.ACTING),
}


async def _acting_view(tenant: TenantRef, actor: Actor, row: dict) -> str:
    """How the actor sees the finding's inspection ("" for a team member whose conflict of
    interest with the unit is unconfirmed: findings._acting's rule)."""
    try:
        insp = await access.inspection_by_pk(tenant, actor, row["inspection"], allow=access.ALL_VIEWS)
    except NotFound:
        raise ValueError(f"{actor.name} does not see finding {row['uuid']}") from None
    if insp["view"] == access.TEAM:
        member = await access.membership(tenant, insp["team"], actor.id)
        if member and access.unresolved_conflict(member, insp["unit"]):
            return ""
    return insp["view"]


def _change(row: dict, move: Move, view: str) -> None:
    """One change of state (findings._move's), made to the row as it stands."""
    from_, to, views = _MOVES[move.kind]
    _must(view in views and row["state"] in from_, f"{move.actor.name}: {move.kind} of a {row['state']} finding")
    judging = move.kind in ("verified", "reopened")
    _must(not judging or row["recorded_by_id"] != move.actor.id, f"{move.actor.name} recorded it: another verifies")
    _must(bool(move.note) or move.kind in ("rectifying", "verified"), f"{move.kind} without a note")
    if to is None:
        return
    row["state"] = to
    if to == "submitted":
        row["submitted_at"] = move.at
    elif to == "verified":
        row["verified_at"], row["verified_by"] = move.at, move.actor.name
    elif to == "reopened":
        row["verified_at"], row["verified_by"] = None, ""


def _overdue(row: dict, move: Move, day: date, noted: set[int]) -> None:
    """finding_costs.mark_overdue's rule: a deadline finding still waiting for the unit
    past its deadline on the day, noted once, by the reminders."""
    late = row["mode"] == "deadline" and row["state"] in finding_costs.PENDING and day > row["deadline"]
    _must(late and row["id"] not in noted and move.actor.kind == "system", f"{row['uuid']}: not overdue")
    noted.add(row["id"])


async def _rows(tenant: TenantRef, uuids: list[str]) -> tuple[dict[str, dict], set[int]]:
    """The findings by public id, and those whose deadline passing is already noted."""
    rows = []
    for batch in chunks(uuids):
        rows += await Finding.select(*finding_costs.COLUMNS).where(
            Finding.tenant == tenant.id, Finding.uuid.is_in(list(batch))
        )
    _must(len(rows) == len(uuids), "a finding that is not there")
    noted = await finding_costs.overdue_noted(tenant, [r["id"] for r in rows])
    return {str(r["uuid"]): r for r in rows}, noted


async def move_findings(tenant: TenantRef, moves: Sequence[Move]) -> None:
    """findings.start, submit, verify and comment, and the reminders noting a deadline
    passed (finding_costs.mark_overdue), in the order given, each after the finding's
    earlier changes; then the assessment is told what the findings cost now, as the
    services tell it."""
    rows, noted = await _rows(tenant, sorted({str(m.finding_uuid) for m in moves}))
    views: dict[tuple[Any, int], str] = {}
    last: dict[int, datetime] = {}
    history, trail, movers = [], _Audit(), {}
    for move in moves:
        row = rows[str(move.finding_uuid)]
        _must(move.at >= last.get(row["id"], row["created_at"]), f"{move.kind} of {row['uuid']}: before its past")
        last[row["id"]] = move.at
        note, before = move.note, row["state"]
        if move.kind == "overdue":
            _overdue(row, move, _day(tenant, move.at), noted)
            note = _("The deadline %(date)s passed without a rectification.", date=row["deadline"].isoformat())
            trail.add("inspection.finding_overdue", "inspection_finding", move.actor, row["uuid"])
        else:
            key = (move.actor.id or move.actor.name, row["inspection"])
            if key not in views:
                views[key] = await _acting_view(tenant, move.actor, row)
            _change(row, move, views[key])
            detail = {"note": note} if move.kind == "comment" else {"from": before, "to": row["state"], "note": note}
            trail.add(f"inspection.finding_{move.kind}", "inspection_finding", move.actor, row["uuid"], detail)
        event = {"tenant": tenant.id, "finding": row["id"], "kind": move.kind, "note": note, "at": move.at}
        history.append({**event, "actor": move.actor.name})
        movers[row["id"]] = move.actor.name
    columns = ("state", "submitted_at", "verified_at", "verified_by")
    await update_rows(Finding, columns, [(*(r[c] for c in columns), r["id"]) for r in rows.values()])
    await insert_rows(FindingEvent, history)
    await trail.store(tenant)
    by_actor: dict[str, list[int]] = defaultdict(list)
    for pk, name in movers.items():
        by_actor[name].append(pk)
    for name, pks in sorted(by_actor.items()):
        await finding_costs.tell_assessment(tenant, name, pks)


# ---------------------------------------------------------------- a round's moments


async def date_round(tenant: TenantRef, round_id: Any, created: datetime, closed: datetime | None = None) -> None:
    """A round (and its teams) made, and closed, at moments in the past, where
    rounds.create_round, add_team and close_round stamped the time they ran."""
    row = await Round.select(Round.id, Round.status).where(Round.tenant == tenant.id, Round.uuid == round_id).first()
    _must(row is not None and (closed is None) == (row["status"] == "open"), f"round {round_id}")
    await Round.update({Round.created_at: created, Round.closed_at: closed}).where(Round.id == row["id"])
    await Team.update({Team.created_at: created}).where(Team.tenant == tenant.id, Team.round == row["id"])
