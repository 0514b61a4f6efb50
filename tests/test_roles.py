"""Roles and scopes: who may see and change what."""

from __future__ import annotations

from tests.conftest import csrf, login
from tests.factories import make_world
from tests.helpers import post_form


async def as_user(make_client, world, key):
    c = await make_client()
    assert (await login(c, world.slug, world.users[key]["username"])).status_code == 303
    return c


async def test_page_access_by_role(make_client):
    world = await make_world()
    t = f"/t/{world.slug}"
    expected = {
        "office": {"/units": 200, "/people": 200, "/admin/users": 200, "/audit": 403, "/me": 200},
        "district": {"/units": 200, "/people": 200, "/admin/users": 403, "/audit": 403},
        "officer": {"/units": 200, "/people": 200, "/units/new": 403, "/admin/users": 403},
        "leader": {"/units": 403, "/people": 403, "/me": 200, "/account": 200},
        "inspector": {"/units": 200, "/people/new": 403, "/units/new": 403},
        "assessor": {"/units": 200, "/admin/users": 403},
        "system_admin": {"/admin/users": 200, "/units": 403, "/audit": 403, "/admin/policy": 403, "/people": 403},
        "security_admin": {"/admin/users": 200, "/admin/policy": 200, "/audit": 403, "/units": 403, "/notices": 403},
        "audit_admin": {"/audit": 200, "/admin/users": 403, "/units": 403, "/admin/policy": 403, "/training": 403},
    }
    problems = []
    for key, pages in expected.items():
        c = await as_user(make_client, world, key)
        for path, status in pages.items():
            got = (await c.get(t + path)).status_code
            if got != status:
                problems.append(f"{key} {path}: {got} != {status}")
    assert not problems, problems


async def test_leader_home_is_the_portal_and_only_their_own_record(make_client):
    world = await make_world()
    leader = await as_user(make_client, world, "leader")
    home = await leader.get(f"/t/{world.slug}/")
    assert home.status_code == 303 and home.headers["location"] == f"/t/{world.slug}/me"
    portal = await leader.get(f"/t/{world.slug}/me")
    assert "李四" in portal.text and "甲区财政局" in portal.text
    assert (await leader.get(f"/t/{world.slug}/people/{world.people['a_lead']['id']}")).status_code == 200
    assert (await leader.get(f"/t/{world.slug}/people/{world.people['a_principal']['id']}")).status_code == 404


async def test_district_admin_works_only_within_their_district(make_client):
    world = await make_world()
    c = await as_user(make_client, world, "district")
    t = f"/t/{world.slug}"
    listing = (await c.get(f"{t}/units")).text
    assert "甲区财政局" in listing and "乙区财政局" not in listing and "市教育局" not in listing
    assert (await c.get(f"{t}/units/{world.units['b_unit']['id']}")).status_code == 404
    assert (await c.get(f"{t}/people/{world.people['b_principal']['id']}")).status_code == 404
    token = await csrf(c, f"{t}/units/new")
    outside = await post_form(
        c, f"{t}/units", token, name="越权单位", kind="district_unit", parent_id=world.units["district_b"]["id"]
    )
    assert outside.status_code == 422 and "越权单位" in outside.text
    top = await post_form(c, f"{t}/units", token, name="顶级单位", kind="municipal")
    assert top.status_code == 422
    inside = await post_form(
        c, f"{t}/units", token, name="甲区审计局", kind="district_unit", parent_id=world.units["district_a"]["id"]
    )
    assert inside.status_code == 303
    # their own district can be renamed but not deleted or moved
    own = f"{t}/units/{world.units['district_a']['id']}"
    renamed = await post_form(c, own, token, name="甲区（新）", kind="district", parent_id="")
    assert renamed.status_code == 303
    removed = await post_form(c, f"{own}/delete", token)
    assert removed.status_code == 409


async def test_unit_officer_keeps_their_units_people(make_client):
    world = await make_world()
    c = await as_user(make_client, world, "officer")
    t = f"/t/{world.slug}"
    people = (await c.get(f"{t}/people")).text
    assert "张三" in people and "王五" not in people
    token = await csrf(c, f"{t}/people/new")
    mine = await post_form(
        c, f"{t}/people", token, name="保密员小刘", unit_id=world.units["a_unit"]["id"], position="secrecy_officer"
    )
    assert mine.status_code == 303
    theirs = await post_form(c, f"{t}/people", token, name="越权", unit_id=world.units["city"]["id"], position="staff")
    assert theirs.status_code == 422
    assert (await post_form(c, f"{t}/units", token, name="x", kind="other")).status_code == 403


async def test_refusals_are_audited(make_client):
    world = await make_world()
    inspector = await as_user(make_client, world, "inspector")
    token = await csrf(inspector, f"/t/{world.slug}/units")
    assert (await post_form(inspector, f"/t/{world.slug}/units", token, name="x")).status_code == 403
    auditor = await as_user(make_client, world, "audit_admin")
    log = await auditor.get(f"/api/v1/t/{world.slug}/audit", params={"action": "access.denied"})
    items = log.json()["items"]
    assert items and items[0]["actor_name"] == "inspector" and items[0]["outcome"] == "denied"


async def test_account_admin_manages_users_with_bindings(make_client):
    world = await make_world()
    admin = await as_user(make_client, world, "system_admin")
    t = f"/api/v1/t/{world.slug}"
    token = await csrf(admin, f"/t/{world.slug}/admin/users")
    h = {"X-CSRF-Token": token}
    no_unit = await admin.post(f"{t}/users", json={"username": "newofficer", "role": "unit_officer"}, headers=h)
    assert no_unit.status_code == 422 and no_unit.json()["errors"][0]["field"] == "scope_unit_id"
    created = await admin.post(
        f"{t}/users",
        json={"username": "newofficer", "role": "unit_officer", "scope_unit_id": world.units["city"]["id"]},
        headers=h,
    )
    assert created.status_code == 201
    body = created.json()
    assert body["scope_unit_name"] == "市教育局" and len(body["generated_password"]) >= 10
    duplicate = await admin.post(
        f"{t}/users",
        json={"username": "newofficer", "role": "inspector", "password": "Some-Good-Pass-9"},
        headers=h,
    )
    assert duplicate.status_code == 422 and duplicate.json()["errors"][0]["field"] == "username"
    disabled = await admin.patch(f"{t}/users/{body['id']}", json={"active": False}, headers=h)
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    c = await make_client()
    assert (await login(c, world.slug, "newofficer", body["generated_password"])).status_code == 400


async def test_scoped_admins_cannot_change_posts_outside_their_scope(make_client):
    from tests.factories import make_person

    world = await make_world()
    # 周九 once served in 甲区 and now leads 乙区财政局
    person = await make_person(
        world.tenant, world.units["a_unit"], "周九", "staff", start_date="2015-01-01", end_date="2019-12-31"
    )
    c = await as_user(make_client, world, "office")
    token = await csrf(c, f"/t/{world.slug}/people")
    h = {"X-CSRF-Token": token}
    await c.post(
        f"/api/v1/t/{world.slug}/people/{person['id']}/posts",
        json={"unit_id": world.units["b_unit"]["id"], "position": "business_lead", "start_date": "2020-01-01"},
        headers=h,
    )
    district = await as_user(make_client, world, "district")
    dh = {"X-CSRF-Token": await csrf(district, f"/t/{world.slug}/people")}
    changed = await district.patch(
        f"/api/v1/t/{world.slug}/people/{person['id']}", json={"position": "member"}, headers=dh
    )
    assert changed.status_code == 422
    archived = await district.delete(f"/api/v1/t/{world.slug}/people/{person['id']}", headers=dh)
    assert archived.status_code == 409
    detail = (await c.get(f"/api/v1/t/{world.slug}/people/{person['id']}")).json()
    assert [p["position"] for p in detail["current_posts"]] == ["business_lead"]


async def test_account_admins_cannot_raise_roles(make_client):
    world = await make_world()
    admin = await as_user(make_client, world, "system_admin")
    h = {"X-CSRF-Token": await csrf(admin, f"/t/{world.slug}/admin/users")}
    t = f"/api/v1/t/{world.slug}/users"
    me = next(u for u in (await admin.get(t)).json() if u["username"] == "systemadmin")
    own = await admin.patch(f"{t}/{me['id']}", json={"role": "office_admin"}, headers=h)
    assert own.status_code == 422 and own.json()["errors"][0]["field"] == "role"
    office = next(u for u in (await admin.get(t)).json() if u["username"] == "office")
    # the system admin grants no roles: that is the security admin's job
    grant = await admin.patch(f"{t}/{office['id']}", json={"role": "inspector"}, headers=h)
    assert grant.status_code == 422 and grant.json()["errors"][0]["field"] == "role"
    office_client = await as_user(make_client, world, "office")
    oh = {"X-CSRF-Token": await csrf(office_client, f"/t/{world.slug}/admin/users")}
    demoted = await office_client.patch(f"{t}/{office['id']}", json={"role": "inspector"}, headers=oh)
    assert demoted.status_code == 422 and demoted.json()["errors"][0]["field"] == "role"
    boss = await office_client.post(
        t, json={"username": "boss", "role": "security_admin", "password": "Some-Good-Pass-9"}, headers=oh
    )
    assert boss.status_code == 422 and boss.json()["errors"][0]["field"] == "role"
    sysadmin = next(u for u in (await office_client.get(t)).json() if u["username"] == "systemadmin")
    # the office admin manages business accounts only
    touched = await office_client.patch(f"{t}/{sysadmin['id']}", json={"active": False}, headers=oh)
    assert touched.status_code == 403


async def test_absurd_page_numbers_do_not_break_lists(make_client):
    world = await make_world()
    c = await as_user(make_client, world, "office")
    for path in ("/units", "/people", "/notices"):
        assert (await c.get(f"/t/{world.slug}{path}", params={"page": "1" + "0" * 30})).status_code == 200
    auditor = await as_user(make_client, world, "audit_admin")
    assert (await auditor.get(f"/t/{world.slug}/audit", params={"page": "1" + "0" * 30})).status_code == 200
