"""The attendance export: the import's own layout, so that export → correct → import works,
and an unchanged export imported again changes nothing."""

from __future__ import annotations

import io
from datetime import date, datetime
from urllib.parse import quote

import openpyxl

from server.documents.xlsx import DATE_FORMAT
from server.training.workbook import COLUMNS, SHEET_TITLE, TEMPLATE_HEADERS
from tests.conftest import login
from tests.factories import make_world
from tests.test_training import a_past_day, api, counts, this_year, workbook


async def recorded(client, world) -> str:
    """Three attendances of this year (one per district and the city) applied through the
    import; the API's base path."""
    base = await api(client, world)
    day = a_past_day(world)
    rows = [
        ["李四", "甲区财政局", "保密讲座", day, 2, 90],
        ["王五", "乙区财政局", "保密讲座", day, 2, None],
        # a title Excel would take for a formula: the export guards it, the import reads it back
        ["赵六", "", "-网络安全", day, 1.5, 75.5],
    ]
    preview = (await client.post(f"{base}/training/imports", files={"file": ("a.xlsx", workbook(rows))})).json()
    assert preview["clean"], preview["errors"]
    assert (await client.post(f"{base}/training/imports/{preview['id']}/apply")).status_code == 201
    return base


def sheet_of(content: bytes):
    book = openpyxl.load_workbook(io.BytesIO(content))
    return book[SHEET_TITLE]


def names_in(content: bytes) -> list[str]:
    return [row[COLUMNS.index("name")] for row in sheet_of(content).iter_rows(min_row=2, values_only=True)]


async def test_the_export_has_the_template_layout_and_reimports_as_unchanged(client):
    world = await make_world()
    base = await recorded(client, world)
    year = this_year(world)
    export = await client.get(f"{base}/training/attendance.xlsx?year={year}")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert quote(f"{year}年参训记录.xlsx") in export.headers["content-disposition"]
    assert f'filename="attendance-{year}.xlsx"' in export.headers["content-disposition"]

    sheet = sheet_of(export.content)
    lines = list(sheet.iter_rows())
    assert [c.value for c in lines[0]] == [TEMPLATE_HEADERS[k] for k in COLUMNS]
    assert len(lines) == 4
    by_name = {line[COLUMNS.index("name")].value: line for line in lines[1:]}
    lead = by_name["李四"]
    person_id = lead[COLUMNS.index("person_id")]
    assert person_id.value == world.people["a_lead"]["id"] and person_id.data_type == "s"
    day = lead[COLUMNS.index("date")]
    assert isinstance(day.value, datetime) and day.value.date() == a_past_day(world)
    assert day.number_format == DATE_FORMAT
    assert [lead[COLUMNS.index(k)].value for k in ("unit", "course", "hours", "score")] == [
        "甲区财政局",
        "保密讲座",
        2,
        90,
    ]
    assert by_name["赵六"][COLUMNS.index("score")].value == 75.5
    assert by_name["王五"][COLUMNS.index("score")].value is None

    # the page's download is the same file
    await login(client, world.slug, "office")
    page = await client.get(f"/t/{world.slug}/training/attendance.xlsx?year={year}")
    assert page.status_code == 200 and names_in(page.content) == names_in(export.content)

    before = await counts(world)
    again = await client.post(f"{base}/training/imports", files={"file": ("back.xlsx", export.content)})
    assert again.status_code == 201
    preview = again.json()
    assert preview["clean"] and preview["counts"] == {"same": 3} and not preview["errors"]
    applied = await client.post(f"{base}/training/imports/{preview['id']}/apply")
    assert applied.json() == {"written": 0, "courses_created": 0, "unchanged": 3}
    assert await counts(world) == before


async def test_the_export_keeps_to_the_actors_scope_and_the_pages_filters(client, make_client):
    world = await make_world()
    await recorded(client, world)
    year = this_year(world)
    district = await make_client()
    await login(district, world.slug, "district")
    mine = await district.get(f"/t/{world.slug}/training/attendance.xlsx?year={year}")
    assert mine.status_code == 200 and names_in(mine.content) == ["李四"]
    other = world.units["b_unit"]["id"]
    assert (await district.get(f"/t/{world.slug}/training/attendance.xlsx?unit={other}")).status_code == 404
    base = await api(client, world)
    unit = world.units["district_b"]["id"]
    filtered = await client.get(f"{base}/training/attendance.xlsx?year={year}&unit={unit}")
    assert names_in(filtered.content) == ["王五"]
    last_year = await client.get(f"{base}/training/attendance.xlsx?year={year - 1}")
    assert names_in(last_year.content) == []
    page = await district.get(f"/t/{world.slug}/training?year={year}")
    assert f"/training/attendance.xlsx?year={year}" in page.text


async def test_a_wrong_year_is_refused_on_the_field(client):
    world = await make_world()
    base = await api(client, world)
    for bad in ("abc", "1999", str(date.today().year + 5)):
        refused = await client.get(f"{base}/training/attendance.xlsx?year={bad}")
        assert refused.status_code == 422, bad
        assert [e["field"] for e in refused.json()["errors"]] == ["year"]
    await login(client, world.slug, "office")
    assert (await client.get(f"/t/{world.slug}/training/attendance.xlsx?year=abc")).status_code == 422
