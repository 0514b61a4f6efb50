"""Page fixes of issue 17: the district's annual report titled as the district's, the
leader's missing answers naming their duty, the overdue confirmations' own columns."""

from __future__ import annotations

from tests.conftest import login
from tests.test_assessment_documents import scored_world, text_of


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
