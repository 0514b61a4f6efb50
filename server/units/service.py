"""The unit tree and the people in post: registry every duty and score hangs on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.columns import Column
from piccolo.query.functions.aggregate import Count

from server import db, events, roles
from server.actor import Actor
from server.audit import service as audit
from server.audit import summaries
from server.core.chunks import chunks
from server.core.errors import Conflict, NotFound
from server.core.i18n import _, _l
from server.core.pagination import Page, read_page
from server.core.rows import joined, pick, public
from server.core.validation import Checker
from server.units.tables import Person, Post, Unit
from tenants.service import TenantRef, get_owned

KINDS = {
    "district": _l("District"),
    "municipal": _l("Municipal unit"),
    "district_unit": _l("District-level unit"),
    "subunit": _l("Subordinate unit"),
    "other": _l("Other"),
}
POSITIONS = {
    "principal": _l("Principal"),
    "secrecy_lead": _l("Leader in charge of secrecy work"),
    "business_lead": _l("Leader in charge of business lines"),
    "member": _l("Other leadership member"),
    "secrecy_officer": _l("Secrecy officer"),
    "staff": _l("Staff member"),
}
LEADER_POSITIONS = ("principal", "secrecy_lead", "business_lead", "member")
POSITION_RANK = {code: rank for rank, code in enumerate(POSITIONS)}
LEVELS = {
    "core": _l("Core"),
    "important": _l("Important"),
    "general": _l("General"),
    "none": _l("Not classified"),
}
GAPS = {
    "no_principal": _l("No principal"),
    "no_secrecy_lead": _l("No leader in charge of secrecy work"),
}
UNIT_LABELS = {
    "name": _l("Name"),
    "kind": _l("Kind"),
    "parent_id": _l("Parent unit"),
    "code": _l("Code"),
    "sort_order": _l("Sort order"),
    "note": _l("Note"),
}
PERSON_LABELS = {
    "name": _l("Full name"),
    "unit_id": _l("Unit"),
    "position": _l("Position"),
    "title": _l("Title"),
    "classified_level": _l("Classified level"),
    "military_transfer": _l("Military-transfer cadre"),
    "email": _l("Email"),
    "mobile": _l("Mobile"),
    "start_date": _l("Start date"),
    "end_date": _l("End date"),
    "effective_date": _l("Effective date"),
    "post_id": _l("Post"),
    "note": _l("Note"),
}


def today(tenant: TenantRef) -> date:
    return datetime.now(ZoneInfo(tenant.timezone)).date()


def path_segment(unit_id: int) -> str:
    # zero-padded so that ordering by path lists the tree depth-first
    return f"{unit_id:08d}/"


def in_post_on(on: date):
    """Posts held on a day (started, not yet ended)."""
    return (Post.start_date <= on) & (Post.end_date.is_null() | (Post.end_date >= on))


def _in_scope(actor: Actor, path: str) -> bool:
    return actor.scope_path is None or path.startswith(actor.scope_path)


def _scope(actor: Actor, path: Column) -> list:
    """The actor's scope as a filter on a unit path (a unit's own, or a post's unit's)."""
    return [path.like(actor.scope_path + "%")] if actor.scope_path else []


async def _within(tenant: TenantRef, actor: Actor, path: Column, within: Any = None) -> list:
    """The actor's scope, and one unit's subtree when `within` names it, as filters on a
    unit path."""
    where = _scope(actor, path)
    if within is not None:
        root = await _unit_row(tenant, actor, within)
        where.append(path.like(root["path"] + "%"))
    return where


# ---------------------------------------------------------------- units


async def _unit_row(tenant: TenantRef, actor: Actor, unit_id: Any) -> dict:
    row = await get_owned(Unit, tenant, unit_id)
    if not _in_scope(actor, row["path"]):
        raise NotFound()
    return row


async def leadership(tenant: TenantRef, unit_ids: list[int]) -> dict[int, dict]:
    """Per unit: principal and secrecy lead names, leader and people counts."""
    summary = {
        uid: {"principal": [], "secrecy_lead": [], "leaders": 0, "people": 0, "secrecy_officer": []} for uid in unit_ids
    }
    if not unit_ids:
        return summary
    on = today(tenant)
    rows = await Post.select(
        Post.unit,
        Post.position,
        *_HOLDER,
    ).where(
        Post.tenant == tenant.id,
        Post.unit.is_in(unit_ids),
        in_post_on(on),
        Post.position.is_in(["principal", "secrecy_lead", "secrecy_officer"]),
    )
    for row in rows:
        summary[row["unit"]][row["position"]].append({"name": row["person_name"], "id": str(row["person_uuid"])})
    counts = (
        await Post.select(Post.unit, Post.position, Count(alias="n"))
        .where(Post.tenant == tenant.id, Post.unit.is_in(unit_ids), in_post_on(on))
        .group_by(Post.unit, Post.position)
    )
    for row in counts:
        entry = summary[row["unit"]]
        entry["people"] += row["n"]
        if row["position"] in LEADER_POSITIONS:
            entry["leaders"] += row["n"]
    for entry in summary.values():
        entry["gaps"] = [
            code for code, key in (("no_principal", "principal"), ("no_secrecy_lead", "secrecy_lead")) if not entry[key]
        ]
    return summary


def _gap_filter(tenant: TenantRef, gap: str) -> list:
    position = {"no_principal": "principal", "no_secrecy_lead": "secrecy_lead"}.get(gap)
    if not position:
        return []
    holders = Post.select(Post.unit).where(
        Post.tenant == tenant.id, Post.position == position, in_post_on(today(tenant))
    )
    return [Unit.id.not_in(holders)]


async def list_units(
    tenant: TenantRef,
    actor: Actor,
    *,
    q: str = "",
    kind: str = "",
    within: str = "",
    gap: str = "",
    page: int = 1,
    per_page: int = 50,
) -> Page:
    where = [
        Unit.tenant == tenant.id,
        Unit.deleted_at.is_null(),
        *await _within(tenant, actor, Unit.path, within or None),
    ]
    if q:
        where.append(db.contains(Unit.name, q) | db.contains(Unit.code, q))
    if kind in KINDS:
        where.append(Unit.kind == kind)
    where += _gap_filter(tenant, gap)
    columns = [Unit.id, Unit.uuid, Unit.name, Unit.kind, Unit.code, Unit.depth, Unit.path, Unit.parent]
    shown = await read_page(Unit, where, columns, [Unit.path], page, per_page)
    rows = shown.items
    summary = await leadership(tenant, [r["id"] for r in rows])
    # tree order puts most top-level units on the same page as their sub-units
    tops = {r["id"]: r["name"] for r in rows if r["depth"] == 0}
    missing = sorted({int(r["path"].split("/")[0]) for r in rows if r["depth"] > 0} - tops.keys())
    if missing:
        found = await Unit.select(Unit.id, Unit.name).where(Unit.tenant == tenant.id, Unit.id.is_in(missing))
        tops.update({r["id"]: r["name"] for r in found})
    shown.items = [
        {
            **_unit_public(row),
            "top_name": tops.get(int(row["path"].split("/")[0]), "") if row["depth"] > 0 else "",
            **summary[row["id"]],
        }
        for row in rows
    ]
    return shown


def _unit_public(row: dict) -> dict:
    return public(row, "name", "kind", "depth", code=row.get("code") or "")


async def unit_detail(tenant: TenantRef, actor: Actor, unit_id: Any) -> dict:
    row = await _unit_row(tenant, actor, unit_id)
    ancestor_ids = [int(seg) for seg in row["path"].split("/")[:-2] if seg]
    ancestors = []
    if ancestor_ids:
        found = {
            r["id"]: r
            for r in await Unit.select(Unit.id, Unit.uuid, Unit.name, Unit.path).where(
                Unit.tenant == tenant.id, Unit.id.is_in(ancestor_ids)
            )
        }
        ancestors = [
            {
                "id": str(found[i]["uuid"]),
                "name": found[i]["name"],
                "visible": _in_scope(actor, found[i]["path"]),
            }
            for i in ancestor_ids
            if i in found
        ]
    children = (
        await Unit.select(Unit.id, Unit.uuid, Unit.name, Unit.kind, Unit.code, Unit.depth)
        .where(Unit.tenant == tenant.id, Unit.parent == row["id"], Unit.deleted_at.is_null())
        .order_by(Unit.sort_order)
        .order_by(Unit.name)
    )
    summary = await leadership(tenant, [row["id"]] + [c["id"] for c in children])
    posts = await _posts_where(tenant, [Post.unit == row["id"], in_post_on(today(tenant))])
    posts.sort(key=lambda p: (POSITION_RANK.get(p["position"], 99), p["person_name"]))
    return {
        **_unit_public(row),
        **pick(row, "note", "sort_order", "created_at", "updated_at"),
        "parent_id": ancestors[-1]["id"] if ancestors else None,
        "ancestors": ancestors,
        "children": [{**_unit_public(c), **summary[c["id"]]} for c in children],
        "posts": posts,
        **summary[row["id"]],
        "delete_refused": _delete_refusal(actor, row["path"], has_children=bool(children), has_posts=bool(posts)),
    }


def _check_unit(check: Checker, *, partial: bool) -> dict:
    return check.fields(
        {
            "name": lambda: check.text("name", required=True, max_len=200),
            "kind": lambda: check.choice("kind", KINDS),
            "code": lambda: check.text("code", max_len=50) or None,
            "sort_order": lambda: check.integer("sort_order", minimum=-100000, maximum=100000),
            "note": lambda: check.text("note", max_len=2000),
        },
        partial=partial,
    )


async def _check_unit_field(
    tenant: TenantRef, actor: Actor, check: Checker, field: str, *, required: bool
) -> dict | None:
    """The unit a field names, within the actor's scope."""
    missing = _("%(field)s: no such unit.", field=check.label(field))
    return await check.found(field, lambda unit_id: _unit_row(tenant, actor, unit_id), missing, required=required)


async def _check_parent(tenant: TenantRef, actor: Actor, check: Checker) -> dict | None:
    parent = await _check_unit_field(tenant, actor, check, "parent_id", required=False)
    # a scoped account creates units inside its scope only
    if parent is None and actor.scope_path is not None and "parent_id" not in check.errors:
        check.fail("parent_id", _("%(field)s is required.", field=check.label("parent_id")))
    return parent


async def _check_code_free(tenant: TenantRef, check: Checker, code: str | None, exclude_id: int | None = None):
    if not code:
        return
    query = Unit.exists().where(Unit.tenant == tenant.id, Unit.code == code)
    if exclude_id is not None:
        query = query.where(Unit.id != exclude_id)
    if await query:
        check.fail("code", _("%(field)s is already used by another unit.", field=check.label("code")))


async def create_unit(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict:
    check = Checker(data, UNIT_LABELS)
    values = _check_unit(check, partial=False)
    parent = await _check_parent(tenant, actor, check)
    await _check_code_free(tenant, check, values.get("code"))
    check.done()
    async with db.atomic():
        unit = Unit(tenant=tenant.id, parent=parent["id"] if parent else None, **values)
        await unit.save()
        path = (parent["path"] if parent else "") + path_segment(unit.id)
        depth = parent["depth"] + 1 if parent else 0
        await Unit.update({Unit.path: path, Unit.depth: depth}).where(Unit.id == unit.id)
        await audit.record(tenant.id, actor, "unit.create", "unit", unit.uuid, detail={"name": values["name"]})
    return await unit_detail(tenant, actor, unit.uuid)


async def update_unit(tenant: TenantRef, actor: Actor, unit_id: Any, data: dict[str, Any]) -> dict:
    row = await _unit_row(tenant, actor, unit_id)
    check = Checker(data, UNIT_LABELS)
    check.changes(UNIT_LABELS)
    values = _check_unit(check, partial=True)
    new_parent: dict | None = None
    moving = check.present("parent_id") and await _parent_changes(row, actor, check)
    if moving:
        new_parent = await _check_parent(tenant, actor, check)
        if new_parent and new_parent["path"].startswith(row["path"]):
            check.fail("parent_id", _("A unit cannot be moved under itself or its own sub-units."))
        if row["path"] == actor.scope_path:
            check.fail("parent_id", _("You cannot move the unit your account is scoped to."))
    if "code" in values:
        await _check_code_free(tenant, check, values["code"], exclude_id=row["id"])
    check.done()
    async with db.atomic():
        values["updated_at"] = datetime.now(UTC)
        await Unit.update(values).where(Unit.id == row["id"])
        if moving:
            await _move_subtree(tenant, row, new_parent)
        changed = sorted(k for k in values if k != "updated_at") + (["parent_id"] if moving else [])
        await audit.record(tenant.id, actor, "unit.update", "unit", row["uuid"], detail={"fields": changed})
    return await unit_detail(tenant, actor, row["uuid"])


async def _parent_changes(row: dict, actor: Actor, check: Checker) -> bool:
    """Edit forms always send the parent: only a different one is a move."""
    requested = check.uuid("parent_id")
    if requested is None and row["path"] == actor.scope_path:
        return False  # the scope's root: its parent lies outside the form's choices
    current = None
    if row["parent"] is not None:
        current = (await Unit.select(Unit.uuid).where(Unit.id == row["parent"]).first())["uuid"]
    return requested != current


async def _move_subtree(tenant: TenantRef, row: dict, parent: dict | None) -> None:
    old_prefix = row["path"]
    new_prefix = (parent["path"] if parent else "") + path_segment(row["id"])
    delta = (parent["depth"] + 1 if parent else 0) - row["depth"]
    await Unit.update({Unit.parent: parent["id"] if parent else None}).where(Unit.id == row["id"])
    await Unit.raw(
        "UPDATE units SET path = {} || substr(path, {}), depth = depth + {} WHERE tenant = {} AND path LIKE {}",
        new_prefix,
        len(old_prefix) + 1,
        delta,
        tenant.id,
        old_prefix + "%",
    )


def _delete_refusal(actor: Actor, path: str, *, has_children: bool, has_posts: bool) -> str | None:
    """Why the actor may not delete the unit, None when they may: the rule delete_unit
    applies and the unit's page shows before offering the button."""
    if path == actor.scope_path:
        return _("You cannot delete the unit your account is scoped to.")
    if has_children:
        return _("This unit still has sub-units; move or delete them first.")
    if has_posts:
        return _("People still hold posts in this unit; end their posts first.")
    return None


async def delete_unit(tenant: TenantRef, actor: Actor, unit_id: Any) -> None:
    row = await _unit_row(tenant, actor, unit_id)
    refused = _delete_refusal(
        actor,
        row["path"],
        has_children=await Unit.exists().where(
            Unit.tenant == tenant.id, Unit.parent == row["id"], Unit.deleted_at.is_null()
        ),
        has_posts=await Post.exists().where(
            Post.tenant == tenant.id, Post.unit == row["id"], in_post_on(today(tenant))
        ),
    )
    if refused:
        raise Conflict(refused)
    async with db.atomic():
        await Unit.update({Unit.deleted_at: datetime.now(UTC)}).where(Unit.id == row["id"])
        await audit.record(tenant.id, actor, "unit.delete", "unit", row["uuid"], detail={"name": row["name"]})


@summaries.kept("units.unit_choices")
async def unit_choices(tenant: TenantRef, actor: Actor) -> list[dict]:
    """Every unit the actor may pick (form selects), in tree order."""
    rows = (
        await Unit.select(Unit.uuid, Unit.name, Unit.depth, Unit.kind)
        .where(Unit.tenant == tenant.id, Unit.deleted_at.is_null(), *_scope(actor, Unit.path))
        .order_by(Unit.path)
    )
    return [public(r, "name", "depth", "kind") for r in rows]


async def unit_path(tenant: TenantRef, unit_pk: int) -> str | None:
    row = await Unit.select(Unit.path).where(Unit.tenant == tenant.id, Unit.id == unit_pk).first()
    return row["path"] if row else None


async def unit_pk(tenant: TenantRef, actor: Actor, unit_id: Any) -> int:
    return (await _unit_row(tenant, actor, unit_id))["id"]


@summaries.kept("units.registry_summary")
async def registry_summary(tenant: TenantRef, actor: Actor) -> dict:
    """Counts for the dashboard: units, gaps in leadership, people by kind."""
    scope = _scope(actor, Unit.path)
    base = [Unit.tenant == tenant.id, Unit.deleted_at.is_null(), *scope]
    units = await Unit.count().where(*base)
    gaps = {code: await Unit.count().where(*base, *_gap_filter(tenant, code)) for code in GAPS}
    current = [Post.tenant == tenant.id, in_post_on(today(tenant)), *_scope(actor, Post.unit.path)]
    leaders = await Post.count().where(*current, Post.position.is_in(list(LEADER_POSITIONS)))
    classified = await Post.count().where(*current, Post.person.classified_level != "none")
    military = await Post.count().where(*current, Post.person.military_transfer.eq(True))
    return {"units": units, "gaps": gaps, "leaders": leaders, "classified": classified, "military": military}


# ---------------------------------------------------------------- people

# who holds a post, as the post lists show them
_HOLDER = joined(Post.person, "uuid", "name")
_POST_COLUMNS = (
    Post.id,
    Post.uuid,
    Post.position,
    Post.title,
    Post.start_date,
    Post.end_date,
    Post.person.id.as_alias("person_pk"),
    *_HOLDER,
    *joined(Post.person, "classified_level", "military_transfer", "mobile", "email", prefix=""),
    *joined(Post.unit, "uuid", "name"),
)


_POST_FIELDS = ("position", "title", "start_date", "end_date", "person_name", "classified_level", "mobile", "email")


def _post_public(row: dict) -> dict:
    return public(
        row,
        *_POST_FIELDS,
        "unit_name",
        person_id=str(row["person_uuid"]),
        military_transfer=bool(row["military_transfer"]),
        unit_id=str(row["unit_uuid"]),
    )


async def _posts_where(tenant: TenantRef, where: list, *, limit: int | None = None, offset: int = 0) -> list[dict]:
    query = Post.select(*_POST_COLUMNS).where(Post.tenant == tenant.id, Post.person.deleted_at.is_null(), *where)
    if limit is not None:
        query = query.order_by(Post.unit.path).order_by(Post.person.name).limit(limit).offset(offset)
    return [_post_public(r) for r in await query]


async def list_people(
    tenant: TenantRef,
    actor: Actor,
    *,
    q: str = "",
    unit: str = "",
    position: str = "",
    level: str = "",
    military: str = "",
    status: str = "current",
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """People in post (one row per post); status=former lists posts that have ended."""
    on = today(tenant)
    where: list = [Post.person.deleted_at.is_null(), *await _within(tenant, actor, Post.unit.path, unit or None)]
    where.append(Post.end_date < on if status == "former" else in_post_on(on))
    if q:
        where.append(
            db.contains(Post.person.name, q) | db.contains(Post.person.mobile, q) | db.contains(Post.person.email, q)
        )
    if position in POSITIONS:
        where.append(Post.position == position)
    elif position == "leaders":
        where.append(Post.position.is_in(list(LEADER_POSITIONS)))
    if level in LEVELS:
        where.append(Post.person.classified_level == level)
    elif level == "classified":
        where.append(Post.person.classified_level != "none")
    if military in {"1", "true", "yes"}:
        where.append(Post.person.military_transfer.eq(True))
    total = await Post.count().where(Post.tenant == tenant.id, *where)
    items = await _posts_where(tenant, where, limit=per_page, offset=(page - 1) * per_page)
    return Page(items=items, total=total, page=page, per_page=per_page)


async def _person_row(tenant: TenantRef, actor: Actor, person_id: Any) -> dict:
    row = await get_owned(Person, tenant, person_id)
    if actor.role == roles.LEADER:
        if row["id"] != actor.person_id:
            raise NotFound()
    elif actor.scope_path is not None:
        visible = await Post.exists().where(
            Post.tenant == tenant.id, Post.person == row["id"], Post.unit.path.like(actor.scope_path + "%")
        )
        if not visible:
            raise NotFound()
    return row


_PERSON_FIELDS = ("name", "email", "mobile", "classified_level", "note", "created_at", "updated_at")


async def person_detail(tenant: TenantRef, actor: Actor, person_id: Any) -> dict:
    row = await _person_row(tenant, actor, person_id)
    posts = await _posts_where(tenant, [Post.person == row["id"]])
    on = today(tenant)
    for post in posts:
        post["current"] = post["start_date"] <= on and (post["end_date"] is None or post["end_date"] >= on)
    posts.sort(key=lambda p: (not p["current"], -p["start_date"].toordinal()))
    return public(
        row,
        *_PERSON_FIELDS,
        military_transfer=bool(row["military_transfer"]),
        posts=posts,
        current_posts=[p for p in posts if p["current"]],
    )


def _check_identity(check: Checker, *, partial: bool) -> dict:
    return check.fields(
        {
            "name": lambda: check.text("name", required=True, max_len=100),
            "email": lambda: check.email("email"),
            "mobile": lambda: check.mobile("mobile"),
            "classified_level": lambda: check.choice("classified_level", LEVELS, required=False, default="none"),
            "military_transfer": lambda: check.boolean("military_transfer"),
            "note": lambda: check.text("note", max_len=2000),
        },
        partial=partial,
    )


async def _check_new_post(tenant: TenantRef, actor: Actor, check: Checker) -> tuple[dict | None, dict[str, Any]]:
    """A post to open: its unit (in the actor's scope), and the post's unit, position, title and dates."""
    unit = await _check_unit_field(tenant, actor, check, "unit_id", required=True)
    post = {
        "unit": unit["id"] if unit else None,
        "position": check.choice("position", POSITIONS),
        "title": check.text("title", max_len=100),
        "start_date": check.date("start_date") or today(tenant),
        "end_date": check.date("end_date"),
    }
    _check_dates(check, post["start_date"], post["end_date"])
    return unit, post


def _check_dates(check: Checker, start: date | None, end: date | None, end_field: str = "end_date") -> None:
    if start and end and end < start:
        check.fail(end_field, _("The end date cannot be before the start date."))


async def create_person(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict:
    check = Checker(data, PERSON_LABELS)
    values = _check_identity(check, partial=False)
    unit, post = await _check_new_post(tenant, actor, check)
    check.done()
    async with db.atomic():
        person = Person(tenant=tenant.id, **values)
        await person.save()
        await Post(tenant=tenant.id, person=person.id, **post).save()
        detail = {"unit": str(unit["uuid"]), "position": post["position"]}
        await audit.record(tenant.id, actor, "person.create", "person", person.uuid, detail=detail)
        await events.publish(events.INDICATOR_INPUTS, tenant, people=[person.id], units=[post["unit"]])
    return await person_detail(tenant, actor, person.uuid)


async def update_person(tenant: TenantRef, actor: Actor, person_id: Any, data: dict[str, Any]) -> dict:
    """Identity fields change in place; a change of unit, position or title ends the
    current post the day before the effective date and opens a new one."""
    row = await _person_row(tenant, actor, person_id)
    check = Checker(data, PERSON_LABELS)
    check.changes(
        ("name", "unit_id", "position", "title", "classified_level", "military_transfer", "email", "mobile", "note")
    )
    values = _check_identity(check, partial=True)
    post_change = any(check.present(f) for f in ("unit_id", "position", "title"))
    current: dict | None = None
    new_post: dict[str, Any] = {}
    if post_change:
        on = today(tenant)
        effective = check.date("effective_date") or on
        current = await _post_to_change(tenant, actor, row, check, on)
        unit = (
            await _check_unit_field(tenant, actor, check, "unit_id", required=False)
            if check.present("unit_id")
            else None
        )
        if current is not None:
            new_post = {
                "unit": unit["id"] if unit else current["unit"],
                "position": check.choice("position", POSITIONS) if check.present("position") else current["position"],
                "title": check.text("title", max_len=100) if check.present("title") else current["title"],
                "start_date": effective,
            }
            if effective <= current["start_date"]:
                check.fail("effective_date", _("The change must take effect after the current post began."))
    check.done()
    async with db.atomic():
        if values:
            values["updated_at"] = datetime.now(UTC)
            await Person.update(values).where(Person.id == row["id"])
        if current is not None and new_post:
            await Post.update({Post.end_date: new_post["start_date"] - timedelta(days=1)}).where(
                Post.id == current["id"]
            )
            await Post(tenant=tenant.id, person=row["id"], **new_post).save()
        await audit.record(
            tenant.id,
            actor,
            "person.update",
            "person",
            row["uuid"],
            detail={"fields": sorted(k for k in values if k != "updated_at"), "post_changed": bool(new_post)},
        )
    return await person_detail(tenant, actor, row["uuid"])


async def _posts_in_scope(tenant: TenantRef, actor: Actor, person_pk_: int, on: date) -> list[dict]:
    """The person's current posts that the actor may change (all of them for the office)."""
    where = [Post.tenant == tenant.id, Post.person == person_pk_, in_post_on(on), *_scope(actor, Post.unit.path)]
    return await Post.select(Post.all_columns()).where(*where)


async def _post_to_change(tenant: TenantRef, actor: Actor, person: dict, check: Checker, on: date) -> dict | None:
    posts = await _posts_in_scope(tenant, actor, person["id"], on)
    post_uuid = check.uuid("post_id")
    if post_uuid is not None:
        chosen = [p for p in posts if p["uuid"] == post_uuid]
        if not chosen:
            check.fail("post_id", _("%(field)s: no such current post.", field=check.label("post_id")))
            return None
        return chosen[0]
    if len(posts) == 1:
        return posts[0]
    if not posts:
        check.fail("unit_id", _("This person holds no current post; add a post instead."))
    else:
        check.fail("post_id", _("This person holds several posts; say which one changes."))
    return None


async def add_post(tenant: TenantRef, actor: Actor, person_id: Any, data: dict[str, Any]) -> dict:
    row = await _person_row(tenant, actor, person_id)
    check = Checker(data, PERSON_LABELS)
    _unit, values = await _check_new_post(tenant, actor, check)
    check.done()
    async with db.atomic():
        post = Post(tenant=tenant.id, person=row["id"], **values)
        await post.save()
        await audit.record(tenant.id, actor, "post.create", "post", post.uuid, detail={"person": str(row["uuid"])})
        await events.publish(events.INDICATOR_INPUTS, tenant, people=[row["id"]], units=[values["unit"]])
    return await person_detail(tenant, actor, row["uuid"])


async def end_post(tenant: TenantRef, actor: Actor, person_id: Any, post_id: Any, data: dict[str, Any]) -> dict:
    row = await _person_row(tenant, actor, person_id)
    post = await get_owned(Post, tenant, post_id)
    if post["person"] != row["id"]:
        raise NotFound()
    unit_path_ = await unit_path(tenant, post["unit"])
    if unit_path_ is None or not _in_scope(actor, unit_path_):
        raise NotFound()
    check = Checker(data, PERSON_LABELS)
    end = check.date("end_date") or today(tenant)
    _check_dates(check, post["start_date"], end)
    if post["end_date"] is not None and post["end_date"] < today(tenant):
        check.fail("end_date", _("This post has already ended."))
    check.done()
    async with db.atomic():
        await Post.update({Post.end_date: end}).where(Post.id == post["id"])
        await audit.record(tenant.id, actor, "post.end", "post", post["uuid"], detail={"end_date": end.isoformat()})
        await events.publish(events.INDICATOR_INPUTS, tenant, people=[row["id"]], units=[post["unit"]])
    return await person_detail(tenant, actor, row["uuid"])


async def delete_person(tenant: TenantRef, actor: Actor, person_id: Any) -> None:
    """Archive: the person disappears from lists, their ended posts stay as history."""
    row = await _person_row(tenant, actor, person_id)
    on = today(tenant)
    if actor.scope_path:
        everywhere = await Post.count().where(Post.tenant == tenant.id, Post.person == row["id"], in_post_on(on))
        if everywhere > len(await _posts_in_scope(tenant, actor, row["id"], on)):
            raise Conflict(_("This person also holds posts outside your scope; end the post in your units instead."))
    held = await Post.select(Post.unit).where(Post.tenant == tenant.id, Post.person == row["id"], in_post_on(on))
    async with db.atomic():
        await Post.update({Post.end_date: on}).where(
            Post.tenant == tenant.id, Post.person == row["id"], Post.end_date.is_null() | (Post.end_date > on)
        )
        await Person.update({Person.deleted_at: datetime.now(UTC)}).where(Person.id == row["id"])
        await audit.record(tenant.id, actor, "person.delete", "person", row["uuid"], detail={"name": row["name"]})
        await events.publish(events.INDICATOR_INPUTS, tenant, people=[row["id"]], units=[h["unit"] for h in held])


async def own_person(tenant: TenantRef, actor: Actor) -> dict | None:
    """The actor's own person record (leaders), or None when the account has none."""
    if not actor.person_id:
        return None
    row = (
        await Person.select(Person.uuid)
        .where(Person.tenant == tenant.id, Person.id == actor.person_id, Person.deleted_at.is_null())
        .first()
    )
    return await person_detail(tenant, actor, row["uuid"]) if row else None


async def units_in_scope(tenant: TenantRef, actor: Actor) -> list[dict]:
    rows = (
        await Unit.select(Unit.id, Unit.uuid, Unit.name, Unit.kind, Unit.depth, Unit.path)
        .where(Unit.tenant == tenant.id, Unit.deleted_at.is_null(), *_scope(actor, Unit.path))
        .order_by(Unit.path)
    )
    return [{"pk": r["id"], **public(r, "name", "kind", "depth", "path")} for r in rows]


async def top_units(tenant: TenantRef, unit_rows: list[dict]) -> dict[int, dict]:
    """Each unit's top-level ancestor (itself at the top): the district it belongs to."""
    top_pks = {int(u["path"].split("/")[0]) for u in unit_rows}
    known = {u["pk"]: u for u in unit_rows if u["pk"] in top_pks}
    missing = sorted(top_pks - known.keys())
    if missing:
        for r in await Unit.select(Unit.id, Unit.uuid, Unit.name, Unit.kind).where(
            Unit.tenant == tenant.id, Unit.id.is_in(missing)
        ):
            known[r["id"]] = {"pk": r["id"], **public(r, "name", "kind")}
    return {u["pk"]: known[int(u["path"].split("/")[0])] for u in unit_rows}


async def post_pk(tenant: TenantRef, actor: Actor, post_id: Any) -> int:
    """A post the actor may act on: within their scope."""
    row = await get_owned(Post, tenant, post_id)
    path = await unit_path(tenant, row["unit"])
    if path is None or not _in_scope(actor, path):
        raise NotFound()
    return row["id"]


async def person_of_post(tenant: TenantRef, actor: Actor, post_pk_: int) -> str:
    """The public id of a post's holder, if the post lies in the actor's scope."""
    row = (
        await Post.select(Post.person.uuid.as_alias("person_uuid"), Post.unit.path.as_alias("path"))
        .where(Post.tenant == tenant.id, Post.id == post_pk_)
        .first()
    )
    if row is None or not _in_scope(actor, row["path"]):
        raise NotFound()
    return str(row["person_uuid"])


async def current_leader_posts(
    tenant: TenantRef, actor: Actor, *, within: Any = None, person: Any = None
) -> list[dict]:
    """Every current leadership post in the actor's scope (optionally one subtree or person)."""
    where = [
        Post.tenant == tenant.id,
        Post.person.deleted_at.is_null(),
        Post.position.is_in(list(LEADER_POSITIONS)),
        in_post_on(today(tenant)),
        *await _within(tenant, actor, Post.unit.path, within),
    ]
    if person is not None:
        where.append(Post.person == (await _person_row(tenant, actor, person))["id"])
    return (
        await Post.select(
            Post.id,
            Post.uuid,
            Post.position,
            Post.person,
            Post.unit,
            *_HOLDER,
            *joined(Post.unit, "name", "path"),
        )
        .where(*where)
        .order_by(Post.unit.path)
        .order_by(Post.id)
    )


async def person_email(tenant: TenantRef, person_pk_: int) -> str:
    row = await Person.select(Person.email).where(Person.tenant == tenant.id, Person.id == person_pk_).first()
    return row["email"] if row else ""


async def person_uuid(tenant: TenantRef, person_pk_: int) -> str:
    row = await Person.select(Person.uuid).where(Person.tenant == tenant.id, Person.id == person_pk_).first()
    if row is None:
        raise NotFound()
    return str(row["uuid"])


_POSTS_ON = (
    Post.id,
    Post.person,
    Post.unit,
    Post.position,
    Post.start_date,
    *_HOLDER,
    *joined(Post.person, "classified_level", "military_transfer", prefix=""),
    *joined(Post.unit, "name"),
)


def _batches(column, pks: Sequence[int] | None) -> list[list]:
    """No filter (None), or one `is_in` filter per chunk of row ids (none at all for no ids)."""
    return [[]] if pks is None else [[column.is_in(list(batch))] for batch in chunks(pks)]


async def posts_on(
    tenant: TenantRef,
    day: date,
    *,
    people: Sequence[int] | None = None,
    positions: Sequence[str] | None = None,
    units: Sequence[int] | None = None,
    archived: bool = False,
    live_units: bool = False,
) -> list[dict]:
    """Posts held on a day across the tenant (only these people, positions or units), with
    row ids for the caller's own queries: one query per chunk of ids. People archived since
    are left out unless `archived`; units deleted since count unless `live_units`."""
    where = [Post.tenant == tenant.id, in_post_on(day)]
    if not archived:
        where.append(Post.person.deleted_at.is_null())
    if live_units:
        where.append(Post.unit.deleted_at.is_null())
    if positions is not None:
        where.append(Post.position.is_in(list(positions)))
    rows: list[dict] = []
    for of_people in _batches(Post.person, people):
        for of_units in _batches(Post.unit, units):
            rows += await Post.select(*_POSTS_ON).where(*where, *of_people, *of_units).order_by(Post.id)
    return rows


async def lock_posts(tenant: TenantRef, post_pks: Sequence[int]) -> None:
    """Hold these posts until the transaction ends, so that two writers about the same
    posts take turns. In id order, so two never deadlock; SQLite's write transaction
    already serialises them."""
    if not db.is_postgres():
        return
    for batch in chunks(sorted(post_pks)):
        await Post.select(Post.id).where(Post.tenant == tenant.id, Post.id.is_in(batch)).order_by(Post.id).lock_rows()


async def people_contacts(tenant: TenantRef) -> dict[int, dict]:
    """Name and email of everyone not archived, by row id."""
    rows = await Person.select(Person.id, Person.name, Person.email).where(
        Person.tenant == tenant.id, Person.deleted_at.is_null()
    )
    return {r["id"]: r for r in rows}


async def current_posts_with_pks(tenant: TenantRef, actor: Actor, *, within: Any = None) -> list[dict]:
    """Current posts in the actor's scope (optionally a subtree), with each person's row id
    for the caller's own queries."""
    where = [in_post_on(today(tenant)), *await _within(tenant, actor, Post.unit.path, within)]
    rows = await Post.select(*_POST_COLUMNS).where(Post.tenant == tenant.id, Post.person.deleted_at.is_null(), *where)
    return [{**_post_public(r), "person_pk": r["person_pk"]} for r in rows]


async def person_pks(tenant: TenantRef, person_ids: list[str]) -> dict[str, int]:
    """Public ids to row ids, within the tenant (unknown ids are left out)."""
    out: dict[str, int] = {}
    for batch in chunks(person_ids):
        rows = await Person.select(Person.id, Person.uuid).where(Person.tenant == tenant.id, Person.uuid.is_in(batch))
        out.update({str(r["uuid"]): r["id"] for r in rows})
    return out


async def person_pk(tenant: TenantRef, actor: Actor, person_id: Any) -> int:
    return (await _person_row(tenant, actor, person_id))["id"]


def people_in_scope(tenant: TenantRef, actor: Actor):
    """A sub-select of the people who hold or held a post in the actor's scope (whom it
    may see, as in _person_row), for other domains' queries; None for the whole tenant."""
    if actor.scope_path is None:
        return None
    return Post.select(Post.person).where(Post.tenant == tenant.id, Post.unit.path.like(actor.scope_path + "%"))
