"""The technical check: each unit's device register (kept by its officer; its Excel
import is devices_import), an inspection's reproducible random sample of it, each drawn
device's result, and the measures taken over violations — register and preserve, order
deletion, order to stop use, and transfer to the bureau as a package with a receipt.

A transfer's receipt: the receipt number is the one the bureau gave when it received the
package, or, when none is given, one made here from the transfer date and the measure's
id (YS-20261205-3F9A1C), unique without a counter to race on. The receipt is the
measure's details and a page to print and sign (`receipt`).
"""

from __future__ import annotations

import random
import re
import secrets
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from server import db, roles
from server.actor import Actor
from server.audit import service as audit
from server.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.core.i18n import _, _l
from server.core.rows import joined, pick, public
from server.core.validation import Checker
from server.inspections import access, checklist
from server.inspections.tables import Device, DeviceCheck, Finding, Inspection, Measure
from server.units import service as units
from tenants.service import TenantRef, get_owned, parse_id

# who keeps a unit's register (within their scope): its officer, the district, the office
KEEPERS = {roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.UNIT_OFFICER}
# how the technical check is seen: the office and district read, the unit's team records
INSPECTING = (access.OFFICE, access.DISTRICT, access.TEAM)
MAX_ITEMS = 100  # items registered and preserved by one measure
SHA256 = re.compile(r"[0-9a-f]{64}")

LABELS = {
    "kind": _l("Kind"),
    "label": _l("Label"),
    "classified": _l("Classified"),
    "holder": _l("Holder"),
    "location": _l("Location"),
    "size": _l("Sample size"),
    "seed": _l("Seed"),
    "result": _l("Result"),
    "note": _l("Note"),
    "measure": _l("Measure"),
    "device_id": _l("Device"),
    "finding_id": _l("Finding"),
    "preserved": _l("Items preserved"),
    "kept_at": _l("Kept at"),
    "acknowledged_by": _l("Acknowledged by"),
    "what": _l("What is to be deleted"),
    "confirmed_by": _l("Deletion confirmed by"),
    "since": _l("Stopped from"),
    "package": _l("Package"),
    "receipt_no": _l("Receipt number"),
    "received_by": _l("Received by"),
    "transferred_on": _l("Transferred on"),
}
DEVICE_FIELDS = ("kind", "label", "classified", "holder", "location")
# what each measure records besides its kind (order_stop_use also names its device)
MEASURE_FIELDS = {
    "register_preserve": ("preserved", "kept_at", "acknowledged_by"),
    "order_delete": ("what", "confirmed_by"),
    "order_stop_use": ("since",),
    "transfer": ("package", "receipt_no", "received_by", "transferred_on"),
}
ALL_MEASURE_FIELDS = tuple(dict.fromkeys(f for fields in MEASURE_FIELDS.values() for f in fields))


def label_text(text: Any) -> str:
    """A label as kept and compared: runs of spaces are one space (part of the register's key)."""
    return " ".join(str(text or "").split())


# ---------------------------------------------------------------- the register


def must_keep(actor: Actor) -> None:
    if actor.role not in KEEPERS:
        raise Forbidden()


def _device_public(row: dict) -> dict:
    return public(row, "kind", "label", "classified", "holder", "location", "created_at")


async def live_devices(tenant: TenantRef, unit_pk: int) -> list[dict]:
    return (
        await Device.select()
        .where(Device.tenant == tenant.id, Device.unit == unit_pk, Device.deleted_at.is_null())
        .order_by(Device.kind)
        .order_by(Device.label)
    )


async def list_devices(tenant: TenantRef, actor: Actor, unit_id: Any) -> list[dict]:
    """A unit's register (within the actor's scope)."""
    return [_device_public(r) for r in await live_devices(tenant, await units.unit_pk(tenant, actor, unit_id))]


async def register(tenant: TenantRef, actor: Actor, unit_id: Any) -> dict:
    """The register page: the unit, its devices, how many of each kind, whether the actor keeps it."""
    unit = await units.unit_detail(tenant, actor, unit_id)
    devices = await list_devices(tenant, actor, unit_id)
    counts: dict[str, int] = defaultdict(int)
    for d in devices:
        counts[d["kind"]] += 1
    return {
        "unit": pick(unit, "id", "name"),
        "devices": devices,
        "counts": dict(counts),
        "classified": sum(1 for d in devices if d["classified"]),
        "can_keep": actor.role in KEEPERS,
    }


async def _device_row(tenant: TenantRef, actor: Actor, device_id: Any) -> dict:
    """A live device of a unit within the actor's scope."""
    row = await get_owned(Device, tenant, device_id, *Device.all_columns(), *joined(Device.unit, "uuid", "path"))
    if actor.scope_path and not row["unit_path"].startswith(actor.scope_path):
        raise NotFound()
    return row


async def device_detail(tenant: TenantRef, actor: Actor, device_id: Any) -> dict:
    row = await _device_row(tenant, actor, device_id)
    return {**_device_public(row), "unit_id": str(row["unit_uuid"])}


def _check_device(check: Checker, *, partial: bool) -> dict[str, Any]:
    return check.fields(
        {
            "kind": lambda: check.choice("kind", checklist.DEVICE_KINDS),
            "label": lambda: label_text(check.text("label", required=True, max_len=200)),
            "classified": lambda: check.boolean("classified"),
            "holder": lambda: check.text("holder", max_len=100),
            "location": lambda: check.text("location", max_len=200),
        },
        partial=partial,
    )


def _label_taken() -> str:
    return _("A device of this kind with this label is already in the register; give its asset number or address.")


async def create_device(tenant: TenantRef, actor: Actor, unit_id: Any, data: dict[str, Any]) -> dict:
    must_keep(actor)
    unit_pk = await units.unit_pk(tenant, actor, unit_id)
    check = Checker(data, LABELS)
    values = _check_device(check, partial=False)
    check.done()
    async with db.atomic():
        row = Device(tenant=tenant.id, unit=unit_pk, **values)
        # the register's key (unit, kind, label) decides, also between two requests at once
        if not await Device.insert(row).on_conflict(action="DO NOTHING").returning(Device.id):
            raise ValidationFailed({"label": _label_taken()})
        await audit.record(tenant.id, actor, "device.create", "device", row.uuid, detail=_audited(values))
    return await device_detail(tenant, actor, row.uuid)


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in ("kind", "label", "classified")}


async def update_device(tenant: TenantRef, actor: Actor, device_id: Any, data: dict[str, Any]) -> dict:
    must_keep(actor)
    row = await _device_row(tenant, actor, device_id)
    check = Checker(data, LABELS)
    check.changes(DEVICE_FIELDS)
    values = _check_device(check, partial=True)
    kind, label = values.get("kind", row["kind"]), values.get("label", row["label"])
    if (kind, label) != (row["kind"], row["label"]) and await Device.exists().where(
        Device.tenant == tenant.id,
        Device.unit == row["unit"],
        Device.kind == kind,
        Device.label == label,
        Device.deleted_at.is_null(),
    ):
        check.fail("label", _label_taken())
    check.done()
    async with db.atomic():
        await Device.update(values).where(Device.id == row["id"])
        await audit.record(tenant.id, actor, "device.update", "device", row["uuid"], detail=values)
    return await device_detail(tenant, actor, row["uuid"])


async def delete_device(tenant: TenantRef, actor: Actor, device_id: Any) -> str:
    """Take a device off the register (kept for the samples that drew it); the unit's id."""
    must_keep(actor)
    row = await _device_row(tenant, actor, device_id)
    async with db.atomic():
        gone = (
            await Device.update({Device.deleted_at: datetime.now(UTC)})
            .where(Device.id == row["id"], Device.deleted_at.is_null())
            .returning(Device.id)
        )
        if not gone:
            raise NotFound()
        await audit.record(tenant.id, actor, "device.delete", "device", row["uuid"], detail=_audited(row))
    return str(row["unit_uuid"])


# ---------------------------------------------------------------- the sample


def draw_devices(devices: list[dict], size: int, seed: str) -> list[dict]:
    """`size` of these devices at random: the same seed over the same register draws the
    same devices, since the register is put in a stable order (by public id) and Python's
    generator seeded with a string (hashed with SHA-512) is the same on every machine."""
    ordered = sorted(devices, key=lambda d: str(d["uuid"]))
    return random.Random(seed).sample(ordered, size)


def _size(check: Checker, available: int) -> int:
    if not available:
        check.fail("size", _("The unit's device register is empty: there is nothing to draw from."))
        return 0
    outside = _(
        "%(field)s must be from 1 to %(max)d, the devices in the register.", field=check.label("size"), max=available
    )
    return check.required_integer("size", available, outside) or 0


async def _has_results(tenant: TenantRef, inspection_pk: int) -> bool:
    return await DeviceCheck.exists().where(
        DeviceCheck.tenant == tenant.id, DeviceCheck.inspection == inspection_pk, DeviceCheck.result != ""
    )


async def draw(tenant: TenantRef, actor: Actor, inspection_id: Any, data: dict[str, Any]) -> dict:
    """Draw `size` devices of the unit's register with the given seed (or a new one, kept
    with the inspection). A sample may be drawn again only while none of its devices has
    a result."""
    row = await access.recording(tenant, actor, inspection_id)
    devices = await live_devices(tenant, row["unit"])
    check = Checker(data, LABELS)
    size = _size(check, len(devices))
    seed = check.text("seed", max_len=64) or secrets.token_hex(8)
    check.done()
    recorded = Conflict(_("Results are recorded for this sample, so it cannot be drawn again."))
    if await _has_results(tenant, row["id"]):
        raise recorded
    drawn = draw_devices(devices, size, seed)
    now = datetime.now(UTC)
    async with db.atomic():
        # the inspection's row is locked first, so draws of one inspection take turns
        await Inspection.update(
            {Inspection.sample_size: size, Inspection.sample_seed: seed, Inspection.sampled_at: now}
        ).where(Inspection.id == row["id"])
        await DeviceCheck.delete().where(
            DeviceCheck.tenant == tenant.id, DeviceCheck.inspection == row["id"], DeviceCheck.result == ""
        )
        if await _has_results(tenant, row["id"]):
            raise recorded  # a result was recorded meanwhile: its device stays, so the draw cannot
        await DeviceCheck.insert(*[DeviceCheck(tenant=tenant.id, inspection=row["id"], device=d["id"]) for d in drawn])
        detail = {"size": size, "seed": seed, "register": len(devices)}
        await audit.record(tenant.id, actor, "inspection.sample_draw", "inspection", row["uuid"], detail=detail)
    return await sample_state(tenant, {**row, "sample_size": size, "sample_seed": seed, "sampled_at": now})


async def sample(tenant: TenantRef, actor: Actor, inspection_id: Any) -> dict:
    row = await access.inspection(tenant, actor, inspection_id, allow=INSPECTING)
    return await sample_state(tenant, row)


async def sample_state(tenant: TenantRef, row: dict) -> dict:
    """An inspection's sample (the row as server.inspections.access reads it): its size and
    seed, each drawn device with its result, note and measures, how many are checked."""
    checks = (
        await DeviceCheck.select(
            DeviceCheck.result,
            DeviceCheck.note,
            DeviceCheck.checked_by,
            DeviceCheck.checked_at,
            *joined(DeviceCheck.device, "uuid", "kind", "label", "classified", "holder", "location", prefix=""),
        )
        .where(DeviceCheck.tenant == tenant.id, DeviceCheck.inspection == row["id"])
        .order_by(DeviceCheck.device.kind)
        .order_by(DeviceCheck.device.label)
    )
    measures: dict[str, list[dict]] = defaultdict(list)
    for m in await measures_of(tenant, row["id"]):
        if m["device_id"]:
            measures[m["device_id"]].append(m)
    return {
        "size": row["sample_size"],
        "seed": row["sample_seed"],
        "sampled_at": row["sampled_at"],
        "devices": [
            public(
                c,
                "kind",
                "label",
                "classified",
                "holder",
                "location",
                "result",
                "note",
                "checked_by",
                "checked_at",
                measures=measures[str(c["uuid"])],
            )
            for c in checks
        ],
        "checked": sum(1 for c in checks if c["result"]),
    }


async def technical(tenant: TenantRef, actor: Actor, inspection_id: Any) -> dict:
    """The technical check page: the inspection, its sample, the register's size, and
    what the actor may do (record; draw again)."""
    row = await access.inspection(tenant, actor, inspection_id, allow=INSPECTING)
    state = await sample_state(tenant, row)
    can_record = row["view"] in (access.OFFICE, access.TEAM)
    if can_record:
        try:
            await access.must_record(tenant, actor, row)
        except Forbidden as refused:
            can_record, row["refused"] = False, refused.message
    register_size = await Device.count().where(
        Device.tenant == tenant.id, Device.unit == row["unit"], Device.deleted_at.is_null()
    )
    return {
        "insp": row,
        "sample": state,
        "register": register_size,
        "can_record": can_record,
        "can_draw": can_record and not state["checked"],
    }


# ---------------------------------------------------------------- results and measures


def _not_sampled() -> NotFound:
    return NotFound(_("This device is not in this inspection's sample."))


async def _sampled(tenant: TenantRef, inspection_pk: int, device_id: Any) -> dict:
    """A device of the inspection's sample, with its check."""
    try:
        uid = parse_id(device_id)
    except NotFound:
        raise _not_sampled() from None
    found = (
        await DeviceCheck.select(
            DeviceCheck.id,
            DeviceCheck.result,
            DeviceCheck.device,
            *joined(DeviceCheck.device, "uuid", "label"),
        )
        .where(DeviceCheck.tenant == tenant.id, DeviceCheck.inspection == inspection_pk, DeviceCheck.device.uuid == uid)
        .first()
    )
    if found is None:
        raise _not_sampled()
    return found


async def record_device(
    tenant: TenantRef, actor: Actor, inspection_id: Any, device_id: Any, data: dict[str, Any]
) -> dict:
    """A drawn device's result (clean or violation, with a note saying what was found) and,
    for a violation, a measure taken over it."""
    row = await access.recording(tenant, actor, inspection_id)
    sampled = await _sampled(tenant, row["id"], device_id)
    check = Checker(data, LABELS)
    result = check.choice("result", checklist.DEVICE_RESULTS)
    note = check.text("note", max_len=2000)
    if result == "violation" and not note:
        check.fail("note", _("Say what the violation is."))
    measured = await Measure.exists().where(
        Measure.tenant == tenant.id, Measure.inspection == row["id"], Measure.device == sampled["device"]
    )
    if result == "clean" and measured:
        check.fail("result", _("Measures were taken over this device: its result stays a violation."))
    measure = None
    if data.get("measure") not in (None, {}):
        if result == "clean":
            check.fail("measure", _("Measures are taken over violations only."))
        else:
            measure = _check_measure(check, data["measure"], sampled["device_label"], units.today(tenant), "measure.")
    check.done()
    async with db.atomic():
        values = {"result": result, "note": note, "checked_by": actor.name, "checked_at": datetime.now(UTC)}
        if not await DeviceCheck.update(values).where(DeviceCheck.id == sampled["id"]).returning(DeviceCheck.id):
            raise _not_sampled()  # the sample was drawn again meanwhile
        detail = {"device": sampled["device_label"], "result": result}
        await audit.record(tenant.id, actor, "inspection.device_result", "inspection", row["uuid"], detail=detail)
        if measure:
            await _save_measure(tenant, actor, row, sampled["device"], None, *measure)
    state = await sample_state(tenant, row)
    return next(d for d in state["devices"] if d["id"] == str(sampled["device_uuid"]))


def _check_measure(
    check: Checker, raw: Any, device_label: str | None, today: date, prefix: str = ""
) -> tuple[str, dict[str, Any]] | None:
    """A measure's kind and its particulars, each kind's required fields checked; the
    messages go to `check` under `prefix` + field."""
    inner = Checker(raw if isinstance(raw, dict) else {}, LABELS)
    kind = inner.choice("kind", checklist.MEASURES)
    details: dict[str, Any] = {}
    if kind:
        for field in ALL_MEASURE_FIELDS:
            if field not in MEASURE_FIELDS[kind] and inner.data.get(field) not in (None, "", []):
                inner.fail(field, _("%(field)s does not belong to this kind of measure.", field=inner.label(field)))
        details = _MEASURE_CHECKS[kind](inner, today)
        if kind == "order_stop_use":
            if device_label is None:
                inner.fail("device_id", _("Name the device whose use is stopped."))
            details["device"] = device_label
    for field, message in inner.errors.items():
        check.fail(prefix + field, message)
    return (kind, details) if not inner.errors else None


def _past_date(check: Checker, field: str, today: date) -> str | None:
    day = check.date(field, required=True)
    if day and day > today:
        check.fail(field, _("%(field)s cannot be in the future.", field=check.label(field)))
    return day.isoformat() if day else None


def _item_line(line: str) -> dict[str, str]:
    """A typed line "name  sha256": the hash is its last word."""
    match = re.fullmatch(r"(.+?)[\s,，;；]+(\S+)", line.strip())
    return {"name": match[1], "sha256": match[2]} if match else {"name": line.strip(), "sha256": ""}


def _items(check: Checker) -> list[dict[str, str]]:
    """The items registered and preserved: a list of {name, sha256}, or (a form) lines of text."""
    raw = check.data.get("preserved")
    if isinstance(raw, str):
        raw = [_item_line(line) for line in raw.splitlines() if line.strip()]
    if not isinstance(raw, list) or not raw:
        check.fail("preserved", _("%(field)s is required.", field=check.label("preserved")))
        return []
    if len(raw) > MAX_ITEMS:
        check.fail("preserved", _("At most %(max)d items in one measure.", max=MAX_ITEMS))
        return []
    items = []
    for n, item in enumerate(raw, start=1):
        item = item if isinstance(item, dict) else {}
        name = label_text(item.get("name") if isinstance(item.get("name"), str) else "")
        digest = str(item.get("sha256") or "").strip().lower()
        if not name or len(name) > 200:
            check.fail("preserved", _("Item %(n)d: give its name (at most 200 characters).", n=n))
        elif not SHA256.fullmatch(digest):
            check.fail("preserved", _("Item %(n)d: the SHA-256 must be 64 hexadecimal characters.", n=n))
        items.append({"name": name, "sha256": digest})
    return items


def _register_preserve(check: Checker, _today: date) -> dict[str, Any]:
    return {
        "preserved": _items(check),
        "kept_at": check.text("kept_at", required=True, max_len=200),
        "acknowledged_by": check.text("acknowledged_by", required=True, max_len=100),
    }


def _order_delete(check: Checker, _today: date) -> dict[str, Any]:
    return {
        "what": check.text("what", required=True, max_len=1000),
        "confirmed_by": check.text("confirmed_by", required=True, max_len=100),
    }


def _order_stop_use(check: Checker, today: date) -> dict[str, Any]:
    return {"since": _past_date(check, "since", today)}


def _transfer(check: Checker, today: date) -> dict[str, Any]:
    return {
        "package": check.text("package", required=True, max_len=1000),
        "receipt_no": check.text("receipt_no", max_len=64),
        "received_by": check.text("received_by", required=True, max_len=100),
        "transferred_on": _past_date(check, "transferred_on", today),
    }


_MEASURE_CHECKS = {
    "register_preserve": _register_preserve,
    "order_delete": _order_delete,
    "order_stop_use": _order_stop_use,
    "transfer": _transfer,
}


def receipt_number(transferred_on: str, measure_uuid: Any) -> str:
    return f"YS-{transferred_on.replace('-', '')}-{str(measure_uuid).replace('-', '')[:6].upper()}"


async def _save_measure(
    tenant: TenantRef,
    actor: Actor,
    row: dict,
    device_pk: int | None,
    finding_pk: int | None,
    kind: str,
    details: dict[str, Any],
) -> Any:
    measure = Measure(
        tenant=tenant.id, inspection=row["id"], device=device_pk, finding=finding_pk, kind=kind, created_by=actor.name
    )
    if kind == "transfer" and not details["receipt_no"]:
        details = {**details, "receipt_no": receipt_number(details["transferred_on"], measure.uuid)}
    measure.details = details
    await measure.save()
    audit_detail = {"kind": kind, **({"receipt_no": details["receipt_no"]} if kind == "transfer" else {})}
    await audit.record(tenant.id, actor, "inspection.measure", "inspection_measure", measure.uuid, detail=audit_detail)
    return measure.uuid


async def _measure_device(tenant: TenantRef, row: dict, check: Checker) -> dict | None:
    """The device a measure is about: one of the sample, recorded as a violation."""
    device_id = check.uuid("device_id")
    if device_id is None:
        return None
    try:
        sampled = await _sampled(tenant, row["id"], device_id)
    except NotFound:
        check.fail(
            "device_id", _("%(field)s: not a device of this inspection's sample.", field=check.label("device_id"))
        )
        return None
    if sampled["result"] != "violation":
        check.fail("device_id", _("Record the device's violation before the measure taken over it."))
    return sampled


async def _measure_finding(tenant: TenantRef, row: dict, check: Checker) -> int | None:
    finding_id = check.uuid("finding_id")
    if finding_id is None:
        return None
    found = (
        await Finding.select(Finding.id)
        .where(Finding.tenant == tenant.id, Finding.inspection == row["id"], Finding.uuid == finding_id)
        .first()
    )
    if found is None:
        check.fail("finding_id", _("%(field)s: no such finding in this inspection.", field=check.label("finding_id")))
        return None
    return found["id"]


async def add_measure(tenant: TenantRef, actor: Actor, inspection_id: Any, data: dict[str, Any]) -> dict:
    """A measure of the inspection, about a sampled device found in violation and/or a finding."""
    row = await access.recording(tenant, actor, inspection_id)
    check = Checker(data, LABELS)
    device = await _measure_device(tenant, row, check)
    finding_pk = await _measure_finding(tenant, row, check)
    if not (device or finding_pk or check.errors):
        check.fail("device_id", _("Name the device or the finding the measure is about."))
    measure = _check_measure(check, data, device["device_label"] if device else None, units.today(tenant))
    check.done()
    async with db.atomic():
        made = await _save_measure(tenant, actor, row, device["device"] if device else None, finding_pk, *measure)
    return next(m for m in await measures_of(tenant, row["id"]) if m["id"] == str(made))


def _measure_public(row: dict) -> dict:
    return public(
        row,
        "kind",
        "details",
        "created_by",
        "created_at",
        device_id=str(row["device_uuid"]) if row["device_uuid"] else None,
        device_label=row["device_label"] or "",
        finding_id=str(row["finding_uuid"]) if row["finding_uuid"] else None,
    )


async def measures_of(tenant: TenantRef, inspection_pk: int) -> list[dict]:
    """Every measure of an inspection, oldest first, with the device (and finding) it is about."""
    rows = (
        await Measure.select(
            *Measure.all_columns(),
            *joined(Measure.device, "uuid", "label"),
            Measure.finding.uuid.as_alias("finding_uuid"),
        )
        .where(Measure.tenant == tenant.id, Measure.inspection == inspection_pk)
        .order_by(Measure.created_at)
        .order_by(Measure.id)
        .output(load_json=True)
    )
    return [_measure_public(r) for r in rows]


async def receipt(tenant: TenantRef, actor: Actor, inspection_id: Any, measure_id: Any) -> dict:
    """A transfer's receipt: the package, its number, who received it and when, for which
    unit and inspection. Whoever sees the inspection's measures sees it."""
    row = await access.inspection(tenant, actor, inspection_id, allow=(*INSPECTING, access.UNIT))
    measure = next(
        (m for m in await measures_of(tenant, row["id"]) if m["id"] == str(measure_id).lower()),
        None,
    )
    if measure is None or measure["kind"] != "transfer":
        raise NotFound()
    return {"insp": row, "measure": measure}
