"""A unit's device register imported from an Excel workbook: every row checked and kept
as a preview (what it would add or change, why a bad row is wrong), then applied all or
nothing, once."""

from __future__ import annotations

from typing import Any

from server import db
from server.actor import Actor
from server.audit import service as audit
from server.core.chunks import chunks
from server.core.errors import Conflict, NotFound
from server.core.i18n import _
from server.core.rows import pick, public, read_row
from server.documents import workbooks
from server.inspections import checklist, devices, devices_workbook
from server.inspections.tables import Device, DeviceImport
from server.units import service as units
from tenants.service import TenantRef, get_owned

workbook_message = workbooks.upload_message


def _state(device: dict | None) -> dict | None:
    """What an import may change of a device, to tell later whether it still holds."""
    return pick(device, "classified", "holder", "location") if device else None


def _by_key(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(d["kind"], d["label"]): d for d in rows}


def _too_long(key: str, max_len: int) -> str:
    return _("%(field)s is too long (at most %(max)d characters).", field=devices.LABELS[key], max=max_len)


class _ImportRows:
    """Checks a register workbook's rows one by one; a row naming a device an earlier row
    names (kind and label) is refused."""

    def __init__(self) -> None:
        # the kinds' names in the reader's language and in English also name them
        self.names: dict[str, str] = {}
        for code, name in checklist.DEVICE_KINDS.items():
            self.names[devices_workbook.text_key(str(name))] = code
            self.names[devices_workbook.text_key(name.message)] = code
        self.seen: dict[tuple[str, str], int] = {}

    def check(self, row: devices_workbook.SheetRow) -> tuple[dict, list[tuple[str, str]]]:
        """The row as it would be written, and its problems as (field, message)."""
        problems = [(key, _("Formulas are not accepted; type the value itself.")) for key in row.formulas]
        v = row.values
        kind = self._kind(v["kind"], problems)
        label = self._label(v["label"], problems)
        classified = self._classified(v["classified"], problems)
        for key, max_len in (("holder", 100), ("location", 200)):
            if len(v[key]) > max_len:
                problems.append((key, _too_long(key, max_len)))
        if kind and label:
            if (kind, label) in self.seen:
                problems.append(("label", _("Duplicate of line %(line)s.", line=self.seen[(kind, label)])))
            self.seen.setdefault((kind, label), row.line)
        if problems:
            return {}, problems
        checked = {
            "line": row.line,
            "kind": kind,
            "label": label,
            "classified": classified,
            **pick(v, "holder", "location"),
        }
        return checked, problems

    def _kind(self, text: str, problems: list[tuple[str, str]]) -> str | None:
        if not text:
            problems.append(("kind", _("The kind is missing.")))
            return None
        code = devices_workbook.kind_code(text, self.names)
        if code is None:
            problems.append(
                (
                    "kind",
                    _(
                        "%(value)s is not a kind of device; write one of %(kinds)s.",
                        value=text,
                        kinds="计算机, 信息设备, 邮箱",
                    ),
                )
            )
        return code

    @staticmethod
    def _label(text: str, problems: list[tuple[str, str]]) -> str:
        label = devices.label_text(text)
        if not label:
            problems.append(("label", _("The label is missing.")))
        elif len(label) > 200:
            problems.append(("label", _too_long("label", 200)))
        return label

    @staticmethod
    def _classified(text: str, problems: list[tuple[str, str]]) -> bool | None:
        value = devices_workbook.classified_value(text) if text else None
        if value is None:
            problems.append(
                ("classified", _("Say whether the device is classified: write %(values)s.", values="是 / 否"))
            )
        return value


async def preview_import(tenant: TenantRef, actor: Actor, unit_id: Any, filename: str, data: bytes) -> dict:
    """Check every row of a register workbook and keep the result: what each good row
    would do (add a device, update one, or nothing) and why each bad row is wrong.
    Nothing is written to the register."""
    devices.must_keep(actor)
    unit_pk = await units.unit_pk(tenant, actor, unit_id)
    sheet = await devices_workbook.parse_register(data)
    existing = _by_key(await devices.live_devices(tenant, unit_pk))
    rows = _ImportRows()
    good: list[dict] = []
    errors: list[dict] = []
    for row in sheet:
        checked, problems = rows.check(row)
        if problems:
            errors += [{"line": row.line, "field": f, "message": str(m)} for f, m in problems]
            continue
        before = _state(existing.get((checked["kind"], checked["label"])))
        after = pick(checked, "classified", "holder", "location")
        status = "new" if before is None else ("same" if before == after else "update")
        # "before" is what the register held: applying checks it still does
        good.append({**checked, "status": status, "before": before})
    async with db.atomic():
        record = DeviceImport(
            tenant=tenant.id, unit=unit_pk, user_id=actor.id or 0, filename=filename[:200], rows=good, errors=errors
        )
        await record.save()
        detail = {"rows": len(good), "errors": len(errors)}
        await audit.record(tenant.id, actor, "device.import_preview", "device_import", record.uuid, detail=detail)
    return await import_detail(tenant, actor, unit_id, record.uuid)


async def _import_row(tenant: TenantRef, actor: Actor, unit_id: Any, import_id: Any) -> dict:
    unit_pk = await units.unit_pk(tenant, actor, unit_id)
    row = await get_owned(
        DeviceImport, tenant, import_id, *DeviceImport.all_columns(), DeviceImport.unit.uuid.as_alias("unit_uuid")
    )
    if row["unit"] != unit_pk or (actor.scope_path and row["user_id"] != actor.id):
        raise NotFound()  # a unit's officer sees their own uploads
    return row


async def import_detail(tenant: TenantRef, actor: Actor, unit_id: Any, import_id: Any) -> dict:
    devices.must_keep(actor)
    return await _import_public(await _import_row(tenant, actor, unit_id, import_id))


async def _import_public(row: dict) -> dict:
    data = await read_row(DeviceImport, row["id"], DeviceImport.rows, DeviceImport.errors)
    return {
        **public(row, "filename", "status", "created_at", "applied_at"),
        "unit_id": str(row["unit_uuid"]),
        **workbooks.preview_summary(data["rows"], data["errors"]),
    }


def _stale_message(changed: list[dict]) -> str:
    first = changed[0]
    return _(
        "Since this preview was made, %(n)d of its devices were changed in the register "
        "(first: line %(line)s, %(label)s). Nothing was written; upload the file again for a fresh preview.",
        n=len(changed),
        line=first["line"],
        label=first["label"],
    )


async def apply_import(tenant: TenantRef, actor: Actor, unit_id: Any, import_id: Any) -> dict:
    """Write a clean preview in one transaction. Applying is one conditional state change,
    so of two applies at once the second writes nothing; a preview whose devices changed
    in the register since it was made is refused, not half applied."""
    devices.must_keep(actor)
    row = await _import_row(tenant, actor, unit_id, import_id)
    detail = await _import_public(row)
    workbooks.applicable(detail)
    rows = detail["rows"]
    async with db.atomic():
        await workbooks.claim(DeviceImport, row["id"])
        existing = _by_key(await devices.live_devices(tenant, row["unit"]))
        changed = [r for r in rows if _state(existing.get((r["kind"], r["label"]))) != r["before"]]
        if changed:
            raise Conflict(_stale_message(changed))
        updates = [r for r in rows if r["status"] == "update"]
        for r in updates:
            await Device.update(pick(r, "classified", "holder", "location")).where(
                Device.id == existing[(r["kind"], r["label"])]["id"]
            )
        new = [r for r in rows if r["status"] == "new"]
        if not await _insert_devices(tenant, row["unit"], new):
            # added by another transaction after the check above: refuse it all
            raise Conflict(_stale_message(new))
        applied = {"added": len(new), "updated": len(updates), "unchanged": len(rows) - len(new) - len(updates)}
        await audit.record(tenant.id, actor, "device.import_apply", "device_import", detail["id"], detail=applied)
    return applied


async def _insert_devices(tenant: TenantRef, unit_pk: int, rows: list[dict]) -> bool:
    """Add these devices; False when the register's key kept some out (added meanwhile)."""
    made = [
        Device(tenant=tenant.id, unit=unit_pk, **pick(r, "kind", "label", "classified", "holder", "location"))
        for r in rows
    ]
    written = 0
    for batch in chunks(made):
        written += len(await Device.insert(*batch).on_conflict(action="DO NOTHING").returning(Device.id))
    return written == len(made)


def template() -> bytes:
    return devices_workbook.register_template()
