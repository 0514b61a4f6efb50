"""Archive clearing projects and the pilot's statistics: a project created (the bureau's or
a unit's), batches recorded (in the project's unit and the actor's scope, refused once the
project is closed), closed once (two closes at once: one wins), who sees which project and
batch, totals and who cleared what, the year's statistics by item year, unit and level with
the register's decisions of the year, bad input named by field, another tenant's project,
the audit trail and the pages. And the assessment's classification indicator computed from
the year's review and the consultations answered on time.

Items, decisions, reviews and consultations are written to their tables directly (they are
other parts' services): the figures here only read them."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from server import db, events
from server.assessment import cycle, results
from server.assessment.scheme import DEFAULT
from server.audit.tables import AuditEvent
from server.declassification import clearing
from server.declassification.tables import ClassifiedItem, ClearingEntry, Consultation, Decision, Review
from server.units import service as units
from tests.conftest import SYSTEM, csrf, login
from tests.factories import Api, make_user, make_world
from tests.helpers import post_form


def today(world) -> date:
    return units.today(world.tenant)


async def unit_pk(world, key: str) -> int:
    async with db.transaction(world.tenant.id, write=False):
        return await units.unit_pk(world.tenant, SYSTEM, world.units[key]["id"])


async def officer_of_b(world) -> None:
    world.users["officer_b"] = await make_user(
        world.tenant, "officer_b", "unit_officer", scope_unit_id=world.units["b_unit"]["id"]
    )


async def audits(world, action: str) -> list[dict]:
    async with db.transaction(world.tenant.id, write=False):
        return (
            await AuditEvent.select()
            .where(AuditEvent.tenant == world.tenant.id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
            .output(load_json=True)
        )


async def add_item(world, unit: str = "a_unit", **extra) -> dict:
    values = {
        "tenant": world.tenant.id,
        "reference": extra.pop("reference", f"密-{unit}"),
        "public_title": "某事项",
        "level": "secret",
        "classified_on": date(2012, 5, 1),
        "term_kind": "years",
        "term_years": 20,
        "term_ends_on": date(2032, 4, 30),
        "custodian_unit": await unit_pk(world, unit),
        **extra,
    }
    async with db.transaction(world.tenant.id):
        row = ClassifiedItem(**values)
        await row.save()
    async with db.transaction(world.tenant.id, write=False):
        return await ClassifiedItem.select().where(ClassifiedItem.id == row.id).first()


async def add_decision(world, item: dict, kind: str, **extra) -> None:
    async with db.transaction(world.tenant.id):
        await Decision(
            tenant=world.tenant.id,
            item=item["id"],
            decision=kind,
            basis="依据",
            status=extra.pop("status", "approved"),
            proposed_by_id=1,
            **extra,
        ).save()


def figures(documents: int, kept: int, declassified: int, corrected: int) -> dict:
    return {"documents": documents, "kept": kept, "declassified": declassified, "corrected": corrected}


def only(row: dict) -> dict:
    return {k: row[k] for k in ("documents", "kept", "declassified", "corrected")}


# ---------------------------------------------------------------- projects and batches


async def test_projects_batches_totals_scope_and_close(env, client):
    world = await make_world()
    await officer_of_b(world)
    api = await Api.of(client, world, "office", "officer", "officer_b", "district", "leader")
    year = today(world).year
    a_unit, b_unit = world.units["a_unit"]["id"], world.units["b_unit"]["id"]

    made = await api.post("officer", "/clearing-projects", {"name": "甲区财政局档案清理"})
    assert made.status_code == 201, made.text
    project = made.json()
    assert (project["unit_id"], project["year"], project["status"]) == (a_unit, year, "open")
    assert project["totals"] == figures(0, 0, 0, 0)
    url = f"/clearing-projects/{project['id']}"
    batches = [
        {"level": "secret", "item_year": 2015, "outcome": "declassified", "count": 120},
        {"level": "secret", "item_year": 2015, "outcome": "kept", "count": 300},
        {"level": "confidential", "item_year": 2016, "outcome": "corrected", "count": 7, "unit_id": a_unit},
    ]
    for body in batches:
        answer = await api.post("officer", f"{url}/entries", body)
        assert answer.status_code == 201, answer.text
    assert answer.json()["unit_name"] == "甲区财政局" and answer.json()["cleared_by"]
    assert answer.json()["project_id"] == project["id"]
    # an item of the register gives the batch its unit, level and year
    item = await add_item(world, reference="A-9", level="top_secret")
    by_item = await api.post("office", f"{url}/entries", {"item_id": str(item["uuid"]), "outcome": "kept"})
    assert by_item.status_code == 201, by_item.text
    assert (by_item.json()["level"], by_item.json()["item_year"], by_item.json()["count"]) == ("top_secret", 2012, 1)
    assert by_item.json()["item_reference"] == "A-9"

    # outside the project's unit, another unit's item, another officer's project
    wrong = await api.post("office", f"{url}/entries", {**batches[0], "unit_id": b_unit})
    assert wrong.status_code == 422 and [e["field"] for e in wrong.json()["errors"]] == ["unit_id"]
    other_item = await add_item(world, "b_unit", reference="B-1")
    wrong = await api.post("office", f"{url}/entries", {"item_id": str(other_item["uuid"]), "outcome": "kept"})
    assert wrong.status_code == 422 and [e["field"] for e in wrong.json()["errors"]] == ["unit_id"]
    assert (await api.get("officer_b", url)).status_code == 404
    assert (await api.post("officer_b", f"{url}/entries", batches[0])).status_code == 404
    assert (await api.post("officer_b", f"{url}/close")).status_code == 404
    assert (await api.get("leader", url)).status_code == 403
    assert (await api.post("leader", "/clearing-projects", {"name": "x"})).status_code == 403

    detail = (await api.get("district", url)).json()
    assert detail["totals"] == figures(428, 301, 120, 7)
    assert detail["entries"]["total"] == 4
    assert [(e["outcome"], e["count"]) for e in detail["entries"]["items"]][-1] == ("declassified", 120)
    # who cleared what: the officer's three batches, the office's one
    assert [only(r) for r in detail["by_person"]] == [figures(427, 300, 120, 7), figures(1, 1, 0, 0)]
    assert len({r["cleared_by"] for r in detail["by_person"]}) == 2
    assert [(u["unit_name"], only(u)) for u in detail["by_unit"]] == [("甲区财政局", figures(428, 301, 120, 7))]

    # the bureau's project: every reader sees it, each only the batches of their units
    bureau = (await api.post("office", "/clearing-projects", {"name": "市档案馆清理", "year": year - 1})).json()
    assert bureau["unit_id"] is None
    burl = f"/clearing-projects/{bureau['id']}"
    body = {"level": "secret", "item_year": 2001, "outcome": "declassified", "count": 9}
    assert (await api.post("office", f"{burl}/entries", {**body, "unit_id": b_unit})).status_code == 201
    assert (await api.post("officer", f"{burl}/entries", body)).status_code == 201  # their own unit
    refused = await api.post("officer", f"{burl}/entries", {**body, "unit_id": b_unit})
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["unit_id"]
    no_unit = await api.post("office", f"{burl}/entries", body)
    assert no_unit.status_code == 422 and [e["field"] for e in no_unit.json()["errors"]] == ["unit_id"]
    assert (await api.get("office", burl)).json()["totals"]["documents"] == 18
    assert (await api.get("officer", burl)).json()["totals"]["documents"] == 9
    assert (await api.get("officer_b", burl)).json()["totals"]["documents"] == 9
    assert (await api.post("officer", f"{burl}/close")).status_code == 403  # the bureau's: the office's

    listed = await api.get("officer", "/clearing-projects")
    assert listed.status_code == 200
    assert [(p["name"], p["totals"]["documents"]) for p in listed.json()["items"]] == [
        ("甲区财政局档案清理", 428),
        ("市档案馆清理", 9),
    ]
    assert [p["name"] for p in (await api.get("officer_b", "/clearing-projects")).json()["items"]] == ["市档案馆清理"]
    assert [p["name"] for p in (await api.get("office", "/clearing-projects", year=year - 1)).json()["items"]] == [
        "市档案馆清理"
    ]
    bad = await api.get("office", "/clearing-projects", status="done")
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["status"]

    # a district admin: a project for a unit of their district, none for another district's
    assert (await api.post("district", "/clearing-projects", {"name": "乙", "unit_id": b_unit})).status_code == 422
    mine = await api.post("district", "/clearing-projects", {"name": "甲区", "unit_id": a_unit})
    assert mine.status_code == 201 and mine.json()["unit_name"] == "甲区财政局"

    # closed: once, and no more batches
    closed = await api.post("officer", f"{url}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert (await api.post("officer", f"{url}/close")).status_code == 409
    late = await api.post("officer", f"{url}/entries", batches[0])
    assert late.status_code == 409 and late.json()["detail"]
    assert (await api.get("office", url)).json()["totals"]["documents"] == 428

    assert [a["object_id"] for a in await audits(world, "declass.clearing_create")] == [
        project["id"],
        bureau["id"],
        mine.json()["id"],
    ]
    recorded = await audits(world, "declass.clearing_record")
    assert len(recorded) == 6 and all(a["object_type"] == "clearing_project" for a in recorded)
    assert recorded[0]["detail"]["count"] == 120 and recorded[0]["detail"]["outcome"] == "declassified"
    assert [a["object_id"] for a in await audits(world, "declass.clearing_close")] == [project["id"]]


async def test_bad_batches_are_named_by_field_and_write_nothing(env, client):
    world = await make_world()
    api = await Api.of(client, world, "officer")
    project = (await api.post("officer", "/clearing-projects", {"name": "清理"})).json()
    url = f"/clearing-projects/{project['id']}/entries"
    bad = await api.post(
        "officer", url, {"level": "secret-ish", "item_year": "二〇一五", "outcome": "burnt", "count": 0}
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"level", "item_year", "outcome", "count"}
    missing = await api.post("officer", url, {})
    assert {e["field"] for e in missing.json()["errors"]} == {"level", "item_year", "outcome"}
    too_many = await api.post(
        "officer", url, {"level": "secret", "item_year": 2015, "outcome": "kept", "count": 1_000_001}
    )
    assert [e["field"] for e in too_many.json()["errors"]] == ["count"]
    future = today(world) + timedelta(days=1)
    later = await api.post(
        "officer", url, {"level": "secret", "item_year": 2015, "outcome": "kept", "cleared_on": future.isoformat()}
    )
    assert [e["field"] for e in later.json()["errors"]] == ["cleared_on"]
    early = await api.post("officer", url, {"level": "secret", "item_year": 1900, "outcome": "kept"})
    assert [e["field"] for e in early.json()["errors"]] == ["item_year"]
    assert (await api.post("officer", url, {"level": "secret", "extra": 1})).status_code == 400
    nameless = await api.post("officer", "/clearing-projects", {"name": " ", "year": 1999})
    assert {e["field"] for e in nameless.json()["errors"]} == {"name", "year"}
    async with db.transaction(world.tenant.id, write=False):
        assert await ClearingEntry.select().where(ClearingEntry.tenant == world.tenant.id) == []
    assert await audits(world, "declass.clearing_record") == []


async def test_another_tenants_project_is_not_found(env, client):
    world, other = await make_world(), await make_world("另一市保密局")
    theirs = await Api.of(client, other, "office")
    project = (await theirs.post("office", "/clearing-projects", {"name": "他们的"})).json()
    api = await Api.of(client, world, "office")
    url = f"/clearing-projects/{project['id']}"
    assert (await api.get("office", url)).status_code == 404
    body = {"level": "secret", "item_year": 2015, "outcome": "kept"}
    assert (await api.post("office", f"{url}/entries", body)).status_code == 404
    assert (await api.post("office", f"{url}/close")).status_code == 404
    assert (await api.get("office", "/clearing-projects/not-an-id")).status_code == 404
    assert (await api.get("office", "/clearing-projects")).json()["total"] == 0


async def test_two_closes_at_once_one_wins_and_a_batch_racing_a_close(env, client, monkeypatch):
    world = await make_world()
    api = await Api.of(client, world, "office", "officer")
    project = (await api.post("officer", "/clearing-projects", {"name": "清理"})).json()
    url = f"/clearing-projects/{project['id']}"
    original, barrier, calls = clearing._project, asyncio.Barrier(2), []

    async def both_looked(*args):
        found = await original(*args)
        calls.append(1)
        if len(calls) <= 2:
            await asyncio.wait_for(barrier.wait(), 10)  # the first two calls: both read it open
        return found

    if env.kind == "postgres":  # SQLite's write transactions take turns anyway
        monkeypatch.setattr(clearing, "_project", both_looked)
    answers = await asyncio.gather(api.post("office", f"{url}/close"), api.post("officer", f"{url}/close"))
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert len(await audits(world, "declass.clearing_close")) == 1

    second = (await api.post("officer", "/clearing-projects", {"name": "清理二"})).json()
    url = f"/clearing-projects/{second['id']}"
    calls.clear()
    body = {"level": "secret", "item_year": 2015, "outcome": "kept", "count": 3}
    record, close = await asyncio.gather(
        api.post("officer", f"{url}/entries", body), api.post("office", f"{url}/close")
    )
    assert close.status_code == 200 and record.status_code in (201, 409)
    detail = (await api.get("office", url)).json()
    # a batch is in only when it was accepted: none slips in after the close was refused to it
    assert detail["totals"]["documents"] == (3 if record.status_code == 201 else 0)
    assert detail["status"] == "closed"


# ---------------------------------------------------------------- statistics


async def test_statistics_of_a_year_by_item_year_unit_and_level_in_scope(env, client):
    world = await make_world()
    await officer_of_b(world)
    api = await Api.of(client, world, "office", "officer", "officer_b", "district", "leader")
    day = today(world)
    year = day.year
    a_unit, b_unit, city = world.units["a_unit"]["id"], world.units["b_unit"]["id"], world.units["city"]["id"]
    bureau = (await api.post("office", "/clearing-projects", {"name": "试点清理"})).json()
    url = f"/clearing-projects/{bureau['id']}/entries"
    last_year = date(year - 1, 12, 31).isoformat()
    for unit, level, item_year, outcome, count, cleared_on in (
        (a_unit, "secret", 2010, "declassified", 590, None),
        (a_unit, "secret", 2010, "kept", 1910, None),
        (a_unit, "confidential", 2011, "corrected", 79, None),
        (b_unit, "secret", 2011, "declassified", 331, None),
        (b_unit, "top_secret", 2008, "kept", 1588, None),
        (city, "confidential", 2010, "corrected", 2000, None),
        (a_unit, "secret", 2010, "declassified", 1000, last_year),  # last year's: not counted
    ):
        body = {"unit_id": unit, "level": level, "item_year": item_year, "outcome": outcome, "count": count}
        answer = await api.post("office", url, {**body, **({"cleared_on": cleared_on} if cleared_on else {})})
        assert answer.status_code == 201, answer.text
    # the register's decisions of the year (and some that do not count)
    items = [await add_item(world, reference=f"A-{i}") for i in range(6)]
    b_item = await add_item(world, "b_unit", reference="B-1", level="confidential")
    await add_decision(world, items[0], "declassify", effective_on=day)
    await add_decision(world, items[1], "declassify", effective_on=day, part="第三部分")
    await add_decision(world, items[2], "extend", approved_at=datetime.now(UTC))  # no date: the approval's
    await add_decision(world, items[3], "change_level", effective_on=day)
    await add_decision(world, items[4], "correct", effective_on=day)
    await add_decision(world, items[5], "declassify", effective_on=day, status="proposed")  # not approved
    await add_decision(world, items[5], "declassify", effective_on=date(year - 1, 6, 1))  # last year
    await add_decision(world, b_item, "declassify", effective_on=day)
    await add_item(world, reference="A-exp", status="expired", declassified_on=day)
    await add_item(world, "b_unit", reference="B-exp", status="expired", declassified_on=date(year - 1, 3, 1))

    async def stats(who: str, **params) -> dict:
        answer = await api.get(who, "/declassification/statistics", **params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    office = await stats("office")
    assert office["year"] == year and office["unit_id"] is None and office["level"] == ""
    clear = office["clearing"]
    assert clear["totals"] == figures(6498, 3498, 921, 2079)
    assert [(r["item_year"], only(r)) for r in clear["by_item_year"]] == [
        (2008, figures(1588, 1588, 0, 0)),
        (2010, figures(4500, 1910, 590, 2000)),
        (2011, figures(410, 0, 331, 79)),
    ]
    assert [(r["unit_name"], only(r)) for r in clear["by_unit"]] == [
        ("甲区财政局", figures(2579, 1910, 590, 79)),
        ("乙区财政局", figures(1919, 1588, 331, 0)),
        ("市教育局", figures(2000, 0, 0, 2000)),
    ]
    assert [(r["level"], only(r)) for r in clear["by_level"]] == [
        ("top_secret", figures(1588, 1588, 0, 0)),
        ("secret", figures(2831, 1910, 921, 0)),
        ("confidential", figures(2079, 0, 0, 2079)),
    ]
    assert office["register"] == {
        "declassified_by_decision": 3,
        "declassified_in_part": 1,
        "declassified_by_expiry": 1,
        "extended": 1,
        "level_changed": 1,
        "corrected": 1,
    }
    # a district admin their district, an officer their unit
    district = await stats("district")
    assert [r["unit_name"] for r in district["clearing"]["by_unit"]] == ["甲区财政局"]
    assert district["clearing"]["totals"] == figures(2579, 1910, 590, 79)
    assert district["register"]["declassified_by_decision"] == 2
    officer_b = await stats("officer_b")
    assert officer_b["clearing"]["totals"] == figures(1919, 1588, 331, 0)
    assert officer_b["register"]["declassified_by_decision"] == 1 and officer_b["register"]["extended"] == 0
    # narrowed to a unit and a level; another year
    narrowed = await stats("office", unit=a_unit, level="secret")
    assert narrowed["unit_name"] == "甲区财政局" and narrowed["unit_id"] == a_unit
    assert narrowed["clearing"]["totals"] == figures(2500, 1910, 590, 0)
    assert narrowed["register"]["declassified_by_decision"] == 2 and narrowed["register"]["declassified_by_expiry"] == 1
    before = await stats("office", year=year - 1)
    assert before["clearing"]["totals"] == figures(1000, 0, 1000, 0)
    assert before["register"]["declassified_by_decision"] == 1 and before["register"]["declassified_by_expiry"] == 1
    # refused: a unit outside the scope, a wrong level or year; a leader
    outside = await api.get("officer", "/declassification/statistics", unit=b_unit)
    assert outside.status_code == 422 and [e["field"] for e in outside.json()["errors"]] == ["unit"]
    bad = await api.get("office", "/declassification/statistics", level="secretish", year="1999")
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"level", "year"}
    assert (await api.get("leader", "/declassification/statistics")).status_code == 403


# ---------------------------------------------------------------- pages


async def test_the_pages_of_projects_batches_and_statistics(env, client):
    world = await make_world()
    await login(client, world.slug, "officer")
    t = f"/t/{world.slug}"
    index = await client.get(f"{t}/declassification/clearing")
    assert index.status_code == 200 and 'id="new-project"' in index.text
    token = await csrf(client, f"{t}/declassification/clearing")
    refused = await post_form(client, f"{t}/declassification/clearing", token, name="", year="2025")
    assert refused.status_code == 422 and 'id="name-error"' in refused.text
    made = await post_form(
        client, f"{t}/declassification/clearing", token, name="档案清理", year=str(today(world).year)
    )
    assert made.status_code == 303
    project_url = made.headers["location"]
    page = await client.get(project_url)
    assert page.status_code == 200 and "档案清理" in page.text and 'id="new-batch"' in page.text
    fields = {"level": "secret", "item_year": "2014", "outcome": "declassified", "count": "25"}
    wrong = await post_form(client, f"{project_url}/entries", token, **{**fields, "count": "0"})
    assert wrong.status_code == 422 and 'id="count-error"' in wrong.text
    done = await post_form(client, f"{project_url}/entries", token, **fields)
    assert done.status_code == 303 and done.headers["location"] == project_url
    page = await client.get(project_url)
    assert "25" in page.text and "2014" in page.text
    closed = await post_form(client, f"{project_url}/close", token)
    assert closed.status_code == 303
    late = await post_form(client, f"{project_url}/entries", token, **fields)
    assert late.status_code == 409 and 'role="alert"' in late.text
    assert 'id="new-batch"' not in (await client.get(project_url)).text
    stats = await client.get(f"{t}/declassification/statistics")
    assert stats.status_code == 200 and "<svg" in stats.text and "25" in stats.text
    bad = await client.get(f"{t}/declassification/statistics?level=nope")
    assert bad.status_code == 422 and 'id="level-error"' in bad.text
    listed = await client.get(f"{t}/declassification/clearing?status=closed")
    assert listed.status_code == 200 and "档案清理" in listed.text


# ---------------------------------------------------------------- into the assessment

AUTO_C = {
    **DEFAULT,
    "indicators": [
        {**i, "method": "auto", "source": "declassification"} if i["code"] == "C" else i for i in DEFAULT["indicators"]
    ],
}


async def test_the_classification_indicator_follows_reviews_and_consultations(env):
    """甲区财政局: 4 items still classified, 1 reviewed this year (a quarter); of the
    consultations put to it whose deadline fell this year and came due, 1 of 2 answered on
    time (a half): 10 points x (1/4 + 1/2) / 2 = 3.75. 乙区财政局 has three items and
    none of its items reviewed: nothing. More reviews raise the score as soon as the register
    says its inputs changed (events.INDICATOR_INPUTS), another answer at the next recompute."""
    world = await make_world()
    t = world.tenant
    day = today(world)
    year = day.year
    if day == date(year, 1, 1):
        pytest.skip("needs a day of this year before today")
    office = await _actor(world, "office")
    items = [await add_item(world, reference=f"A-{i}") for i in range(4)]
    await add_item(world, reference="A-done", status="declassified")  # no longer classified: not counted
    b_items = [await add_item(world, "b_unit", reference=f"B-{i}") for i in range(3)]
    await _review(world, items[0], day)
    await _review(world, items[1], date(year - 1, 12, 1))  # last year's review
    a_pk = await unit_pk(world, "a_unit")
    past = day - timedelta(days=1)
    await _consult(world, b_items[0], a_pk, deadline=past, answered=past)  # answered on time
    await _consult(world, b_items[1], a_pk, deadline=past, answered=None)  # overdue (or due today): counted
    await _consult(world, b_items[2], a_pk, deadline=date(year, 12, 31), answered=None)  # not yet due
    async with db.transaction(t.id):
        await cycle.save_scheme(t, office, year, AUTO_C)
        await cycle.open_assessment(t, office, year, {"cutoff": f"{year}-12-31"})

    async def score(unit: str) -> dict:
        async with db.transaction(t.id):
            found = await results.unit_result(t, office, year, world.units[unit]["id"])
        return next(i for i in found["indicators"] if i["code"] == "C")

    c = await score("a_unit")
    assert c["method"] == "auto"
    assert (c["inputs"]["items"], c["inputs"]["reviewed"]) == (4, 1)
    assert (c["inputs"]["consultations"], c["inputs"]["answered"]) == (2, 1)
    assert c["score"] == 3.75
    assert "1" in c["how"] and "4" in c["how"]
    b = await score("b_unit")
    assert (b["inputs"]["items"], b["inputs"]["reviewed"], b["inputs"]["consultations"]) == (3, 0, 0)
    assert b["score"] == 0.0  # three items, none reviewed; no consultations put to it
    city = await score("city")
    assert city["score"] == 10.0  # nothing to count: full points

    for item in items[1:]:
        await _review(world, item, day)
    # what the register publishes when a review is recorded or a consultation answered
    async with db.transaction(t.id):
        await events.publish(events.INDICATOR_INPUTS, t, people=[], units=[a_pk])
    c = await score("a_unit")
    assert c["score"] == 7.5  # every item reviewed, half the consultations on time
    await _consult(world, items[0], a_pk, deadline=past, answered=past)  # a third, answered on time
    async with db.transaction(t.id):
        await cycle.recompute(t, office, year)
    assert (await score("a_unit"))["score"] == round(10 * (1 + 2 / 3) / 2, 2)


async def _actor(world, key: str):
    from server.accounts import service as accounts

    async with db.transaction(world.tenant.id):
        row = await accounts.user_by_username(world.tenant, world.users[key]["username"])
        return accounts.actor_for(world.tenant, row)


async def _review(world, item: dict, on: date) -> None:
    async with db.transaction(world.tenant.id):
        await Review(tenant=world.tenant.id, item=item["id"], year=on.year, outcome="keep", reviewed_on=on).save()


async def _consult(world, item: dict, unit: int, *, deadline: date, answered: date | None) -> None:
    at = datetime(answered.year, answered.month, answered.day, 12, tzinfo=UTC) if answered else None
    async with db.transaction(world.tenant.id):
        await Consultation(
            tenant=world.tenant.id,
            item=item["id"],
            originating_unit=unit,
            deadline=deadline,
            status="answered" if answered else "open",
            answer="agree" if answered else "",
            answered_at=at,
        ).save()
