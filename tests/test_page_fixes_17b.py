"""Page fixes of issue 17: the district's annual report titled as the district's, the
leader's missing answers naming their duty, the overdue confirmations' own columns."""

from __future__ import annotations

import html
import io
import re

import openpyxl
from babel.dates import format_date

from server.responsibility import confirmations
from server.responsibility.tables import Confirmation
from server.units import service as units
from tests.conftest import csrf, login
from tests.factories import make_world
from tests.test_assessment_documents import scored_world, text_of
from tests.test_confirmations_missed import leader_in_post_for_three_periods
from tests.test_responsibility import _actor, run


async def test_a_district_admins_annual_report_is_the_districts(env, client):
    world, year, _result = await scored_world()
    url = f"/t/{world.slug}/assessments/{year}/report.pdf"
    await login(client, world.slug, "office")
    office = text_of((await client.get(url)).content)
    bureau_title = f"{year}年度保密工作考核报告"
    assert f"测试市保密局·{bureau_title}" in office and f"甲区{year}" not in office

    await login(client, world.slug, "district")
    response = await client.get(url)
    assert response.status_code == 200
    district = text_of(response.content)
    assert f"甲区{year}" in district
    # the bureau-wide title appears only as part of the district's
    assert bureau_title not in district.replace(f"甲区{bureau_title}", "")
    assert "乙区财政局" not in district


async def test_a_partly_filled_confirmation_names_each_unanswered_duty(env, client):
    world = await make_world()
    await login(client, world.slug, "leader")
    owed = await run(world, confirmations.pending, await _actor(world, "leader"))
    period, duties = owed["period"].key, owed["duties"]
    page = f"/t/{world.slug}/me/confirmation"
    answered = {"_csrf": await csrf(client, page), "done_0": "yes", "done_2": "no"}
    refused = await client.post(f"{page}/{period}", data=answered)
    assert refused.status_code == 422
    summary = re.search(r'<div class="alert bad" role="alert">.*?</div>', refused.text, re.S).group(0)
    listed = [html.unescape(li) for li in re.findall(r"<li>(.*?)</li>", summary, re.S)]
    # one message for each unanswered duty, one for the missing reason, each naming its duty
    assert len(listed) == len(duties) - 1
    for i, duty in enumerate(duties):
        if i == 0:
            continue
        message = next(m for m in listed if re.search(rf"(第|Duty ){i + 1}\D", m))
        assert duty[:10] in message
    # still next to their inputs, by the same field names
    assert 'id="done_1-error"' in refused.text and 'id="note_2-error"' in refused.text
    assert 'id="done_0-error"' not in refused.text
    assert not await run(world, lambda tenant: Confirmation.exists().where(Confirmation.tenant == tenant.id))


async def test_the_overdue_confirmations_list_shows_periods_due_dates_and_days(env, client):
    world = await make_world()
    person, periods = await leader_in_post_for_three_periods(world)
    today = units.today(world.tenant)
    overdue = [p for p in periods if today > p.due]  # the latest one once its due date has passed
    client.cookies.set("luzhi_lang", "en")
    await login(client, world.slug, "office")
    page = await client.get(f"/t/{world.slug}/coverage/list", params={"metric": "confirmation_overdue"})
    assert page.status_code == 200
    head = re.search(r"<thead>(.*?)</thead>", page.text, re.S).group(1)
    columns = [html.unescape(th) for th in re.findall(r"<th[^>]*>(.*?)</th>", head)]
    assert columns == ["Leader", "Unit", "Confirmation period", "Due date", "Days overdue", "Waive with a reason"]
    rows = re.findall(r"<tr><td><a href=\"[^\"]*/people/([^\"]+)\">.*?</tr>", page.text, re.S)
    assert rows.count(person["id"]) == len(overdue)  # one row per missed period
    for period in overdue:
        quarter = period.key.split("-Q")[1]
        row = next(r for r in re.findall(r"<tr>.*?</tr>", page.text, re.S) if person["id"] in r and f"Q{quarter} " in r)
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        assert cells[:5] == [
            "周一",
            "市教育局",
            f"Q{quarter} {period.start.year}",
            format_date(period.due, "medium", locale="en"),
            str((today - period.due).days),
        ]
    assert "Issued on" not in page.text and "Signed on" not in page.text
    # the export's sheet of overdue confirmations has the same columns
    book = openpyxl.load_workbook(io.BytesIO((await client.get(f"/t/{world.slug}/coverage.xlsx")).content))
    sheet = book["Confirmations overdue"]
    header, *lines = [[c.value for c in row] for row in sheet.iter_rows()]
    assert header[-3:] == ["Confirmation period", "Due date", "Days overdue"] and "Issued on" not in header
    first = next(line for line in lines if line[2] == "周一")
    assert first[-1] == (today - overdue[0].due).days
