"""Declassification publication: the office's decision per declassified item, the public
page, its JSON and Atom feed (no sign-in; only published entries, only whitelisted fields),
withdrawal."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from server import db
from server.audit.tables import AuditEvent
from server.core.errors import Conflict
from server.declassification import publication
from server.declassification.tables import ClassifiedItem, Publication
from server.units import service as units
from tests.conftest import SYSTEM
from tests.factories import make_world


async def add_item(world, unit_key: str = "a_unit", **fields) -> dict:
    """An item written straight into the register (the register's service is another's),
    with the keys publish_item takes."""
    async with db.transaction(world.tenant.id):
        unit_pk = await units.unit_pk(world.tenant, SYSTEM, world.units[unit_key]["id"])
        values = {
            "uuid": uuid4(),
            "tenant": world.tenant.id,
            "reference": "REF-" + uuid4().hex[:8],
            "public_title": "A public title",
            "level": "secret",
            "classified_on": date(2010, 1, 1),
            "term_kind": "years",
            "term_years": 10,
            "term_ends_on": date(2020, 1, 1),
            "custodian_unit": unit_pk,
            "status": "declassified",
            "declassified_on": date(2024, 3, 1),
            **fields,
        }
        item = ClassifiedItem(**values)
        await item.save()
        return {**values, "id": item.id, "unit_name": world.units[unit_key]["name"]}


async def publish(world, item, what="The whole item", on=date(2024, 3, 1)) -> dict:
    async with db.transaction(world.tenant.id):
        return await publication.publish_item(world.tenant, SYSTEM, item, what=what, declassified_on=on)


async def audit_actions(world, action: str) -> list[dict]:
    async with db.transaction(world.tenant.id):
        return await AuditEvent.select().where(AuditEvent.tenant == world.tenant.id, AuditEvent.action == action)


async def test_publish_item_once(env):
    world = await make_world()
    item = await add_item(world)
    entry = await publish(world, item, what="Part two")
    assert entry["reference"] == item["reference"] and entry["what"] == "Part two"
    assert entry["unit"] == world.units["a_unit"]["name"] and not entry["withdrawn"]
    with pytest.raises(Conflict):
        await publish(world, item)
    async with db.transaction(world.tenant.id):
        assert await Publication.count().where(Publication.tenant == world.tenant.id) == 1
        row = await ClassifiedItem.select(ClassifiedItem.publication).where(ClassifiedItem.id == item["id"]).first()
    assert row["publication"] == "published"
    events = await audit_actions(world, "declass.publish")
    assert [e["object_id"] for e in events] == [entry["id"]]


async def test_an_item_still_classified_is_not_published(env):
    world = await make_world()
    item = await add_item(world, status="active", declassified_on=None)
    with pytest.raises(Conflict):
        await publish(world, item)
