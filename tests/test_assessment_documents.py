"""The assessment's documents, read back: a unit's scorecard and the annual report as
PDF text, the background batch of every scorecard as a zip, the CLI, the Excel export."""

from __future__ import annotations

import asyncio
import io
import zipfile

import openpyxl
from pypdf import PdfReader

from server import db
from server.assessment import cycle, reports, results, reviews
from server.units import service as units
from tests.conftest import SYSTEM, csrf, login
from tests.factories import make_world
from tests.helpers import digest
from tests.test_cli_platform import luzhi

MANUAL = {"R3": 9, "C": 8.5, "P": 10, "N": 12, "M": 7, "D": 10}


def text_of(pdf: bytes) -> str:
    # extraction breaks lines anywhere: compare without whitespace
    return "".join("".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())


async def scored_world():
    """An assessment of this year in which a_unit has every manual score and a deduction."""
    world = await make_world()
    tenant, year = world.tenant, units.today(world.tenant).year
    unit = world.units["a_unit"]["id"]
    async with db.transaction(tenant.id):
        await cycle.open_assessment(tenant, SYSTEM, year, {"cutoff": f"{year}-12-31"})
        for code, score in MANUAL.items():
            await reviews.self_assess(tenant, SYSTEM, year, unit, code, {"score": score, "note": "纪要齐全"})
        await reviews.submit_self(tenant, SYSTEM, year, unit)
        for code in MANUAL:
            await reviews.review(tenant, SYSTEM, year, unit, code, {})
        await reviews.add_adjustment(
            tenant, SYSTEM, year, unit, {"kind": "deduction", "item": "major", "note": "台账缺失"}
        )
        result = await results.unit_result(tenant, SYSTEM, year, unit)
    return world, year, result


async def test_the_scorecard_shows_the_units_figures(env, client):
    world, year, result = await scored_world()
    await login(client, world.slug, "office")
    response = await client.get(f"/t/{world.slug}/assessments/{year}/units/{world.units['a_unit']['id']}/scorecard.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert reader.metadata.title and "甲区财政局" in text_of(response.content)
    text = text_of(response.content)
    # automatic indicators: no leader signed, no period due yet for people who just started
    assert result["total"] == round(sum(MANUAL.values()) + 10 - 3, 2)
    assert f"{result['total']:.1f}" in text
    for code, score in MANUAL.items():
        assert code in text and f"{score:.1f}" in text
    assert "台账缺失" in text  # the deduction's note, among the gaps to fix
    assert "张三" in text  # a leader without a signed notice, named
    # kept while the card stays the same (server.documents.kept), made again once it changes
    url = f"/t/{world.slug}/assessments/{year}/units/{world.units['a_unit']['id']}/scorecard.pdf"
    assert digest((await client.get(url)).content) == digest(response.content)
    unit = world.units["a_unit"]["id"]
    async with db.transaction(world.tenant.id):
        await reviews.add_adjustment(
            world.tenant, SYSTEM, year, unit, {"kind": "deduction", "item": "minor", "note": "制度未更新"}
        )
        lower = await results.unit_result(world.tenant, SYSTEM, year, unit)
    changed = await client.get(url)
    assert changed.status_code == 200 and lower["total"] < result["total"]
    assert f"{lower['total']:.1f}" in text_of(changed.content) and "制度未更新" in text_of(changed.content)


async def test_the_annual_report_has_the_ranking_and_figures(env, client):
    world, year, result = await scored_world()
    await login(client, world.slug, "office")
    response = await client.get(f"/t/{world.slug}/assessments/{year}/report.pdf")
    assert response.status_code == 200
    text = text_of(response.content)
    overview = await client.get(f"/api/v1/t/{world.slug}/assessments/{year}")
    assert overview.status_code == 200
    units_ = overview.json()["units"]
    assert len(units_) == 3
    for unit in units_:
        assert unit["unit_name"] in text
    # only a_unit has every indicator scored: the others are listed, without figures, and left out
    assert [u["complete"] for u in units_] == [True, False, False]
    assert f"{result['total']:.1f}" in text and "另有2个单位尚有指标未评分" in text


async def test_every_scorecard_in_the_background_as_a_zip(env, client):
    world, year, _result = await scored_world()
    await login(client, world.slug, "office")
    page = f"/t/{world.slug}/assessments/{year}"
    started = await client.post(f"{page}/scorecards", data={"_csrf": await csrf(client, page)})
    assert started.status_code == 303
    job_page = started.headers["location"]
    for _ in range(300):
        progress = await client.get(job_page, headers={"HX-Request": "true"})
        assert progress.status_code == 200
        if "/download" in progress.text:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the batch did not finish")
    download = await client.get(job_page + "/download")
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    names = archive.namelist()
    assert len(names) == 3 and all(archive.read(n).startswith(b"%PDF-") for n in names)
    assert any("甲区财政局" in n for n in names)
    # another user does not see someone else's batch
    await login(client, world.slug, "assessor")
    assert (await client.get(job_page)).status_code == 404


async def test_the_cli_writes_scorecards_and_the_report(env, tmp_path):
    world, year, _result = await scored_world()
    out = tmp_path / "cards"
    done = await luzhi(env, "report", "scorecards", "--tenant", world.slug, "--year", str(year), "--out", str(out))
    assert "3 scorecards" in done.stdout
    assert sorted(p.suffix for p in out.iterdir()) == [".pdf"] * 3
    report = tmp_path / "report.pdf"
    await luzhi(
        env, "report", "annual", "--tenant", world.slug, "--year", str(year), "--out", str(report), "--lang", "en"
    )
    assert "甲区财政局" in text_of(report.read_bytes())
    missing = await luzhi(
        env, "report", "annual", "--tenant", world.slug, "--year", "1999", "--out", str(report), check=False
    )
    assert missing.returncode == 2 and "1999" in missing.stderr


async def test_the_excel_export_has_every_score(env, client):
    world, year, result = await scored_world()
    await login(client, world.slug, "office")
    response = await client.get(f"/t/{world.slug}/assessments/{year}/scores.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == 3
    mine = next(r for r in body if r[1] == "甲区财政局")
    for code, score in MANUAL.items():
        column = next(i for i, h in enumerate(header) if str(h).startswith(code + " "))
        assert mine[column] == score
    assert mine[-3] == result["total"]  # then the grade and the status


async def test_the_report_averages_count_self_scores_awaiting_review(env):
    world = await make_world()
    tenant, year = world.tenant, units.today(world.tenant).year
    async with db.transaction(tenant.id):
        await cycle.open_assessment(tenant, SYSTEM, year, {"cutoff": f"{year}-12-31"})
        for key in ("a_unit", "b_unit", "city"):
            for code, score in MANUAL.items():
                await reviews.self_assess(tenant, SYSTEM, year, world.units[key]["id"], code, {"score": score})
        # one unit reviewed with a lower C, the others still provisional
        for code in MANUAL:
            change = {"score": 4, "reason": "台账缺失"} if code == "C" else {}
            await reviews.review(tenant, SYSTEM, year, world.units["a_unit"]["id"], code, change)
        report = await reports.annual_report(tenant, SYSTEM, year)
    averages = {i["code"]: i["average"] for i in report["indicators"]}
    assert averages["C"] == round((4 + MANUAL["C"] * 2) / 3, 2)
    assert averages["N"] == MANUAL["N"]
