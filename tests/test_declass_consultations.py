"""Consulting the originating unit about a derived item: only derived items are asked
about, one open consultation per item even with two requests at once, the default
deadline, the answer by the originating unit alone (once), what the originating unit sees
(the consultation, never the custodian's item), escalation stages exactly once with two
schedulers, the bureau's oldest-first view, scope for districts, officers and leaders,
reminders, and another tenant's ids.

Items are inserted through the register's table (the register's own service is tested
elsewhere); rows are touched directly only to move a deadline or a request into the past,
because a test cannot wait for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from server import db
from server.audit.tables import AuditEvent
from server.core.errors import NotFound
from server.declassification import access, consultations
from server.declassification.tables import ClassifiedItem, Consultation
from server.units import service as units
from server.web.templating import template_config
from tests.conftest import SYSTEM, csrf, login
from tests.factories import Api, make_unit, make_user, make_world
from tests.helpers import post_form
from tests.test_reminders import actor_of, at, delivery_rows, names, reminder_rows, run, set_rules, step

WHO = ("office", "district", "officer", "leader", "b_officer", "b_leader", "city_officer", "sub_officer")


async def setup(client):
    """The world (custodian: 甲区财政局, its officer and leader; originating: 乙区财政局, its
    officer and its principal 王五 as a leader; 市教育局's officer; a sub-unit of the
    custodian with an officer of its own), and an API client for each."""
    w = await make_world()
    t = w.tenant
    w.units["sub"] = await make_unit(t, "甲区财政局下属中心", "subunit", w.units["a_unit"])
    w.users["b_officer"] = await make_user(t, "bofficer", "unit_officer", scope_unit_id=w.units["b_unit"]["id"])
    w.users["b_leader"] = await make_user(t, "bleader", "leader", person_id=w.people["b_principal"]["id"])
    w.users["city_officer"] = await make_user(t, "cityofficer", "unit_officer", scope_unit_id=w.units["city"]["id"])
    w.users["sub_officer"] = await make_user(t, "subofficer", "unit_officer", scope_unit_id=w.units["sub"]["id"])
    return w, await Api.of(client, w, *WHO)


def today(w) -> date:
    return units.today(w.tenant)


async def unit_pk(w, key: str) -> int:
    return await run(w, units.unit_pk, SYSTEM, w.units[key]["id"])


async def add_item(
    w, custodian: str = "a_unit", origin: str = "derived", originating: str | None = "b_unit", body: str = "", **extra
) -> dict:
    """An item straight into the register's table: derived from an item of `originating`
    (a unit key) or of a body outside the tenant (`body`)."""
    cu = await unit_pk(w, custodian)
    ou = await unit_pk(w, originating) if originating else None
    n = extra.pop("n", 1)
    async with db.transaction(w.tenant.id):
        made = await ClassifiedItem.insert(
            ClassifiedItem(
                tenant=w.tenant.id,
                reference=f"甲财密〔2024〕{n}号",
                public_title=f"关于预算编制的通知 {n}",
                level="secret",
                classified_on=date(2024, 3, 1),
                term_kind="years",
                term_years=10,
                term_ends_on=extra.pop("term_ends_on", date(2034, 3, 1)),
                knowledge_scope="局领导班子",
                origin=origin,
                originating_unit=ou,
                originating_body=body,
                custodian_unit=cu,
                basis="保密事项范围第3项",
                **extra,
            )
        ).returning(ClassifiedItem.id, ClassifiedItem.uuid)
    return {"pk": made[0]["id"], "id": str(made[0]["uuid"])}


async def ask(api, item: dict, who: str = "officer", **body) -> dict:
    made = await api.post(who, f"/classified-items/{item['id']}/consultations", body)
    assert made.status_code == 201, made.text
    return made.json()


async def move(w, consultation_id: str, **values) -> None:
    """Move a consultation's deadline or creation into the past."""
    async with db.transaction(w.tenant.id):
        await Consultation.update({getattr(Consultation, k): v for k, v in values.items()}).where(
            Consultation.uuid == consultation_id
        )


async def audit_rows(w, action: str) -> list[dict]:
    async with db.transaction(w.tenant.id, write=False):
        return await (
            AuditEvent.select(AuditEvent.object_id, AuditEvent.detail, AuditEvent.actor_name)
            .where(AuditEvent.tenant == w.tenant.id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
            .output(load_json=True)
        )


def fields(response) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


# ---------------------------------------------------------------- asking


async def test_only_a_derived_item_is_put_to_its_originator_with_a_30_day_default(env, client):
    w, api = await setup(client)
    original = await add_item(w, origin="original", originating=None, n=1)
    refused = await api.post("officer", f"/classified-items/{original['id']}/consultations", {})
    assert refused.status_code == 409 and fields(refused) == {"origin"}
    nobody = await add_item(w, originating=None, n=2)
    refused = await api.post("officer", f"/classified-items/{nobody['id']}/consultations", {})
    assert refused.status_code == 409 and fields(refused) == {"originating_unit_id"}
    gone = await add_item(w, n=3, status="declassified")
    assert (await api.post("officer", f"/classified-items/{gone['id']}/consultations", {})).status_code == 409
    # an item past its term is declassified by expiry, whether or not the scan marked it yet
    expired = await add_item(w, n=6, status="expired")
    assert (await api.post("officer", f"/classified-items/{expired['id']}/consultations", {})).status_code == 409
    ended = await add_item(w, n=7, term_ends_on=today(w) - timedelta(days=1))
    assert (await api.post("officer", f"/classified-items/{ended['id']}/consultations", {})).status_code == 409

    item = await add_item(w, n=4)
    # another unit's officer does not see the item; the office does not ask; nor the sub-unit
    for who, status in (("city_officer", 404), ("b_officer", 404), ("sub_officer", 404), ("office", 403)):
        assert (await api.post(who, f"/classified-items/{item['id']}/consultations", {})).status_code == status, who
    bad = await api.post("officer", f"/classified-items/{item['id']}/consultations", {"deadline": today(w).isoformat()})
    assert bad.status_code == 422 and fields(bad) == {"deadline"}
    bad = await api.post("officer", f"/classified-items/{item['id']}/consultations", {"deadline": "tomorrow"})
    assert bad.status_code == 422 and fields(bad) == {"deadline"}
    unknown = await api.post("officer", f"/classified-items/{item['id']}/consultations", {"colour": "red"})
    assert unknown.status_code in (400, 422)

    c = await ask(api, item, question="该文件是否可以解密？")
    assert c["deadline"] == (today(w) + timedelta(days=30)).isoformat()
    assert c["status"] == "open" and c["escalation"] == 0 and c["outgoing"] and not c["incoming"]
    assert c["originating_unit_name"] == "乙区财政局" and c["custodian_unit_name"] == "甲区财政局"
    assert c["item_id"] == item["id"] and not c["may_answer"]
    events = await audit_rows(w, "declass.consult")
    assert [(e["object_id"], e["detail"]["item"]) for e in events] == [(c["id"], item["id"])]

    # a deadline of one's own, and the tenant's default
    other = await add_item(w, n=5)
    own = await ask(api, other, deadline=(today(w) + timedelta(days=10)).isoformat())
    assert own["deadline"] == (today(w) + timedelta(days=10)).isoformat()


async def test_the_tenants_default_days(env, client, monkeypatch):
    w, api = await setup(client)

    async def settings(tenant):
        return {consultations.DAYS_SETTING: 45}

    monkeypatch.setattr(consultations, "settings_of", settings)
    c = await ask(api, await add_item(w))
    assert c["deadline"] == (today(w) + timedelta(days=45)).isoformat()


async def test_one_open_consultation_per_item_even_when_two_ask_at_once(env, client, make_client):
    w, api = await setup(client)
    item = await add_item(w)
    other = Api(await make_client(), w, api.tokens)
    first, second = await asyncio.gather(
        api.post("officer", f"/classified-items/{item['id']}/consultations", {}),
        other.post("officer", f"/classified-items/{item['id']}/consultations", {}),
    )
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    made, refused = (first, second) if first.status_code == 201 else (second, first)
    assert refused.json()["errors"] == [{"field": "consultation_id", "message": made.json()["id"]}]
    async with db.transaction(w.tenant.id, write=False):
        assert await Consultation.count().where(Consultation.item == item["pk"]) == 1
    # answered: the item may be asked about again
    answered = await api.post("b_officer", f"/consultations/{made.json()['id']}/answer", {"answer": "agree"})
    assert answered.status_code == 200, answered.text
    await ask(api, item)


# ---------------------------------------------------------------- answering


async def test_the_originating_unit_answers_once(env, client):
    w, api = await setup(client)
    item = await add_item(w)
    c = await ask(api, item)
    path = f"/consultations/{c['id']}/answer"
    # the custodian's other units and another unit's officer do not see it at all
    for who in ("city_officer", "sub_officer"):
        assert (await api.post(who, path, {"answer": "agree"})).status_code == 404, who
        assert (await api.get(who, f"/consultations/{c['id']}")).status_code == 404, who
    # the custodian's officer sees it but does not answer for the originator; nor does the office
    assert (await api.post("officer", path, {"answer": "agree"})).status_code == 403
    assert (await api.post("office", path, {"answer": "agree"})).status_code == 403
    # reasons are required to keep it classified or change its level
    bad = await api.post("b_officer", path, {"answer": "keep"})
    assert bad.status_code == 422 and fields(bad) == {"note"}
    bad = await api.post("b_officer", path, {"answer": "declassify", "note": "x"})
    assert bad.status_code == 422 and fields(bad) == {"answer"}
    seen = (await api.get("b_officer", f"/consultations/{c['id']}")).json()
    assert seen["may_answer"] and seen["incoming"] and not seen["outgoing"]
    done = await api.post("b_officer", path, {"answer": "keep", "note": "源文件仍在保密期限内"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["answer"], body["note"]) == ("answered", "keep", "源文件仍在保密期限内")
    assert body["answered_by"] and body["answered_on_time"] is True and not body["may_answer"]
    # a second answer, by anyone who may answer: 409
    again = await api.post("b_leader", path, {"answer": "agree"})
    assert again.status_code == 409
    assert (await api.post("b_officer", path, {"answer": "agree"})).status_code == 409
    events = await audit_rows(w, "declass.consult_answer")
    assert [(e["object_id"], e["detail"]["answer"]) for e in events] == [(c["id"], "keep")]

    # the latest answer, for the decisions; an item's consultations, for its page
    latest = await run(w, consultations.answered, item["pk"])
    assert latest["id"] == c["id"] and latest["answer"] == "keep"
    assert await run(w, consultations.answered, (await add_item(w, n=9))["pk"]) is None


async def test_a_leader_of_the_originating_unit_answers(env, client):
    w, api = await setup(client)
    c = await ask(api, await add_item(w))
    assert (await api.get("b_leader", f"/consultations/{c['id']}")).json()["may_answer"] is True
    # the custodian's leader sees it (outgoing) but does not answer
    assert (await api.get("leader", f"/consultations/{c['id']}")).json()["outgoing"] is True
    assert (await api.post("leader", f"/consultations/{c['id']}/answer", {"answer": "agree"})).status_code == 403
    done = await api.post(
        "b_leader", f"/consultations/{c['id']}/answer", {"answer": "change_level", "note": "降为秘密"}
    )
    assert done.status_code == 200 and done.json()["answer"] == "change_level"


async def test_a_bodys_written_answer_is_recorded_by_the_custodian(env, client):
    w, api = await setup(client)
    item = await add_item(w, originating=None, body="某部委办公厅")
    c = await ask(api, item)
    assert c["originating_unit_id"] is None and c["answering"] == "某部委办公厅" and c["may_answer"]
    assert (await api.get("b_officer", f"/consultations/{c['id']}")).status_code == 404
    done = await api.post("officer", f"/consultations/{c['id']}/answer", {"answer": "agree", "note": "复函同意"})
    assert done.status_code == 200, done.text
    (event,) = await audit_rows(w, "declass.consult_answer")
    assert event["detail"]["on_behalf_of"] == "某部委办公厅"


async def test_the_originating_unit_sees_the_consultation_never_the_item(env, client):
    w, api = await setup(client)
    item = await add_item(w)
    c = await ask(api, item, question="请提出意见")
    seen = await api.get("b_officer", f"/consultations/{c['id']}")
    assert seen.status_code == 200
    body = seen.json()
    assert body["item_id"] is None  # the item's page is not theirs
    assert (body["item_reference"], body["item_public_title"], body["item_level"]) == (
        "甲财密〔2024〕1号",
        "关于预算编制的通知 1",
        "secret",
    )
    assert body["item_classified_on"] == "2024-03-01" and body["custodian_unit_name"] == "甲区财政局"
    # nothing else of the register: no knowledge scope, basis, term or handler anywhere
    assert "局领导班子" not in seen.text and "保密事项范围" not in seen.text and "2034" not in seen.text
    # the item itself stays out of reach: the API, the page, and the register's own check
    assert (await api.get("b_officer", f"/classified-items/{item['id']}")).status_code == 404
    assert (await api.get("b_leader", f"/classified-items/{item['id']}")).status_code == 404
    for username in ("bofficer", "bleader"):
        actor = await actor_of(w, username)
        with pytest.raises(NotFound):
            await run(w, access.item, actor, item["id"])
    # nor the custodian's other items through the list
    await add_item(w, originating="city", n=2)
    listed = (await api.get("b_officer", "/consultations")).json()
    assert [r["id"] for r in listed["items"]] == [c["id"]]
    # the page shows the consultation and the answer form, not a link to the item
    await login(client, w.slug, "bofficer")
    page = await client.get(f"/t/{w.slug}/declassification/consultations/{c['id']}")
    assert page.status_code == 200
    assert "甲财密〔2024〕1号" in page.text and f"/classified-items/{item['id']}" not in page.text
    assert 'name="answer"' in page.text


# ---------------------------------------------------------------- deadlines


async def test_escalation_stages_happen_once_even_with_two_schedulers(env, client):
    w, api = await setup(client)
    c = await ask(api, await add_item(w))
    fresh = await ask(api, await add_item(w, n=2))
    day = today(w)

    async def scan(on: date) -> dict:
        async with db.transaction(w.tenant.id):
            return await consultations.escalate(w.tenant, on)

    assert await scan(day) == {}
    await move(w, c["id"], deadline=day - timedelta(days=1))
    both = await asyncio.gather(scan(day), scan(day))
    assert sorted(both, key=len) == [{}, {1: 1}]
    assert (await api.get("office", f"/consultations/{c['id']}")).json()["escalation"] == 1
    assert await scan(day) == {}
    # fourteen days after the deadline passed: the bureau
    await move(w, c["id"], deadline=day - timedelta(days=14))
    assert await scan(day) == {}
    await move(w, c["id"], deadline=day - timedelta(days=15))
    both = await asyncio.gather(scan(day), scan(day))
    assert sorted(both, key=len) == [{}, {2: 1}]
    assert await scan(day + timedelta(days=45)) == {1: 1, 2: 1}  # the other one, found late: both stages
    events = await audit_rows(w, "declass.consult_escalate")
    assert [(e["object_id"], e["detail"]["stage"]) for e in events] == [
        (c["id"], 1),
        (c["id"], 2),
        (fresh["id"], 1),
        (fresh["id"], 2),
    ]
    assert {e["actor_name"] for e in events} == {"declassification"}
    # an answered consultation is never escalated
    third = await ask(api, await add_item(w, n=3))
    await api.post("b_officer", f"/consultations/{third['id']}/answer", {"answer": "agree"})
    await move(w, third["id"], deadline=day - timedelta(days=40))
    assert await scan(day) == {}


async def test_reminders_before_and_after_the_deadline_widen_with_escalation(env, client):
    w, api = await setup(client)
    deadline = today(w) + timedelta(days=10)
    c = await ask(api, await add_item(w), deadline=deadline.isoformat())
    await set_rules(w, consult_due={"days": 7}, consult_overdue={"days": 1, "repeat_days": 2})
    who = await names(w)

    async def fired(day: date) -> list[tuple[str, str, str]]:
        known = len(await reminder_rows(w))
        await step(w, env.settings, at(day))
        made = (await reminder_rows(w))[known:]
        return sorted((r["kind"], r["subject"].removeprefix(f"consult:{c['id']}"), who[r["recipient"]]) for r in made)

    assert await fired(deadline - timedelta(days=8)) == []
    # the originating unit's officer
    assert await fired(deadline - timedelta(days=7)) == [("consult_due", "", "bofficer")]
    assert await fired(deadline + timedelta(days=1)) == [("consult_overdue", "", "bofficer")]
    # escalated: the originating unit's principal too
    async with db.transaction(w.tenant.id):
        await consultations.escalate(w.tenant, deadline + timedelta(days=1))
    assert await fired(deadline + timedelta(days=3)) == [
        ("consult_overdue", "", "bofficer"),
        ("consult_overdue", ":principal", "王五"),
    ]
    # answered: nothing more, and what was waiting is cancelled
    await api.post("b_officer", f"/consultations/{c['id']}/answer", {"answer": "agree"})
    assert not await delivery_rows(w, status="pending")
    assert await fired(deadline + timedelta(days=5)) == []


# ---------------------------------------------------------------- lists and scope


async def test_oldest_open_first_with_filters_and_the_bureaus_view(env, client):
    w, api = await setup(client)
    now = datetime.now(UTC)
    made = []
    for n, days_ago in ((1, 5), (2, 40), (3, 20)):
        c = await ask(api, await add_item(w, n=n))
        await move(w, c["id"], created_at=now - timedelta(days=days_ago))
        made.append(c["id"])
    newest, oldest, middle = made
    await api.post("b_officer", f"/consultations/{middle}/answer", {"answer": "agree"})
    await move(w, oldest, deadline=today(w) - timedelta(days=3))
    listed = (await api.get("office", "/consultations")).json()
    assert [r["id"] for r in listed["items"]] == [oldest, newest, middle]
    assert listed["total"] == 3
    first = listed["items"][0]
    assert first["days_open"] == 40 and first["overdue"] and first["days_overdue"] == 3
    assert [r["id"] for r in (await api.get("office", "/consultations", status="answered")).json()["items"]] == [middle]
    assert [r["id"] for r in (await api.get("office", "/consultations", overdue="1")).json()["items"]] == [oldest]
    assert [r["id"] for r in (await api.get("office", "/consultations", overdue="0")).json()["items"]] == [
        newest,
        middle,
    ]
    bad = await api.get("office", "/consultations", direction="sideways")
    assert bad.status_code == 422 and fields(bad) == {"direction"}

    view = await run(w, consultations.overview, await actor_of(w, "office"))
    assert [r["id"] for r in view["oldest"]] == [oldest, newest]
    assert (view["open"], view["overdue"]) == (2, 1)
    assert view["by_unit"] == [{"name": "乙区财政局", "open": 2, "overdue": 1, "escalated": 0, "oldest_days": 40}]
    await login(client, w.slug, "office")
    page = await client.get(f"/t/{w.slug}/declassification/consultations")
    assert page.status_code == 200 and 'id="oldest"' in page.text and "乙区财政局" in page.text
    assert (await client.get(f"/t/{w.slug}/declassification/consultations?overdue=maybe")).status_code == 422


async def test_scope_of_districts_officers_and_leaders(env, client):
    w, api = await setup(client)
    # 甲区财政局 asks 乙区财政局; 市教育局 asks 乙区财政局; 乙区财政局 asks 市教育局
    a_to_b = await ask(api, await add_item(w, n=1))
    city_to_b = await ask(api, await add_item(w, custodian="city", n=2), who="city_officer")
    b_to_city = await ask(api, await add_item(w, custodian="b_unit", originating="city", n=3), who="b_officer")

    async def ids(who: str, **query) -> set[str]:
        got = await api.get(who, "/consultations", **query)
        assert got.status_code == 200, got.text
        return {r["id"] for r in got.json()["items"]}

    assert await ids("office") == {a_to_b["id"], city_to_b["id"], b_to_city["id"]}
    assert await ids("district") == {a_to_b["id"]}  # 甲区: its unit asked
    assert await ids("officer") == {a_to_b["id"]}
    assert await ids("leader") == {a_to_b["id"]}  # 李四 leads 甲区财政局
    assert await ids("sub_officer") == set()
    assert await ids("b_officer") == {a_to_b["id"], city_to_b["id"], b_to_city["id"]}
    assert await ids("b_officer", direction="incoming") == {a_to_b["id"], city_to_b["id"]}
    assert await ids("b_officer", direction="outgoing") == {b_to_city["id"]}
    assert await ids("b_leader", direction="incoming") == {a_to_b["id"], city_to_b["id"]}
    assert await ids("city_officer", direction="incoming") == {b_to_city["id"]}
    assert await ids("city_officer", direction="outgoing") == {city_to_b["id"]}
    # one consultation: 404 outside the scope
    assert (await api.get("district", f"/consultations/{city_to_b['id']}")).status_code == 404
    assert (await api.get("officer", f"/consultations/{b_to_city['id']}")).status_code == 404
    # the three separated administrators and the inspectors see none
    api.tokens |= (await Api.of(client, w, "inspector", "audit_admin")).tokens
    for who in ("inspector", "audit_admin"):
        assert (await api.get(who, "/consultations")).status_code == 403


async def test_item_consultations_and_answers_on_time(env, client):
    w, api = await setup(client)
    item = await add_item(w)
    late = await ask(api, item)
    await move(w, late["id"], deadline=today(w) - timedelta(days=2))
    await api.post("b_officer", f"/consultations/{late['id']}/answer", {"answer": "agree"})
    on_time = await ask(api, item)
    await api.post("b_officer", f"/consultations/{on_time['id']}/answer", {"answer": "keep", "note": "仍需保密"})
    waiting = await ask(api, await add_item(w, n=2))  # not due yet
    missed_item = await add_item(w, n=3)
    missed = await ask(api, missed_item)
    await move(w, missed["id"], deadline=today(w) - timedelta(days=1))
    officer = await actor_of(w, "officer")
    row = await run(w, access.item, officer, item["id"])
    listed = await run(w, consultations.item_consultations, officer, row)
    assert [c["id"] for c in listed] == [on_time["id"], late["id"]]
    assert [c["answered_on_time"] for c in listed] == [True, False]
    # the item as the register shows it (its public id) will do too, and the item page's panel
    shown = await run(w, consultations.item_consultations, officer, {"id": item["id"]})
    assert [c["id"] for c in shown] == [on_time["id"], late["id"]]
    panel = template_config().to_engine().engine.get_template("declassification/consultation_panel.html")
    public = {"id": item["id"], "view": "unit", "origin": "derived", "originating_unit_id": "x", "status": "active"}
    html = panel.render(t=f"/t/{w.slug}", item=public, consultations=shown)
    assert f"/t/{w.slug}/classified-items/{item['id']}/consultations" in html  # none open: ask again
    assert f"/declassification/consultations/{late['id']}" in html
    # access.item's row (its row id) with an open consultation: no second one offered
    missed_row = await run(w, access.item, officer, missed_item["id"])
    html = panel.render(
        t=f"/t/{w.slug}",
        item=missed_row,
        consultations=await run(w, consultations.item_consultations, officer, missed_row),
    )
    assert f"/declassification/consultations/{missed['id']}" in html and '/consultations"' not in html
    b, city = await unit_pk(w, "b_unit"), await unit_pk(w, "city")
    year = today(w).year
    counts = await run(w, consultations.answered_on_time, [b, city], year)
    # the late one and the missed one may fall in the previous year in early January
    due = [
        c
        for c in (late, on_time, missed)
        if (await api.get("office", f"/consultations/{c['id']}")).json()["deadline"].startswith(str(year))
    ]
    assert counts[city] == (0, 0)
    assert counts[b] == (int(on_time in due), len(due))
    assert waiting["id"]


# ---------------------------------------------------------------- pages


async def test_asking_and_answering_through_the_pages(env, client, make_client):
    w, api = await setup(client)
    item = await add_item(w)
    await login(client, w.slug, "officer")
    form = f"/t/{w.slug}/classified-items/{item['id']}/consultations"
    token = await csrf(client, form)
    bad = await post_form(client, form, token, deadline="2001-01-01")
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    sent = await post_form(client, form, token, question="是否同意解密？")
    assert sent.status_code == 303
    page = sent.headers["location"]
    again = await post_form(client, form, token)
    assert again.status_code == 409

    other = await make_client()
    await login(other, w.slug, "bofficer")
    token = await csrf(other, page)
    wrong = await post_form(other, page + "/answer", token, answer="keep")
    assert wrong.status_code == 422
    done = await post_form(other, page + "/answer", token, answer="keep", note="源事项未解密")
    assert done.status_code == 303
    shown = await other.get(page)
    assert "源事项未解密" in shown.text and 'name="answer"' not in shown.text
    listing = await other.get(f"/t/{w.slug}/declassification/consultations?direction=incoming")
    assert listing.status_code == 200 and "甲财密〔2024〕1号" in listing.text


# ---------------------------------------------------------------- another tenant


async def test_another_tenants_ids_are_not_found(env, client):
    w, api = await setup(client)
    item = await add_item(w)
    c = await ask(api, item)
    w2 = await make_world("另一市保密局")
    w2.users["b_officer"] = await make_user(
        w2.tenant, "bofficer", "unit_officer", scope_unit_id=w2.units["b_unit"]["id"]
    )
    api2 = await Api.of(client, w2, "office", "officer", "b_officer")
    assert (await api2.post("officer", f"/classified-items/{item['id']}/consultations", {})).status_code == 404
    assert (await api2.post("b_officer", f"/consultations/{c['id']}/answer", {"answer": "agree"})).status_code == 404
    assert (await api2.get("office", f"/consultations/{c['id']}")).status_code == 404
    assert (await api2.get("office", "/consultations")).json()["total"] == 0
    assert (await api.get("office", "/consultations/not-a-uuid")).status_code == 404
