"""Declassification publication: the office's decision per declassified item, the public
page, its JSON and Atom feed (no sign-in; only published entries, only whitelisted fields),
withdrawal."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date
from uuid import uuid4
from xml.etree import ElementTree as ET

import pytest

from server import db
from server.actor import Actor
from server.audit.tables import AuditEvent
from server.core.errors import Conflict
from server.declassification import publication, tasks
from server.declassification.tables import ClassifiedItem, Publication, ReviewTask
from server.units import service as units
from tenants.service import set_status
from tests.conftest import SYSTEM, csrf_of, login
from tests.factories import Api, make_world, token_for
from tests.helpers import post_form

ATOM = "{http://www.w3.org/2005/Atom}"
CSRF = re.compile(r'name="_csrf" value="[^"]*"')


async def add_item(world, unit_key: str = "a_unit", **fields) -> dict:
    """An item written straight into the register (the register's own rules are tested in test_declass_register.py),
    with the keys publish_item takes."""
    async with db.transaction(world.tenant.id):
        unit_pk = await units.unit_pk(world.tenant, SYSTEM, world.units[unit_key]["id"])
        values = {
            "uuid": uuid4(),
            "tenant": world.tenant.id,
            "reference": "REF-" + uuid4().hex[:8],
            "public_title": "A public title",
            "level": "secret",
            "classified_on": date(2010, 1, 1),
            "term_kind": "years",
            "term_years": 10,
            "term_ends_on": date(2020, 1, 1),
            "custodian_unit": unit_pk,
            "status": "declassified",
            "declassified_on": date(2024, 3, 1),
            **fields,
        }
        item = ClassifiedItem(**values)
        await item.save()
        return {**values, "id": item.id, "unit_name": world.units[unit_key]["name"]}


async def publish(world, item, what="The whole item", on=date(2024, 3, 1), actor=SYSTEM) -> dict:
    async with db.transaction(world.tenant.id):
        return await publication.publish_item(world.tenant, actor, item, what=what, declassified_on=on)


async def audit_actions(world, action: str) -> list[dict]:
    async with db.transaction(world.tenant.id):
        return await AuditEvent.select().where(AuditEvent.tenant == world.tenant.id, AuditEvent.action == action)


async def test_publish_item_once(env):
    world = await make_world()
    item = await add_item(world)
    entry = await publish(world, item, what="Part two")
    assert entry["reference"] == item["reference"] and entry["what"] == "Part two"
    assert entry["unit"] == world.units["a_unit"]["name"] and not entry["withdrawn"]
    with pytest.raises(Conflict):
        await publish(world, item)
    async with db.transaction(world.tenant.id):
        assert await Publication.count().where(Publication.tenant == world.tenant.id) == 1
        row = await ClassifiedItem.select(ClassifiedItem.publication).where(ClassifiedItem.id == item["id"]).first()
    assert row["publication"] == "published"
    events = await audit_actions(world, "declass.publish")
    assert [e["object_id"] for e in events] == [entry["id"]]


async def test_a_withheld_item_may_be_published_by_a_later_decision(env):
    world = await make_world()
    item = await add_item(world, publication="withheld")
    entry = await publish(world, item)
    assert entry["reference"] == item["reference"]
    with pytest.raises(Conflict):
        await publish(world, item)


async def test_an_item_still_classified_is_not_published(env):
    world = await make_world()
    item = await add_item(world, status="active", declassified_on=None)
    with pytest.raises(Conflict):
        await publish(world, item)


MARKERS = {
    "knowledge_scope": "MK-SCOPE-q81",
    "basis": "MK-BASIS-z27",
    "handler": "MK-HANDLER-w55",
    "term_condition": "MK-TERM-c90",
    "originating_body": "MK-ORIGIN-b14",
    "created_by": "MK-CREATOR-h63",
}


def fields_of(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def public_paths(world) -> dict[str, str]:
    base = f"/t/{world.slug}/public/declassified"
    return {"html": base, "json": base + ".json", "atom": base + ".atom"}


async def read_public(client, world, **params) -> dict[str, str]:
    out = {}
    for kind, path in public_paths(world).items():
        response = await client.get(path, params=params)
        assert response.status_code == 200, (kind, response.text[:300])
        out[kind] = response.text
    return out


def atom_entries(text: str) -> list:
    root = ET.fromstring(text.encode())
    assert root.tag == ATOM + "feed"
    return root.findall(ATOM + "entry")


async def test_the_public_side_shows_published_entries_with_whitelisted_fields_only(env, make_client):
    world = await make_world()
    async with db.transaction(world.tenant.id):
        responsible = await units.person_pk(world.tenant, SYSTEM, world.people["a_lead"]["id"])
        origin_unit = await units.unit_pk(world.tenant, SYSTEM, world.units["city"]["id"])
    source = await add_item(world, reference="MK-SOURCEREF-s31", status="active", declassified_on=None)
    item = await add_item(
        world,
        **MARKERS,
        public_title="通知汇编（公开标题）",
        level="top_secret",
        term_kind="condition",
        term_years=None,
        term_ends_on=None,
        origin="derived",
        source_item=source["id"],
        originating_unit=origin_unit,
        responsible_person=responsible,
        declassified_part="MK-PARTNOTE-p02",
        status="partly_declassified",
        declassified_on=date(2024, 6, 30),
    )
    publisher = Actor.system("MK-PUBLISHER-k40")
    entry = await publish(world, item, what="第三部分", on=date(2024, 6, 30), actor=publisher)
    waiting = await add_item(world, reference="MK-WAITINGREF-u77")
    withheld = await add_item(world, reference="MK-WITHHELDREF-v66", publication="withheld")
    expired = await add_item(world, reference="MK-EXPIREDREF-e12", status="expired", declassified_on=None)
    secret_names = [
        *MARKERS.values(),
        source["reference"],
        waiting["reference"],
        withheld["reference"],
        expired["reference"],
        "MK-PARTNOTE-p02",
        world.people["a_lead"]["name"],
        world.units["city"]["name"],
        world.units["a_unit"]["id"],
        str(item["uuid"]),
        publisher.name,
    ]
    anonymous = await make_client()
    pages = await read_public(anonymous, world)
    for kind, text in pages.items():
        assert item["reference"] in text and "通知汇编（公开标题）" in text and "第三部分" in text, kind
        assert world.units["a_unit"]["name"] in text, kind
        for marker in secret_names:
            assert marker not in text, (kind, marker)
    listed = json.loads(pages["json"])
    assert [set(e) for e in listed["items"]] == [set(publication.PUBLIC_FIELDS)]
    assert listed["items"][0] == {
        "id": entry["id"],
        "reference": item["reference"],
        "public_title": "通知汇编（公开标题）",
        "unit": world.units["a_unit"]["name"],
        "declassified_on": "2024-06-30",
        "what": "第三部分",
        "withdrawn": False,
        "withdrawn_on": None,
        "withdrawn_reason": "",
    }
    assert set(listed) == {"items", "total", "page", "per_page", "pages", "next"} and listed["next"] is None
    (feed_entry,) = atom_entries(pages["atom"])
    assert feed_entry.findtext(ATOM + "id") == f"urn:uuid:{entry['id']}"
    # a search for what was not published finds nothing, on every side
    for marker in (waiting["reference"], withheld["reference"], expired["reference"], source["reference"]):
        found = await read_public(anonymous, world, q=marker)
        assert json.loads(found["json"])["items"] == [] and marker not in found["json"]


async def test_another_tenants_member_sees_what_anyone_sees(env, make_client):
    world = await make_world()
    item = await add_item(world)
    await publish(world, item)
    other = await make_world("另一市保密局")
    member = await make_client()
    assert (await login(member, other.slug, "office")).status_code == 303
    anonymous = await make_client()
    seen = await read_public(member, world)
    expected = await read_public(anonymous, world)
    assert seen["json"] == expected["json"] and seen["atom"] == expected["atom"]
    assert CSRF.sub("", seen["html"]) == CSRF.sub("", expected["html"])
    assert "office" not in seen["html"] and item["reference"] in seen["html"]
    # and a member of the tenant itself reads the same list (the public page knows no one)
    own = await make_client()
    await login(own, world.slug, "office")
    assert (await read_public(own, world))["json"] == expected["json"]


async def test_unknown_or_suspended_tenant_shows_nothing(env, client):
    world = await make_world()
    item = await add_item(world)
    await publish(world, item)
    for path in public_paths(world).values():
        assert (await client.get(path.replace(world.slug, "no-such-bureau"))).status_code == 404
    async with db.transaction(None):
        await set_status(world.slug, "suspended")
    for path in public_paths(world).values():
        refused = await client.get(path)
        assert refused.status_code in (403, 404) and item["reference"] not in refused.text


async def test_withdraw_keeps_the_entry_marked_with_reason_and_date(env, client, make_client):
    world = await make_world()
    item = await add_item(world)
    entry = await publish(world, item)
    api = await Api.of(client, world, "office", "officer")
    url = f"/publications/{entry['id']}/withdraw"
    missing = await api.post("office", url, {})
    assert missing.status_code == 422 and "reason" in fields_of(missing)
    assert (await api.post("officer", url, {"reason": "x"})).status_code == 403
    done = await api.post("office", url, {"reason": "发布有误"})
    assert done.status_code == 200, done.text
    assert done.json()["withdrawn"] and done.json()["withdrawn_reason"] == "发布有误"
    assert done.json()["withdrawn_on"] == units.today(world.tenant).isoformat()
    again = await api.post("office", url, {"reason": "again"})
    assert again.status_code == 409
    anonymous = await make_client()
    pages = await read_public(anonymous, world)
    (shown,) = json.loads(pages["json"])["items"]
    assert shown["withdrawn"] and shown["withdrawn_reason"] == "发布有误" and shown["id"] == entry["id"]
    assert "发布有误" in pages["html"] and item["reference"] in pages["html"]
    (feed_entry,) = atom_entries(pages["atom"])
    assert "发布有误" in feed_entry.findtext(ATOM + "summary")
    events = await audit_actions(world, "declass.withdraw")
    assert [(e["object_type"], e["object_id"]) for e in events] == [("declassified_publication", entry["id"])]
    # another tenant's office cannot name this entry
    other = await make_world("另一市保密局")
    foreign = await Api.of(client, other, "office")
    other_entry = await publish(other, await add_item(other))
    assert (await foreign.post("office", url, {"reason": "x"})).status_code == 404
    assert (await api.post("office", f"/publications/{other_entry['id']}/withdraw", {"reason": "x"})).status_code == 404


async def test_two_withdrawals_at_once_withdraw_once(env, client, make_client):
    world = await make_world()
    entry = await publish(world, await add_item(world))
    token = await token_for(world, "office")
    second = await make_client()
    url = f"/api/v1/t/{world.slug}/publications/{entry['id']}/withdraw"
    headers = {"Authorization": "Bearer " + token}
    answers = await asyncio.gather(
        client.post(url, json={"reason": "一"}, headers=headers),
        second.post(url, json={"reason": "二"}, headers=headers),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert len(await audit_actions(world, "declass.withdraw")) == 1


async def test_the_offices_decisions_publish_or_withhold(env, client):
    world = await make_world()
    whole = await add_item(world, declassified_on=date(2024, 1, 10))
    part = await add_item(
        world, status="partly_declassified", declassified_part="第二章", declassified_on=date(2024, 2, 1)
    )
    expired = await add_item(world, status="expired", declassified_on=None, term_ends_on=date(2024, 3, 31))
    active = await add_item(world, status="active", declassified_on=None)
    decided = await add_item(world, publication="withheld")
    api = await Api.of(client, world, "office", "officer")
    listed = await api.get("office", "/publications/waiting")
    assert listed.status_code == 200
    rows = {r["reference"]: r for r in listed.json()["items"]}
    assert set(rows) == {whole["reference"], part["reference"], expired["reference"]}
    assert rows[expired["reference"]]["by_expiry"] and rows[expired["reference"]]["status"] == "expired"
    assert rows[expired["reference"]]["declassified_on"] == "2024-04-01"
    assert not rows[whole["reference"]]["by_expiry"] and rows[part["reference"]]["part"] == "第二章"
    assert (await api.get("officer", "/publications/waiting")).status_code == 403
    assert active["reference"] not in listed.text and decided["reference"] not in listed.text

    def url(item):
        return f"/classified-items/{item['uuid']}/publication"

    assert (await api.post("officer", url(whole), {"publish": True})).status_code == 403
    assert (await api.post("office", url(whole), {"publish": True, "extra": 1})).status_code == 400
    no_choice = await api.post("office", url(whole), {})
    assert no_choice.status_code == 422 and "publish" in fields_of(no_choice)
    no_reason = await api.post("office", url(whole), {"publish": False})
    assert no_reason.status_code == 422 and "reason" in fields_of(no_reason)
    assert (await api.post("office", url(active), {"publish": True})).status_code == 409

    published = await api.post("office", url(part), {"publish": True})
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["publication"] == "published" and body["entry"]["what"] == "第二章"
    assert body["entry"]["declassified_on"] == "2024-02-01"
    by_expiry = (await api.post("office", url(expired), {"publish": True, "what": "全部"})).json()
    assert by_expiry["entry"]["declassified_on"] == "2024-04-01" and by_expiry["entry"]["what"] == "全部"
    withheld = await api.post("office", url(whole), {"publish": False, "reason": "涉及个人信息"})
    assert withheld.status_code == 200 and withheld.json() == {
        "item_id": str(whole["uuid"]),
        "publication": "withheld",
        "entry": None,
    }
    assert (await api.post("office", url(whole), {"publish": False, "reason": "again"})).status_code == 409
    assert (await api.post("office", url(part), {"publish": True})).status_code == 409
    assert (await api.post("office", url(whole), {"publish": True})).status_code == 409  # the desk decides once
    assert (await api.post("office", url(decided), {"publish": True})).status_code == 409
    assert (await api.get("office", "/publications/waiting")).json()["items"] == []
    async with db.transaction(world.tenant.id):
        row = await ClassifiedItem.select(ClassifiedItem.publication).where(ClassifiedItem.id == whole["id"]).first()
    assert row["publication"] == "withheld"
    (event,) = await audit_actions(world, "declass.withhold")
    assert event["object_id"] == str(whole["uuid"])
    entries = (await api.get("office", "/publications")).json()
    assert {e["reference"] for e in entries["items"]} == {part["reference"], expired["reference"]}
    # another tenant's item is not found
    other = await make_world("另一市保密局")
    foreign = await add_item(other)
    assert (await api.post("office", url(foreign), {"publish": True})).status_code == 404


async def test_the_offices_page_marks_expiry_and_takes_the_forms(env, client):
    world = await make_world()
    expired = await add_item(world, status="expired", declassified_on=None, term_ends_on=date(2024, 3, 31))
    whole = await add_item(world)
    await login(client, world.slug, "office")
    path = f"/t/{world.slug}/declassification/publication"
    shown = await client.get(path)
    assert shown.status_code == 200 and expired["reference"] in shown.text
    assert "保密期限届满自行解密" in shown.text or "Declassified by expiry of term" in shown.text
    token = csrf_of(shown.text)
    refused = await post_form(client, f"{path}/{whole['uuid']}", token, publish="0", reason="")
    assert refused.status_code == 422
    done = await post_form(client, f"{path}/{expired['uuid']}", token, publish="1", what="")
    assert done.status_code == 303 and done.headers["location"] == path
    page = await client.get(path)
    assert "/declassification/publications/" in page.text
    entry_id = (await publication_ids(world))[0]
    withdrawn = await post_form(
        client, f"/t/{world.slug}/declassification/publications/{entry_id}/withdraw", token, reason="错发"
    )
    assert withdrawn.status_code == 303
    assert "错发" in (await client.get(path)).text
    again = await post_form(
        client, f"/t/{world.slug}/declassification/publications/{entry_id}/withdraw", token, reason="再"
    )
    assert again.status_code == 409
    officer = await login(client, world.slug, "officer")
    assert officer.status_code == 303
    assert (await client.get(path)).status_code == 403


async def publication_ids(world) -> list[str]:
    async with db.transaction(world.tenant.id):
        rows = await Publication.select(Publication.uuid).where(Publication.tenant == world.tenant.id)
    return [str(r["uuid"]) for r in rows]


async def test_search_filters_and_pages(env, make_client):
    world = await make_world()
    specs = [
        ("a_unit", "secret", date(2023, 5, 1), "机要文件甲"),
        ("a_unit", "confidential", date(2024, 5, 1), "财务报表乙"),
        ("b_unit", "secret", date(2024, 7, 1), "财务报表丙"),
        ("b_unit", "top_secret", date(2025, 1, 2), "会议纪要丁"),
        ("city", "confidential", date(2025, 2, 3), "会议纪要戊"),
    ]
    made = []
    for unit_key, level, on, title in specs:
        item = await add_item(world, unit_key, level=level, public_title=title, declassified_on=on)
        await publish(world, item, on=on)
        made.append(item)
    anonymous = await make_client()
    base = public_paths(world)["json"]

    async def titles(**params) -> list[str]:
        response = await anonymous.get(base, params=params)
        assert response.status_code == 200
        return [e["public_title"] for e in response.json()["items"]]

    assert await titles() == ["会议纪要戊", "会议纪要丁", "财务报表丙", "财务报表乙", "机要文件甲"]
    assert await titles(q="财务") == ["财务报表丙", "财务报表乙"]
    assert await titles(q=made[0]["reference"].lower()) == ["机要文件甲"]
    assert await titles(unit=world.units["b_unit"]["name"]) == ["会议纪要丁", "财务报表丙"]
    assert await titles(year="2024") == ["财务报表丙", "财务报表乙"]
    assert await titles(level="secret") == ["财务报表丙", "机要文件甲"]
    assert await titles(level="secret", year="2024", q="丙") == ["财务报表丙"]
    assert await titles(q="财%乙") == []  # "%" is no wildcard
    assert len(await titles(year="not-a-year", level="nonsense")) == 5  # leniently ignored

    seen, url = [], base + "?per_page=2&q=" + ""
    pages = 0
    while url:
        body = (await anonymous.get(url)).json()
        seen += [e["public_title"] for e in body["items"]]
        assert body["total"] == 5 and len(body["items"]) <= 2
        url, pages = body["next"], pages + 1
    assert pages == 3 and len(set(seen)) == 5
    filtered = (await anonymous.get(base, params={"per_page": 1, "year": "2024"})).json()
    assert "year=2024" in filtered["next"] and "page=2" in filtered["next"]

    html = await anonymous.get(
        public_paths(world)["html"], params={"per_page": 2, "page": 2, "unit": world.units["b_unit"]["name"]}
    )
    assert html.status_code == 200
    html_all = (await anonymous.get(public_paths(world)["html"], params={"per_page": 2})).text
    assert "page=2" in html_all and "会议纪要戊" in html_all and "机要文件甲" not in html_all
    assert "2023" in html_all and world.units["city"]["name"] in html_all  # the filters' choices
    feed = atom_entries((await anonymous.get(public_paths(world)["atom"])).text)
    assert len(feed) == 5
    assert feed[0].findtext(ATOM + "title").startswith(made[-1]["reference"])  # the newest first
    response = await anonymous.get(public_paths(world)["atom"])
    assert response.headers["content-type"].startswith("application/atom+xml")


async def test_two_publish_decisions_at_once_publish_once(env, client, make_client):
    world = await make_world()
    item = await add_item(world)
    headers = {"Authorization": "Bearer " + await token_for(world, "office")}
    second = await make_client()
    url = f"/api/v1/t/{world.slug}/classified-items/{item['uuid']}/publication"
    answers = await asyncio.gather(
        client.post(url, json={"publish": True}, headers=headers),
        second.post(url, json={"publish": False, "reason": "不公布"}, headers=headers),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    async with db.transaction(world.tenant.id):
        published = await Publication.count().where(Publication.tenant == world.tenant.id)
        row = await ClassifiedItem.select(ClassifiedItem.publication).where(ClassifiedItem.id == item["id"]).first()
    winner = next(a for a in answers if a.status_code == 200).json()["publication"]
    assert row["publication"] == winner and published == (1 if winner == "published" else 0)
    assert len(await audit_actions(world, "declass.publish")) + len(await audit_actions(world, "declass.withhold")) == 1


async def test_a_publication_decision_closes_the_expiry_task(env, client):
    """An item declassified by expiry waits for the office's decision with an open expiry
    task (its reminders keep coming): deciding, either way, closes it."""
    world = await make_world()
    published = await add_item(world, status="expired", declassified_on=date(2024, 4, 1))
    withheld = await add_item(world, status="expired", declassified_on=date(2024, 4, 1))
    async with db.transaction(world.tenant.id):
        for item in (published, withheld):
            await tasks.open_tasks(world.tenant, SYSTEM, [item], "expiry")
    api = await Api.of(client, world, "office")
    for item, body in ((published, {"publish": True}), (withheld, {"publish": False, "reason": "不宜公开"})):
        answer = await api.post("office", f"/classified-items/{item['uuid']}/publication", body)
        assert answer.status_code == 200, answer.text
    async with db.transaction(world.tenant.id):
        rows = await ReviewTask.select(ReviewTask.item, ReviewTask.status).where(ReviewTask.tenant == world.tenant.id)
    assert sorted(r["status"] for r in rows) == ["done", "done"]
