"""The annual assessment over HTTP: the JSON API with bearer tokens (who may do what,
and the status codes of refusals), the pages and forms with CSRF, evidence uploads,
the workbook and the PDFs (their text read back with pypdf)."""

from __future__ import annotations

import asyncio
import io

import openpyxl
import pypdf

from server import db
from server.assessment.evidence import MAX_EVIDENCE
from server.assessment.scheme import DEFAULT
from server.assessment.tables import Evidence, Score
from server.documents import kept
from server.units import service as units
from tests.conftest import csrf, login
from tests.factories import Api, make_world
from tests.helpers import digest

MANUAL = ("R3", "C", "P", "N", "M", "D")


def fields(response) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def pdf_text(content: bytes) -> str:
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
    return text.replace(" ", "").replace("\n", "")


async def score_rows(world) -> list[dict]:
    async with db.transaction(world.tenant.id):
        return (
            await Score.select(Score.indicator, Score.self_score, Score.score, Score.state)
            .where(Score.tenant == world.tenant.id)
            .order_by(Score.id)
        )


async def evidence_count(world) -> int:
    async with db.transaction(world.tenant.id):
        return await Evidence.count().where(Evidence.tenant == world.tenant.id)


async def test_scheme_and_opening_over_the_api(client):
    world = await make_world()
    year = units.today(world.tenant).year
    api = await Api.of(client, world, "office", "officer", "leader", "assessor", "district")
    y = f"/assessments/{year}"

    scheme = await api.get("office", f"{y}/scheme")
    assert scheme.status_code == 200 and scheme.json()["status"] == "draft"
    assert scheme.json()["document"]["total"] == 100
    assert (await api.get("leader", f"{y}/scheme")).status_code == 403
    assert (await api.get("office", f"/assessments/{year + 3}/scheme")).status_code == 404

    # a scheme that does not add up: 422, each wrong field named, nothing stored
    broken = {**DEFAULT, "indicators": [dict(i) for i in DEFAULT["indicators"]]}
    broken["indicators"][0]["points"] = 31
    broken["indicators"][5]["points"] = 9
    refused = await api.put("office", f"{y}/scheme", broken)
    assert refused.status_code == 422
    assert refused.json()["detail"] and {"total", "indicators.0.points", "indicators.4.points"} <= fields(refused)
    assert all(e["message"] for e in refused.json()["errors"])
    assert (await api.get("office", f"{y}/scheme")).json()["document"] == scheme.json()["document"]
    for who in ("officer", "leader", "assessor", "district"):
        assert (await api.put(who, f"{y}/scheme", DEFAULT)).status_code == 403, who
    saved = await api.put("office", f"{y}/scheme", {**DEFAULT, "top_cap": 0.5})
    assert saved.status_code == 200 and saved.json()["document"]["top_cap"] == 0.5

    # opening: the office only, with a cut-off in the year
    for who in ("officer", "leader", "assessor", "district"):
        assert (await api.post(who, f"{y}/open", {"cutoff": f"{year}-12-31"})).status_code == 403, who
    bad = await api.post("office", f"{y}/open", {"cutoff": f"{year + 1}-01-31"})
    assert bad.status_code == 422 and fields(bad) == {"cutoff"}
    bad = await api.post("office", f"{y}/open", {"cutoff": "31.12."})
    assert bad.status_code == 422 and fields(bad) == {"cutoff"}
    assert (await api.get("office", y)).status_code == 404
    opened = await api.post("office", f"{y}/open", {"cutoff": f"{year}-12-31", "self_due": f"{year}-12-15"})
    assert opened.status_code == 201
    body = opened.json()
    assert body["year"] == year and body["status"] == "open"
    assert {u["unit_name"] for u in body["units"]} == {"甲区财政局", "乙区财政局", "市教育局"}
    assert (await api.post("office", f"{y}/open", {"cutoff": f"{year}-12-31"})).status_code == 409
    assert (await api.put("office", f"{y}/scheme", DEFAULT)).status_code == 409
    assert (await api.get("office", f"{y}/scheme")).json()["status"] == "frozen"

    # the year: every unit with its total, grade and ranks; each reader sees their scope
    overview = (await api.get("office", y)).json()
    assert {"year", "status", "units", "grades"} <= set(overview)
    for unit in overview["units"]:
        assert {"unit_id", "unit_name", "district", "total", "grade", "rank", "rank_of", "district_rank"} <= set(unit)
        assert unit["rank_of"] == 0  # nobody has scored the manual indicators: nobody is ranked yet
    assert sum(overview["grades"].values()) == 0 and overview["ungraded"] == 3
    assert [u["unit_name"] for u in (await api.get("officer", y)).json()["units"]] == ["甲区财政局"]
    assert [u["unit_name"] for u in (await api.get("district", y)).json()["units"]] == ["甲区财政局"]
    assert (await api.get("assessor", y)).status_code == 200
    assert (await api.get("leader", y)).status_code == 403


async def test_a_district_assessment_opened_with_a_form(client):
    """Last year's scheme created and the assessment opened for 乙区 only, through the pages."""
    world = await make_world()
    year = units.today(world.tenant).year - 1
    await login(client, world.slug, "office")
    token = await csrf(client, f"/t/{world.slug}/assessments/{year}")
    created = await client.post(f"/t/{world.slug}/assessments/{year}/scheme/create", data={"_csrf": token})
    assert created.status_code == 303
    district = world.units["district_b"]["id"]
    opened = await client.post(
        f"/t/{world.slug}/assessments/{year}/open",
        data={"_csrf": token, "cutoff": f"{year}-12-31", "scope": district},
    )
    assert opened.status_code == 303
    api = await Api.of(client, world, "office")
    assert [u["unit_name"] for u in (await api.get("office", f"/assessments/{year}")).json()["units"]] == ["乙区财政局"]
    page = await client.get(opened.headers["location"])
    assert page.status_code == 200 and "乙区财政局" in page.text and "市教育局" not in page.text


async def test_self_assessment_review_finalisation_and_scorecard_over_the_api(client):
    world = await make_world()
    year = units.today(world.tenant).year
    api = await Api.of(client, world, "office", "officer", "leader", "assessor", "inspector", "district")
    y = f"/assessments/{year}"
    a, b = world.units["a_unit"]["id"], world.units["b_unit"]["id"]
    ua, ub = f"{y}/units/{a}", f"{y}/units/{b}"
    assert (await api.post("office", f"{y}/open", {"cutoff": f"{year}-12-31"})).status_code == 201

    # self-assessment by the unit's officer; bad values are 422 naming `score`, and write nothing
    before = await score_rows(world)
    for bad in (10.5, 8.555, -1):
        refused = await api.post("officer", f"{ua}/scores/R3/self", {"score": bad, "note": ""})
        assert refused.status_code == 422 and fields(refused) == {"score"}, bad
    assert (await api.post("officer", f"{ua}/scores/R1/self", {"score": 5})).status_code == 409  # automatic
    assert (await api.post("officer", f"{ua}/scores/ZZ/self", {"score": 5})).status_code == 404
    assert (await api.post("officer", f"{ub}/scores/C/self", {"score": 5})).status_code == 404  # not their unit
    assert (await api.post("assessor", f"{ua}/scores/C/self", {"score": 5})).status_code == 403
    assert (await api.post("leader", f"{ua}/scores/C/self", {"score": 5})).status_code == 403
    assert await score_rows(world) == before
    selves = {"R3": 9, "C": 8.5, "P": 10, "N": 15, "M": 0}
    for code, value in selves.items():
        done = await api.post("officer", f"{ua}/scores/{code}/self", {"score": value, "note": "见附件"})
        assert done.status_code == 201 and done.json()["self_score"] == value
    assert (await api.post("officer", f"{ua}/submit")).status_code == 409  # D is missing
    await api.post("officer", f"{ua}/scores/D/self", {"score": 7.5})
    submitted = await api.post("officer", f"{ua}/submit")
    assert submitted.status_code == 201 and submitted.json()["status"] == "submitted"
    assert (await api.post("officer", f"{ua}/scores/D/self", {"score": 7})).status_code == 409

    # review by the assessor
    assert (await api.post("officer", f"{ua}/scores/C/review", {})).status_code == 403
    assert (await api.post("inspector", f"{ua}/scores/C/review", {})).status_code == 403
    no_reason = await api.post("assessor", f"{ua}/scores/C/review", {"score": 6})
    assert no_reason.status_code == 422 and fields(no_reason) == {"reason"}
    changed = await api.post("assessor", f"{ua}/scores/C/review", {"score": 6, "reason": "定密台账不全"})
    assert changed.status_code == 201 and changed.json()["state"] == "changed"
    for code in ("R3", "P", "N", "M", "D"):
        assert (await api.post("assessor", f"{ua}/scores/{code}/review", {})).status_code == 201
    added = await api.post("assessor", f"{ua}/adjustments", {"kind": "deduction", "item": "major", "note": "抽查"})
    assert added.status_code == 201 and added.json()["points"] == 3
    wrong = await api.post("assessor", f"{ua}/adjustments", {"kind": "deduction", "item": "leak", "note": "x"})
    assert wrong.status_code == 422 and fields(wrong) == {"item"}
    assert (
        await api.post("officer", f"{ua}/adjustments", {"kind": "veto", "item": "leak", "note": "x"})
    ).status_code == 403

    # the unit's result
    assert (await api.get("leader", ua)).status_code == 403
    assert (await api.get("officer", ub)).status_code == 404
    assert (await api.get("district", ub)).status_code == 404
    result = await api.get("officer", ua)
    assert result.status_code == 200
    r = result.json()
    assert {"indicators", "adjustments", "score_sum", "deduction", "veto", "total", "grade", "rank"} <= set(r)
    indicators = {i["code"]: i for i in r["indicators"]}
    for i in r["indicators"]:
        assert {"code", "points", "score", "method", "how", "inputs"} <= set(i)
    assert indicators["C"]["score"] == 6 and "定密台账不全" in indicators["C"]["how"]
    assert indicators["R1"]["method"] == "auto" and indicators["R1"]["inputs"]["expected"] == 2
    auto = sum(indicators[c]["score"] for c in ("R1", "R2", "T1", "T2"))
    manual = sum({**selves, "C": 6, "D": 7.5}.values())
    assert r["score_sum"] == round(auto + manual, 2) and r["deduction"] == 3
    assert r["total"] == round(auto + manual - 3, 2) and r["veto"] is False
    assert [(x["kind"], x["item"], x["points"]) for x in r["adjustments"]] == [("deduction", "major", 3.0)]

    # the scorecard: a PDF with the unit's name and total
    card = await api.get("office", f"{ua}/scorecard.pdf")
    assert card.status_code == 200 and card.headers["content-type"].startswith("application/pdf")
    text = pdf_text(card.content)
    assert "甲区财政局" in text and f"{r['total']:.1f}" in text, text[:500]
    assert (await api.get("leader", f"{ua}/scorecard.pdf")).status_code == 403
    assert (await api.get("officer", f"{ub}/scorecard.pdf")).status_code == 404

    # finalising: the office only, once every unit is reviewed
    for who in ("officer", "leader", "assessor", "district", "inspector"):
        assert (await api.post(who, f"{y}/finalise")).status_code == 403, who
    assert (await api.post("office", f"{y}/finalise")).status_code == 409  # 乙区财政局 and 市教育局 not reviewed
    for unit in (b, world.units["city"]["id"]):
        for code in MANUAL:
            await api.post("office", f"{y}/units/{unit}/scores/{code}/self", {"score": 5})
        await api.post("office", f"{y}/units/{unit}/submit")
        for code in MANUAL:
            await api.post("assessor", f"{y}/units/{unit}/scores/{code}/review", {})
    assert (await api.post("office", f"{ua}/scores/C/correct", {"score": 7, "reason": "x"})).status_code == 409
    # the open year's card downloaded above is kept too: the finalised ones are new files
    folder = kept.folder() / str(world.tenant.uuid)
    open_cards = set(folder.glob(f"scorecard-{year}-*.pdf"))
    final = await api.post("office", f"{y}/finalise")
    assert final.status_code == 201 and final.json()["status"] == "finalised"
    # the year's cards made in the background once it is finalised, then served as made
    for _ in range(600):
        made = sorted(set(folder.glob(f"scorecard-{year}-*.pdf")) - open_cards)
        if len(made) == 3:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the finalised year's cards were not made: {made}")
    premade = next(p.read_bytes() for p in made if p.name.startswith(f"scorecard-{year}-{a}-"))
    assert digest((await api.get("office", f"{ua}/scorecard.pdf")).content) == digest(premade)
    assert (await api.post("office", f"{y}/finalise")).status_code == 409
    assert (await api.post("officer", f"{ua}/scores/C/self", {"score": 1})).status_code == 409
    assert (await api.post("assessor", f"{ua}/scores/C/review", {"score": 1, "reason": "x"})).status_code == 409
    assert (
        await api.post("assessor", f"{ua}/adjustments", {"kind": "veto", "item": "leak", "note": "x"})
    ).status_code == 409

    # corrections: the office, with a reason
    assert (await api.post("assessor", f"{ua}/scores/C/correct", {"score": 7, "reason": "x"})).status_code == 403
    no_reason = await api.post("office", f"{ua}/scores/C/correct", {"score": 7})
    assert no_reason.status_code == 422 and fields(no_reason) == {"reason"}
    fixed = await api.post("office", f"{ua}/scores/C/correct", {"score": 7, "reason": "复核补计"})
    assert fixed.status_code == 201 and fixed.json() == {"indicator": "C", "score": 7.0, "state": "corrected"}
    after = (await api.get("office", ua)).json()
    assert after["total"] == round(r["total"] + 1, 2)
    corrected = await api.get("office", f"{ua}/scorecard.pdf")
    assert digest(corrected.content) != digest(premade) and f"{after['total']:.1f}" in pdf_text(corrected.content)
    assert any(e["kind"] == "corrected" and e["old"] == 6 and e["new"] == 7 for e in after["events"])


async def test_a_non_numeric_score_is_a_422_naming_the_field(client):
    """Bad input over the API is a 422 naming the field, whatever its type."""
    world = await make_world()
    year = units.today(world.tenant).year
    api = await Api.of(client, world, "office")
    await api.post("office", f"/assessments/{year}/open", {"cutoff": f"{year}-12-31"})
    unit = world.units["a_unit"]["id"]
    for bad in ("很好", [8]):
        refused = await api.post("office", f"/assessments/{year}/units/{unit}/scores/C/self", {"score": bad})
        assert refused.status_code == 422 and fields(refused) == {"score"}, (bad, refused.status_code, refused.text)


async def test_pages_workbook_report_and_evidence_uploads(client, make_client):
    world = await make_world()
    year = units.today(world.tenant).year
    api = await Api.of(client, world, "office")
    a = world.units["a_unit"]["id"]
    await api.post("office", f"/assessments/{year}/open", {"cutoff": f"{year}-12-31"})

    # the unit's officer, in a browser: the self-assessment form and evidence uploads
    officer = await make_client()
    await login(officer, world.slug, "officer")
    unit_page = f"/t/{world.slug}/assessments/{year}/units/{a}"
    page = await officer.get(unit_page)
    assert page.status_code == 200 and "甲区财政局" in page.text
    token = await csrf(officer, unit_page)
    form = await officer.post(f"{unit_page}/scores/C/self", data={"_csrf": token, "score": "8", "note": "台账齐全"})
    assert form.status_code == 303
    bad = await officer.post(f"{unit_page}/scores/P/self", data={"_csrf": token, "score": "11", "note": ""})
    assert bad.status_code == 422
    forged = await officer.post(f"{unit_page}/scores/P/self", data={"score": "5"})
    assert forged.status_code == 403

    evidence = f"{unit_page}/scores/C/evidence"
    before = await evidence_count(world)
    garbage = await officer.post(
        evidence, data={"_csrf": token}, files={"file": ("scan.pdf", b"not a pdf", "application/pdf")}
    )
    assert garbage.status_code == 422
    huge = b"%PDF-1.7\n" + b"0" * MAX_EVIDENCE
    too_large = await officer.post(
        evidence, data={"_csrf": token}, files={"file": ("big.pdf", huge, "application/pdf")}
    )
    assert too_large.status_code == 422 and "8 MB" in too_large.text
    auto = await officer.post(
        f"{unit_page}/scores/R1/evidence",
        data={"_csrf": token},
        files={"file": ("a.pdf", b"%PDF-1.7\n", "application/pdf")},
    )
    assert auto.status_code == 409
    other = f"/t/{world.slug}/assessments/{year}/units/{world.units['b_unit']['id']}/scores/C/evidence"
    outside = await officer.post(
        other, data={"_csrf": token}, files={"file": ("a.pdf", b"%PDF-1.7\n", "application/pdf")}
    )
    assert outside.status_code == 404
    assert await evidence_count(world) == before
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    ok = await officer.post(evidence, data={"_csrf": token}, files={"file": ("photo.pdf", png, "application/pdf")})
    assert ok.status_code == 303
    pdf = await officer.post(
        evidence, data={"_csrf": token}, files={"file": ("minutes.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")}
    )
    assert pdf.status_code == 303
    listed = {
        e["filename"]: e["content_type"]
        for e in next(
            i
            for i in (await api.get("office", f"/assessments/{year}/units/{a}")).json()["indicators"]
            if i["code"] == "C"
        )["evidence"]
    }
    assert listed == {"photo.pdf": "image/png", "minutes.pdf": "application/pdf"}
    assert await evidence_count(world) == before + 2

    # the office's pages: the year, the workbook, the annual report
    await login(client, world.slug, "office")
    index = await client.get(f"/t/{world.slug}/assessments?year={year}", follow_redirects=True)
    assert index.status_code == 200
    assert all(name in index.text for name in ("甲区财政局", "乙区财政局", "市教育局"))
    unit = await client.get(unit_page)
    assert unit.status_code == 200 and "台账齐全" in unit.text
    book = await client.get(f"/t/{world.slug}/assessments/{year}/scores.xlsx")
    assert book.status_code == 200 and book.content[:2] == b"PK"
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(book.content)).active.iter_rows()]
    by_unit = {row[1]: row for row in rows[1:]}
    assert set(by_unit) == {"甲区财政局", "乙区财政局", "市教育局"}
    totals = {u["unit_name"]: u["total"] for u in (await api.get("office", f"/assessments/{year}")).json()["units"]}
    assert all(totals[name] in row for name, row in by_unit.items())
    report = await client.get(f"/t/{world.slug}/assessments/{year}/report.pdf")
    assert report.status_code == 200 and report.headers["content-type"].startswith("application/pdf")
    assert "甲区财政局" in pdf_text(report.content)

    # the officer's workbook holds their unit only; the leader sees no assessment pages
    mine = await officer.get(f"/t/{world.slug}/assessments/{year}/scores.xlsx")
    names = {c.value for row in openpyxl.load_workbook(io.BytesIO(mine.content)).active.iter_rows() for c in row}
    assert "甲区财政局" in names and "乙区财政局" not in names
    leader = await make_client("10.9.9.8")
    await login(leader, world.slug, "leader")
    assert (await leader.get(f"/t/{world.slug}/assessments/{year}")).status_code == 403
