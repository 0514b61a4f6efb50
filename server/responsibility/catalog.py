"""The duty catalog (versioned per year, published versions frozen), individual
duty assignments, notice templates (versioned), and what one leader's duties are."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from piccolo.query.functions.aggregate import Max

from server import db
from server.actor import Actor
from server.audit import service as audit
from server.core.errors import Conflict, NotFound, ValidationFailed
from server.core.i18n import _, _l
from server.core.rows import pick, public
from server.core.validation import Checker
from server.documents import safe
from server.responsibility.defaults import DEFAULT_DUTIES, DEFAULT_TEMPLATES, POSITION_TITLES
from server.responsibility.tables import Duty, DutyAssignment, DutyCatalog, NoticeTemplate
from server.units import service as units
from tenants.service import TenantRef, get_owned, register_provisioner

# the catalog's sections: the leading positions' duties, then every leader's own
DUTY_SECTIONS = {
    **{position: units.POSITIONS[position] for position in ("principal", "secrecy_lead", "business_lead")},
    "every_leader": _l("Every leader personally"),
}
LABELS = {
    "year": _l("Year"),
    "position": _l("Section"),
    "text": _l("Duty"),
    "sort_order": _l("Sort order"),
    "title": _l("Notice title"),
    "body": _l("Template text"),
    "post_id": _l("Post"),
    "note": _l("Note"),
}
NUMERALS = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]
# Office admins write notice templates: they render in a bounded sandbox, in a worker
# process (server.documents.safe), so neither Python nor the event loop is theirs.
NOTICE_MAX_CHARS = 200_000  # a notice of a few dozen duties is ~10,000
NOTICE_SECONDS = 1.0  # per notice; a real one takes a millisecond
_SANDBOX = {"autoescape": True, "max_chars": NOTICE_MAX_CHARS, "seconds": NOTICE_SECONDS}


# ---------------------------------------------------------------- provisioning


async def provision(tenant: TenantRef) -> None:
    """A new tenant's published default catalog for this year and its notice templates."""
    catalog = DutyCatalog(
        tenant=tenant.id,
        year=units.today(tenant).year,
        version=1,
        status="published",
        published_at=datetime.now(UTC),
        note="默认职责目录",
    )
    await catalog.save()
    await Duty.insert(
        *[
            Duty(tenant=tenant.id, catalog=catalog.id, position=position, sort_order=i, text=text)
            for position, texts in DEFAULT_DUTIES.items()
            for i, text in enumerate(texts)
        ]
    )
    await NoticeTemplate.insert(
        *[
            NoticeTemplate(tenant=tenant.id, position=position, version=1, title=title, body=body)
            for position, (title, body) in DEFAULT_TEMPLATES.items()
        ]
    )


register_provisioner(provision)


# ---------------------------------------------------------------- catalog


def _catalog_public(row: dict) -> dict:
    return public(row, "year", "version", "status", "note", "created_at", "published_at")


async def current_catalog(tenant: TenantRef, year: int | None = None) -> dict:
    """The catalog in force: the latest published version for the year, else the latest earlier one."""
    year = year or units.today(tenant).year
    row = (
        await DutyCatalog.select()
        .where(DutyCatalog.tenant == tenant.id, DutyCatalog.status == "published", DutyCatalog.year <= year)
        .order_by(DutyCatalog.year, ascending=False)
        .order_by(DutyCatalog.version, ascending=False)
        .first()
    )
    if row is None:
        raise NotFound(_("No duty catalog has been published."))
    return row


async def list_catalogs(tenant: TenantRef) -> list[dict]:
    rows = (
        await DutyCatalog.select()
        .where(DutyCatalog.tenant == tenant.id)
        .order_by(DutyCatalog.year, ascending=False)
        .order_by(DutyCatalog.version, ascending=False)
    )
    return [_catalog_public(r) for r in rows]


async def _duties_of(tenant: TenantRef, catalog_pk: int) -> list[dict]:
    return (
        await Duty.select()
        .where(Duty.tenant == tenant.id, Duty.catalog == catalog_pk)
        .order_by(Duty.position)
        .order_by(Duty.sort_order)
        .order_by(Duty.id)
    )


async def catalog_detail(tenant: TenantRef, catalog_id: Any) -> dict:
    row = await get_owned(DutyCatalog, tenant, catalog_id)
    duties = await _duties_of(tenant, row["id"])
    sections = {
        position: [public(d, "text", "sort_order") for d in duties if d["position"] == position]
        for position in DUTY_SECTIONS
    }
    current = await current_catalog(tenant)
    return {**_catalog_public(row), "sections": sections, "current": current["id"] == row["id"]}


async def create_draft(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict:
    """A new draft version for a year, starting from the catalog now in force."""
    check = Checker(data, LABELS)
    year = check.integer("year", default=units.today(tenant).year, minimum=2000, maximum=2100)
    note = check.text("note", max_len=500)
    check.done()
    if await DutyCatalog.exists().where(DutyCatalog.tenant == tenant.id, DutyCatalog.status == "draft"):
        raise Conflict(_("A draft catalog already exists; publish or discard it first."))
    base = await current_catalog(tenant, year)
    latest = (
        await DutyCatalog.select(Max(DutyCatalog.version, alias="v"))
        .where(DutyCatalog.tenant == tenant.id, DutyCatalog.year == year)
        .first()
    )
    async with db.atomic():
        draft = DutyCatalog(
            tenant=tenant.id,
            year=year,
            version=(latest["v"] or 0) + 1,
            status="draft",
            note=note,
        )
        await draft.save()
        duties = await _duties_of(tenant, base["id"])
        if duties:
            await Duty.insert(
                *[
                    Duty(
                        tenant=tenant.id,
                        catalog=draft.id,
                        position=d["position"],
                        sort_order=d["sort_order"],
                        text=d["text"],
                    )
                    for d in duties
                ]
            )
        await audit.record(
            tenant.id, actor, "catalog.draft", "catalog", draft.uuid, detail={"year": year, "version": draft.version}
        )
    return await catalog_detail(tenant, draft.uuid)


async def _draft(tenant: TenantRef, catalog_id: Any) -> dict:
    row = await get_owned(DutyCatalog, tenant, catalog_id)
    if row["status"] != "draft":
        raise Conflict(_("A published catalog is never changed; create a new draft version instead."))
    return row


def _check_duty(check: Checker, partial: bool) -> dict:
    return check.fields(
        {
            "position": lambda: check.choice("position", DUTY_SECTIONS),
            "text": lambda: check.text("text", required=True, max_len=1000),
            "sort_order": lambda: check.integer("sort_order", minimum=0, maximum=10000),
        },
        partial=partial,
    )


async def add_duty(tenant: TenantRef, actor: Actor, catalog_id: Any, data: dict[str, Any]) -> dict:
    catalog = await _draft(tenant, catalog_id)
    check = Checker(data, LABELS)
    values = _check_duty(check, partial=False)
    check.done()
    if not check.present("sort_order"):  # a new duty goes last in its section
        last = (
            await Duty.select(Max(Duty.sort_order, alias="n"))
            .where(Duty.tenant == tenant.id, Duty.catalog == catalog["id"], Duty.position == values["position"])
            .first()
        )
        values["sort_order"] = (last["n"] or 0) + 1 if last and last["n"] is not None else 0
    async with db.atomic():
        duty = Duty(tenant=tenant.id, catalog=catalog["id"], **values)
        await duty.save()
        await audit.record(tenant.id, actor, "catalog.duty_add", "duty", duty.uuid)
    return await catalog_detail(tenant, catalog["uuid"])


async def _duty_in_draft(tenant: TenantRef, duty_id: Any) -> tuple[dict, dict]:
    duty = await get_owned(Duty, tenant, duty_id)
    catalog = await DutyCatalog.select().where(DutyCatalog.id == duty["catalog"]).first()
    return duty, await _draft(tenant, catalog["uuid"])


async def update_duty(tenant: TenantRef, actor: Actor, duty_id: Any, data: dict[str, Any]) -> dict:
    duty, catalog = await _duty_in_draft(tenant, duty_id)
    check = Checker(data, LABELS)
    check.changes(("position", "text", "sort_order"))
    values = _check_duty(check, partial=True)
    check.done()
    async with db.atomic():
        await Duty.update(values).where(Duty.id == duty["id"])
        await audit.record(tenant.id, actor, "catalog.duty_update", "duty", duty["uuid"])
    return await catalog_detail(tenant, catalog["uuid"])


async def delete_duty(tenant: TenantRef, actor: Actor, duty_id: Any) -> dict:
    duty, catalog = await _duty_in_draft(tenant, duty_id)
    async with db.atomic():
        await Duty.delete().where(Duty.id == duty["id"])
        await audit.record(tenant.id, actor, "catalog.duty_delete", "duty", duty["uuid"])
    return await catalog_detail(tenant, catalog["uuid"])


async def publish(tenant: TenantRef, actor: Actor, catalog_id: Any) -> dict:
    catalog = await _draft(tenant, catalog_id)
    if not await Duty.exists().where(Duty.tenant == tenant.id, Duty.catalog == catalog["id"]):
        raise ValidationFailed({"catalog": _("An empty catalog cannot be published.")})
    async with db.atomic():
        await DutyCatalog.update({DutyCatalog.status: "published", DutyCatalog.published_at: datetime.now(UTC)}).where(
            DutyCatalog.id == catalog["id"]
        )
        detail = pick(catalog, "year", "version")
        await audit.record(tenant.id, actor, "catalog.publish", "catalog", catalog["uuid"], detail=detail)
    return await catalog_detail(tenant, catalog["uuid"])


async def discard_draft(tenant: TenantRef, actor: Actor, catalog_id: Any) -> None:
    catalog = await _draft(tenant, catalog_id)
    async with db.atomic():
        await DutyCatalog.delete().where(DutyCatalog.id == catalog["id"])
        await audit.record(tenant.id, actor, "catalog.discard", "catalog", catalog["uuid"])


# ---------------------------------------------------------------- individual assignments


async def assign(tenant: TenantRef, actor: Actor, person_id: Any, data: dict[str, Any]) -> dict:
    """A duty written for one of the person's current leader posts."""
    person = await units.person_detail(tenant, actor, person_id)
    check = Checker(data, LABELS)
    post_uuid = check.uuid("post_id", required=True)
    text = check.text("text", required=True, max_len=1000)
    posts = [p for p in person["current_posts"] if p["position"] in units.LEADER_POSITIONS]
    post = next((p for p in posts if p["id"] == str(post_uuid)), None)
    if post_uuid and post is None:
        check.fail("post_id", _("Duties are assigned to a current leadership post."))
    if post is not None:
        try:
            post_pk = await units.post_pk(tenant, actor, post["id"])
        except NotFound:
            check.fail("post_id", _("This post is outside your scope."))
    check.done()
    async with db.atomic():
        row = DutyAssignment(tenant=tenant.id, post=post_pk, text=text)
        await row.save()
        await audit.record(tenant.id, actor, "duty.assign", "person", person_id, detail={"post": post["id"]})
    return {"id": str(row.uuid), "text": text, "post_id": post["id"]}


async def unassign(tenant: TenantRef, actor: Actor, assignment_id: Any) -> str:
    row = await get_owned(DutyAssignment, tenant, assignment_id)
    person_uuid = await units.person_of_post(tenant, actor, row["post"])
    if row["removed_at"] is not None:
        raise Conflict(_("This duty was already removed."))
    async with db.atomic():
        await DutyAssignment.update({DutyAssignment.removed_at: datetime.now(UTC)}).where(
            DutyAssignment.id == row["id"]
        )
        await audit.record(tenant.id, actor, "duty.unassign", "person", person_uuid)
    return person_uuid


async def assignments_by_post(tenant: TenantRef, post_pks: list[int]) -> dict[int, list[dict]]:
    return await _assignments(tenant, DutyAssignment.post, post_pks, int)


async def assignments_of(tenant: TenantRef, post_ids: list[str]) -> dict[str, list[dict]]:
    """Individual duties by post public id (for a person's page)."""
    return await _assignments(tenant, DutyAssignment.post.uuid, post_ids, str)


async def _assignments(tenant: TenantRef, post_key, keys: list, as_key: Callable[[Any], Any]) -> dict[Any, list[dict]]:
    """The duties in force assigned to these posts, oldest first, by post: by `post_key`
    (its row id or public id), each key as `as_key` makes it."""
    out: dict[Any, list[dict]] = {key: [] for key in keys}
    if not keys:
        return out
    rows = (
        await DutyAssignment.select(DutyAssignment.uuid, DutyAssignment.text, post_key.as_alias("post_key"))
        .where(DutyAssignment.tenant == tenant.id, post_key.is_in(keys), DutyAssignment.removed_at.is_null())
        .order_by(DutyAssignment.id)
    )
    for r in rows:
        out[as_key(r["post_key"])].append(public(r, "text"))
    return out


def duties_for_post(position: str, catalog_duties: list[dict], assigned: list[dict]) -> dict[str, list[str]]:
    """The duties one leadership post carries: its position's, every leader's, its own."""
    return {
        "duties": [d["text"] for d in catalog_duties if d["position"] == position],
        "assigned": [a["text"] for a in assigned],
        "personal": [d["text"] for d in catalog_duties if d["position"] == "every_leader"],
    }


async def catalog_duties(tenant: TenantRef, catalog_pk: int) -> list[dict]:
    return await _duties_of(tenant, catalog_pk)


# ---------------------------------------------------------------- notice templates


async def current_templates(tenant: TenantRef) -> dict[str, dict]:
    """The latest version of each position's notice template."""
    rows = (
        await NoticeTemplate.select()
        .where(NoticeTemplate.tenant == tenant.id)
        .order_by(NoticeTemplate.position)
        .order_by(NoticeTemplate.version)
    )
    return {r["position"]: r for r in rows}  # the last (highest) version wins


async def render_notices(body: str, contexts: list[dict[str, Any]]) -> list[str]:
    """The template rendered for each leader's context, in a worker with time and size
    limits; safe.TemplateRefused with the reason otherwise."""
    return await safe.render_many(body, [{"numerals": NUMERALS, **c} for c in contexts], **_SANDBOX)


SAMPLE_CONTEXT = {
    "person_name": "张三",
    "unit_name": "示例单位",
    "position_title": "主要负责人",
    "tenant_name": "示例市保密局",
    "year": 2026,
    "duties": ["岗位职责示例"],
    "assigned": ["分管领域职责示例"],
    "personal": ["个人保密守则示例"],
}


async def save_template(tenant: TenantRef, actor: Actor, position: str, data: dict[str, Any]) -> dict:
    """A new version of a position's template; issued notices keep the text they had."""
    if position not in POSITION_TITLES:
        raise NotFound()
    check = Checker(data, LABELS)
    title = check.text("title", required=True, max_len=200)
    body = check.text("body", required=True, max_len=20000)
    if body:
        problem = await safe.check_template(body, {"numerals": NUMERALS, **SAMPLE_CONTEXT}, **_SANDBOX)
        if problem:
            check.fail("body", problem)
    check.done()
    current = (await current_templates(tenant)).get(position)
    async with db.atomic():
        row = NoticeTemplate(
            tenant=tenant.id,
            position=position,
            version=(current["version"] if current else 0) + 1,
            title=title,
            body=body,
        )
        await row.save()
        saved = {"id": str(row.uuid), "position": position, "version": row.version, "title": title, "body": body}
        await audit.record(
            tenant.id, actor, "template.save", "template", row.uuid, detail=pick(saved, "position", "version")
        )
    return saved
