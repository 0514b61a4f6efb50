"""The responsibility system: catalog versions, duties from posts, notices issued in
bulk, signing with re-authentication, PDFs, verification, confirmations, coverage."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import openpyxl
import pypdf
import pytest

from server import db
from server.accounts import service as accounts
from server.responsibility import catalog as catalogs
from server.responsibility import confirmations, coverage, notices
from server.responsibility.tables import Notice
from server.units import service as units
from tests.conftest import PASSWORD, SYSTEM, csrf, login
from tests.factories import make_person, make_world


async def office_actor(world):
    async with db.transaction(world.tenant.id):
        return accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "office"))


async def run(world, fn, *args, **kwargs):
    async with db.transaction(world.tenant.id):
        return await fn(world.tenant, *args, **kwargs)


async def leader_notice(world, person="a_lead", status=("issued", "viewed")):
    """The newest notice of a person (a key of world.people, or a person dict) in one of these states."""
    person_id = world.people[person]["id"] if isinstance(person, str) else person["id"]
    async with db.transaction(world.tenant.id):
        rows = (
            await Notice.select(Notice.uuid, Notice.status)
            .where(Notice.tenant == world.tenant.id, Notice.person.uuid == person_id)
            .order_by(Notice.id, ascending=False)
        )
    return next(str(r["uuid"]) for r in rows if r["status"] in status)


async def test_catalog_versions_are_drafted_edited_published_and_then_frozen(client):
    world = await make_world()
    office = await office_actor(world)
    catalog_list = await run(world, catalogs.list_catalogs)
    assert [(c["version"], c["status"]) for c in catalog_list] == [(1, "published")]
    first = await run(world, catalogs.catalog_detail, catalog_list[0]["id"])
    assert len(first["sections"]["principal"]) == 6 and len(first["sections"]["every_leader"]) == 11

    from server.core.errors import Conflict

    with pytest.raises(Conflict):
        await run(world, catalogs.add_duty, office, first["id"], {"position": "principal", "text": "x"})
    draft = await run(world, catalogs.create_draft, office, {"note": "修订"})
    assert draft["version"] == 2 and draft["status"] == "draft"
    assert draft["sections"] == {
        k: [{**d, "id": draft["sections"][k][i]["id"]} for i, d in enumerate(v)] for k, v in first["sections"].items()
    }
    with pytest.raises(Conflict):
        await run(world, catalogs.create_draft, office, {})
    edited = await run(
        world,
        catalogs.add_duty,
        office,
        draft["id"],
        {"position": "secrecy_lead", "text": "每半年向主要负责人报告一次保密工作。"},
    )
    assert edited["sections"]["secrecy_lead"][-1]["text"].startswith("每半年")
    assert (await run(world, catalogs.current_catalog))["version"] == 1
    await run(world, catalogs.publish, office, draft["id"])
    assert (await run(world, catalogs.current_catalog))["version"] == 2
    # the first version never changed
    assert await run(world, catalogs.catalog_detail, first["id"]) == {**first, "current": False}
    with pytest.raises(Conflict):
        await run(world, catalogs.update_duty, office, edited["sections"]["secrecy_lead"][-1]["id"], {"text": "改"})


async def test_bulk_issue_skips_up_to_date_leaders_and_renewal_supersedes(client):
    world = await make_world()
    office = await office_actor(world)
    first = await run(world, notices.issue, office, {"scope": "all"})
    assert first == {"issued": 4, "superseded": 0, "skipped": 0, "leaders": 4}
    again = await run(world, notices.issue, office, {"scope": "all"})
    assert again == {"issued": 0, "superseded": 0, "skipped": 4, "leaders": 4}
    renewed = await run(
        world, notices.issue, office, {"scope": "unit", "unit_id": world.units["district_a"]["id"], "renew": True}
    )
    assert renewed == {"issued": 2, "superseded": 2, "skipped": 0, "leaders": 2}
    async with db.transaction(world.tenant.id):
        rows = await Notice.select(Notice.id, Notice.post, Notice.status, Notice.superseded_by).where(
            Notice.tenant == world.tenant.id
        )
    assert sorted(r["status"] for r in rows) == ["issued"] * 4 + ["superseded"] * 2
    by_id = {r["id"]: r for r in rows}
    for replaced in (r for r in rows if r["status"] == "superseded"):
        replacement = by_id[replaced["superseded_by"]]
        assert replacement["post"] == replaced["post"] and replacement["status"] == "issued"
    bad = await client.post(
        f"/api/v1/t/{world.slug}/notices/issue",
        json={"scope": "person"},
        headers={"Authorization": "Bearer " + await _token(world, "office")},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "person_id"


async def _token(world, key):
    from tests.factories import token_for

    return await token_for(world, key)


async def test_district_admin_issues_only_within_the_district(client):
    world = await make_world()
    await login(client, world.slug, "district")
    token = await csrf(client, f"/t/{world.slug}/notices")
    page = await client.post(f"/t/{world.slug}/notices/issue", data={"_csrf": token, "scope": "all"})
    assert page.status_code == 303 and page.headers["location"].endswith("issued=2&superseded=0&skipped=0")
    shown = await client.get(page.headers["location"])
    assert 'class="alert ok"' in shown.text and "张三" in shown.text
    async with db.transaction(world.tenant.id):
        names = {
            r["name"]
            for r in await Notice.select(Notice.person.name.as_alias("name")).where(Notice.tenant == world.tenant.id)
        }
    assert names == {"张三", "李四"}


async def test_duties_follow_the_post_and_individual_assignments(client):
    world = await make_world()
    office = await office_actor(world)
    lead = await make_person(world.tenant, world.units["a_unit"], "周九", "secrecy_lead", start_date="2020-01-01")
    await run(
        world,
        catalogs.assign,
        office,
        lead["id"],
        {"post_id": lead["posts"][0]["id"], "text": "分管财政、审计工作，负责分管领域保密工作。"},
    )
    await run(world, notices.issue, office, {"scope": "person", "person_id": lead["id"]})
    detail = await run(world, notices.notice_detail, office, await leader_notice(world, lead))
    body = str(detail["body_html"])
    assert "分管保密工作领导" in body and "分管财政、审计工作" in body and "组织制定本单位保密工作制度" in body

    # a change of position: the new post carries the principal's duties; the old notice is replaced
    today = units.today(world.tenant)
    async with db.transaction(world.tenant.id):
        await units.update_person(
            world.tenant, SYSTEM, lead["id"], {"position": "principal", "effective_date": today.isoformat()}
        )
    changed = await run(world, units.person_detail, SYSTEM, lead["id"])
    assert {p["position"] for p in changed["current_posts"]} == {"principal"}
    result = await run(world, notices.issue, office, {"scope": "person", "person_id": lead["id"]})
    assert result["issued"] == 1 and result["superseded"] == 1
    detail = await run(world, notices.notice_detail, office, await leader_notice(world, lead))
    body = str(detail["body_html"])
    assert "主要负责人" in body and "保障保密工作经费" in body and "分管财政、审计工作" not in body


async def test_the_leader_signs_with_the_password_and_every_refusal_is_clear(client, make_client):
    world = await make_world()
    office = await office_actor(world)
    await run(world, notices.issue, office, {"scope": "all"})
    notice_id = await leader_notice(world)
    await login(client, world.slug, "leader")
    portal = await client.get(f"/t/{world.slug}/me")
    assert notice_id in portal.text and "待签署" in portal.text
    page = await client.get(f"/t/{world.slug}/notices/{notice_id}")
    assert page.status_code == 200 and "组织制定本单位保密工作制度" in page.text
    assert (await run(world, notices.notice_detail, office, notice_id))["status"] == "viewed"

    token = await csrf(client, f"/t/{world.slug}/me")
    wrong = await client.post(f"/t/{world.slug}/notices/{notice_id}/sign", data={"_csrf": token, "password": "nope"})
    assert wrong.status_code == 422 and "密码" in wrong.text
    assert (await run(world, notices.notice_detail, office, notice_id))["status"] == "viewed"

    signed = await client.post(f"/t/{world.slug}/notices/{notice_id}/sign", data={"_csrf": token, "password": PASSWORD})
    assert signed.status_code == 303
    detail = await run(world, notices.notice_detail, office, notice_id)
    assert detail["status"] == "signed" and detail["signature"]["client_addr"] == "10.1.2.3"
    assert len(detail["signature"]["code"]) == 9 and detail["signature"]["notice_digest"] == detail["digest"]

    twice = await client.post(f"/t/{world.slug}/notices/{notice_id}/sign", data={"_csrf": token, "password": PASSWORD})
    assert twice.status_code == 409 and "已签署" in twice.text

    # someone else's notice
    other_id = await leader_notice(world, "a_principal")
    others = await client.post(f"/t/{world.slug}/notices/{other_id}/sign", data={"_csrf": token, "password": PASSWORD})
    assert others.status_code == 403

    # superseded and withdrawn notices
    await run(
        world, notices.issue, office, {"scope": "person", "person_id": world.people["a_lead"]["id"], "renew": True}
    )
    assert (
        await client.post(f"/t/{world.slug}/notices/{notice_id}/sign", data={"_csrf": token, "password": PASSWORD})
    ).status_code == 409
    newest = await leader_notice(world)
    await run(world, notices.withdraw, office, newest, {"reason": "名单有误"})
    withdrawn = await client.post(f"/t/{world.slug}/notices/{newest}/sign", data={"_csrf": token, "password": PASSWORD})
    assert withdrawn.status_code == 409 and "撤回" in withdrawn.text


async def test_signed_pdf_carries_the_duties_the_code_and_the_digest_and_verifies(client):
    world = await make_world()
    office = await office_actor(world)
    await run(world, notices.issue, office, {"scope": "all"})
    notice_id = await leader_notice(world)
    api = {"Authorization": "Bearer " + await _token(world, "leader")}
    listed = (await client.get(f"/api/v1/t/{world.slug}/me/notices", headers=api)).json()
    assert [n["id"] for n in listed["to_sign"]] == [notice_id]
    refused = await client.post(
        f"/api/v1/t/{world.slug}/me/notices/{notice_id}/sign", json={"password": "x"}, headers=api
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "password"
    signed = await client.post(
        f"/api/v1/t/{world.slug}/me/notices/{notice_id}/sign", json={"password": PASSWORD}, headers=api
    )
    assert signed.status_code == 201
    code, digest = signed.json()["signature"]["code"], signed.json()["digest"]

    pdf = await client.get(f"/api/v1/t/{world.slug}/notices/{notice_id}/pdf", headers=api)
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    compact = text.replace(" ", "").replace("\n", "")
    for expected in ("李四", "甲区财政局", "组织制定本单位保密工作制度", "不泄露国家秘密", code, digest[:16]):
        assert expected in compact, expected

    verify = f"/api/v1/t/{world.slug}/notices/verify"
    assert (await client.post(verify, files={"code": (None, code)}, headers=api)).json()["match"] is True
    ok = await client.post(
        verify,
        files={"code": (None, code.lower().replace("-", "")), "file": ("n.pdf", pdf.content, "application/pdf")},
        headers=api,
    )
    assert ok.json()["match"] is True and ok.json()["signer_name"] == "李四"
    middle = len(pdf.content) // 2
    tampered = pdf.content[:middle] + bytes([pdf.content[middle] ^ 1]) + pdf.content[middle + 1 :]
    bad = await client.post(
        verify, files={"code": (None, code), "file": ("n.pdf", tampered, "application/pdf")}, headers=api
    )
    assert bad.json()["match"] is False
    unknown = await client.post(verify, files={"code": (None, "AAAA-AAAA")}, headers=api)
    assert unknown.json()["match"] is False and "signer_name" not in unknown.json()


async def test_editing_the_template_or_catalog_after_signing_changes_nothing_signed(client):
    world = await make_world()
    office = await office_actor(world)
    await run(world, notices.issue, office, {"scope": "all"})
    notice_id = await leader_notice(world)
    leader = await _actor(world, "leader")
    signed = await run(world, notices.sign, leader, notice_id, {"password": PASSWORD})
    before = (str(signed["body_html"]), signed["digest"])
    pdf_before, _ = await run(world, notices.notice_pdf, leader, notice_id)

    await run(
        world,
        catalogs.save_template,
        office,
        "secrecy_lead",
        {"title": "新标题", "body": "<p>全新的模板 {{ person_name }}</p>"},
    )
    draft = await run(world, catalogs.create_draft, office, {})
    await run(world, catalogs.add_duty, office, draft["id"], {"position": "secrecy_lead", "text": "新增职责"})
    await run(world, catalogs.publish, office, draft["id"])

    after = await run(world, notices.notice_detail, office, notice_id)
    assert (str(after["body_html"]), after["digest"]) == before
    pdf_after, _ = await run(world, notices.notice_pdf, leader, notice_id)
    assert pdf_after == pdf_before
    assert (await run(world, notices.verify, office, signed["signature"]["code"], pdf_after))["match"] is True
    # the coverage now calls the signed notice outdated, and a new issue replaces it
    snap = await run(world, coverage.coverage, office)
    assert snap["totals"]["counts"]["outdated"] == 1
    result = await run(world, notices.issue, office, {"scope": "all"})
    assert result["issued"] == 4 and result["superseded"] == 4
    newest = await run(world, notices.notice_detail, office, await leader_notice(world))
    assert "全新的模板 李四" in str(newest["body_html"]) and newest["title"] == "新标题"


async def test_bad_templates_are_refused(client):
    world = await make_world()
    office = await office_actor(world)
    from server.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as broken:
        await run(world, catalogs.save_template, office, "principal", {"title": "x", "body": "{% for %}"})
    assert "body" in broken.value.errors
    with pytest.raises(ValidationFailed):  # the sandbox refuses reaching into Python
        await run(
            world, catalogs.save_template, office, "principal", {"title": "x", "body": "{{ duties.__class__.__mro__ }}"}
        )


async def _actor(world, username):
    async with db.transaction(world.tenant.id):
        row = await accounts.user_by_username(world.tenant, username)
        return accounts.actor_for(world.tenant, row, client="10.0.0.9")


async def test_confirmations_duty_by_duty(client):
    world = await make_world()
    await login(client, world.slug, "leader")
    page = await client.get(f"/t/{world.slug}/me/confirmation")
    assert page.status_code == 200 and "不泄露国家秘密" in page.text
    leader = await _actor(world, "leader")
    owed = await run(world, confirmations.pending, leader)
    period = owed["period"].key
    duties = owed["duties"]
    assert len(duties) == 6 + 11
    token = await csrf(client, f"/t/{world.slug}/me/confirmation")
    partial = {"_csrf": token, "done_0": "no"}
    refused = await client.post(f"/t/{world.slug}/me/confirmation/{period}", data=partial)
    assert refused.status_code == 422 and 'id="note_0-error"' in refused.text and 'id="done_1-error"' in refused.text
    answers = {"_csrf": token, "done_0": "no", "note_0": "制度修订中，下季度完成", "all_done": "1"}
    done = await client.post(f"/t/{world.slug}/me/confirmation/{period}", data=answers)
    assert done.status_code == 303
    history = (await client.get(f"/api/v1/t/{world.slug}/me/confirmations")).json()
    assert history["due"] is None
    items = history["history"][0]["items"]
    assert items[0] == {"duty": duties[0], "done": False, "note": "制度修订中，下季度完成"}
    assert all(i["done"] for i in items[1:])
    again = await client.post(f"/t/{world.slug}/me/confirmation/{period}", data=answers)
    assert again.status_code == 409


def test_periods():
    from datetime import date

    q = confirmations.due_period(date(2026, 11, 28))
    assert (q.key, q.start, q.end, q.due) == ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 15))
    assert confirmations.due_period(date(2026, 2, 1)).key == "2025-Q4"
    assert confirmations.due_period(date(2026, 2, 1), "monthly").key == "2026-01"
    assert confirmations.due_period(date(2026, 7, 1), "half-yearly").key == "2026-H1"


async def test_coverage_figures_against_a_hand_built_fixture(client):
    """Districts 甲区 (张三 principal, 李四 secrecy lead) and 乙区 (王五), and 赵六 in 市教育局."""
    world = await make_world()
    office = await office_actor(world)
    extra = await make_person(world.tenant, world.units["city"], "孙八", "business_lead")
    await run(world, notices.issue, office, {"scope": "unit", "unit_id": world.units["district_a"]["id"]})
    await run(world, notices.issue, office, {"scope": "person", "person_id": world.people["city_lead"]["id"]})
    leader = await _actor(world, "leader")
    await run(world, notices.sign, leader, await leader_notice(world), {"password": PASSWORD})
    # 张三's notice has waited three weeks; 赵六's is new
    async with db.transaction(world.tenant.id):
        await Notice.update({Notice.issued_at: datetime.now(UTC) - timedelta(days=21)}).where(
            Notice.person.uuid == world.people["a_principal"]["id"]
        )
    owed = await run(world, confirmations.pending, leader)
    await run(world, confirmations.submit, leader, owed["period"].key, {"all_done": "1"})

    data = await run(world, coverage.coverage, office)
    totals = data["totals"]
    assert totals["units"] == 5 and totals["leaders"] == 5
    assert totals["counts"] == {
        "no_principal": 3,  # 甲区 and 乙区 themselves, and 市教育局
        "no_secrecy_lead": 3,  # 甲区, 乙区 and 乙区财政局
        "no_notice": 2,  # 王五, 孙八
        "unsigned_overdue": 1,  # 张三
        "outdated": 0,
        "renewal_due": 0,
        # everyone but 李四, once the period's due date has passed
        "confirmation_overdue": 4 if units.today(world.tenant) > owed["period"].due else 0,
    }
    assert totals["rates"]["no_notice"] == 0.4
    groups = {g["name"]: g for g in data["groups"]}
    assert set(groups) == {"甲区", "乙区", "市直单位"}
    assert groups["甲区"]["counts"]["unsigned_overdue"] == 1 and groups["乙区"]["counts"]["no_notice"] == 1
    assert groups["市直单位"]["leaders"] == 2 and groups["市直单位"]["counts"]["no_notice"] == 1
    listed = await run(world, coverage.coverage_list, office, "no_notice")
    assert {r["person_name"] for r in listed} == {"王五", "孙八"}
    assert extra["name"] == "孙八"

    # the officer of 甲区财政局 sees their unit only; the API gives the same figures
    await login(client, world.slug, "officer")
    mine = (await client.get(f"/api/v1/t/{world.slug}/coverage")).json()
    assert mine["totals"]["units"] == 1 and mine["totals"]["leaders"] == 2
    assert mine["totals"]["counts"]["unsigned_overdue"] == 1
    page = await client.get(f"/t/{world.slug}/coverage")
    assert page.status_code == 200 and "甲区财政局" in page.text
    export = await client.get(f"/t/{world.slug}/coverage.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(export.content))
    assert len(book.sheetnames) == 1 + len(coverage.METRICS)
    values = [c.value for row in book.worksheets[0].iter_rows() for c in row]
    assert "甲区" in values


async def test_signing_with_a_one_time_code_by_email(client, mailbox):
    world = await make_world()
    office = await office_actor(world)
    async with db.transaction(world.tenant.id):
        await units.update_person(world.tenant, SYSTEM, world.people["a_lead"]["id"], {"email": "lisi@a.example"})
    await run(world, notices.issue, office, {"scope": "all"})
    notice_id = await leader_notice(world)
    await login(client, world.slug, "leader")
    token = await csrf(client, f"/t/{world.slug}/me")
    before = len(mailbox.messages)
    sent = await client.post(f"/t/{world.slug}/notices/{notice_id}/code", data={"_csrf": token})
    assert sent.status_code == 200 and "l***@a.example" in sent.text
    mail = mailbox.messages[before]
    assert mail["To"] == "lisi@a.example"
    code = re.search(r"\d{6}", mail["Subject"]).group(0)
    assert len(code) == 6 and code in mail.get_content()
    again = await client.post(f"/t/{world.slug}/notices/{notice_id}/code", data={"_csrf": token})
    assert again.status_code == 409 and len(mailbox.messages) == before + 1

    wrong = await client.post(
        f"/t/{world.slug}/notices/{notice_id}/sign",
        data={"_csrf": token, "code": "000000" if code != "000000" else "111111"},
    )
    assert wrong.status_code == 422 and 'id="code-error"' in wrong.text
    signed = await client.post(f"/t/{world.slug}/notices/{notice_id}/sign", data={"_csrf": token, "code": code})
    assert signed.status_code == 303
    detail = await run(world, notices.notice_detail, office, notice_id)
    assert detail["status"] == "signed" and detail["signature"]["method"] == "email_code"

    # only the addressee may ask for a code
    foreign = await client.post(
        f"/t/{world.slug}/notices/{await leader_notice(world, 'a_principal')}/code", data={"_csrf": token}
    )
    assert foreign.status_code == 403
    # a leader whose record has no email address is told to use the password
    await run(
        world, notices.issue, office, {"scope": "person", "person_id": world.people["a_lead"]["id"], "renew": True}
    )
    async with db.transaction(world.tenant.id):
        await units.update_person(world.tenant, SYSTEM, world.people["a_lead"]["id"], {"email": ""})
    count = len(mailbox.messages)
    none = await client.post(f"/t/{world.slug}/notices/{await leader_notice(world)}/code", data={"_csrf": token})
    assert none.status_code == 422 and len(mailbox.messages) == count
