"""The declassification register: an item's fields and term, derived items, who sees and
changes what, the list's filters, the export and the pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server import db
from server.audit.tables import AuditEvent
from server.core.errors import ValidationFailed
from server.core.validation import Checker
from server.declassification import register, terms
from server.declassification.tables import ClassifiedItem
from server.units import service as units
from tests.conftest import SYSTEM
from tests.factories import make_world

BASE = {
    "reference": "甲财〔2020〕12号",
    "public_title": "关于预算编制的通知",
    "level": "secret",
    "classified_on": "2020-03-01",
    "term_kind": "years",
    "term_years": 10,
    "knowledge_scope": "局领导、预算科",
    "basis": "财政工作国家秘密事项范围 第三条",
}


def checked(data: dict, today: date = date(2026, 6, 1)) -> tuple[dict, dict]:
    check = Checker(data, register.LABELS)
    return register.check_item(check, today=today), check.errors


def item_input(world, **over) -> dict:
    return {**BASE, "custodian_unit_id": world.units["a_unit"]["id"], **over}


async def create(world, actor=None, **over) -> dict:
    actor = actor or await _actor(world, "office")
    async with db.transaction(world.tenant.id):
        return await register.create_item(world.tenant, actor, item_input(world, **over))


# ---------------------------------------------------------------- terms


def test_term_arithmetic():
    assert terms.term_end(date(2020, 3, 1), "years", 10) == date(2030, 2, 28)
    # 29 February: the same day N years on is 28 February in a common year
    assert terms.term_end(date(2024, 2, 29), "years", 1) == date(2025, 2, 27)
    assert terms.term_end(date(2024, 2, 29), "years", 4) == date(2028, 2, 28)
    assert terms.term_end(date(2020, 1, 1), "date", until=date(2022, 6, 30)) == date(2022, 6, 30)
    assert terms.term_end(date(2020, 1, 1), "condition") is None
    values, errors = checked({**BASE, "classified_on": "2024-02-29", "term_years": 2})
    assert not errors and values["term_ends_on"] == date(2026, 2, 27) and values["term_defaulted"] is False
    values, errors = checked({**BASE, "term_kind": "date", "term_until": "2031-12-31"})
    assert not errors and values["term_ends_on"] == date(2031, 12, 31) and values["term_years"] is None
    values, errors = checked({**BASE, "term_kind": "condition", "term_condition": "项目验收后"})
    assert not errors and values["term_ends_on"] is None and values["term_condition"] == "项目验收后"


@pytest.mark.parametrize(("level", "years"), [("top_secret", 30), ("secret", 20), ("confidential", 10)])
def test_derived_without_term_defaults_by_level(level, years):
    data = {k: v for k, v in BASE.items() if not k.startswith("term_")}
    values, errors = checked({**data, "level": level, "origin": "derived", "originating_body": "省财政厅"})
    assert not errors
    assert values["term_kind"] == "years" and values["term_years"] == years and values["term_defaulted"] is True
    assert values["term_ends_on"] == terms.add_years(date(2020, 3, 1), years) - timedelta(days=1)
    # an original item marks its term
    _values, errors = checked({**data, "level": level})
    assert "term_kind" in errors


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"level": "restricted"}, "level"),
        ({"level": ""}, "level"),
        ({"term_years": 21}, "term_years"),  # over the ceiling of 机密 (20)
        ({"level": "confidential", "term_years": 11}, "term_years"),
        ({"term_years": 0}, "term_years"),
        ({"term_years": "x"}, "term_years"),
        ({"term_kind": "date", "term_until": "2019-01-01"}, "term_until"),
        ({"term_kind": "condition"}, "term_condition"),
        ({"classified_on": "2026-06-02"}, "classified_on"),  # the future
        ({"public_title": "绝密·关于某型号的研制方案"}, "public_title"),
        ({"public_title": "★ 某事项"}, "public_title"),
        ({"public_title": "长" * 101}, "public_title"),
        ({"title_is_secret": True}, "public_title"),
        ({"reference": ""}, "reference"),
        ({"reference": "x" * 101}, "reference"),
        ({"basis": ""}, "basis"),
        ({"origin": "derived"}, "source_item_id"),  # a derived item names its source
    ],
)
def test_check_item_names_the_field(change, field):
    _values, errors = checked({**BASE, **change})
    assert field in errors, errors
    if field == "public_title":
        assert "no secrets" in errors[field]


# ---------------------------------------------------------------- writing


async def test_resolve_and_insert_in_bulk_with_an_audit_event_each(client):
    world = await make_world()
    tenant = world.tenant
    rows = []
    async with db.transaction(tenant.id):
        for n in range(3):
            check = Checker(item_input(world, reference=f"甲-{n}"), register.LABELS)
            values = register.check_item(check, today=units.today(tenant))
            await register.resolve_refs(tenant, SYSTEM, check, values)
            check.done()
            rows.append(values)
        made = await register.insert_items(tenant, SYSTEM, rows)
    assert len(made) == 3 and all(r["id"] and r["uuid"] for r in made)
    async with db.transaction(tenant.id):
        stored = await ClassifiedItem.select().where(ClassifiedItem.tenant == tenant.id)
        events = await AuditEvent.select(AuditEvent.object_id).where(
            AuditEvent.tenant == tenant.id, AuditEvent.action == "declass.item_create"
        )
    assert {r["reference"] for r in stored} == {"甲-0", "甲-1", "甲-2"}
    assert all(r["term_ends_on"] == date(2030, 2, 28) and r["status"] == "active" for r in stored)
    assert {e["object_id"] for e in events} == {str(r["uuid"]) for r in made}


async def test_resolve_refs_refuses_what_the_actor_may_not_name(client):
    world = await make_world()
    other = await make_world()
    tenant = world.tenant
    officer = await _actor(world, "officer")
    b_item = await create(world, custodian_unit_id=world.units["b_unit"]["id"])
    async with db.transaction(tenant.id):
        check = Checker(
            item_input(
                world,
                custodian_unit_id=world.units["b_unit"]["id"],  # outside the officer's subtree
                origin="derived",
                source_item_id=b_item["id"],  # an item the officer does not see
                responsible_person_id=other.people["a_lead"]["id"],  # another tenant's person
                originating_unit_id=other.units["city"]["id"],
            ),
            register.LABELS,
        )
        values = register.check_item(check, today=units.today(tenant))
        await register.resolve_refs(tenant, officer, check, values)
    assert set(check.errors) >= {
        "custodian_unit_id",
        "source_item_id",
        "responsible_person_id",
        "originating_unit_id",
    }
    # any unit of the tenant may originate; the person of the tenant is found
    async with db.transaction(tenant.id):
        check = Checker(
            item_input(
                world,
                origin="derived",
                originating_unit_id=world.units["city"]["id"],
                responsible_person_id=world.people["a_principal"]["id"],
            ),
            register.LABELS,
        )
        values = register.check_item(check, today=units.today(tenant))
        await register.resolve_refs(tenant, officer, check, values)
    assert not check.errors
    assert values["originating_unit"] and values["responsible_person"]


async def _actor(world, key: str):
    from server.accounts import service as accounts

    async with db.transaction(world.tenant.id):
        row = await accounts.user_by_username(world.tenant, world.users[key]["username"])
        return accounts.actor_for(world.tenant, row)


async def test_derived_item_copies_its_sources_level_and_term(client):
    world = await make_world()
    source = await create(world, level="top_secret", term_years=25, classified_on="2015-05-10")
    derived = await create(
        world,
        reference="甲财〔2021〕3号",
        origin="derived",
        source_item_id=source["id"],
        level="",
        term_kind="",
        term_years="",
        classified_on="2021-01-04",
    )
    assert derived["level"] == "top_secret" and derived["source_reference"] == source["reference"]
    # it ends when its source does
    assert derived["term_ends_on"] == source["term_ends_on"] == date(2040, 5, 9)
    assert derived["term_kind"] == "date" and derived["term_defaulted"] is False
    assert derived["originating_unit_id"] == world.units["a_unit"]["id"]  # the source's custodian
    # a level given is kept; with no term the source's is still taken
    own_level = await create(
        world, origin="derived", source_item_id=source["id"], level="secret", term_kind="", term_years=""
    )
    assert own_level["level"] == "secret" and own_level["term_ends_on"] == date(2040, 5, 9)
    # a condition is copied as it is
    cond = await create(world, term_kind="condition", term_condition="工程竣工", term_years="")
    copy = await create(world, origin="derived", source_item_id=cond["id"], level="", term_kind="", term_years="")
    assert copy["term_kind"] == "condition" and copy["term_condition"] == "工程竣工" and copy["term_ends_on"] is None
    with pytest.raises(ValidationFailed) as refused:
        await create(world, source_item_id=source["id"])  # an original item has no source
    assert "source_item_id" in refused.value.errors
