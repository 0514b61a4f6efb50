"""The team's work at one unit: the clues the inspection group handed over, the
checklist's results, the three must-interviews (三必谈) and the coverage gate that an
inspection passes to be finalised."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from server import db
from server.actor import Actor
from server.audit import service as audit
from server.core.errors import Conflict, Forbidden, NotFound
from server.core.i18n import _, _l
from server.core.rows import public
from server.core.validation import Checker
from server.inspections import access, attachments, checklist
from server.inspections.access import DISTRICT, OFFICE, TEAM
from server.inspections.tables import Clue, Device, DeviceCheck, Inspection, Interview, ItemResult
from server.units import service as units
from tenants.service import TenantRef, get_owned

# who reads the checklist, the interviews and the team's notes (never the unit itself)
READERS = (OFFICE, DISTRICT, TEAM)
# who sees the clues: the unit's team and the office, never the unit nor the district
CLUE_VIEWS = (OFFICE, TEAM)
LABELS = {
    "result": _l("Result"),
    "note": _l("Note"),
    "person_id": _l("Person"),
    "held_on": _l("Date of the interview"),
    "summary": _l("Summary"),
    "interviewer": _l("Interviewer"),
    "waived_reason": _l("Reason for waiving"),
    "text": _l("Clue"),
    "team_notes": _l("Team notes"),
}
# why someone is on the must-interview list (a person may have several reasons)
REASONS = {
    "leadership": _l("Leadership member"),
    "classified": _l("Classified person"),
    "military_transfer": _l("Military-transfer cadre"),
}
INTERVIEW_STATUSES = {"held": _l("Interviewed"), "waived": _l("Waived"), "missing": _l("Not yet")}
CLASSIFIED = ("core", "important", "general")
LEVEL_RANK = {code: rank for rank, code in enumerate(units.LEVELS)}
MAX_NOTE = 2000
MAX_SUMMARY = 2000
MAX_REASON = 500
MAX_CLUE = 4000
MAX_TEAM_NOTES = 10000


class Incomplete(Conflict):
    """Finalising refused while something is missing: `missing` lists it, each as
    {code, message}."""

    def __init__(self, missing: list[dict[str, str]]) -> None:
        listed = " ".join(m["message"] for m in missing)
        errors = {m["code"]: m["message"] for m in missing}
        super().__init__(_("This inspection cannot be finalised yet. %(missing)s", missing=listed), errors)
        self.missing = missing


def _already_finalised() -> Conflict:
    return Conflict(_("This inspection is already finalised."))


async def readable(tenant: TenantRef, actor: Actor, inspection_id: Any) -> dict:
    """The inspection for its checklist and interview pages (the unit's officer has none)."""
    return await access.inspection(tenant, actor, inspection_id, allow=READERS)


async def refusal(tenant: TenantRef, actor: Actor, row: dict) -> str | None:
    """None when the actor may record on this inspection; otherwise why not ("" for a
    view that only reads)."""
    if row["view"] not in (OFFICE, TEAM):
        return ""
    try:
        await access.must_record(tenant, actor, row)
    except Forbidden as exc:
        return exc.message
    return None


# ---------------------------------------------------------------- checklist


def _item(row: dict, code: str) -> dict:
    item = checklist.item(row["checklist"], code)
    if item is None:
        raise NotFound(_("This round's checklist has no such item."))
    return item


async def _results(tenant: TenantRef, inspection_pk: int) -> dict[str, dict]:
    rows = await ItemResult.select().where(ItemResult.tenant == tenant.id, ItemResult.inspection == inspection_pk)
    return {r["item"]: r for r in rows}


def _item_state(item: dict, result: dict | None, files: list[dict]) -> dict:
    return {
        **item,
        "result": result["result"] if result else None,
        "note": result["note"] if result else "",
        "updated_by": result["updated_by"] if result else "",
        "updated_at": result["updated_at"] if result else None,
        "evidence": files,
    }


async def checklist_state(tenant: TenantRef, row: dict) -> list[dict]:
    """The six areas in order, each with its items (result, note, evidence) and how many
    of them have a result."""
    results = await _results(tenant, row["id"])
    areas = checklist.items_by_area(row["checklist"])
    owners = [f"item:{i['code']}" for area in areas for i in area["items"]]
    files = await attachments.list_for(tenant, row["id"], owners)
    for area in areas:
        area["items"] = [_item_state(i, results.get(i["code"]), files[f"item:{i['code']}"]) for i in area["items"]]
        area["assessed"] = sum(1 for i in area["items"] if i["result"])
        area["total"] = len(area["items"])
    return areas


async def _save_results(tenant: TenantRef, actor: Actor, row: dict, changes: dict[str, tuple[str, str]]) -> None:
    """Results by item code, each (result, note): one statement, one audit event."""
    if not changes:
        return
    now = datetime.now(UTC)
    rows = [
        ItemResult(
            tenant=tenant.id,
            inspection=row["id"],
            item=code,
            result=result,
            note=note,
            updated_by=actor.name,
            updated_at=now,
        )
        for code, (result, note) in changes.items()
    ]
    async with db.atomic():
        await ItemResult.insert(*rows).on_conflict(
            target=(ItemResult.tenant, ItemResult.inspection, ItemResult.item),
            action="DO UPDATE",
            values=[ItemResult.result, ItemResult.note, ItemResult.updated_by, ItemResult.updated_at],
        )
        detail = {"results": {code: result for code, (result, _note) in changes.items()}}
        await audit.record(tenant.id, actor, "inspection.checklist", "inspection", row["uuid"], detail=detail)


async def item_state(tenant: TenantRef, row: dict, code: str) -> dict:
    result = (await _results(tenant, row["id"])).get(code)
    files = await attachments.list_for(tenant, row["id"], [f"item:{code}"])
    return _item_state(_item(row, code), result, files[f"item:{code}"])


async def set_result(tenant: TenantRef, actor: Actor, inspection_id: Any, code: str, data: dict[str, Any]) -> dict:
    """One item's result and note (the API's PUT)."""
    row = await access.recording(tenant, actor, inspection_id)
    item = _item(row, code)
    check = Checker(data, LABELS)
    result = check.choice("result", checklist.RESULTS)
    note = check.text("note", max_len=MAX_NOTE)
    check.done()
    await _save_results(tenant, actor, row, {item["code"]: (result, note)})
    return await item_state(tenant, row, item["code"])


async def save_area(tenant: TenantRef, actor: Actor, inspection_id: Any, area: str, data: dict[str, Any]) -> dict:
    """An area's form: `result.<code>` and `note.<code>` of each of its items; an item
    left without a result is left as it was; only what changed is written."""
    row = await access.recording(tenant, actor, inspection_id)
    if area not in checklist.AREAS:
        raise NotFound()
    items = [i for i in row["checklist"]["items"] if i["area"] == area]
    labels = {}
    for i in items:
        labels[f"result.{i['code']}"] = f"{i['code']} {LABELS['result']}"
        labels[f"note.{i['code']}"] = f"{i['code']} {LABELS['note']}"
    check = Checker(data, labels)
    current = await _results(tenant, row["id"])
    changes: dict[str, tuple[str, str]] = {}
    for i in items:
        code, before = i["code"], current.get(i["code"])
        result = check.choice(f"result.{code}", checklist.RESULTS, required=False)
        note = check.text(f"note.{code}", max_len=MAX_NOTE)
        result = result or (before["result"] if before else "")
        if not result:
            if note:
                check.fail(f"result.{code}", _("%(field)s is required.", field=check.label(f"result.{code}")))
            continue
        if before is None or (before["result"], before["note"]) != (result, note):
            changes[code] = (result, note)
    check.done()
    await _save_results(tenant, actor, row, changes)
    return row


async def add_item_evidence(
    tenant: TenantRef, actor: Actor, inspection_id: Any, code: str, filename: str, content: bytes
) -> dict:
    row = await access.recording(tenant, actor, inspection_id)
    item = _item(row, code)
    return await attachments.store(tenant, actor, row, f"item:{item['code']}", filename, content)


# ---------------------------------------------------------------- three must-interviews


def visit_day(tenant: TenantRef, row: dict) -> date:
    """The day the registry is read as of: the visit, or today until one is set."""
    return row["visit_on"] or units.today(tenant)


def _reasons(person: dict) -> list[str]:
    reasons = []
    if any(p in units.LEADER_POSITIONS for p in person["positions"]):
        reasons.append("leadership")
    if person["classified_level"] in CLASSIFIED:
        reasons.append("classified")
    if person["military_transfer"]:
        reasons.append("military_transfer")
    return reasons


async def _must_list(tenant: TenantRef, row: dict) -> dict[int, dict]:
    """Whom the team must interview, by person row id: everyone in post in the unit on the
    visit day who leads it, is classified or came from the military, with why."""
    people: dict[int, dict] = {}
    for post in await units.posts_on(tenant, visit_day(tenant, row), units=[row["unit"]]):
        person = people.setdefault(
            post["person"],
            {
                "person_id": str(post["person_uuid"]),
                "name": post["person_name"],
                "positions": [],
                "classified_level": post["classified_level"],
                "military_transfer": bool(post["military_transfer"]),
            },
        )
        if post["position"] not in person["positions"]:
            person["positions"].append(post["position"])
    listed = {}
    for pk, person in people.items():
        person["positions"].sort(key=units.POSITION_RANK.__getitem__)
        reasons = _reasons(person)
        if reasons:
            listed[pk] = {**person, "reasons": reasons}
    return listed


def _interviewee(person: dict, record: dict | None) -> dict:
    if record is None:
        status = "missing"
    else:
        status = "waived" if record["waived_reason"] else "held"
    record = record or {}
    return {
        **person,
        "status": status,
        "held_on": record.get("held_on"),
        "interviewer": record.get("interviewer", ""),
        "summary": record.get("summary", ""),
        "waived_reason": record.get("waived_reason", ""),
        "recorded_by": record.get("recorded_by", ""),
        "recorded_at": record.get("recorded_at"),
    }


def _order(person: dict) -> tuple:
    # the leadership by rank first, then the classified by level, then by name
    rank = min(units.POSITION_RANK[p] for p in person["positions"])
    return (rank, LEVEL_RANK.get(person["classified_level"], len(LEVEL_RANK)), person["name"])


async def interviews(tenant: TenantRef, row: dict) -> dict:
    """The must-interview list as of the visit day, each person with their reasons and
    what was recorded; the coverage (held and waived of the total) and who is missing."""
    listed = await _must_list(tenant, row)
    records = {
        r["person"]: r
        for r in await Interview.select().where(Interview.tenant == tenant.id, Interview.inspection == row["id"])
    }
    people = sorted((_interviewee(p, records.get(pk)) for pk, p in listed.items()), key=_order)
    held = sum(1 for p in people if p["status"] == "held")
    waived = sum(1 for p in people if p["status"] == "waived")
    total = len(people)
    return {
        "day": visit_day(tenant, row),
        "people": people,
        "held": held,
        "waived": waived,
        "total": total,
        "coverage": (held + waived) / total if total else 1.0,
        "missing": [p["name"] for p in people if p["status"] == "missing"],
    }


def _given(data: dict[str, Any], field: str) -> bool:
    value = data.get(field)
    return value is not None and str(value).strip() != ""


def _interview_values(tenant: TenantRef, actor: Actor, check: Checker) -> dict[str, Any]:
    """Held (date, summary, by whom) or waived (why): one or the other."""
    reason = check.text("waived_reason", max_len=MAX_REASON)
    if reason:
        if _given(check.data, "held_on") or _given(check.data, "summary"):
            check.fail(
                "waived_reason",
                _("Give either the interview (its date and summary) or the reason it was waived, not both."),
            )
        return {"held_on": None, "interviewer": "", "summary": "", "waived_reason": reason}
    held_on = check.date("held_on", required=True)
    if held_on and held_on > units.today(tenant):
        check.fail("held_on", _("%(field)s must not be in the future.", field=check.label("held_on")))
    summary = check.text("summary", required=True, max_len=MAX_SUMMARY)
    interviewer = check.text("interviewer", max_len=100) or actor.name
    return {"held_on": held_on, "interviewer": interviewer, "summary": summary, "waived_reason": ""}


async def record_interview(tenant: TenantRef, actor: Actor, inspection_id: Any, data: dict[str, Any]) -> dict:
    """{person_id, held_on, summary, interviewer?} or {person_id, waived_reason}; again
    for the same person replaces what was recorded. Answers the whole list."""
    row = await access.recording(tenant, actor, inspection_id)
    check = Checker(data, LABELS)
    person_id = check.text("person_id", required=True, max_len=64).lower()
    by_id = {p["person_id"]: (pk, p) for pk, p in (await _must_list(tenant, row)).items()}
    if person_id and person_id not in by_id:
        check.fail(
            "person_id",
            _("%(field)s is not on this inspection's must-interview list.", field=check.label("person_id")),
        )
    values = _interview_values(tenant, actor, check)
    check.done()
    pk, person = by_id[person_id]
    record = Interview(
        tenant=tenant.id,
        inspection=row["id"],
        person=pk,
        recorded_by=actor.name,
        recorded_at=datetime.now(UTC),
        **values,
    )
    changed = [Interview.held_on, Interview.interviewer, Interview.summary, Interview.waived_reason]
    async with db.atomic():
        await Interview.insert(record).on_conflict(
            target=(Interview.tenant, Interview.inspection, Interview.person),
            action="DO UPDATE",
            values=[*changed, Interview.recorded_by, Interview.recorded_at],
        )
        detail = {"person": person["name"], "status": "waived" if values["waived_reason"] else "held"}
        await audit.record(tenant.id, actor, "inspection.interview", "inspection", row["uuid"], detail=detail)
    return await interviews(tenant, row)


# ---------------------------------------------------------------- the coverage gate


async def _technical_gaps(tenant: TenantRef, row: dict) -> list[dict[str, str]]:
    """The sample drawn and every device of it checked; a unit without any device in its
    register has nothing to draw."""
    if row["sample_size"] is None:
        has_devices = await Device.exists().where(
            Device.tenant == tenant.id, Device.unit == row["unit"], Device.deleted_at.is_null()
        )
        if not has_devices:
            return []
        return [{"code": "sample", "message": _("Technical check: no sample of devices has been drawn.")}]
    unchecked = (
        await DeviceCheck.select(DeviceCheck.device.label.as_alias("label"))
        .where(DeviceCheck.tenant == tenant.id, DeviceCheck.inspection == row["id"], DeviceCheck.result == "")
        .order_by(DeviceCheck.id)
    )
    if not unchecked:
        return []
    labels = "、".join(d["label"] for d in unchecked)
    return [{"code": "devices", "message": _("Technical check: no result yet for %(devices)s.", devices=labels)}]


async def missing(tenant: TenantRef, row: dict) -> list[dict[str, str]]:
    """What stands between the inspection and finalising, each {code, message}: an area
    with items without a result ("checklist.<area>"), people neither interviewed nor
    waived ("interviews"), no sample drawn ("sample"), sampled devices unchecked
    ("devices"). Empty when it may be finalised."""
    gaps = []
    results = await _results(tenant, row["id"])
    for area in checklist.items_by_area(row["checklist"]):
        left = [i["code"] for i in area["items"] if i["code"] not in results]
        if left:
            message = _("%(area)s: no result yet for %(items)s.", area=area["name"], items="、".join(left))
            gaps.append({"code": f"checklist.{area['code']}", "message": message})
    names = (await interviews(tenant, row))["missing"]
    if names:
        message = _("Must-interviews: neither held nor waived for %(names)s.", names="、".join(names))
        gaps.append({"code": "interviews", "message": message})
    return gaps + await _technical_gaps(tenant, row)


async def finalise(tenant: TenantRef, actor: Actor, inspection_id: Any) -> dict:
    """Open → finalised once nothing is missing (Incomplete, listing it, otherwise); one
    conditional update, so of two at once one finalises and the other is refused."""
    row = await access.inspection(tenant, actor, inspection_id, allow=(OFFICE, TEAM))
    if row["status"] == "finalised":
        raise _already_finalised()
    await access.must_record(tenant, actor, row)
    now = datetime.now(UTC)
    async with db.atomic():
        # the claim first: a second finaliser waits for it and then finds it taken
        claimed = (
            await Inspection.update(
                {Inspection.status: "finalised", Inspection.finalised_at: now, Inspection.finalised_by: actor.name}
            )
            .where(Inspection.tenant == tenant.id, Inspection.id == row["id"], Inspection.status == "open")
            .returning(Inspection.id)
        )
        if not claimed:
            raise _already_finalised()
        gaps = await missing(tenant, row)
        if gaps:
            raise Incomplete(gaps)
        await audit.record(tenant.id, actor, "inspection.finalise", "inspection", row["uuid"])
    return {"id": str(row["uuid"]), "status": "finalised", "finalised_at": now, "finalised_by": actor.name}


# ---------------------------------------------------------------- clues and the team's notes


def _clue_owner(clue_uuid: Any) -> str:
    return f"clue:{clue_uuid}"


async def clues(tenant: TenantRef, actor: Actor, row: dict) -> list[dict]:
    """The clues on the unit, with their files: for the team and the office only
    (Forbidden to any other view: callers show the panel only to CLUE_VIEWS)."""
    if row["view"] not in CLUE_VIEWS:
        raise Forbidden()
    rows = (
        await Clue.select()
        .where(Clue.tenant == tenant.id, Clue.inspection == row["id"])
        .order_by(Clue.created_at)
        .order_by(Clue.id)
    )
    files = await attachments.list_for(tenant, row["id"], [_clue_owner(r["uuid"]) for r in rows])
    return [public(r, "text", "created_by", "created_at", files=files[_clue_owner(r["uuid"])]) for r in rows]


async def add_clue(
    tenant: TenantRef, actor: Actor, inspection_id: Any, data: dict[str, Any], upload: tuple[str, bytes] | None = None
) -> dict:
    """A clue's text, and a file with it when `upload` (name, bytes) is given."""
    row = await access.recording(tenant, actor, inspection_id)
    check = Checker(data, LABELS)
    text = check.text("text", required=True, max_len=MAX_CLUE)
    check.done()
    clue = Clue(tenant=tenant.id, inspection=row["id"], text=text, created_by=actor.name)
    async with db.atomic():
        await clue.save()
        # the clue's text stays out of the trail: its readers are not the clue's
        detail = {"clue": str(clue.uuid)}
        await audit.record(tenant.id, actor, "inspection.clue_add", "inspection", row["uuid"], detail=detail)
        if upload is not None:
            await attachments.store(tenant, actor, row, _clue_owner(clue.uuid), *upload)
    return next(c for c in await clues(tenant, actor, row) if c["id"] == str(clue.uuid))


async def add_clue_file(
    tenant: TenantRef, actor: Actor, inspection_id: Any, clue_id: Any, filename: str, content: bytes
) -> dict:
    row = await access.recording(tenant, actor, inspection_id)
    clue = await get_owned(Clue, tenant, clue_id)
    if clue["inspection"] != row["id"]:
        raise NotFound()
    return await attachments.store(tenant, actor, row, _clue_owner(clue["uuid"]), filename, content)


async def update_notes(tenant: TenantRef, actor: Actor, inspection_id: Any, data: dict[str, Any]) -> dict:
    """The team's own notes on the unit (never shown to the unit)."""
    row = await access.recording(tenant, actor, inspection_id)
    check = Checker(data, LABELS)
    notes = check.text("team_notes", max_len=MAX_TEAM_NOTES)
    check.done()
    async with db.atomic():
        await Inspection.update({Inspection.team_notes: notes}).where(
            Inspection.tenant == tenant.id, Inspection.id == row["id"]
        )
        detail = {"length": len(notes)}
        await audit.record(tenant.id, actor, "inspection.notes", "inspection", row["uuid"], detail=detail)
    return {"team_notes": notes}
