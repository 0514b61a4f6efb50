"""Who sees an item of the register: the office everything, a district admin their
district's units, a unit's officer their unit's items, a leader the items of the units
they lead today. An originating unit sees the consultations put to it (consultations.py),
never the custodian's other items; the public only what was published (publication.py)."""

from __future__ import annotations

from typing import Any

from server import roles
from server.actor import Actor
from server.core.errors import Forbidden, NotFound
from server.core.rows import joined
from server.declassification.tables import ClassifiedItem
from server.units import service as units
from tenants.service import TenantRef, get_owned

OFFICE = "office"  # the bureau's office: everything, and the bureau's approvals
DISTRICT = "district"  # a district admin over their district's units: reads
UNIT = "unit"  # the custodian unit's officer: registers, proposes, asks originators
LEADER = "leader"  # a leader of the custodian unit: reads, approves
ALL_VIEWS = (OFFICE, DISTRICT, UNIT, LEADER)
READERS = {roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.UNIT_OFFICER, roles.LEADER}

# what a list of items reads of each, before its own columns
LIST_COLUMNS = (
    ClassifiedItem.id,
    ClassifiedItem.uuid,
    ClassifiedItem.reference,
    ClassifiedItem.public_title,
    ClassifiedItem.level,
    ClassifiedItem.status,
)
ITEM_COLUMNS = (
    *ClassifiedItem.all_columns(),
    *joined(ClassifiedItem.custodian_unit, "uuid", "name", "path", prefix="unit_"),
    *joined(ClassifiedItem.source_item, "uuid", "reference", prefix="source_"),
    *joined(ClassifiedItem.originating_unit, "uuid", "name"),
    *joined(ClassifiedItem.responsible_person, "uuid", "name", prefix="responsible_"),
)


def in_scope(actor: Actor, path: str) -> bool:
    return actor.scope_path is not None and path.startswith(actor.scope_path)


async def led_units(tenant: TenantRef, actor: Actor) -> list[int]:
    """The units whose leadership posts the actor's own person holds today."""
    if not actor.person_id:
        return []
    posts = await units.posts_on(
        tenant, units.today(tenant), people=[actor.person_id], positions=units.LEADER_POSITIONS
    )
    return sorted({p["unit"] for p in posts})


async def scope_where(tenant: TenantRef, actor: Actor) -> list:
    """The actor's part of the register as filters on ClassifiedItem (a list's query)."""
    if actor.role == roles.OFFICE_ADMIN:
        return []
    if actor.role in (roles.DISTRICT_ADMIN, roles.UNIT_OFFICER) and actor.scope_path:
        return [ClassifiedItem.custodian_unit.path.like(actor.scope_path + "%")]
    if actor.role == roles.LEADER:
        return [ClassifiedItem.custodian_unit.is_in(await led_units(tenant, actor) or [0])]
    raise Forbidden()


async def view_of(tenant: TenantRef, actor: Actor, row: dict) -> str:
    """How the actor sees this item; NotFound when not at all."""
    if actor.role == roles.OFFICE_ADMIN:
        return OFFICE
    if actor.role == roles.DISTRICT_ADMIN and in_scope(actor, row["unit_path"]):
        return DISTRICT
    if actor.role == roles.UNIT_OFFICER and in_scope(actor, row["unit_path"]):
        return UNIT
    if actor.role == roles.LEADER and row["custodian_unit"] in await led_units(tenant, actor):
        return LEADER
    raise NotFound()


async def item_by_pk(tenant: TenantRef, actor: Actor, pk: int, *, allow: tuple[str, ...] = ALL_VIEWS) -> dict:
    row = (
        await ClassifiedItem.select(*ITEM_COLUMNS)
        .where(ClassifiedItem.tenant == tenant.id, ClassifiedItem.id == pk)
        .first()
    )
    if row is None:
        raise NotFound()
    row["view"] = await view_of(tenant, actor, row)
    if row["view"] not in allow:
        raise Forbidden()
    return row


async def item(tenant: TenantRef, actor: Actor, item_id: Any, *, allow: tuple[str, ...] = ALL_VIEWS) -> dict:
    """The item with its unit, source, originator and responsible person, and `view` (how
    the actor sees it); NotFound for whom it is invisible, Forbidden for a view not in `allow`."""
    owned = await get_owned(ClassifiedItem, tenant, item_id, ClassifiedItem.id)
    return await item_by_pk(tenant, actor, owned["id"], allow=allow)
