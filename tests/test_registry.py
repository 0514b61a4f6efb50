"""The unit tree and people: management, history, coverage flags, validation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server import db
from server.units import service as units
from server.units.tables import Person, Post, Unit
from tests.conftest import csrf, login
from tests.factories import make_person, make_unit, make_world, token_for
from tests.helpers import post_form


@pytest.fixture
async def api(client):
    """An office admin's API client (bearer token) on a fresh world."""
    world = await make_world()
    client.headers["Authorization"] = f"Bearer {await token_for(world, 'office')}"
    client.world = world
    return client


def base(world) -> str:
    return f"/api/v1/t/{world.slug}"


async def counts(world) -> tuple[int, int, int]:
    async with db.transaction(world.tenant.id):
        return (
            await Unit.count().where(Unit.tenant == world.tenant.id),
            await Person.count().where(Person.tenant == world.tenant.id),
            await Post.count().where(Post.tenant == world.tenant.id),
        )


async def test_unit_crud_through_the_api(api):
    w = api.world
    created = await api.post(f"{base(w)}/units", json={"name": "市财政局", "kind": "municipal", "code": "CZ"})
    assert created.status_code == 201
    unit = created.json()
    assert unit["name"] == "市财政局" and unit["gaps"] == ["no_principal", "no_secrecy_lead"]
    sub = await api.post(f"{base(w)}/units", json={"name": "国库处", "kind": "subunit", "parent_id": unit["id"]})
    assert sub.json()["ancestors"][0]["name"] == "市财政局"

    patched = await api.patch(f"{base(w)}/units/{unit['id']}", json={"name": "市财政局（新）"})
    assert patched.status_code == 200 and patched.json()["name"] == "市财政局（新）"
    assert patched.json()["children"][0]["name"] == "国库处"

    refused = await api.delete(f"{base(w)}/units/{unit['id']}")
    assert refused.status_code == 409 and "下属单位" in refused.json()["detail"]
    assert (await api.delete(f"{base(w)}/units/{sub.json()['id']}")).status_code == 204
    assert (await api.delete(f"{base(w)}/units/{unit['id']}")).status_code == 204
    assert (await api.get(f"{base(w)}/units/{unit['id']}")).status_code == 404


async def test_moving_a_unit_moves_its_subtree_and_the_district_scope_follows(api, make_client):
    w = api.world
    moved = await api.patch(
        f"{base(w)}/units/{w.units['a_unit']['id']}", json={"parent_id": w.units["district_b"]["id"]}
    )
    assert moved.status_code == 200
    assert [a["name"] for a in moved.json()["ancestors"]] == ["乙区"]
    cycle = await api.patch(
        f"{base(w)}/units/{w.units['district_b']['id']}", json={"parent_id": w.units["a_unit"]["id"]}
    )
    assert cycle.status_code == 422 and cycle.json()["errors"][0]["field"] == "parent_id"

    district = await make_client()
    await login(district, w.slug, "district")
    listing = (await district.get(f"/t/{w.slug}/units")).text
    assert "甲区" in listing and "甲区财政局" not in listing
    assert (await district.get(f"/t/{w.slug}/units/{w.units['a_unit']['id']}")).status_code == 404


async def test_a_change_of_position_keeps_the_history(api):
    w = api.world
    person = w.people["a_principal"]
    effective = units.today(w.tenant) + timedelta(days=1)
    changed = await api.patch(
        f"{base(w)}/people/{person['id']}",
        json={"position": "member", "title": "调研员", "effective_date": effective.isoformat()},
    )
    assert changed.status_code == 200
    posts = changed.json()["posts"]
    assert len(posts) == 2
    old = next(p for p in posts if p["position"] == "principal")
    new = next(p for p in posts if p["position"] == "member")
    assert old["end_date"] == (effective - timedelta(days=1)).isoformat()
    assert new["start_date"] == effective.isoformat() and new["end_date"] is None
    # today the old post still holds: the unit keeps its principal until tomorrow
    unit = (await api.get(f"{base(w)}/units/{w.units['a_unit']['id']}")).json()
    assert [p["name"] for p in unit["principal"]] == ["张三"]

    too_early = await api.patch(
        f"{base(w)}/people/{w.people['a_lead']['id']}", json={"position": "member", "effective_date": "2000-01-01"}
    )
    assert too_early.status_code == 422 and too_early.json()["errors"][0]["field"] == "effective_date"


async def test_leaving_a_post_and_archiving(api):
    w = api.world
    person = await make_person(w.tenant, w.units["b_unit"], "钱七", "secrecy_lead", start_date="2020-03-01")
    post_id = person["posts"][0]["id"]
    today = units.today(w.tenant)
    bad = await api.post(f"{base(w)}/people/{person['id']}/posts/{post_id}/end", json={"end_date": "2019-01-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "end_date"
    ended = await api.post(
        f"{base(w)}/people/{person['id']}/posts/{post_id}/end",
        json={"end_date": (today - timedelta(days=1)).isoformat()},
    )
    assert ended.status_code == 201
    assert ended.json()["current_posts"] == [] and ended.json()["posts"][0]["end_date"]
    unit = (await api.get(f"{base(w)}/units/{w.units['b_unit']['id']}")).json()
    assert "no_secrecy_lead" in unit["gaps"]
    again = await api.post(f"{base(w)}/people/{person['id']}/posts/{post_id}/end", json={})
    assert again.status_code == 422
    former = (await api.get(f"{base(w)}/people", params={"status": "former", "q": "钱七"})).json()
    assert former["total"] == 1 and former["items"][0]["unit_name"] == "乙区财政局"

    added = await api.post(
        f"{base(w)}/people/{person['id']}/posts",
        json={
            "unit_id": w.units["city"]["id"],
            "position": "business_lead",
            "start_date": "2020-01-01",
            "end_date": "2021-12-31",
        },
    )
    assert added.status_code == 201 and len(added.json()["posts"]) == 2
    former = (await api.get(f"{base(w)}/people", params={"status": "former", "q": "钱七"})).json()
    assert former["total"] == 2

    assert (await api.delete(f"{base(w)}/people/{person['id']}")).status_code == 204
    assert (await api.get(f"{base(w)}/people/{person['id']}")).status_code == 404
    async with db.transaction(w.tenant.id):
        kept = await Post.count().where(Post.tenant == w.tenant.id, Post.person.uuid == person["id"])
    assert kept == 2


async def test_people_list_filters_and_pagination(api):
    w = api.world
    for i in range(7):
        await make_person(w.tenant, w.units["city"], f"测试人员{i}", "staff", classified_level="general")
    everyone = (await api.get(f"{base(w)}/people", params={"per_page": 5})).json()
    assert everyone["total"] == 11 and len(everyone["items"]) == 5 and everyone["pages"] == 3
    page3 = (await api.get(f"{base(w)}/people", params={"per_page": 5, "page": 3})).json()
    assert len(page3["items"]) == 1
    leaders = (await api.get(f"{base(w)}/people", params={"position": "leaders"})).json()
    assert {p["person_name"] for p in leaders["items"]} == {"张三", "李四", "王五", "赵六"}
    core = (await api.get(f"{base(w)}/people", params={"level": "core"})).json()
    assert [p["person_name"] for p in core["items"]] == ["李四"]
    military = (await api.get(f"{base(w)}/people", params={"military": "1"})).json()
    assert [p["person_name"] for p in military["items"]] == ["赵六"]
    in_district = (await api.get(f"{base(w)}/people", params={"unit": w.units["district_a"]["id"]})).json()
    assert {p["person_name"] for p in in_district["items"]} == {"张三", "李四"}
    found = (await api.get(f"{base(w)}/people", params={"q": "测试人员3"})).json()
    assert found["total"] == 1
    unit_people = (await api.get(f"{base(w)}/units/{w.units['city']['id']}/people")).json()
    assert unit_people["total"] == 8


async def test_unit_list_flags_incomplete_coverage(api):
    w = api.world
    listing = (await api.get(f"{base(w)}/units")).json()
    by_name = {u["name"]: u for u in listing["items"]}
    assert by_name["甲区财政局"]["gaps"] == []
    assert by_name["乙区财政局"]["gaps"] == ["no_secrecy_lead"]
    assert by_name["市教育局"]["gaps"] == ["no_principal"]
    no_lead = (await api.get(f"{base(w)}/units", params={"gap": "no_secrecy_lead"})).json()
    assert {u["name"] for u in no_lead["items"]} == {"甲区", "乙区", "乙区财政局"}
    within = (await api.get(f"{base(w)}/units", params={"within": w.units["district_a"]["id"]})).json()
    assert [u["name"] for u in within["items"]] == ["甲区", "甲区财政局"]


async def test_unit_page_shows_leadership_and_flags(client):
    world = await make_world()
    await login(client, world.slug, "office")
    page = await client.get(f"/t/{world.slug}/units/{world.units['city']['id']}")
    assert page.status_code == 200
    assert "赵六" in page.text and "空缺" in page.text
    listing = await client.get(f"/t/{world.slug}/units", params={"gap": "no_principal"})
    assert "市教育局" in listing.text and "甲区财政局" not in listing.text
    partial = await client.get(f"/t/{world.slug}/units", params={"q": "教育"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "市教育局" in partial.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "kind": "municipal"}, "name"),
        ({"name": "x" * 201, "kind": "municipal"}, "name"),
        ({"name": "甲", "kind": "castle"}, "kind"),
        ({"name": "甲", "kind": "municipal", "parent_id": "not-a-uuid"}, "parent_id"),
        ({"name": "甲", "kind": "municipal", "parent_id": "00000000-0000-4000-8000-000000000000"}, "parent_id"),
        ({"name": "甲", "kind": "municipal", "code": "A-01"}, "code"),
    ],
)
async def test_bad_unit_input_is_refused_naming_the_field_and_writes_nothing(api, body, field):
    w = api.world
    before = await counts(w)
    response = await api.post(f"{base(w)}/units", json=body)
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert field in errors and errors[field]
    assert await counts(w) == before


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"end_date": "2020-01-01", "start_date": "2021-01-01"}, "end_date"),
        ({"start_date": "31/01/2021"}, "start_date"),
        ({"email": "not-an-email"}, "email"),
        ({"mobile": "call me"}, "mobile"),
        ({"position": "king"}, "position"),
        ({"classified_level": "top"}, "classified_level"),
        ({"unit_id": "123"}, "unit_id"),
        ({"name": "  "}, "name"),
    ],
)
async def test_bad_person_input_is_refused_naming_the_field_and_writes_nothing(api, patch, field):
    w = api.world
    body = {"name": "新人", "unit_id": w.units["city"]["id"], "position": "staff", **patch}
    before = await counts(w)
    response = await api.post(f"{base(w)}/people", json=body)
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    assert await counts(w) == before


async def test_a_person_in_a_unit_of_another_tenant_is_refused(api):
    other = await make_world()
    w = api.world
    before = await counts(w)
    response = await api.post(
        f"{base(w)}/people", json={"name": "越界", "unit_id": other.units["city"]["id"], "position": "staff"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "unit_id"
    assert await counts(w) == before


async def test_malformed_bodies_are_refused(api):
    w = api.world
    broken = await api.post(f"{base(w)}/units", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    wrong_type = await api.post(f"{base(w)}/units", json={"name": 5, "kind": "municipal"})
    assert wrong_type.status_code == 400 and wrong_type.json()["errors"][0]["field"] == "name"
    unknown = await api.post(f"{base(w)}/units", json={"name": "甲", "kind": "municipal", "colour": "red"})
    assert unknown.status_code == 400
    huge = await api.post(f"{base(w)}/units", content=b"x" * 11_000_000, headers={"Content-Type": "application/json"})
    assert huge.status_code == 413
    assert (await api.get(f"{base(w)}/units/not-a-uuid")).status_code == 404


async def test_forms_show_errors_next_to_the_fields_and_keep_the_input(client):
    world = await make_world()
    await login(client, world.slug, "office")
    token = await csrf(client, f"/t/{world.slug}/people/new")
    people = f"/t/{world.slug}/people"
    filled = {"name": "新同志", "unit_id": world.units["city"]["id"], "position": "staff"}
    response = await post_form(client, people, token, **filled, email="not-an-email")
    assert response.status_code == 422
    assert 'id="email-error"' in response.text and 'value="新同志"' in response.text
    ok = await post_form(client, people, token, **filled, military_transfer="1", classified_level="important")
    assert ok.status_code == 303
    person = await client.get(ok.headers["location"])
    assert "新同志" in person.text and "军转干部" in person.text


async def test_sub_units_appear_in_tree_order(api):
    w = api.world
    parent = await make_unit(w.tenant, "丙区", "district")
    await make_unit(w.tenant, "丙区卫健委", "district_unit", parent)
    names = [u["name"] for u in (await api.get(f"{base(w)}/units", params={"q": "丙区"})).json()["items"]]
    assert names == ["丙区", "丙区卫健委"]


async def test_nul_characters_are_dropped_not_fatal(api):
    w = api.world
    listed = await api.get(f"{base(w)}/units", params={"q": "教\x00育"})
    assert listed.status_code == 200
    created = await api.post(f"{base(w)}/units", json={"name": "空\x00字符单位", "kind": "other"})
    assert created.status_code == 201 and created.json()["name"] == "空字符单位"
