"""The register imported from an Excel workbook: every row checked by the register's own
rules (register.check_item) and kept as a preview (the item each good row would add, why
each bad row is wrong), then applied all or nothing, once.

The references a row names are looked up in bulk for the whole file, not row by row
(register.resolve_refs's per-item lookups would take minutes for 10,000 rows): the
custodian unit by its name or code within the actor's scope, the responsible person by
name among those holding a post in that unit, the source item by its reference within
the tenant, the originating unit by name or code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from server import db, roles
from server.actor import Actor
from server.audit import service as audit
from server.core.chunks import chunks, rows_in
from server.core.errors import Conflict, Forbidden, NotFound
from server.core.i18n import _
from server.core.rows import public, read_row
from server.core.validation import Checker
from server.declassification import imports_workbook as workbook
from server.declassification import register
from server.declassification.imports_workbook import SheetRow, text, text_key
from server.declassification.tables import ClassifiedItem, ItemImport
from server.documents import workbooks
from server.units import service as units
from tenants.service import TenantRef, get_owned

# who imports: those who register items (the office anywhere, a unit's officer in their unit)
IMPORTERS = register.WRITERS
MAX_UPLOAD = 5_000_000  # as training's: far above 20,000 rows of metadata
# a checked field → the workbook column it came from
FIELD_COLUMNS = {
    "reference": "reference",
    "public_title": "public_title",
    "title_is_secret": "public_title",
    "level": "level",
    "classified_on": "classified_on",
    "term_kind": "term",
    "term_years": "term",
    "term_until": "term",
    "term_condition": "term",
    "knowledge_scope": "knowledge_scope",
    "origin": "origin",
    "source_item_id": "source",
    "originating_unit_id": "originating_unit",
    "custodian_unit_id": "custodian_unit",
    "responsible_person_id": "responsible_person",
    "handler": "handler",
    "basis": "basis",
}
# what a checked row keeps of the item, as register.insert_items writes it
ITEM_KEYS = (
    "reference",
    "public_title",
    *register.TERM_FIELDS,
    "term_defaulted",
    "term_ends_on",
    "knowledge_scope",
    "origin",
    "source_item",
    "originating_unit",
    "originating_body",
    "custodian_unit",
    "responsible_person",
    "handler",
    "basis",
)
DATE_KEYS = ("classified_on", "term_until", "term_ends_on")


def must_import(actor: Actor) -> None:
    if actor.role not in IMPORTERS:
        raise Forbidden()


def _everyone(actor: Actor) -> Actor:
    """The actor without a unit scope, for what is named tenant-wide (an originating unit)."""
    return Actor(kind=actor.kind, id=actor.id, name=actor.name, role=roles.OFFICE_ADMIN, tenant_id=actor.tenant_id)


# ---------------------------------------------------------------- references in bulk


@dataclass
class _Refs:
    """What a workbook's rows may name, looked up once for the whole file."""

    actor: Actor
    units: dict[str, list[dict]] = field(default_factory=dict)  # name or code → the tenant's units
    people: dict[tuple[int, str], dict[int, dict]] = field(default_factory=dict)  # (unit, name) → holders
    sources: dict[str, list[dict]] = field(default_factory=dict)  # reference → the tenant's items
    existing: set[tuple[int, str]] = field(default_factory=set)  # (unit, reference) in the register
    own: dict | None = None  # a unit officer's unit: the custodian of rows naming none

    def in_scope(self, unit: dict) -> bool:
        return self.actor.scope_path is None or unit["path"].startswith(self.actor.scope_path)

    def unit(self, name: Any) -> list[dict]:
        return self.units.get(text_key(name), []) if name is not None else []


async def _load_refs(tenant: TenantRef, actor: Actor, sheet: list[SheetRow]) -> _Refs:
    refs = _Refs(actor)
    everyone = _everyone(actor)
    codes = {
        u["id"]: u["code"] for u in (await units.list_units(tenant, everyone, per_page=1_000_000)).items if u["code"]
    }
    for unit in await units.units_in_scope(tenant, everyone):
        unit = {**unit, "code": codes.get(unit["id"], "")}
        if unit["pk"] == actor.scope_unit_id:
            refs.own = unit
        for name in {text_key(unit["name"]), *([text_key(unit["code"])] if unit["code"] else [])}:
            refs.units.setdefault(name, []).append(unit)
    # the people of the units the file names (and the officer's own, for rows naming none)
    named = {u["pk"] for row in sheet for u in refs.unit(row.values["custodian_unit"])}
    if actor.scope_unit_id:
        named.add(actor.scope_unit_id)
    for post in await units.posts_on(tenant, units.today(tenant), units=sorted(named)):
        holders = refs.people.setdefault((post["unit"], text_key(post["person_name"])), {})
        holders[post["person"]] = {"pk": post["person"], "id": str(post["person_uuid"]), "name": post["person_name"]}
    references = sorted({text(row.values["reference"]) for row in sheet} - {""})
    sources = sorted({text(row.values["source"]) for row in sheet} - {""})
    for batch in chunks(sorted(set(references) | set(sources))):
        for item in await ClassifiedItem.select(
            ClassifiedItem.id,
            ClassifiedItem.uuid,
            ClassifiedItem.reference,
            ClassifiedItem.custodian_unit,
            ClassifiedItem.level,
            ClassifiedItem.term_kind,
            ClassifiedItem.term_condition,
            ClassifiedItem.term_ends_on,
        ).where(ClassifiedItem.tenant == tenant.id, ClassifiedItem.reference.is_in(list(batch))):
            refs.existing.add((item["custodian_unit"], item["reference"]))
            refs.sources.setdefault(item["reference"], []).append(item)
    return refs


# ---------------------------------------------------------------- checking rows


class _Rows:
    """Checks a workbook's rows one by one, by the register's rules; a row repeating an
    earlier row's reference in the same custodian unit is refused."""

    def __init__(self, refs: _Refs, today: date) -> None:
        self.refs = refs
        self.today = today
        self.seen: dict[tuple[int, str], int] = {}

    def check(self, row: SheetRow) -> tuple[dict, dict[str, str]]:
        """The row as it would be written, and its problems by column."""
        v = row.values
        data = {
            "reference": text(v["reference"]),
            "public_title": text(v["public_title"]),
            "level": workbook.level_code(v["level"]) or text(v["level"]),
            "classified_on": workbook.as_date(v["classified_on"]) or text(v["classified_on"]),
            **workbook.term_values(v["term"]),
            "knowledge_scope": text(v["knowledge_scope"]),
            "origin": workbook.origin_code(v["origin"]) or text(v["origin"]),
            "handler": text(v["handler"]),
            "basis": text(v["basis"]),
        }
        check = Checker(data, register.LABELS)
        for key in row.formulas:
            check.fail(key, _("Formulas are not accepted; type the value itself."))
        self._coded(check, v)
        found = _Found()
        found.custodian = self._custodian(check, v["custodian_unit"])
        self._origin(check, v, found)
        if found.custodian:
            found.person = self._person(check, found.custodian, v["responsible_person"])
        values = register.check_item(check, today=self.today)
        self._duplicate(check, row.line, found.custodian, values.get("reference", ""))
        problems: dict[str, str] = {}
        for name, message in check.errors.items():
            column = FIELD_COLUMNS.get(name, name) if name != "originating_body" else found.body_from
            problems.setdefault(column, str(message))
        if problems:
            return {}, problems
        return {"line": row.line, "status": "new", **_stored(values), **found.columns()}, {}

    @staticmethod
    def _coded(check: Checker, v: dict) -> None:
        """A level or origin the sheet writes in words the register does not know."""
        if v["level"] is not None and workbook.level_code(v["level"]) is None:
            check.fail("level", _("%(value)s is not a level; write 绝密, 机密 or 秘密.", value=text(v["level"])))
        if v["origin"] is not None and workbook.origin_code(v["origin"]) is None:
            check.fail("origin", _("%(value)s: write 原始 (original) or 派生 (derived).", value=text(v["origin"])))
        elif v["origin"] is None and (v["source"] is not None or v["originating_unit"] is not None):
            check.data["origin"] = "derived"  # a source named: derived, unless the sheet says otherwise

    def _custodian(self, check: Checker, name: Any) -> dict | None:
        label = check.label("custodian_unit_id")
        if name is None:
            own = self.refs.own
            if own is None:
                check.fail("custodian_unit_id", _("%(field)s is required.", field=label))
            return own
        found = self.refs.unit(name)
        if not found:
            check.fail("custodian_unit_id", _("%(field)s: no unit is named %(name)s.", field=label, name=text(name)))
            return None
        mine = [u for u in found if self.refs.in_scope(u)]
        if not mine:
            check.fail(
                "custodian_unit_id",
                _("%(field)s: %(name)s is not a unit you may register items for.", field=label, name=text(name)),
            )
            return None
        if len(mine) > 1:
            check.fail("custodian_unit_id", _ambiguous_unit(label, name))
            return None
        return mine[0]

    def _origin(self, check: Checker, v: dict, found: _Found) -> None:
        """The source (an item of the register by its reference, else a body in words) and
        the originating unit (a unit of the tenant, else a body in words)."""
        # bodies in words, by the column naming them
        bodies = [("originating_body", text(v["originating_body"]))] if v["originating_body"] is not None else []
        origin_name = v["originating_unit"]
        origin_units = self.refs.unit(origin_name)
        if len(origin_units) > 1:
            check.fail("originating_unit_id", _ambiguous_unit(check.label("originating_unit_id"), origin_name))
        elif origin_units:
            found.originating = origin_units[0]
            check.data["originating_unit_id"] = found.originating["id"]
        elif origin_name is not None:
            bodies.append(("originating_unit", text(origin_name)))
        source = text(v["source"])
        items = self.refs.sources.get(source, [])
        if len(items) > 1 and found.originating:  # the same reference in several units: the originator's
            items = [i for i in items if i["custodian_unit"] == found.originating["pk"]]
        if len(items) > 1:
            check.fail(
                "source_item_id",
                _(
                    "Several items of the register have the reference %(reference)s; "
                    "name the originating unit to tell which.",
                    reference=source,
                ),
            )
        elif items:
            found.source = items[0]
            self._from_source(check, items[0])
        elif source:
            bodies.append(("source", source))
        check.data["originating_body"] = " / ".join(body for _column, body in bodies)
        if bodies:
            found.body_from = bodies[0][0]

    @staticmethod
    def _from_source(check: Checker, source: dict) -> None:
        """A derived item naming its source: its level, and its term when the sheet marks
        none, are the source's (as register.resolve_refs gives them)."""
        check.data["source_item_id"] = str(source["uuid"])
        if check.data.get("origin") != "derived":
            return
        if not check.data["level"]:
            check.data["level"] = source["level"]
        if check.data.get("term_kind"):
            return
        if source["term_ends_on"] is not None:
            check.data.update(term_kind="date", term_until=source["term_ends_on"])
        elif source["term_kind"] == "condition":
            check.data.update(term_kind="condition", term_condition=source["term_condition"])

    def _person(self, check: Checker, unit: dict, name: Any) -> dict | None:
        if name is None:
            return None
        holders = list(self.refs.people.get((unit["pk"], text_key(name)), {}).values())
        if len(holders) == 1:
            return holders[0]
        label = check.label("responsible_person_id")
        if holders:
            check.fail(
                "responsible_person_id",
                _(
                    "%(field)s: several people in %(unit)s are named %(name)s.",
                    field=label,
                    unit=unit["name"],
                    name=text(name),
                ),
            )
        else:
            check.fail(
                "responsible_person_id",
                _(
                    "%(field)s: no one named %(name)s holds a post in %(unit)s.",
                    field=label,
                    name=text(name),
                    unit=unit["name"],
                ),
            )
        return None

    def _duplicate(self, check: Checker, line: int, unit: dict | None, reference: str) -> None:
        if not unit or not reference:
            return
        key = (unit["pk"], reference)
        if key in self.seen:
            check.fail("reference", _("Duplicate of line %(line)s.", line=self.seen[key]))
        elif key in self.refs.existing:
            check.fail(
                "reference",
                _("%(reference)s is already in the register of %(unit)s.", reference=reference, unit=unit["name"]),
            )
        self.seen.setdefault(key, line)


def _in_order(problems: dict[str, str]) -> list[tuple[str, str]]:
    """A row's problems in the order of the workbook's columns."""
    order = {key: n for n, key in enumerate((*workbook.COLUMNS, *workbook.EXTRA_COLUMNS))}
    return sorted(problems.items(), key=lambda problem: order.get(problem[0], len(order)))


def _ambiguous_unit(label: str, name: Any) -> str:
    return _("%(field)s: several units are named %(name)s; write the unit's code.", field=label, name=text(name))


@dataclass
class _Found:
    """The references a row names, once found."""

    custodian: dict | None = None
    person: dict | None = None
    source: dict | None = None
    originating: dict | None = None
    body_from: str = "source"  # the column an originating body in words came from

    def columns(self) -> dict:
        """Row ids for writing, public ids and names for the preview."""
        unit, person, source, origin = (
            self.custodian or {},
            self.person or {},
            self.source or {},
            self.originating or {},
        )
        return {
            "custodian_unit": unit["pk"],
            "custodian_unit_id": unit["id"],
            "custodian_unit_name": unit["name"],
            "responsible_person": person.get("pk"),
            "responsible_person_id": person.get("id"),
            "responsible_name": person.get("name", ""),
            "source_item": source.get("id"),
            "source_item_id": str(source["uuid"]) if source else None,
            "source_reference": source.get("reference", ""),
            "originating_unit": origin.get("pk"),
            "originating_unit_id": origin.get("id"),
            "originating_unit_name": origin.get("name", ""),
        }


def _stored(values: dict) -> dict:
    """The checked item as JSON keeps it (dates as ISO text)."""
    kept = {k: values.get(k) for k in ITEM_KEYS if k in values}
    for key in DATE_KEYS:
        if isinstance(kept.get(key), date):
            kept[key] = kept[key].isoformat()
    return kept


def _item(row: dict) -> dict:
    """A stored row as register.insert_items takes it."""
    item = {k: row.get(k) for k in ITEM_KEYS}
    for key in DATE_KEYS:
        if item[key]:
            item[key] = date.fromisoformat(item[key])
    return item


# ---------------------------------------------------------------- preview and apply


async def preview_import(tenant: TenantRef, actor: Actor, filename: str, data: bytes) -> dict:
    """Check every row of a register workbook and keep the result: the item each good row
    would add, and why each bad row is wrong (line, column, message). Nothing is written
    to the register."""
    must_import(actor)
    sheet = await workbook.parse_items(data)
    refs = await _load_refs(tenant, actor, sheet)
    rows = _Rows(refs, units.today(tenant))
    good: list[dict] = []
    errors: list[dict] = []
    for row in sheet:
        checked, problems = rows.check(row)
        if problems:
            errors += [{"line": row.line, "field": key, "message": message} for key, message in _in_order(problems)]
        else:
            good.append(checked)
    async with db.atomic():
        record = ItemImport(tenant=tenant.id, user_id=actor.id or 0, filename=filename[:200], rows=good, errors=errors)
        await record.save()
        detail = {"rows": len(good), "errors": len(errors)}
        await audit.record(tenant.id, actor, "declass.import_preview", "classified_import", record.uuid, detail=detail)
    return await import_detail(tenant, actor, record.uuid)


async def _import_row(tenant: TenantRef, actor: Actor, import_id: Any) -> dict:
    must_import(actor)
    row = await get_owned(
        ItemImport,
        tenant,
        import_id,
        ItemImport.id,
        ItemImport.uuid,
        ItemImport.user_id,
        ItemImport.filename,
        ItemImport.status,
        ItemImport.created_at,
        ItemImport.applied_at,
    )
    if actor.role != roles.OFFICE_ADMIN and row["user_id"] != actor.id:
        raise NotFound()  # a unit's officer sees their own uploads
    return row


async def import_detail(tenant: TenantRef, actor: Actor, import_id: Any) -> dict:
    """An import: its good rows (each the item it adds), its errors, and its state."""
    row = await _import_row(tenant, actor, import_id)
    data = await read_row(ItemImport, row["id"], ItemImport.rows, ItemImport.errors)
    return {
        **public(row, "filename", "status", "created_at", "applied_at"),
        **workbooks.preview_summary(data["rows"], data["errors"]),
    }


def _stale_message(taken: list[dict]) -> str:
    first = taken[0]
    return _(
        "Since this preview was made, %(n)d of its references were registered in their unit "
        "(first: line %(line)s, %(reference)s). Nothing was written; upload the file again for a fresh preview.",
        n=len(taken),
        line=first["line"],
        reference=first["reference"],
    )


async def _taken(tenant: TenantRef, rows: list[dict]) -> list[dict]:
    """The rows whose reference their unit's register holds by now."""
    existing = {
        (i["custodian_unit"], i["reference"])
        for i in await rows_in(
            ClassifiedItem.reference,
            sorted({r["reference"] for r in rows}),
            ClassifiedItem.custodian_unit,
            ClassifiedItem.reference,
            where=[ClassifiedItem.tenant == tenant.id],
        )
    }
    return [r for r in rows if (r["custodian_unit"], r["reference"]) in existing]


async def apply_import(tenant: TenantRef, actor: Actor, import_id: Any) -> dict:
    """Write a clean preview's items in one transaction. Applying is one conditional state
    change, so of two applies at once the second writes nothing (409); a preview with
    errors is refused (409), and so is one whose references were registered since."""
    row = await _import_row(tenant, actor, import_id)
    detail = await import_detail(tenant, actor, import_id)
    workbooks.applicable(detail)
    try:
        return await _apply(tenant, actor, row, detail)
    except Exception as exc:
        # another import or entry of the same reference at the same moment (the unique index)
        if not db.unique_violation(exc):
            raise
        raise Conflict(register.reference_taken()) from exc


async def _apply(tenant: TenantRef, actor: Actor, row: dict, detail: dict) -> dict:
    rows = detail["rows"]
    async with db.atomic():
        await workbooks.claim(ItemImport, row["id"])
        taken = await _taken(tenant, rows)
        if taken:
            raise Conflict(_stale_message(taken))
        made = await register.insert_items(tenant, actor, [_item(r) for r in rows])
        applied = {"added": len(made)}
        await audit.record(tenant.id, actor, "declass.import_apply", "classified_import", detail["id"], detail=applied)
    return applied


def columns() -> list[tuple[str, Any, bool]]:
    """The workbook's columns as the upload page lists them: the header, the name, and
    whether every row must fill it."""
    return [(workbook.TEMPLATE_HEADERS[k], workbook.LABELS[k], k in workbook.REQUIRED) for k in workbook.COLUMNS]


def template(example_unit: str = "") -> bytes:
    return workbook.items_template(example_unit or "市教育局")
