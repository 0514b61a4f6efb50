"""Rounds and teams: opening a round over units with its checklist frozen, teams of four
inspector accounts, assignments, conflicts of interest, who sees which round."""

from __future__ import annotations

from server.actor import Actor
from server.core.errors import Forbidden, NotFound, ValidationFailed
from server.inspections import checklist, rounds
from tests.conftest import csrf, login
from tests.factories import make_world, token_for
from tests.inspection_world import OFFICE, confirm_conflict, make_conflicted_world, make_inspection_world, run


def inspector(iw, key: str) -> Actor:
    user = iw.world.users[key]
    return Actor(kind="user", id=None, name=user["username"], role="inspector")


async def test_a_round_opens_over_units_with_its_checklist_frozen(env):
    iw = await make_inspection_world()
    assert iw.round["units"] == 3 and iw.round["status"] == "open"
    assert [a["code"] for a in checklist.items_by_area(iw.round["checklist"])] == list(checklist.AREAS)
    assert len(iw.round["checklist"]["items"]) == len(checklist.DEFAULT_ITEMS)
    # a later edit of the template does not reach the open round
    edited = {"items": [i for i in iw.round["checklist"]["items"] if i["code"] != "R4"]}
    await run(iw.world, checklist.save_template, OFFICE, edited)
    again = await run(iw.world, rounds.round_detail, OFFICE, iw.round["id"])
    assert any(i["code"] == "R4" for i in again["checklist"]["items"])
    assert not any(i["code"] == "R4" for i in (await run(iw.world, checklist.template))["items"])
    team = again["teams"][0]
    assert [m["role"] for m in team["members"]] == ["leader", "member", "member", "member"]
    assigned = {i["unit_name"]: i["team_name"] for i in again["inspections"]}
    assert assigned == {"甲区财政局": "一组", "市教育局": "一组", "乙区财政局": None}


async def test_a_team_is_four_distinct_active_inspectors(env):
    iw = await make_inspection_world()
    users = iw.world.users
    bad = [
        (
            {"name": "二组", "leader_user_id": users["insp5"]["id"], "member_user_ids": [users["insp1"]["id"]]},
            "member_user_ids",
        ),
        (
            {
                "name": "二组",
                "leader_user_id": users["office"]["id"],
                "member_user_ids": [users[f"insp{n}"]["id"] for n in (1, 2, 3)],
            },
            "leader_user_id",
        ),
        (
            {
                "name": "二组",
                "leader_user_id": users["insp1"]["id"],
                "member_user_ids": [users[f"insp{n}"]["id"] for n in (1, 2, 3)],
            },
            "member_user_ids",
        ),
        (
            {
                "name": "",
                "leader_user_id": users["insp5"]["id"],
                "member_user_ids": [users[f"insp{n}"]["id"] for n in (1, 2, 3)],
            },
            "name",
        ),
    ]
    for body, field in bad:
        try:
            await run(iw.world, rounds.add_team, OFFICE, iw.round["id"], body)
        except ValidationFailed as e:
            assert field in e.errors, (field, e.errors)
        else:
            raise AssertionError(f"accepted {body}")
    assert len((await run(iw.world, rounds.round_detail, OFFICE, iw.round["id"]))["teams"]) == 1


async def test_a_member_who_held_a_post_in_an_inspected_unit_is_flagged_until_confirmed(env):
    iw, replaced = await make_conflicted_world()
    flagged = next(m for m in replaced["members"] if m["user_name"] == "insp6")
    assert flagged["conflicts"] == [{"unit_name": "甲区财政局", "from": "2020-01-01", "to": "2023-06-30"}]
    assert flagged["conflict_confirmed_by"] == ""
    try:
        await confirm_conflict(iw, note="")
    except ValidationFailed as e:
        assert "note" in e.errors
    confirmed = await confirm_conflict(iw)
    assert next(m for m in confirmed["members"] if m["user_name"] == "insp6")["conflict_confirmed_by"] == "office"


async def test_who_sees_which_round(env):
    iw = await make_inspection_world()
    w = iw.world
    district = Actor(kind="user", name="district", role="district_admin", scope_path=None)
    assert await run(w, rounds.list_rounds, OFFICE)
    for role in ("unit_officer", "leader", "assessor"):
        assert await run(w, rounds.list_rounds, Actor(kind="user", id=1, name="x", role=role)) == []
        try:
            await run(w, rounds.round_detail, Actor(kind="user", id=1, name="x", role=role), iw.round["id"])
        except NotFound:
            pass
        else:
            raise AssertionError(role)
    assert district.role == "district_admin"
    try:
        await run(w, rounds.create_round, inspector(iw, "insp1"), {})
    except Forbidden:
        pass
    else:
        raise AssertionError("an inspector opened a round")


def fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


async def api(client, world, key: str) -> str:
    client.headers["Authorization"] = "Bearer " + await token_for(world, key)
    return f"/api/v1/t/{world.slug}"


async def test_the_api_opens_a_round_forms_a_team_and_assigns(client):
    world = await make_world()
    iw = await make_inspection_world(world)
    base = await api(client, world, "office")
    r = await client.post(
        f"{base}/inspection-rounds",
        json={"name": "", "starts_on": "2026-13-01", "ends_on": "2026-01-01", "unit_ids": []},
    )
    assert r.status_code == 422
    assert fields(r) >= {"name", "starts_on", "unit_ids"}
    eighth = {
        "name": "第八轮",
        "starts_on": "2026-03-01",
        "ends_on": "2026-04-30",
        "unit_ids": [world.units["city"]["id"]],
    }
    r = await client.post(f"{base}/inspection-rounds", json={**eighth, "ends_on": "2026-02-01"})
    assert r.status_code == 422 and fields(r) == {"ends_on"}
    eighth["unit_ids"].append(world.units["b_unit"]["id"])
    r = await client.post(f"{base}/inspection-rounds", json=eighth)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["units"] == 2 and len(made["checklist"]["items"]) == len(checklist.DEFAULT_ITEMS)
    users = world.users
    team = await client.post(
        f"{base}/inspection-rounds/{made['id']}/teams",
        json={
            "name": "二组",
            "leader_user_id": users["insp5"]["id"],
            "member_user_ids": [users[f"insp{n}"]["id"] for n in (1, 2, 3)],
        },
    )
    assert team.status_code == 201, team.text
    first = made["inspections"][0]
    assignment = {"inspection_id": first["id"], "team_id": team.json()["id"]}
    assignments = f"{base}/inspection-rounds/{made['id']}/assignments"
    # after the round's end; then within it
    r = await client.put(assignments, json={"assignments": [{**assignment, "visit_on": "2026-05-02"}]})
    assert r.status_code == 422 and "assignments.0.visit_on" in fields(r)
    r = await client.put(assignments, json={"assignments": [{**assignment, "visit_on": "2026-03-02"}]})
    assert r.status_code == 200
    listed = (await client.get(f"{base}/inspection-rounds/{made['id']}/inspections")).json()
    assert next(i for i in listed if i["id"] == first["id"])["team_name"] == "二组"
    assert len((await client.get(f"{base}/inspection-rounds")).json()) == 2
    # insp5 is on 二组 only: they see that round and, in it, the unit of their team
    base = await api(client, world, "insp5")
    rounds_seen = (await client.get(f"{base}/inspection-rounds")).json()
    assert [(r["id"], r["units"]) for r in rounds_seen] == [(made["id"], 1)]
    assert [i["id"] for i in (await client.get(f"{base}/inspection-rounds/{made['id']}/inspections")).json()] == [
        first["id"]
    ]
    assert (await client.get(f"{base}/inspection-rounds/{iw.round['id']}")).status_code == 404
    assert (
        await client.post(
            f"{base}/inspection-rounds",
            json={"name": "x", "starts_on": "2026-01-01", "ends_on": "2026-01-02", "unit_ids": []},
        )
    ).status_code == 403
    base = await api(client, world, "officer")
    assert (await client.get(f"{base}/inspection-rounds")).status_code == 403


async def test_another_tenants_round_is_not_found(client):
    iw = await make_inspection_world()
    other = await make_world("另一市保密局")
    base = await api(client, other, "office")
    assert (await client.get(f"{base}/inspection-rounds/{iw.round['id']}")).status_code == 404
    r = await client.post(
        f"{base}/inspection-rounds",
        json={
            "name": "x",
            "starts_on": "2026-01-01",
            "ends_on": "2026-01-02",
            "unit_ids": [iw.world.units["city"]["id"]],
        },
    )
    assert r.status_code == 422 and "unit_ids" in fields(r)


async def test_the_checklist_template_is_checked_as_a_whole(client):
    world = await make_world()
    base = await api(client, world, "office")
    items = (await client.get(f"{base}/inspection-checklist")).json()["items"]
    broken = [dict(i) for i in items if i["area"] != "D"] + [{"code": "R1", "area": "X", "text": ""}]
    r = await client.put(f"{base}/inspection-checklist", json={"items": broken})
    assert r.status_code == 422
    errors = fields(r)
    n = len(broken) - 1
    assert {f"items.{n}.code", f"items.{n}.area", f"items.{n}.text", "items"} <= set(errors)
    assert (await client.get(f"{base}/inspection-checklist")).json()["items"] == items
    items[0]["text"] = "主要负责人每半年听取一次保密工作汇报"
    assert (await client.put(f"{base}/inspection-checklist", json={"items": items})).status_code == 200
    assert (await client.get(f"{base}/inspection-checklist")).json()["items"][0]["text"].startswith("主要负责人每半年")


async def test_the_round_pages(client):
    iw = await make_inspection_world()
    w = iw.world
    await login(client, w.slug, "office")
    page = await client.get(f"/t/{w.slug}/inspections")
    assert page.status_code == 200 and "第七轮巡察" in page.text
    page = await client.get(f"/t/{w.slug}/inspections/rounds/{iw.round['id']}")
    assert page.status_code == 200 and "一组" in page.text and "检查员1" in page.text
    token = await csrf(client, f"/t/{w.slug}/inspections/rounds/{iw.round['id']}")
    r = await client.post(
        f"/t/{w.slug}/inspections/rounds/{iw.round['id']}/teams",
        data={
            "_csrf": token,
            "name": "二组",
            "leader_user_id": w.users["insp5"]["id"],
            "member_1": w.users["insp1"]["id"],
        },
    )
    assert r.status_code == 422 and 'id="member_user_ids-error"' in r.text
    r = await client.post(
        f"/t/{w.slug}/inspections/rounds",
        data={
            "_csrf": token,
            "name": "第九轮",
            "starts_on": "2026-06-01",
            "ends_on": "2026-06-30",
            "unit_ids": w.units["city"]["id"],
        },
    )
    assert r.status_code == 303
    assert "第九轮" in (await client.get(f"/t/{w.slug}/inspections")).text
    page = await client.get(f"/t/{w.slug}/inspections/checklist")
    assert page.status_code == 200 and "R1" in page.text


async def test_the_overview_of_one_units_inspection(client):
    iw = await make_inspection_world()
    w = iw.world
    inspection = iw.inspections["a_unit"]["id"]
    await login(client, w.slug, "office")
    page = await client.get(f"/t/{w.slug}/inspections/{inspection}")
    assert page.status_code == 200
    assert "0 / 23" in page.text and f"/inspections/{inspection}/report.pdf" in page.text
    assert 'id="clues"' in page.text and 'id="finalise"' in page.text
    client.cookies.clear()
    await login(client, w.slug, "district")
    page = await client.get(f"/t/{w.slug}/inspections/{inspection}")
    assert page.status_code == 200 and 'id="clues"' not in page.text
    client.cookies.clear()
    await login(client, w.slug, "officer")
    page = await client.get(f"/t/{w.slug}/inspections/{inspection}")
    assert page.status_code == 303 and page.headers["location"].endswith(f"/inspections/{inspection}/findings")
    client.cookies.clear()
    await login(client, w.slug, "insp5")
    assert (await client.get(f"/t/{w.slug}/inspections/{inspection}")).status_code == 404


async def test_one_units_inspection_as_a_whole_over_the_api(client):
    iw = await make_inspection_world()
    w = iw.world
    inspection = iw.inspections["a_unit"]["id"]
    base = await api(client, w, "insp2")
    r = await client.put(f"{base}/inspections/{inspection}/checklist/R1", json={"result": "fail", "note": "未形成记录"})
    assert r.status_code == 200, r.text
    got = await client.get(f"{base}/inspections/{inspection}")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["unit_name"] == "甲区财政局" and body["team_name"] == "一组" and body["status"] == "open"
    assert [a["code"] for a in body["checklist"]] == list(checklist.AREAS)
    r1 = body["checklist"][0]["items"][0]
    assert (r1["code"], r1["result"], r1["note"]) == ("R1", "fail", "未形成记录")
    assert {p["name"] for p in body["interviews"]["people"]} == {"张三", "李四"}
    assert body["sample"]["size"] is None and body["findings"] == []
    assert {m["code"] for m in body["missing"]} >= {"checklist.R", "interviews"}
    # the spare inspector is on no team of this unit; the unit's officer reads findings instead
    assert (await client.get(f"{(await api(client, w, 'insp5'))}/inspections/{inspection}")).status_code == 404
    assert (await client.get(f"{(await api(client, w, 'officer'))}/inspections/{inspection}")).status_code == 403
