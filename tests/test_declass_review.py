"""The register's expiry and review: the daily scan's lead time to the day, each stage once
per item (a scan run twice, two scans at once), escalation at 60 days, 自行解密 the day
after the end with its audit and date, items a decision settled or with a condition never
expired, the tenant's lead time never below 90 days, the due list and its scope, the
review tasks, the year's review once per item and year, and its progress by unit.

Items are written to the register table directly (the register's own rules are tested in
test_declass_register.py), as are the decisions that settle an item (status, a new term)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from server import db
from server.audit.tables import AuditEvent
from server.core.errors import ValidationFailed
from server.declassification import review, tasks
from server.declassification.tables import ClassifiedItem, Review, ReviewTask
from server.reminders import service as reminders
from server.units import service as units
from tenants.tables import Tenant
from tests.conftest import SYSTEM, csrf, login
from tests.factories import Api, make_user, make_world
from tests.helpers import post_form
from tests.test_reminders import at, names, reminder_rows, set_rules


def today(world) -> date:
    return units.today(world.tenant)


async def unit_pk(world, key: str) -> int:
    async with db.transaction(world.tenant.id, write=False):
        return await units.unit_pk(world.tenant, SYSTEM, world.units[key]["id"])


async def person_pk(world, key: str) -> int:
    async with db.transaction(world.tenant.id, write=False):
        return await units.person_pk(world.tenant, SYSTEM, world.people[key]["id"])


async def add_item(world, ends_on: date | None, unit: str = "a_unit", **extra) -> dict:
    """An item of the register ending on `ends_on` (None: on a condition)."""
    values = {
        "tenant": world.tenant.id,
        "reference": extra.pop("reference", f"密-{ends_on or 'cond'}-{unit}"),
        "public_title": "某事项",
        "level": "secret",
        "classified_on": date(2010, 1, 1),
        "term_kind": "date" if ends_on else "condition",
        "term_until": ends_on,
        "term_condition": "" if ends_on else "工程完工",
        "term_ends_on": ends_on,
        "custodian_unit": await unit_pk(world, unit),
        **extra,
    }
    async with db.transaction(world.tenant.id):
        row = ClassifiedItem(**values)
        await row.save()
    return await item_row(world, row.id)


async def item_row(world, pk: int) -> dict:
    async with db.transaction(world.tenant.id, write=False):
        return await ClassifiedItem.select().where(ClassifiedItem.id == pk).first()


async def scan(world, day: date) -> dict:
    async with db.transaction(world.tenant.id):
        return await review.scan(world.tenant, day)


async def tasks_of(world, item: dict) -> list[dict]:
    async with db.transaction(world.tenant.id, write=False):
        return await ReviewTask.select().where(ReviewTask.item == item["id"]).order_by(ReviewTask.id)


async def audit_of(world, item: dict, action: str) -> list[dict]:
    async with db.transaction(world.tenant.id, write=False):
        return (
            await AuditEvent.select()
            .where(
                AuditEvent.tenant == world.tenant.id,
                AuditEvent.action == action,
                AuditEvent.object_id == str(item["uuid"]),
            )
            .output(load_json=True)
        )


async def task_audits(world, item: dict) -> int:
    async with db.transaction(world.tenant.id, write=False):
        rows = await AuditEvent.select(AuditEvent.detail).where(
            AuditEvent.tenant == world.tenant.id, AuditEvent.action == "declass.task_open"
        )
    return sum(1 for r in rows if str(item["uuid"]) in str(r["detail"]))


async def set_lead(world, days) -> None:
    async with db.transaction(None):
        row = await Tenant.select(Tenant.settings).where(Tenant.id == world.tenant.id).output(load_json=True).first()
        await Tenant.update({Tenant.settings: {**row["settings"], review.SETTING: days}}).where(
            Tenant.id == world.tenant.id
        )


async def officer_of_b(world) -> None:
    """An officer of the other district's unit, as `officer_b` of the world's users."""
    world.users["officer_b"] = await make_user(
        world.tenant, "officer_b", "unit_officer", scope_unit_id=world.units["b_unit"]["id"]
    )


async def change(world, item: dict, **values) -> None:
    """What a decision (another part's) does to the item, written directly."""
    async with db.transaction(world.tenant.id):
        await ClassifiedItem.update({getattr(ClassifiedItem, k): v for k, v in values.items()}).where(
            ClassifiedItem.id == item["id"]
        )


# ---------------------------------------------------------------- the scan


async def test_the_lead_time_to_the_day(env):
    world = await make_world()
    day = today(world)
    items = {n: await add_item(world, day + timedelta(days=n)) for n in (89, 90, 91)}
    assert await scan(world, day) == {"reminded": 2, "escalated": 0, "expired": 0}
    for n, item in items.items():
        row, found = await item_row(world, item["id"]), await tasks_of(world, item)
        if n <= 90:
            assert row["expiry_stage"] == 1
            assert [(t["kind"], t["status"], t["escalation"], t["due_on"]) for t in found] == [
                ("expiry", "open", 0, day + timedelta(days=n))
            ]
        else:
            assert row["expiry_stage"] == 0 and found == []
    # the next day the 91-day item is due; the others are not reminded again
    assert await scan(world, day + timedelta(days=1)) == {"reminded": 1, "escalated": 0, "expired": 0}


async def test_stage_one_once_when_run_twice_and_two_scans_at_once(env):
    world = await make_world()
    day = today(world)
    lead = await person_pk(world, "a_lead")
    item = await add_item(world, day + timedelta(days=80), responsible_person=lead)
    other = await add_item(world, day + timedelta(days=85), unit="b_unit")

    async def one_scan() -> dict:
        async with db.transaction(world.tenant.id):
            return await review.scan(world.tenant, day)

    found = await asyncio.gather(one_scan(), one_scan())
    assert sorted(f["reminded"] for f in found) == [0, 2]
    assert await scan(world, day) == {"reminded": 0, "escalated": 0, "expired": 0}
    for i in (item, other):
        assert len(await tasks_of(world, i)) == 1
        assert await task_audits(world, i) == 1
    # one reminder set: the unit's officer and the responsible person, once, however often generated
    await set_rules(world.tenant, declass_due={})
    for hour in (9, 15):
        async with db.transaction(world.tenant.id):
            await reminders.generate(world.tenant, env.settings, at(day, hour))
    who = await names(world.tenant)
    made = [
        (r["subject"], who[r["recipient"]]) for r in await reminder_rows(world.tenant) if r["kind"] == "declass_due"
    ]
    stem = f"declass:{item['uuid']}"
    assert sorted(m for m in made if m[0].startswith(stem)) == [(stem, "officer"), (f"{stem}:lead", "李四")]
    assert len(made) == len(set(made))


async def test_two_scans_that_both_found_the_items_claim_each_once(env, monkeypatch):
    """Both scans pass the search before either claims (PostgreSQL: SQLite's write lock
    already keeps the second out until the first commits): the conditional UPDATE alone
    gives each stage to one of them."""
    if env.kind != "postgres":
        pytest.skip("PostgreSQL only")
    world = await make_world()
    day = today(world)
    items = [await add_item(world, day + timedelta(days=n)) for n in (30, 70, -3)]
    barrier = asyncio.Barrier(2)

    async def found_unlocked(tenant, marks):
        rows = await ClassifiedItem.select(ClassifiedItem.id).where(
            ClassifiedItem.tenant == tenant.id, ClassifiedItem.term_ends_on <= marks[review.LEAD]
        )
        await asyncio.wait_for(barrier.wait(), 10)
        return [r["id"] for r in rows]

    monkeypatch.setattr(review, "_due", found_unlocked)

    async def one_scan() -> dict:
        async with db.transaction(world.tenant.id):
            return await review.scan(world.tenant, day)

    found = await asyncio.gather(one_scan(), one_scan())
    assert sorted(f["reminded"] for f in found) == [0, 3]
    assert sorted(f["expired"] for f in found) == [0, 1]
    for item in items:
        assert len(await tasks_of(world, item)) == 1
    assert len(await audit_of(world, items[2], "declass.expired")) == 1


async def test_stage_two_escalates_to_the_principal_at_sixty_days(env):
    world = await make_world()
    day = today(world)
    at_60 = await add_item(world, day + timedelta(days=60))
    at_61 = await add_item(world, day + timedelta(days=61))
    assert await scan(world, day) == {"reminded": 2, "escalated": 1, "expired": 0}
    assert (await item_row(world, at_60["id"]))["expiry_stage"] == 2
    assert [t["escalation"] for t in await tasks_of(world, at_60)] == [1]
    assert [t["escalation"] for t in await tasks_of(world, at_61)] == [0]
    assert [e["detail"]["to"] for e in await audit_of(world, at_60, "declass.escalate")] == ["principal"]
    assert await scan(world, day + timedelta(days=1)) == {"reminded": 0, "escalated": 1, "expired": 0}
    assert len(await audit_of(world, at_60, "declass.escalate")) == 1
    # the principal hears of it once escalated; the officer goes on hearing
    await set_rules(world.tenant, declass_due={})
    async with db.transaction(world.tenant.id):
        await reminders.generate(world.tenant, env.settings, at(day))
    who = await names(world.tenant)
    made = {(r["subject"], who[r["recipient"]]) for r in await reminder_rows(world.tenant)}
    assert (f"declass:{at_60['uuid']}:head", "张三") in made
    assert not any(s == f"declass:{at_61['uuid']}:head" for s, _w in made)


async def test_declassified_by_expiry_the_day_after_the_end(env):
    world = await make_world()
    day = today(world)
    ends = day + timedelta(days=5)
    item = await add_item(world, ends)
    await scan(world, day)
    assert await scan(world, ends) == {"reminded": 0, "escalated": 0, "expired": 0}
    assert (await item_row(world, item["id"]))["status"] == "active"
    assert await scan(world, ends + timedelta(days=1)) == {"reminded": 0, "escalated": 0, "expired": 1}
    row = await item_row(world, item["id"])
    assert (row["status"], row["declassified_on"], row["expiry_stage"], row["publication"]) == (
        "expired",
        ends + timedelta(days=1),
        3,
        "",
    )
    expired = await audit_of(world, item, "declass.expired")
    assert [e["detail"]["declassified_on"] for e in expired] == [(ends + timedelta(days=1)).isoformat()]
    assert [(t["status"], t["escalation"]) for t in await tasks_of(world, item)] == [("open", 2)]
    assert await scan(world, ends + timedelta(days=2)) == {"reminded": 0, "escalated": 0, "expired": 0}
    assert len(await audit_of(world, item, "declass.expired")) == 1


async def test_an_item_reached_late_goes_through_each_stage_once(env):
    world = await make_world()
    day = today(world)
    item = await add_item(world, day - timedelta(days=40))
    assert await scan(world, day) == {"reminded": 1, "escalated": 1, "expired": 1}
    assert await scan(world, day) == {"reminded": 0, "escalated": 0, "expired": 0}
    row = await item_row(world, item["id"])
    assert (row["status"], row["declassified_on"]) == ("expired", day - timedelta(days=39))
    assert len(await tasks_of(world, item)) == 1
    assert sorted(e["detail"]["to"] for e in await audit_of(world, item, "declass.escalate")) == [
        "bureau",
        "principal",
    ]
    assert len(await audit_of(world, item, "declass.expired")) == 1
    assert await task_audits(world, item) == 1


async def test_an_item_a_decision_settled_before_its_end_is_not_expired(env):
    world = await make_world()
    day = today(world)
    ends = day + timedelta(days=20)
    declassified = await add_item(world, ends, reference="甲")
    extended = await add_item(world, ends, reference="乙")
    await scan(world, day)
    # approved decisions (another part's), as they leave the items
    await change(world, declassified, status="declassified", declassified_on=day + timedelta(days=3))
    new_end = ends + timedelta(days=3650)
    await change(world, extended, term_until=new_end, term_ends_on=new_end, expiry_stage=0)
    assert await scan(world, ends + timedelta(days=1)) == {"reminded": 0, "escalated": 0, "expired": 0}
    assert (await item_row(world, declassified["id"]))["status"] == "declassified"
    assert (await item_row(world, extended["id"]))["status"] == "active"
    assert await audit_of(world, declassified, "declass.expired") == []
    # the new term starts its stages again
    assert await scan(world, new_end - timedelta(days=90)) == {"reminded": 1, "escalated": 0, "expired": 0}


async def test_items_on_a_condition_never_expire(env):
    world = await make_world()
    item = await add_item(world, None)
    assert await scan(world, today(world) + timedelta(days=36500)) == {"reminded": 0, "escalated": 0, "expired": 0}
    assert (await item_row(world, item["id"]))["expiry_stage"] == 0


async def test_the_lead_time_is_the_tenants_and_never_below_ninety_days(env):
    with pytest.raises(ValidationFailed) as refused:
        review.check_lead_days({review.SETTING: 60})
    assert set(refused.value.errors) == {review.SETTING}
    with pytest.raises(ValidationFailed):
        review.check_lead_days({review.SETTING: "soon"})
    assert review.check_lead_days({review.SETTING: "120"}) == 120
    world = await make_world()
    day = today(world)
    item = await add_item(world, day + timedelta(days=110))
    await set_lead(world, 30)  # written past the check: read as the minimum
    async with db.transaction(world.tenant.id, write=False):
        assert await review.lead_days(world.tenant) == 90
    assert (await scan(world, day))["reminded"] == 0
    await set_lead(world, 120)
    assert (await scan(world, day))["reminded"] == 1
    assert (await item_row(world, item["id"]))["expiry_stage"] == 1


# ---------------------------------------------------------------- what is due, and the tasks


async def test_due_lists_the_actors_items_within_n_days(env, client):
    world = await make_world()
    day = today(world)
    soon = await add_item(world, day + timedelta(days=30), reference="A-30")
    later = await add_item(world, day + timedelta(days=200), reference="A-200")
    await add_item(world, day + timedelta(days=40), unit="b_unit", reference="B-40")
    await add_item(world, None, reference="A-cond")
    await add_item(world, day + timedelta(days=10), reference="A-done", status="declassified")
    await officer_of_b(world)
    await scan(world, day)
    api = await Api.of(client, world, "office", "officer", "officer_b", "district", "leader")

    async def refs(who: str, **params) -> list[str]:
        answer = await api.get(who, "/classified-items/due", **params)
        assert answer.status_code == 200, answer.text
        return [i["reference"] for i in answer.json()["items"]]

    assert await refs("office") == ["A-30", "B-40"]  # the lead time, 90 days, by default
    assert await refs("office", within_days=3650) == ["A-30", "B-40", "A-200"]
    assert await refs("officer", within_days=3650) == ["A-30", "A-200"]
    assert await refs("officer_b", within_days=3650) == ["B-40"]
    assert await refs("district", within_days=3650) == ["A-30", "A-200"]
    assert await refs("leader", within_days=3650) == ["A-30", "A-200"]  # 李四 leads 甲区财政局
    assert await refs("officer", within_days=100) == ["A-30"]
    body = (await api.get("officer", "/classified-items/due")).json()
    first = body["items"][0]
    assert (body["within_days"], body["lead_days"], body["total"]) == (90, 90, 1)
    assert (first["id"], first["days_left"], first["task"]["kind"], first["task"]["escalation"]) == (
        str(soon["uuid"]),
        30,
        "expiry",
        1,
    )
    assert str(later["uuid"]) not in {i["id"] for i in body["items"]}
    for bad in ("0", "3651", "soon"):
        refused = await api.get("office", "/classified-items/due", within_days=bad)
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["within_days"]


async def test_the_review_tasks_of_each_reader(env, client):
    world = await make_world()
    day = today(world)
    escalated = await add_item(world, day + timedelta(days=50), reference="A-50")
    await add_item(world, day + timedelta(days=80), reference="A-80")
    await add_item(world, day + timedelta(days=70), unit="b_unit", reference="B-70")
    await scan(world, day)
    api = await Api.of(client, world, "office", "officer", "leader", "district", "inspector")

    async def refs(who: str) -> list[tuple[str, int]]:
        answer = await api.get(who, "/declassification/tasks")
        assert answer.status_code == 200, answer.text
        return [(t["reference"], t["escalation"]) for t in answer.json()["items"]]

    assert await refs("office") == [("A-50", 1), ("B-70", 0), ("A-80", 0)]
    assert await refs("officer") == [("A-50", 1), ("A-80", 0)]
    assert await refs("district") == [("A-50", 1), ("A-80", 0)]
    assert await refs("leader") == [("A-50", 1)]
    assert (await api.get("inspector", "/declassification/tasks")).status_code == 403
    task = (await api.get("officer", "/declassification/tasks")).json()["items"][0]
    assert task["item_id"] == str(escalated["uuid"]) and task["escalation_label"]


async def test_the_pages_of_due_items_tasks_and_progress(env, client, make_client):
    world = await make_world()
    day = today(world)
    item = await add_item(world, day + timedelta(days=45), reference="A-45")
    await scan(world, day)
    await login(client, world.slug, "officer")
    t = f"/t/{world.slug}"
    due = await client.get(f"{t}/classified-items/due")
    assert due.status_code == 200 and "A-45" in due.text and str(item["uuid"]) in due.text
    bad = await client.get(f"{t}/classified-items/due?within_days=0")
    assert bad.status_code == 422 and 'id="within_days-error"' in bad.text
    tasks_page = await client.get(f"{t}/declassification/tasks")
    assert tasks_page.status_code == 200 and "A-45" in tasks_page.text
    progress = await client.get(f"{t}/declassification/review-progress")
    assert progress.status_code == 200 and "A-45" in progress.text
    token = await csrf(client, f"{t}/declassification/review-progress")
    done = await post_form(client, f"{t}/classified-items/{item['uuid']}/reviews", token, note="仍需保密")
    assert done.status_code == 303 and done.headers["location"].endswith(f"review-progress?year={day.year}")
    again = await post_form(client, f"{t}/classified-items/{item['uuid']}/reviews", token, note="")
    assert again.status_code == 409 and 'role="alert"' in again.text
    # every reader's pages: the office and the district with all their units, a leader with theirs
    for who in ("office", "district", "leader"):
        other = await make_client()
        await login(other, world.slug, who)
        for path in ("/classified-items/due", "/declassification/tasks", "/declassification/review-progress"):
            shown = await other.get(f"{t}{path}")
            assert shown.status_code == 200, (who, path)
            assert "A-45" in shown.text or path.endswith("progress") or who == "leader", (who, path)
        progress = await other.get(f"{t}/declassification/review-progress?year={day.year - 1}")
        assert progress.status_code == 200 and "甲区财政局" in progress.text


# ---------------------------------------------------------------- the year's review


async def test_the_years_review_once_per_item_and_its_progress(env, client):
    world = await make_world()
    day = today(world)
    first = await add_item(world, day + timedelta(days=900), reference="A-1")
    await add_item(world, None, reference="A-2")
    await add_item(world, day + timedelta(days=900), unit="b_unit", reference="B-1")
    gone = await add_item(world, day + timedelta(days=900), reference="A-gone", status="declassified")
    async with db.transaction(world.tenant.id):
        await tasks.open_tasks(world.tenant, SYSTEM, [first], "annual")
    await officer_of_b(world)
    api = await Api.of(client, world, "office", "officer", "officer_b", "district", "leader")
    url = f"/classified-items/{first['uuid']}/reviews"
    made = await api.post("officer", url, {"outcome": "keep", "note": "无变化"})
    assert made.status_code == 201, made.text
    assert made.json()["year"] == day.year and made.json()["outcome"] == "keep"
    again = await api.post("office", url, {"outcome": "keep"})
    assert again.status_code == 409 and str(day.year) in again.json()["detail"]
    assert (await item_row(world, first["id"]))["last_reviewed_on"] == day
    assert [t["status"] for t in await tasks_of(world, first)] == ["done"]
    assert len(await audit_of(world, first, "declass.review")) == 1
    async with db.transaction(world.tenant.id, write=False):
        assert await Review.count().where(Review.item == first["id"]) == 1
    # refused: a wrong outcome, an unknown field, a declassified item, another unit's officer, a leader
    wrong = await api.post("office", f"/classified-items/{gone['uuid']}/reviews", {"outcome": "drop"})
    assert wrong.status_code == 422 and [e["field"] for e in wrong.json()["errors"]] == ["outcome"]
    assert (await api.post("office", url, {"outcome": "keep", "extra": 1})).status_code == 400
    assert (
        await api.post("office", f"/classified-items/{gone['uuid']}/reviews", {"outcome": "keep"})
    ).status_code == 409
    assert (await api.post("officer_b", url, {"outcome": "keep"})).status_code == 404
    assert (await api.post("leader", url, {"outcome": "keep"})).status_code == 403

    async def progress(who: str, **params) -> dict:
        answer = await api.get(who, "/declassification/review-progress", **params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    office = await progress("office")
    assert [(u["unit_name"], u["items"], u["reviewed"], u["share"]) for u in office["units"]] == [
        ("甲区财政局", 2, 1, 0.5),
        ("乙区财政局", 1, 0, 0.0),
    ]
    assert (office["items"], office["reviewed"]) == (3, 1)
    assert [u["unit_name"] for u in (await progress("district"))["units"]] == ["甲区财政局"]
    assert [u["unit_name"] for u in (await progress("officer"))["units"]] == ["甲区财政局"]
    assert [u["unit_name"] for u in (await progress("leader"))["units"]] == ["甲区财政局"]
    assert (await progress("office", year=day.year - 1))["reviewed"] == 0
    bad = await api.get("office", "/declassification/review-progress", year="1999")
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["year"]
    a_unit, b_unit = await unit_pk(world, "a_unit"), await unit_pk(world, "b_unit")
    async with db.transaction(world.tenant.id, write=False):
        assert await review.reviewed_on_time(world.tenant, [a_unit, b_unit], day.year) == {
            a_unit: (1, 2),
            b_unit: (0, 1),
        }
