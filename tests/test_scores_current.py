"""Automatic indicators follow their inputs while the year is open: a signature,
training hours or a post left count at once, without the office's "recompute"."""

from __future__ import annotations

import re
from datetime import timedelta

from server import db
from server.assessment import cycle, reports
from server.assessment import results as assessments
from server.assessment.tables import Assessment, Score
from server.responsibility import notices
from server.training import service as training
from server.units import service as units
from tests.conftest import PASSWORD, login
from tests.factories import make_world
from tests.test_assessment import actor_of, run
from tests.test_training import a_past_day, workbook


def by_source(result: dict) -> dict[str, dict]:
    return {i["source"]: i for i in result["indicators"] if i["source"]}


async def test_indicators_change_after_a_signature_and_hours_without_recompute(client):
    world = await make_world()
    office = await actor_of(world, "office")
    leader = await actor_of(world, "leader")
    year = units.today(world.tenant).year
    unit = world.units["a_unit"]["id"]
    await run(world, notices.issue, office, {"scope": "all"})
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})
    before = await run(world, assessments.unit_result, office, year, unit)
    assert by_source(before)["notices_signed"]["inputs"]["met"] == 0

    # the leader signs: the unit's notice indicator and total move
    mine = (await run(world, notices.my_notices, leader))["to_sign"][0]
    await run(world, notices.sign, leader, mine["id"], {"password": PASSWORD})
    signed = await run(world, assessments.unit_result, office, year, unit)
    assert by_source(signed)["notices_signed"]["inputs"]["met"] == 1
    assert signed["total"] > before["total"]
    assert "1" in by_source(signed)["notices_signed"]["how"]

    # hours recorded for the principal (who owes the leaders' 4)
    course = await run(
        world,
        training.create_course,
        office,
        {"title": "保密讲座", "kind": "lecture", "hours": "4", "date": a_past_day(world).isoformat()},
    )
    await run(world, training.add_attendance, office, course["id"], {"person_id": world.people["a_principal"]["id"]})
    trained = await run(world, assessments.unit_result, office, year, unit)
    assert (
        by_source(trained)["training_leaders"]["inputs"]["met"]
        == by_source(signed)["training_leaders"]["inputs"]["met"] + 1
    )

    # the overview (ranking) reads the same totals, and the unit's page says as of when
    overview = await run(world, assessments.overview, office, year)
    assert next(u for u in overview["units"] if u["unit_id"] == unit)["total"] == trained["total"]
    await login(client, world.slug, "officer")
    page = await client.get(f"/t/{world.slug}/assessments/{year}/units/{unit}")
    assert page.status_code == 200
    assert re.search(r"在任的 2 名领导干部中，1 名已签署有效告知书", page.text)
    today = units.today(world.tenant)
    assert f"{today.year}年{today.month}月{today.day}日在任的" in page.text


async def test_a_post_taken_or_a_person_archived_moves_the_units_indicators(client):
    world = await make_world()
    office = await actor_of(world, "office")
    year = units.today(world.tenant).year
    a_unit, b_unit = world.units["a_unit"]["id"], world.units["b_unit"]["id"]
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})

    async def signed_inputs(unit: str) -> dict:
        return by_source(await run(world, assessments.unit_result, office, year, unit))["notices_signed"]["inputs"]

    assert (await signed_inputs(a_unit))["expected"] == 2 and (await signed_inputs(b_unit))["expected"] == 1
    principal = world.people["a_principal"]
    await run(world, units.add_post, office, principal["id"], {"unit_id": b_unit, "position": "business_lead"})
    taken = await signed_inputs(b_unit)
    assert taken["expected"] == 2 and "张三" in taken["missing"]
    await run(world, units.delete_person, office, principal["id"])
    assert (await signed_inputs(a_unit))["expected"] == 1 and (await signed_inputs(b_unit))["expected"] == 1


async def test_an_import_moves_every_unit_it_touches(client):
    world = await make_world()
    office = await actor_of(world, "office")
    year = units.today(world.tenant).year
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})

    async def state() -> dict[str, tuple[int, float]]:
        """Per unit: leaders with their hours, and the stored total the ranking reads."""
        overview = await run(world, assessments.overview, office, year)
        totals = {u["unit_id"]: u["total"] for u in overview["units"]}
        out = {}
        for unit in ("a_unit", "b_unit"):
            result = await run(world, assessments.unit_result, office, year, world.units[unit]["id"])
            out[unit] = (by_source(result)["training_leaders"]["inputs"]["met"], totals[world.units[unit]["id"]])
        return out

    before = await state()
    day = a_past_day(world)
    rows = [["张三", "甲区财政局", "保密讲座", day, 4, None], ["王五", "乙区财政局", "保密讲座", day, 4, None]]
    preview = await run(world, training.preview_import, office, "a.xlsx", workbook(rows), year)
    await run(world, training.apply_import, office, preview["id"])
    after = await state()
    for unit in ("a_unit", "b_unit"):
        assert after[unit][0] == before[unit][0] + 1 and after[unit][1] > before[unit][1], (unit, before, after)


async def test_the_scorecard_says_as_of_when_per_unit(client):
    world = await make_world()
    office = await actor_of(world, "office")
    leader = await actor_of(world, "leader")
    today = units.today(world.tenant)
    year, yesterday = today.year, today - timedelta(days=1)
    await run(world, notices.issue, office, {"scope": "all"})
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})
    # as if the office's last recompute had run yesterday
    async with db.transaction(world.tenant.id):
        await Assessment.update({Assessment.auto_as_of: yesterday}).where(Assessment.tenant == world.tenant.id)
        for score in (
            await Score.select(Score.id, Score.inputs)
            .where(Score.tenant == world.tenant.id, Score.method == "auto")
            .output(load_json=True)
        ):
            inputs = {**score["inputs"], "as_of": yesterday.isoformat()}
            await Score.update({Score.inputs: inputs}).where(Score.id == score["id"])
    mine = (await run(world, notices.my_notices, leader))["to_sign"][0]
    await run(world, notices.sign, leader, mine["id"], {"password": PASSWORD})
    async with db.transaction(world.tenant.id):
        cards = {c["unit"]["name"]: c for c in await reports.cards(world.tenant, office, year)}
    assert cards["甲区财政局"]["as_of"] == today and cards["乙区财政局"]["as_of"] == yesterday
    signed = await run(world, assessments.unit_result, office, year, world.units["a_unit"]["id"])
    assert signed["figures_as_of"] == today
