"""The assessment pages: the year's ranking a page at a time, and a unit's result
called provisional only while something in it is."""

from __future__ import annotations

import re

from server.assessment import cycle, reviews
from tests.conftest import csrf, login
from tests.factories import make_unit, make_world
from tests.test_assessment import grade_unit, role, run, small_scheme, this_year

PROVISIONAL = "Provisional: scores not yet reviewed count as self-assessed."
NOT_FINAL = "Reviewed in full; the result is final once the assessment of the year is finalised."


async def in_english(client, slug: str) -> None:
    token = await csrf(client, f"/t/{slug}/account")
    await client.post(f"/t/{slug}/account/locale", data={"_csrf": token, "locale": "en", "next": f"/t/{slug}/"})


def ranked_names(html: str) -> list[str]:
    return re.findall(r'<td><a href="[^"]*/assessments/\d+/units/[^"]*">([^<]+)</a>', html)


async def test_the_ranking_is_paged_keeping_its_filters(client):
    world = await make_world()
    year = this_year(world)
    office, assessor = await role(world, "office"), await role(world, "assessor")
    await small_scheme(world, office, year)
    extra = [await make_unit(world.tenant, f"市第{i}局", "municipal") for i in range(1, 3)]
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})
    # five units, each a different total: 98, 90, 80, 70, 60
    for unit, a, b in (
        (world.units["city"], 60, 38),
        (extra[0], 55, 35),
        (world.units["a_unit"], 50, 30),
        (extra[1], 40, 30),
        (world.units["b_unit"], 30, 30),
    ):
        await grade_unit(world, office, assessor, year, unit, a, b)
    order = ["市教育局", "市第1局", "甲区财政局", "市第2局", "乙区财政局"]
    await login(client, world.slug, "office")
    await in_english(client, world.slug)
    y = f"/t/{world.slug}/assessments/{year}"

    # by default a page holds all five
    assert ranked_names((await client.get(y)).text) == order

    first = await client.get(f"{y}?per_page=2")
    second = await client.get(f"{y}?per_page=2&page=2")
    last = await client.get(f"{y}?per_page=2&page=3")
    assert first.status_code == second.status_code == last.status_code == 200
    assert ranked_names(first.text) == order[:2]
    assert ranked_names(second.text) == order[2:4]
    assert ranked_names(last.text) == order[4:]
    assert 'href="?per_page=2&amp;page=2"' in first.text and "Page 1 of 3" in first.text
    assert 'href="?per_page=2&amp;page=1"' in second.text and 'href="?per_page=2&amp;page=3"' in second.text
    # the stats above count every unit, not the page's
    assert '<div class="n">5</div><div class="label">Units</div>' in first.text

    # filters stay in the pager's links and page what they keep
    filtered = await client.get(f"{y}?q=%E5%B8%82&per_page=2")  # 市: the three municipal units
    assert ranked_names(filtered.text) == ["市教育局", "市第1局"]
    assert (
        "Page 1 of 2" in filtered.text
        and "q=%E5%B8%82" in re.search(r'<nav class="pager".*?</nav>', filtered.text, re.S)[0]
    )
    assert ranked_names((await client.get(f"{y}?q=%E5%B8%82&per_page=2&page=2")).text) == ["市第2局"]

    # a bad page number shows the first page, as the other lists do; one past the end, none
    for bad in ("x", "0", "-3"):
        page = await client.get(f"{y}?per_page=2&page={bad}")
        assert page.status_code == 200 and ranked_names(page.text) == order[:2], bad
    beyond = await client.get(f"{y}?per_page=2&page=9")
    assert beyond.status_code == 200 and ranked_names(beyond.text) == []


async def test_a_unit_is_provisional_only_while_it_has_scores_awaiting_review(client):
    world = await make_world()
    year = this_year(world)
    office, assessor = await role(world, "office"), await role(world, "assessor")
    await small_scheme(world, office, year)
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})
    unit = world.units["a_unit"]
    await login(client, world.slug, "office")
    page = f"/t/{world.slug}/assessments/{year}/units/{unit['id']}"

    for code, value in (("A", 50), ("B", 30)):
        await run(world, reviews.self_assess, office, year, unit["id"], code, {"score": value, "note": ""})
    await run(world, reviews.submit_self, office, year, unit["id"])
    await run(world, reviews.review, assessor, year, unit["id"], "A", {})
    awaiting = (await client.get(page)).text
    assert '<html lang="zh-CN">' in awaiting and "临时结果" in awaiting

    await run(world, reviews.review, assessor, year, unit["id"], "B", {})
    reviewed = (await client.get(page)).text
    assert "临时结果" not in reviewed

    await in_english(client, world.slug)
    reviewed = (await client.get(page)).text
    assert PROVISIONAL not in reviewed and NOT_FINAL in reviewed
    # once finalised, neither
    for other in ("b_unit", "city"):
        await grade_unit(world, office, assessor, year, world.units[other], 40, 30)
    await run(world, cycle.finalise, office, year)
    final = (await client.get(page)).text
    assert PROVISIONAL not in final and NOT_FINAL not in final
