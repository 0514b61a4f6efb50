"""The declassification register: an item's fields and term, derived items, who sees and
changes what, the list's filters, the export and the pages."""

from __future__ import annotations

import asyncio
import io
import itertools
from datetime import date, timedelta

import openpyxl
import pytest

from server import db
from server.audit.tables import AuditEvent
from server.core.errors import Conflict, ValidationFailed
from server.core.validation import Checker
from server.declassification import register, terms
from server.declassification.tables import ClassifiedItem, ReviewTask
from server.units import service as units
from tests.conftest import SYSTEM, csrf, login
from tests.factories import Api, make_world
from tests.helpers import post_form

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


NUMBERS = itertools.count(100)


async def create(world, actor=None, **over) -> dict:
    """An item (of its own reference when `fresh`: a reference names one item of its unit)."""
    actor = actor or await _actor(world, "office")
    if over.pop("fresh", False):
        over.setdefault("reference", f"甲财〔2020〕{next(NUMBERS)}号")
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
        assert errors[field] == register.title_refused()


def test_partial_check_reads_only_what_is_given():
    check = Checker({"handler": "王科员"}, register.LABELS)
    assert register.check_item(check, partial=True) == {"handler": "王科员"} and not check.errors
    check = Checker({"term_kind": "condition", "term_condition": "验收后"}, register.LABELS)
    values = register.check_item(check, partial=True)
    assert not check.errors and values["term_condition"] == "验收后" and values["term_ends_on"] is None
    check = Checker({"public_title": "秘密事项"}, register.LABELS)
    register.check_item(check, partial=True)
    assert set(check.errors) == {"public_title"}


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
        world, origin="derived", source_item_id=source["id"], level="secret", term_kind="", term_years="", fresh=True
    )
    assert own_level["level"] == "secret" and own_level["term_ends_on"] == date(2040, 5, 9)
    # a condition is copied as it is
    cond = await create(world, term_kind="condition", term_condition="工程竣工", term_years="", fresh=True)
    copy = await create(
        world, origin="derived", source_item_id=cond["id"], level="", term_kind="", term_years="", fresh=True
    )
    assert copy["term_kind"] == "condition" and copy["term_condition"] == "工程竣工" and copy["term_ends_on"] is None
    with pytest.raises(ValidationFailed) as refused:
        await create(world, source_item_id=source["id"], fresh=True)  # an original item has no source
    assert "source_item_id" in refused.value.errors


# ---------------------------------------------------------------- API


def body(world, **over) -> dict:
    return {**item_input(world), **over}


async def test_api_create_read_patch_and_audit(client):
    world = await make_world()
    api = await Api.of(client, world, "office", "officer")
    made = await api.post(
        "officer", "/classified-items", body(world, responsible_person_id=world.people["a_lead"]["id"])
    )
    assert made.status_code == 201, made.text
    item = made.json()
    assert item["custodian_unit_id"] == world.units["a_unit"]["id"] and item["unit_name"] == "甲区财政局"
    assert item["term_ends_on"] == "2030-02-28" and item["status"] == "active" and item["open_tasks"] == 0
    assert item["responsible_name"] == "李四" and item["may_edit"] is True
    got = await api.get("office", f"/classified-items/{item['id']}")
    assert got.status_code == 200 and got.json()["reference"] == BASE["reference"]
    # a change: only the fields given; the term's end recomputed
    changed = await client.patch(
        f"{api.base}/classified-items/{item['id']}",
        json={"term_years": 5, "handler": "王科员"},
        headers=api.headers("officer"),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["term_ends_on"] == "2025-02-28" and changed.json()["handler"] == "王科员"
    assert changed.json()["public_title"] == BASE["public_title"]
    refused = await client.patch(
        f"{api.base}/classified-items/{item['id']}", json={"term_years": 25}, headers=api.headers("officer")
    )
    assert refused.status_code == 422 and "term_years" in {e["field"] for e in refused.json()["errors"]}
    empty = await client.patch(f"{api.base}/classified-items/{item['id']}", json={}, headers=api.headers("office"))
    assert empty.status_code == 422
    async with db.transaction(world.tenant.id):
        events = await AuditEvent.select(AuditEvent.action, AuditEvent.detail).where(
            AuditEvent.tenant == world.tenant.id, AuditEvent.object_id == item["id"]
        )
    actions = [e["action"] for e in events]
    assert actions == ["declass.item_create", "declass.item_update"]
    assert "term_years" in str(events[1]["detail"]) and "term_ends_on" in str(events[1]["detail"])
    # a declassified item is no longer changed here
    async with db.transaction(world.tenant.id):
        await ClassifiedItem.update({ClassifiedItem.status: "declassified"}).where(ClassifiedItem.uuid == item["id"])
    late = await client.patch(
        f"{api.base}/classified-items/{item['id']}", json={"handler": "x"}, headers=api.headers("office")
    )
    assert late.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"level": "top"}, "level"),
        ({"term_years": 21}, "term_years"),
        ({"public_title": "机密文件：某某方案"}, "public_title"),
        ({"title_is_secret": True}, "public_title"),
        ({"classified_on": "2999-01-01"}, "classified_on"),
    ],
)
async def test_api_refusals_name_the_field(client, change, field):
    world = await make_world()
    api = await Api.of(client, world, "office")
    refused = await api.post("office", "/classified-items", body(world, **change))
    assert refused.status_code == 422
    assert field in {e["field"] for e in refused.json()["errors"]}


async def test_scope_of_readers_and_writers(client):
    world = await make_world()
    other = await make_world()
    keys = ("office", "district", "officer", "leader", "inspector", "assessor", *THREE)
    api = await Api.of(client, world, *keys)
    a_item = await create(world)
    b_item = await create(world, reference="乙-1", custodian_unit_id=world.units["b_unit"]["id"])
    city_item = await create(world, reference="市-1", custodian_unit_id=world.units["city"]["id"])
    foreign = await create(other)

    async def seen(who: str) -> set[str]:
        listed = await api.get(who, "/classified-items")
        assert listed.status_code == 200, (who, listed.text)
        return {i["reference"] for i in listed.json()["items"]}

    assert await seen("office") == {BASE["reference"], "乙-1", "市-1"}
    assert await seen("district") == {BASE["reference"]}  # district A
    assert await seen("officer") == {BASE["reference"]}
    assert await seen("leader") == {BASE["reference"]}  # a_lead leads a_unit
    for who in ("inspector", "assessor", *THREE):
        assert (await api.get(who, "/classified-items")).status_code == 403, who
        assert (await api.get(who, f"/classified-items/{a_item['id']}")).status_code == 403, who
        assert (await api.post(who, "/classified-items", body(world))).status_code == 403, who
    # the officer of unit A neither sees nor changes unit B's item
    assert (await api.get("officer", f"/classified-items/{b_item['id']}")).status_code == 404
    patched = await client.patch(
        f"{api.base}/classified-items/{b_item['id']}", json={"handler": "x"}, headers=api.headers("officer")
    )
    assert patched.status_code == 404
    assert (await api.get("district", f"/classified-items/{city_item['id']}")).status_code == 404
    assert (await api.get("leader", f"/classified-items/{a_item['id']}")).status_code == 200
    # readers who do not register: 403 on writes
    for who in ("district", "leader"):
        assert (await api.post(who, "/classified-items", body(world))).status_code == 403
        no = await client.patch(
            f"{api.base}/classified-items/{a_item['id']}", json={"handler": "x"}, headers=api.headers(who)
        )
        assert no.status_code == 403
    # the officer registers only in their subtree
    outside = await api.post("officer", "/classified-items", body(world, custodian_unit_id=world.units["b_unit"]["id"]))
    assert outside.status_code == 422 and "custodian_unit_id" in outside.text
    # another tenant's item is nowhere
    assert (await api.get("office", f"/classified-items/{foreign['id']}")).status_code == 404
    assert (
        await client.patch(
            f"{api.base}/classified-items/{foreign['id']}", json={"handler": "x"}, headers=api.headers("office")
        )
    ).status_code == 404
    source = await api.post("office", "/classified-items", body(world, origin="derived", source_item_id=foreign["id"]))
    assert source.status_code == 422 and "source_item_id" in source.text


THREE = ("system_admin", "security_admin", "audit_admin")


async def test_list_filters_and_open_tasks(client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    today = units.today(world.tenant)
    soon = await create(
        world, reference="近-1", term_kind="date", term_until=(today + timedelta(days=30)).isoformat(), term_years=""
    )
    await create(world, reference="远-1", level="confidential", term_years=10, classified_on=today.isoformat())
    await create(
        world,
        reference="派-1",
        origin="derived",
        originating_body="省财政厅",
        custodian_unit_id=world.units["b_unit"]["id"],
        classified_on="2019-07-01",
        term_kind="",
        term_years="",
    )
    async with db.transaction(world.tenant.id):
        row = (
            await ClassifiedItem.select(ClassifiedItem.id, ClassifiedItem.custodian_unit)
            .where(ClassifiedItem.uuid == soon["id"])
            .first()
        )
        await ReviewTask.insert(
            ReviewTask(tenant=world.tenant.id, item=row["id"], unit=row["custodian_unit"], kind="expiry")
        )

    async def refs(**params) -> list[str]:
        listed = await api.get("office", "/classified-items", **params)
        assert listed.status_code == 200, listed.text
        return [i["reference"] for i in listed.json()["items"]]

    assert await refs(due_within=90) == ["近-1"]
    assert set(await refs(level="confidential")) == {"远-1"}
    assert await refs(origin="derived") == ["派-1"]
    assert await refs(unit=world.units["district_b"]["id"]) == ["派-1"]  # the unit's subtree
    assert await refs(year=2019) == ["派-1"]
    assert await refs(q="近") == ["近-1"]
    assert await refs(status="declassified") == []
    listed = (await api.get("office", "/classified-items", due_within=90)).json()
    assert listed["items"][0]["open_tasks"] == 1 and listed["items"][0]["days_left"] == 30
    assert (await api.get("office", f"/classified-items/{soon['id']}")).json()["open_tasks"] == 1
    derived = (await api.get("office", "/classified-items", origin="derived")).json()["items"][0]
    assert derived["term_defaulted"] is True and derived["term_years"] == 20
    bad = await api.get("office", "/classified-items", level="nope", due_within="x")
    assert bad.status_code == 422 and {"level", "due_within"} <= {e["field"] for e in bad.json()["errors"]}
    paged = (await api.get("office", "/classified-items", per_page=2)).json()
    assert paged["total"] == 3 and paged["pages"] == 2 and len(paged["items"]) == 2


# ---------------------------------------------------------------- pages and export


async def test_export_opens_with_the_rows(client):
    world = await make_world()
    await create(world)
    await create(world, reference="乙-1", custodian_unit_id=world.units["b_unit"]["id"])
    await login(client, world.slug, "officer")
    response = await client.get(f"/t/{world.slug}/classified-items/export.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == BASE["reference"]  # the officer's unit only
    assert "甲区财政局" in rows[1]


async def test_pages_render_and_forms_work(client, make_client):
    world = await make_world()
    item = await create(world)
    await login(client, world.slug, "officer")
    t = f"/t/{world.slug}"
    for path in ("/classified-items", "/classified-items?due_within=90", "/classified-items/new"):
        page = await client.get(t + path)
        assert page.status_code == 200, (path, page.text[:500])
    detail = await client.get(f"{t}/classified-items/{item['id']}")
    assert detail.status_code == 200 and BASE["public_title"] in detail.text
    assert (await client.get(f"{t}/classified-items/{item['id']}/edit")).status_code == 200
    token = await csrf(client, f"{t}/classified-items/new")
    fields = {k: str(v) for k, v in BASE.items()}
    refused = await post_form(client, f"{t}/classified-items", token, **{**fields, "public_title": "秘密★某事"})
    assert refused.status_code == 422 and 'id="public_title-error"' in refused.text
    made = await post_form(
        client,
        f"{t}/classified-items",
        token,
        **{
            **fields,
            "reference": "甲-派-1",
            "origin": "derived",
            "source_item_id": "",
            "source_reference": BASE["reference"],
            "level": "",
            "term_kind": "",
            "term_years": "",
            "custodian_unit_id": world.units["a_unit"]["id"],
        },
    )
    assert made.status_code == 303, made.text[:2000]
    derived = await client.get(made.headers["location"])
    assert derived.status_code == 200 and BASE["reference"] in derived.text
    edited = await post_form(
        client,
        f"{t}/classified-items/{item['id']}/edit",
        token,
        **{**fields, "handler": "王科员", "custodian_unit_id": world.units["a_unit"]["id"], "origin": "original"},
    )
    assert edited.status_code == 303, edited.text[:2000]
    office = await make_client()
    await login(office, world.slug, "office")
    for path in ("/classified-items", f"/classified-items/{item['id']}", "/classified-items/new"):
        assert (await office.get(t + path)).status_code == 200, path
    leader = await make_client()
    await login(leader, world.slug, "leader")
    assert (await leader.get(t + "/classified-items")).status_code == 200
    assert (await leader.get(t + "/classified-items/new")).status_code == 403


async def test_a_change_loses_to_a_decision_made_meanwhile(client, monkeypatch):
    """The item is read as active, then declassified before the change is written: the
    change's conditional UPDATE finds no active item and is refused, writing nothing."""
    world = await make_world()
    item = await create(world)
    office = await _actor(world, "office")
    read = register.access.item

    async def read_then_declassified(tenant, actor, item_id, **kwargs):
        row = await read(tenant, actor, item_id, **kwargs)
        await ClassifiedItem.update({ClassifiedItem.status: "declassified"}).where(ClassifiedItem.id == row["id"])
        return row

    monkeypatch.setattr(register.access, "item", read_then_declassified)
    with pytest.raises(Conflict):
        async with db.transaction(world.tenant.id):
            await register.update_item(world.tenant, office, item["id"], {"handler": "王科员"})
    monkeypatch.setattr(register.access, "item", read)
    async with db.transaction(world.tenant.id):
        row = await ClassifiedItem.select(ClassifiedItem.handler).where(ClassifiedItem.uuid == item["id"]).first()
    assert row["handler"] == ""


async def test_two_changes_at_once_both_land(client, make_client):
    world = await make_world()
    item = await create(world)
    api = await Api.of(client, world, "office", "officer")
    other = Api(await make_client(), world, api.tokens)
    url = f"{api.base}/classified-items/{item['id']}"
    first, second = await asyncio.gather(
        client.patch(url, json={"handler": "甲"}, headers=api.headers("office")),
        other.client.patch(url, json={"knowledge_scope": "乙"}, headers=other.headers("officer")),
    )
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    final = (await api.get("office", f"/classified-items/{item['id']}")).json()
    assert final["handler"] == "甲" and final["knowledge_scope"] == "乙"  # each wrote only its own field


async def test_a_reference_names_one_item_of_its_unit(client, make_client):
    """The same reference twice for one custodian unit is refused naming the field (the
    same reference in another unit is another item); two registrations at once of the same
    reference leave one item, the other refused."""
    world = await make_world()
    api = await Api.of(client, world, "office")
    assert (await api.post("office", "/classified-items", body(world))).status_code == 201
    again = await api.post("office", "/classified-items", body(world, public_title="另一份通知"))
    assert again.status_code == 422 and "reference" in again.text
    elsewhere = await api.post(
        "office", "/classified-items", body(world, custodian_unit_id=world.units["b_unit"]["id"])
    )
    assert elsewhere.status_code == 201, elsewhere.text
    # moving the other unit's item under the first unit would make a second item of that reference
    moved = await client.patch(
        f"{api.base}/classified-items/{elsewhere.json()['id']}",
        json={"custodian_unit_id": world.units["a_unit"]["id"]},
        headers=api.headers("office"),
    )
    assert moved.status_code in (409, 422) and "reference" in moved.text
    other = Api(await make_client(), world, api.tokens)
    race = body(world, reference="甲财〔2021〕1号")
    answers = await asyncio.gather(
        api.post("office", "/classified-items", race), other.post("office", "/classified-items", race)
    )
    assert sorted(a.status_code for a in answers)[0] == 201
    assert sorted(a.status_code for a in answers)[1] in (409, 422)
    async with db.transaction(world.tenant.id):
        made = await ClassifiedItem.count().where(
            ClassifiedItem.tenant == world.tenant.id, ClassifiedItem.reference == race["reference"]
        )
    assert made == 1
