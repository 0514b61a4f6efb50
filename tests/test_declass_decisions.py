"""Review decisions on the declassification register: a proposer and a different approver
(the unit's principal, the responsible person, the bureau's office past the ceiling), the
effects on the item, the originator's answer a derived item needs, the knowledge scope's
acknowledgements, and the derivation graph's review tasks."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from types import SimpleNamespace

from server import db
from server.accounts import service as accounts
from server.accounts.tables import User
from server.audit.tables import AuditEvent
from server.declassification import decisions, terms
from server.declassification.tables import (
    Acknowledgement,
    ClassifiedItem,
    Consultation,
    Decision,
    Publication,
    ReviewTask,
)
from server.declassification.tasks import open_tasks
from server.units import service as units
from tests.conftest import SYSTEM, csrf, login
from tests.factories import Api, make_person, make_user, make_world
from tests.helpers import both_pass, post_form

ACCOUNTS = ("office", "office2", "officer", "leader", "principal", "b_principal", "blead")


async def setup(client) -> SimpleNamespace:
    """The factories' world (a_unit: 张三 principal, 李四 secrecy lead and responsible
    person with the "leader" account), a leader account for each principal, a business
    lead of a_unit, a second office account; an API with a token for each."""
    world = await make_world()
    t = world.tenant
    world.users["principal"] = await make_user(t, "principal", "leader", person_id=world.people["a_principal"]["id"])
    world.users["b_principal"] = await make_user(t, "bprincipal", "leader", person_id=world.people["b_principal"]["id"])
    blead = await make_person(t, world.units["a_unit"], "周八", "business_lead")
    world.people["blead"] = blead
    world.users["blead"] = await make_user(t, "blead", "leader", person_id=blead["id"])
    world.users["office2"] = await make_user(t, "office2", "office_admin")
    api = await Api.of(client, world, *ACCOUNTS)
    return SimpleNamespace(world=world, api=api, today=units.today(t))


async def pk_of(world, kind: str, key: str) -> int:
    async with db.transaction(world.tenant.id):
        if kind == "unit":
            return await units.unit_pk(world.tenant, SYSTEM, world.units[key]["id"])
        return await units.person_pk(world.tenant, SYSTEM, world.people[key]["id"])


async def add_item(
    s,
    reference: str,
    *,
    unit: str = "a_unit",
    level: str = "secret",
    classified_on: date | None = None,
    years: int | None = 10,
    until: date | None = None,
    responsible: str | None = "a_lead",
    source: dict | None = None,
    originating_unit: str | None = None,
    originating_body: str = "",
    status: str = "active",
) -> dict:
    """An item written straight into the register (the register's own rules are tested in test_declass_register.py)."""
    world = s.world
    classified_on = classified_on or s.today - timedelta(days=400)
    kind = "years" if years is not None else "date"
    row = ClassifiedItem(
        tenant=world.tenant.id,
        reference=reference,
        public_title=f"{reference} 的标题",
        level=level,
        classified_on=classified_on,
        term_kind=kind,
        term_years=years,
        term_until=until,
        term_ends_on=terms.term_end(classified_on, kind, years, until),
        custodian_unit=await pk_of(world, "unit", unit),
        responsible_person=await pk_of(world, "person", responsible) if responsible else None,
        origin="derived" if source or originating_unit or originating_body else "original",
        source_item=source["pk"] if source else None,
        originating_unit=await pk_of(world, "unit", originating_unit) if originating_unit else None,
        originating_body=originating_body,
        status=status,
    )
    async with db.transaction(world.tenant.id):
        await ClassifiedItem.insert(row)
        pk = (await ClassifiedItem.select(ClassifiedItem.id).where(ClassifiedItem.uuid == row.uuid).first())["id"]
    return {"id": str(row.uuid), "pk": pk, "reference": reference}


async def item_now(s, item: dict) -> dict:
    async with db.transaction(s.world.tenant.id):
        return await ClassifiedItem.select().where(ClassifiedItem.id == item["pk"]).first()


async def propose(s, item: dict, who: str = "officer", **body):
    body = {"decision": "declassify", "basis": "《国家秘密解密暂行办法》第十条", **body}
    return await s.api.post(who, f"/classified-items/{item['id']}/decisions", body)


async def proposed(s, item: dict, who: str = "officer", **body) -> dict:
    made = await propose(s, item, who, **body)
    assert made.status_code == 201, made.text
    return made.json()


def one(item: dict, decision: dict, action: str = "") -> str:
    return f"/classified-items/{item['id']}/decisions/{decision['id']}" + (f"/{action}" if action else "")


async def audited(s, action: str) -> list[dict]:
    async with db.transaction(s.world.tenant.id):
        return await AuditEvent.select(AuditEvent.object_id, AuditEvent.detail, AuditEvent.actor_name).where(
            AuditEvent.tenant == s.world.tenant.id, AuditEvent.action == action
        )


async def source_tasks(s) -> dict[int, int]:
    async with db.transaction(s.world.tenant.id):
        rows = await ReviewTask.select(ReviewTask.item, ReviewTask.reason).where(
            ReviewTask.tenant == s.world.tenant.id, ReviewTask.kind == "source"
        )
    counts: dict[int, int] = {}
    for r in rows:
        counts[r["item"]] = counts.get(r["item"], 0) + 1
    return counts


# ---------------------------------------------------------------- the whole way


async def test_proposed_then_approved_by_the_principal_declassifies_tells_the_scope_and_is_audited(client):
    s = await setup(client)
    item = await add_item(s, "甲财〔2020〕1号")
    async with db.transaction(s.world.tenant.id):
        await open_tasks(s.world.tenant, SYSTEM, [{**(await item_now(s, item))}], "expiry")
    d = await proposed(s, item, publish=True)
    assert (d["status"], d["decision"], d["proposed_by"], d["publish"]) == ("proposed", "declassify", "officer", True)
    assert d["may"] == {"approve": False, "reject": False, "acknowledge": False}
    listed = (await s.api.get("principal", f"/classified-items/{item['id']}/decisions")).json()
    assert [x["id"] for x in listed] == [d["id"]] and listed[0]["may"]["approve"] is True
    waiting = (await s.api.get("principal", "/declassification/approvals")).json()
    assert [w["id"] for w in waiting["approvals"]] == [d["id"]]

    done = await s.api.post("principal", one(item, d, "approve"))
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["decided_by"]) == ("approved", "principal")
    row = await item_now(s, item)
    assert (row["status"], row["declassified_on"], row["last_reviewed_on"]) == ("declassified", s.today, s.today)
    assert row["publication"] == "published"
    async with db.transaction(s.world.tenant.id):
        assert await ReviewTask.count().where(ReviewTask.item == item["pk"], ReviewTask.status == "open") == 0
        assert await Publication.count().where(Publication.item == item["pk"]) == 1

    # the knowledge scope: everyone holding a post in a_unit today (张三, 李四, 周八), the
    # responsible person (李四) once
    assert sorted(a["name"] for a in body["acknowledgements"]) == sorted(["张三", "李四", "周八"])
    assert (body["acknowledged"], body["total"], body["safe"]) == (0, 3, False)
    for who in ("leader", "principal"):
        acked = await s.api.post(who, one(item, d, "acknowledge"))
        assert acked.status_code == 200 and acked.json()["may"]["acknowledge"] is False
    again = await s.api.post("leader", one(item, d, "acknowledge"))  # once is enough: no change
    assert (again.json()["acknowledged"], again.json()["safe"]) == (2, False)
    waiting = (await s.api.get("blead", "/declassification/approvals")).json()
    assert [w["id"] for w in waiting["acknowledgements"]] == [d["id"]]
    last = await s.api.post("blead", one(item, d, "acknowledge"))
    assert (last.json()["acknowledged"], last.json()["total"], last.json()["safe"]) == (3, 3, True)
    not_told = await s.api.post("officer", one(item, d, "acknowledge"))
    assert not_told.status_code == 403 and not_told.json()["detail"]
    assert (await s.api.post("b_principal", one(item, d, "acknowledge"))).status_code == 404

    assert [e["object_id"] for e in await audited(s, "declass.decision_propose")] == [d["id"]]
    approve_events = await audited(s, "declass.decision_approve")
    assert len(approve_events) == 1 and approve_events[0]["actor_name"] == "principal"
    detail = approve_events[0]["detail"]
    detail = detail if isinstance(detail, dict) else __import__("json").loads(detail)
    assert detail["changes"]["status"] == "declassified" and detail["told"] == 3 and detail["published"] is True
    assert len(await audited(s, "declass.acknowledge")) == 3
    # a settled item takes no more decisions
    assert (await propose(s, item)).status_code == 409


async def test_the_proposer_never_approves_under_the_same_account_nor_as_the_same_person(client):
    s = await setup(client)
    item = await add_item(s, "甲财〔2021〕2号", classified_on=s.today - timedelta(days=365 * 15), years=18)
    d = await proposed(s, item, "office", decision="extend", new_term_years=25, reason="仍需保密")
    assert d["status"] == "bureau"
    own = await s.api.post("office", one(item, d, "approve"))
    assert own.status_code == 403 and own.json()["detail"]

    # an officer account that is also 李四's (the responsible person) proposes: 李四's
    # leader account does not approve it
    async with db.transaction(s.world.tenant.id):
        await User.update(
            {User.person: await units.person_pk(s.world.tenant, SYSTEM, s.world.people["a_lead"]["id"])}
        ).where(User.uuid == s.world.users["officer"]["id"])
    other = await add_item(s, "甲财〔2021〕3号")
    mine = await proposed(s, other)
    refused = await s.api.post("leader", one(other, mine, "approve"))
    assert refused.status_code == 403 and refused.json()["detail"] not in ("", own.json()["detail"])
    same = await s.api.post("officer", one(other, mine, "approve"))
    assert same.status_code == 403 and same.json()["detail"] == own.json()["detail"]
    assert (await s.api.post("principal", one(other, mine, "approve"))).status_code == 200
    assert (await s.api.post("office2", one(item, d, "approve"))).status_code == 200


async def test_who_approves_the_principal_or_the_responsible_person(client):
    s = await setup(client)
    item = await add_item(s, "甲财〔2021〕4号")
    d = await proposed(s, item)
    assert (await s.api.post("b_principal", one(item, d, "approve"))).status_code == 404  # another unit's principal
    assert (await s.api.get("b_principal", one(item, d))).status_code == 404
    business = await s.api.post("blead", one(item, d, "approve"))  # a leader of the unit, not its principal
    assert business.status_code == 403 and business.json()["detail"]
    assert (await s.api.post("office", one(item, d, "approve"))).status_code == 403  # not a bureau approval
    assert (await s.api.post("leader", one(item, d, "approve"))).status_code == 200  # the responsible person
    assert (await s.api.post("principal", one(item, d, "approve"))).status_code == 409  # already decided

    # the responsible person approves even without seeing the unit's register: 王五 (b_unit's
    # principal) responsible for an item of a_unit
    elsewhere = await add_item(s, "甲财〔2021〕5号", responsible="b_principal")
    e = await proposed(s, elsewhere, decision="correct", irregularity="marking")
    assert (await s.api.get("b_principal", one(elsewhere, e))).json()["may"]["approve"] is True
    assert (await s.api.post("b_principal", one(elsewhere, e, "approve"))).status_code == 200

    # rejected with a reason, by the principal; the reason is required
    third = await add_item(s, "甲财〔2021〕6号")
    r = await proposed(s, third)
    no_reason = await s.api.post("principal", one(third, r, "reject"), {})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    rejected = await s.api.post("principal", one(third, r, "reject"), {"reason": "依据不足"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (await item_now(s, third))["status"] == "active"
    assert (await audited(s, "declass.decision_reject"))[0]["object_id"] == r["id"]
    assert (await propose(s, third)).status_code == 201  # a rejected decision leaves room for another


async def test_two_approvals_at_once_one_wins(env, client, make_client, monkeypatch):
    s = await setup(client)
    item = await add_item(s, "甲财〔2022〕7号")
    d = await proposed(s, item)
    if env.kind == "postgres":  # both pass every check before either writes
        both_pass(monkeypatch, decisions, "approver_refusal")
    other = await make_client("10.9.9.8")
    url = s.api.base + one(item, d, "approve")
    answers = await asyncio.gather(
        client.post(url, headers=s.api.headers("principal")), other.post(url, headers=s.api.headers("leader"))
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert len(await audited(s, "declass.decision_approve")) == 1
    async with db.transaction(s.world.tenant.id):
        assert await Acknowledgement.count().where(Acknowledgement.tenant == s.world.tenant.id) == 3


async def test_two_proposals_at_once_leave_one_open_decision(env, client, make_client, monkeypatch):
    s = await setup(client)
    item = await add_item(s, "甲财〔2022〕8号")
    if env.kind == "postgres":
        both_pass(monkeypatch, decisions, "new_decision_context")
    other = await make_client("10.9.9.7")
    url = f"{s.api.base}/classified-items/{item['id']}/decisions"
    body = {"decision": "declassify", "basis": "到期"}
    answers = await asyncio.gather(
        client.post(url, json=body, headers=s.api.headers("officer")),
        other.post(url, json=body, headers=s.api.headers("office")),
    )
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    async with db.transaction(s.world.tenant.id):
        assert await Decision.count().where(Decision.item == item["pk"]) == 1


# ---------------------------------------------------------------- the bureau, the ceiling


async def test_an_extension_past_the_ceiling_goes_to_the_bureau_asked_sixty_days_ahead(client):
    s = await setup(client)
    # 机密 (secret): at most 20 years; classified 15 years ago for 18
    item = await add_item(s, "甲财〔2010〕9号", classified_on=s.today - timedelta(days=365 * 15), years=18)
    d = await proposed(s, item, decision="extend", new_term_years=25, reason="涉及长期项目")
    assert d["status"] == "bureau"
    refused = await s.api.post("principal", one(item, d, "approve"))
    assert refused.status_code == 403 and refused.json()["detail"]
    assert [w["id"] for w in (await s.api.get("office", "/declassification/approvals")).json()["approvals"]] == [
        d["id"]
    ]
    assert (await s.api.post("office", one(item, d, "approve"))).status_code == 200
    row = await item_now(s, item)
    assert (row["term_kind"], row["term_years"], row["expiry_stage"]) == ("years", 25, 0)
    assert row["term_ends_on"] == terms.term_end(row["classified_on"], "years", 25)

    # within the ceiling: the unit approves; an end date works as well
    inside = await add_item(s, "甲财〔2010〕10号", classified_on=s.today - timedelta(days=365 * 5))
    until = s.today + timedelta(days=365 * 8)
    e = await proposed(s, inside, decision="extend", new_term_until=until.isoformat(), reason="延长")
    assert e["status"] == "proposed"
    assert (await s.api.post("principal", one(inside, e, "approve"))).status_code == 200
    row = await item_now(s, inside)
    assert (row["term_kind"], row["term_until"], row["term_ends_on"]) == ("date", until, until)

    # 秘密 (confidential), ten years at most, ending in 30 days: too late to ask the bureau
    late = await add_item(
        s,
        "甲财〔2016〕11号",
        level="confidential",
        classified_on=s.today - timedelta(days=365 * 9),
        years=None,
        until=s.today + timedelta(days=30),
    )
    too_late = await propose(s, late, decision="extend", new_term_years=15, reason="延长")
    assert too_late.status_code == 422
    error = too_late.json()["errors"][0]
    assert error["field"] == "new_term_years" and "60" in error["message"]
    # inside the ceiling it may still be extended
    assert (await propose(s, late, decision="extend", new_term_years=10, reason="延长")).status_code == 201


async def test_bad_decisions_are_refused_naming_the_field(client):
    s = await setup(client)
    item = await add_item(s, "甲财〔2019〕12号", level="top_secret", years=25)
    for body, field in (
        ({"decision": "abolish"}, "decision"),
        ({"basis": ""}, "basis"),
        ({"decision": "extend", "new_term_years": 30}, "reason"),
        ({"decision": "extend", "reason": "x"}, "new_term_years"),
        ({"decision": "extend", "reason": "x", "new_term_years": 26, "new_term_until": "2090-01-01"}, "new_term_until"),
        ({"decision": "extend", "reason": "x", "new_term_years": 5}, "new_term_years"),  # ends before the current term
        ({"decision": "extend", "reason": "x", "new_term_years": "many"}, "new_term_years"),
        ({"decision": "change_level", "new_level": "top_secret"}, "new_level"),
        ({"decision": "change_level", "new_level": "secret"}, "new_level"),  # 25 years pass the ceiling of 20
        ({"decision": "change_level", "new_level": "secret", "new_term_years": 22}, "new_term_years"),
        ({"decision": "correct"}, "irregularity"),
        ({"decision": "declassify", "new_level": "secret"}, "new_level"),  # not a declassification's field
        ({"decision": "extend", "reason": "x", "new_term_years": 28, "publish": True}, "publish"),
        ({"effective_on": "1999-01-01"}, "effective_on"),
        ({"effective_on": "2999-01-01"}, "effective_on"),
    ):
        refused = await propose(s, item, **body)
        assert refused.status_code == 422, (body, refused.text)
        assert field in {e["field"] for e in refused.json()["errors"]}, (body, refused.json())
    unknown = await propose(s, item, colour="red")
    assert unknown.status_code in (400, 422)
    async with db.transaction(s.world.tenant.id):
        assert await Decision.count().where(Decision.item == item["pk"]) == 0


async def test_each_effect_on_the_item(client):
    s = await setup(client)
    part = await add_item(s, "甲财〔2018〕13号")
    d = await proposed(s, part, part="附件二", effective_on=(s.today - timedelta(days=3)).isoformat())
    await s.api.post("principal", one(part, d, "approve"))
    row = await item_now(s, part)
    assert (row["status"], row["declassified_part"], row["declassified_on"]) == (
        "partly_declassified",
        "附件二",
        s.today - timedelta(days=3),
    )
    rest = await proposed(s, part)  # the rest, later: the whole item
    await s.api.post("principal", one(part, rest, "approve"))
    assert (await item_now(s, part))["status"] == "declassified"

    level = await add_item(s, "甲财〔2018〕14号", level="top_secret", years=25)
    d = await proposed(s, level, decision="change_level", new_level="secret", new_term_years=15)
    await s.api.post("principal", one(level, d, "approve"))
    row = await item_now(s, level)
    assert (row["level"], row["term_years"]) == ("secret", 15)

    wrong = await add_item(s, "甲财〔2018〕15号", level="secret")
    d = await proposed(s, wrong, decision="correct", irregularity="level", new_level="confidential", reason="定密过高")
    approved = (await s.api.post("leader", one(wrong, d, "approve"))).json()
    assert (approved["status"], approved["irregularity"], approved["reason"]) == ("approved", "level", "定密过高")
    row = await item_now(s, wrong)
    assert (row["level"], row["status"], row["last_reviewed_on"]) == ("confidential", "active", s.today)


# ---------------------------------------------------------------- derived items


async def test_a_derived_item_waits_for_its_originators_answer(client):
    s = await setup(client)
    item = await add_item(s, "甲财〔2019〕16号", originating_unit="city")
    none_yet = await propose(s, item)
    assert none_yet.status_code == 409 and "市教育局" in none_yet.json()["detail"]
    assert [e["field"] for e in none_yet.json()["errors"]] == ["consultation"]
    city = await pk_of(s.world, "unit", "city")
    consultation = Consultation(
        tenant=s.world.tenant.id, item=item["pk"], originating_unit=city, deadline=s.today + timedelta(days=30)
    )
    async with db.transaction(s.world.tenant.id):
        await Consultation.insert(consultation)
    waiting = await propose(s, item)
    assert waiting.status_code == 409 and str(consultation.uuid) in waiting.json()["detail"]
    assert waiting.json()["errors"] == [{"field": "consultation", "message": str(consultation.uuid)}]
    assert none_yet.json()["detail"] != waiting.json()["detail"]
    async with db.transaction(s.world.tenant.id):
        await Consultation.update({Consultation.status: "answered", Consultation.answer: "keep"}).where(
            Consultation.uuid == consultation.uuid
        )
    kept = await propose(s, item)  # the originator said keep: not declassified against it
    assert kept.status_code == 409 and str(consultation.uuid) in kept.json()["detail"]
    async with db.transaction(s.world.tenant.id):
        await Consultation.update({Consultation.answer: "agree"}).where(Consultation.uuid == consultation.uuid)
    d = await proposed(s, item)
    assert d["consultation"]["id"] == str(consultation.uuid)
    assert (await s.api.post("principal", one(item, d, "approve"))).status_code == 200

    body = await add_item(s, "甲财〔2019〕17号", originating_body="省财政厅")
    assert (await propose(s, body)).status_code == 409


async def test_the_derivation_graph_opens_a_review_of_every_derived_item_once(client):
    s = await setup(client)
    source = await add_item(s, "甲财〔2015〕18号", classified_on=s.today - timedelta(days=365 * 3))
    child = await add_item(s, "乙财〔2016〕1号", unit="b_unit", responsible="b_principal", source=source)
    settled = await add_item(s, "乙财〔2016〕2号", unit="b_unit", source=source, status="declassified")
    grandchild = await add_item(s, "市教〔2017〕1号", unit="city", responsible=None, source=child)
    great = await add_item(s, "市教〔2017〕2号", unit="city", responsible=None, source=settled)
    unrelated = await add_item(s, "甲财〔2015〕19号")
    # a cycle back to the source is walked once
    async with db.transaction(s.world.tenant.id):
        await ClassifiedItem.update({ClassifiedItem.source_item: great["pk"]}).where(ClassifiedItem.id == source["pk"])
        # the source's own chain needs no answer from an originator in this test
        await ClassifiedItem.update({ClassifiedItem.origin: "original"}).where(ClassifiedItem.id == source["pk"])

    d = await proposed(s, source, decision="extend", new_term_years=15, reason="项目延续")
    await s.api.post("principal", one(source, d, "approve"))
    opened = await source_tasks(s)
    assert opened == {child["pk"]: 1, grandchild["pk"]: 1, great["pk"]: 1}
    async with db.transaction(s.world.tenant.id):
        reasons = await ReviewTask.select(ReviewTask.reason, ReviewTask.unit).where(ReviewTask.kind == "source")
    assert all("甲财〔2015〕18号" in r["reason"] for r in reasons)
    assert len({r["unit"] for r in reasons}) == 2  # across units: b_unit and the city's

    d = await proposed(s, source)
    await s.api.post("principal", one(source, d, "approve"))
    assert await source_tasks(s) == opened  # still one open review each
    assert unrelated["pk"] not in opened and settled["pk"] not in opened


# ---------------------------------------------------------------- isolation, pages


async def test_another_tenants_items_and_decisions_do_not_exist(client):
    s = await setup(client)
    item = await add_item(s, "甲财〔2020〕20号")
    d = await proposed(s, item)
    other = SimpleNamespace(world=await make_world("另一个保密局"))
    other.today = units.today(other.world.tenant)
    theirs = await add_item(other, "外〔2020〕1号")
    assert (await propose(s, theirs)).status_code == 404
    assert (await s.api.get("office", f"/classified-items/{theirs['id']}/decisions")).status_code == 404
    mixed = f"/classified-items/{theirs['id']}/decisions/{d['id']}"
    assert (await s.api.post("principal", mixed + "/approve")).status_code == 404
    # a decision of another item of ours under this item's path is not found either
    second = await add_item(s, "甲财〔2020〕21号")
    assert (
        await s.api.post("principal", f"/classified-items/{second['id']}/decisions/{d['id']}/approve")
    ).status_code == 404
    assert (await s.api.get("office", f"/classified-items/{item['id']}/decisions/not-an-id")).status_code == 404


async def test_the_pages_propose_approve_and_list_what_waits(client, make_client):
    s = await setup(client)
    item = await add_item(s, "甲财〔2020〕22号")
    officer = await make_client("10.9.9.5")
    await login(officer, s.world.slug, "officer")
    base = f"/t/{s.world.slug}/classified-items/{item['id']}/decisions"
    form = await officer.get(base + "/new")
    assert form.status_code == 200 and "甲财〔2020〕22号" in form.text
    token = await csrf(officer, base + "/new")
    bad = await post_form(officer, base, token, decision="extend", basis="x")
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    made = await post_form(officer, base, token, decision="declassify", basis="到期解密", publish="1")
    assert made.status_code == 303
    page_url = made.headers["location"]
    twice = await post_form(officer, base, token, decision="declassify", basis="再次")
    assert twice.status_code == 409 and 'role="alert"' in twice.text

    principal = await make_client("10.9.9.6")
    await login(principal, s.world.slug, "principal")
    waiting = await principal.get(f"/t/{s.world.slug}/declassification/approvals")
    assert waiting.status_code == 200 and page_url in waiting.text
    shown = await principal.get(page_url)
    assert shown.status_code == 200 and f'action="{page_url}/approve"' in shown.text
    token = await csrf(principal, page_url)
    approved = await post_form(principal, page_url + "/approve", token)
    assert approved.status_code == 303
    shown = await principal.get(page_url)
    assert f'action="{page_url}/acknowledge"' in shown.text and "张三" in shown.text
    assert (await item_now(s, item))["status"] == "declassified"


async def test_the_item_page_panel_lists_its_decisions(env, client):
    s = await setup(client)
    item = await add_item(s, "甲财〔2020〕23号")
    d = await proposed(s, item)
    t = s.world.tenant
    async with db.transaction(t.id):
        officer = accounts.actor_for(t, await accounts.user_by_username(t, "officer"))
        row = await decisions.item_row(t, officer, item["id"])
        found = await decisions.item_decisions(t, officer, row)
    assert [x["id"] for x in found] == [d["id"]]
    async with db.transaction(t.id):  # the register's public dict of the item will do too
        assert await decisions.item_decisions(t, officer, {"id": item["id"]}) == found
    panel = env.app.template_engine.engine.get_template("declassification/decision_panel.html")
    html = panel.render(t=f"/t/{s.world.slug}", decisions=found, item=row)
    assert f"/t/{s.world.slug}/classified-items/{item['id']}/decisions/{d['id']}" in html
    assert "/decisions/new" not in html  # one decision waits: no second proposal
    html = panel.render(t=f"/t/{s.world.slug}", decisions=[], item=row)
    assert f"/t/{s.world.slug}/classified-items/{item['id']}/decisions/new" in html


async def test_a_rejections_reason_is_kept_on_the_decision(client, make_client):
    s = await setup(client)
    item = await add_item(s, "甲财〔2020〕24号")
    d = await proposed(s, item)
    assert d["decided_note"] == ""
    reason = "依据不足 <b>请补充</b>"
    rejected = await s.api.post("principal", one(item, d, "reject"), {"reason": reason})
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["decided_note"]) == ("rejected", reason)
    assert (await s.api.get("officer", one(item, d))).json()["decided_note"] == reason
    assert [
        x["decided_note"] for x in (await s.api.get("officer", f"/classified-items/{item['id']}/decisions")).json()
    ] == [reason]
    async with db.transaction(s.world.tenant.id):
        row = await Decision.select(Decision.decided_note).where(Decision.uuid == d["id"]).first()
    assert row["decided_note"] == reason
    # the decision's page shows it (escaped), under the label of the reject form
    officer = await make_client("10.9.9.7")
    await login(officer, s.world.slug, "officer")
    shown = await officer.get(f"/t/{s.world.slug}{one(item, d)}")
    assert shown.status_code == 200 and "依据不足 &lt;b&gt;请补充&lt;/b&gt;" in shown.text

    # rejected through the page's form too; an approval says nothing
    again = await proposed(s, item)
    principal = await make_client("10.9.9.6")
    await login(principal, s.world.slug, "principal")
    page_url = f"/t/{s.world.slug}{one(item, again)}"
    done = await post_form(principal, page_url + "/reject", await csrf(principal, page_url), reason="期限未到")
    assert done.status_code == 303
    assert "期限未到" in (await principal.get(page_url)).text
    third = await add_item(s, "甲财〔2020〕25号")
    approved = await s.api.post("principal", one(third, await proposed(s, third), "approve"))
    assert approved.status_code == 200 and approved.json()["decided_note"] == ""


async def test_an_item_past_its_term_takes_no_decision(client):
    """By law an item whose term ended with no decision is declassified the next day (自行解密),
    whether or not the scan has marked it yet: no decision is proposed on it, and one proposed
    in time is not approved once the term has passed."""
    s = await setup(client)
    ended = await add_item(s, "甲财〔2015〕1号", classified_on=s.today - timedelta(days=10 * 365 + 5), years=10)
    refused = await propose(s, ended)
    assert refused.status_code == 409, refused.text
    async with db.transaction(s.world.tenant.id):
        assert not await Decision.exists().where(Decision.item == ended["pk"])
    in_time = await add_item(s, "甲财〔2016〕2号", classified_on=s.today - timedelta(days=400), years=10)
    waiting = await proposed(s, in_time)
    async with db.transaction(s.world.tenant.id):
        await ClassifiedItem.update({ClassifiedItem.term_ends_on: s.today - timedelta(days=1)}).where(
            ClassifiedItem.id == in_time["pk"]
        )
    late = await s.api.post("principal", one(in_time, waiting, "approve"))
    assert late.status_code == 409, late.text
    assert (await item_now(s, in_time))["status"] == "active"  # the scan, not the decision, records it
