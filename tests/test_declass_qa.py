"""The declassification Q&A: the default set a new tenant starts with, search in Chinese,
tags and the stale flag, the public page, sanitised Markdown, who may write, and the
failure modes (422 naming the field, another tenant's entry, two seedings at once)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from server import db, roles
from server.actor import Actor
from server.audit.tables import AuditEvent
from server.declassification import qa
from server.declassification.qa_seed import ENTRIES
from server.declassification.tables import QAEntry
from server.units import service as units
from tests.conftest import SYSTEM, csrf, login
from tests.factories import Api, make_world

ALL = {"per_page": 200}


async def entries(api: Api, who: str = "office", **params) -> dict:
    answer = await api.get(who, "/qa", **{**ALL, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def create(api: Api, body: dict, who: str = "office"):
    return await api.post(who, "/qa", body)


async def made(api: Api, **body) -> dict:
    answer = await create(api, {"question": "测试问题", "answer": "测试回答", **body})
    assert answer.status_code == 201, answer.text
    return answer.json()


def fields(answer) -> set[str]:
    """The fields a 422 names."""
    return {error["field"] for error in answer.json()["errors"]}


async def audit_rows(world, action: str) -> list[dict]:
    async with db.transaction(world.tenant.id):
        query = AuditEvent.select().where(AuditEvent.tenant == world.tenant.id, AuditEvent.action == action)
        return await query.output(load_json=True)


async def count(world) -> int:
    async with db.transaction(world.tenant.id):
        return await QAEntry.count().where(QAEntry.tenant == world.tenant.id)


async def seed(world) -> int:
    async with db.transaction(world.tenant.id):
        return await qa.seed_defaults(world.tenant, SYSTEM)


# ---------------------------------------------------------------- the default set


async def test_a_new_tenant_starts_with_the_default_set(client):
    world = await make_world()  # made through the platform, as an operator makes a bureau
    api = await Api.of(client, world, "office")
    found = await entries(api)
    assert found["total"] == len(ENTRIES) >= 24
    public = [e for e in found["items"] if e["public"]]
    assert len(ENTRIES) // 3 <= len(public) <= 2 * len(ENTRIES) // 3  # about half
    a_year = qa.one_year_after(units.today(world.tenant)).isoformat()
    for entry in found["items"]:
        assert entry["tags"] and entry["legal_basis"] and entry["answer_html"]
        assert entry["review_on"] == a_year and not entry["stale"]
    bases = " ".join(e["legal_basis"] for e in found["items"])
    assert "《中华人民共和国保守国家秘密法》（2024年修订）第二十条" in bases
    assert "第二十四条" in bases and "第二十五条" in bases
    # what the bureau's pilot units asked: each topic has its answer
    text = " ".join(e["question"] + e["answer"] + " ".join(e["tags"]) for e in found["items"])
    topics = ("每年", "定密责任人", "派生", "部分解密", "解密标志", "自行解密", "延长", "档案", "争议", "不等于公开")
    for topic in topics:
        assert topic in text, topic
    # the tenant has them already: seeding again adds nothing
    assert await seed(world) == 0
    assert await count(world) == len(ENTRIES)


async def test_seeding_is_once_even_twice_at_once(env):
    world = await make_world()
    async with db.transaction(world.tenant.id):
        await QAEntry.delete().where(QAEntry.tenant == world.tenant.id)
    added = await asyncio.gather(seed(world), seed(world))
    assert sorted(added) == [0, len(ENTRIES)]
    assert await count(world) == len(ENTRIES)
    assert await seed(world) == 0
    events = await audit_rows(world, "declass.qa_create")
    assert [e["detail"] for e in events] == [{"defaults": len(ENTRIES)}]


async def test_a_tenant_with_entries_of_its_own_gets_no_defaults(env):
    world = await make_world()
    async with db.transaction(world.tenant.id):
        first = (await QAEntry.select(QAEntry.id).where(QAEntry.tenant == world.tenant.id).first())["id"]
        await QAEntry.delete().where(QAEntry.tenant == world.tenant.id, QAEntry.id != first)
    assert await seed(world) == 0
    assert await count(world) == 1


# ---------------------------------------------------------------- search, tags, stale


async def test_search_in_chinese_every_term_must_match(client):
    world = await make_world()
    api = await Api.of(client, world, "office", "leader")
    found = await entries(api, q="派生 期限")
    questions = [e["question"] for e in found["items"]]
    assert "派生事项没有标明保密期限，期限怎么算？" in questions
    assert found["total"] < len(ENTRIES)
    for e in found["items"]:
        text = e["question"] + e["answer"] + " ".join(e["tags"]) + e["legal_basis"]
        assert "派生" in text and "期限" in text
    # a full-width space separates terms too; a term found nowhere finds nothing
    assert (await entries(api, q="派生\u3000期限"))["total"] == found["total"]
    assert (await entries(api, q="派生 不存在的词语"))["total"] == 0
    # the legal basis and the tags are searched
    assert (await entries(api, q="第二十五条"))["total"] >= 2
    assert (await entries(api, q="解密标志"))["total"] >= 1
    # Latin letters in any case, half or full width
    mine = await made(api, question="HTTPS 链接怎么写？", answer="见 Markdown 说明。", tags=["Web"])
    for q in ("https", "HTTPS", "ＨＴＴＰＳ", "markdown web"):
        hits = [e["id"] for e in (await entries(api, "leader", q=q))["items"]]
        assert hits == [mine["id"]], q
    # % and _ are plain characters, not patterns
    assert (await entries(api, q="%"))["total"] == 0
    assert (await entries(api, q="_"))["total"] == 0
    too_long = await api.get("office", "/qa", q="词" * 201)
    assert too_long.status_code == 422 and "q" in fields(too_long)


async def test_tag_filter_and_paging(client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    found = await entries(api, tag="自行解密")
    assert found["total"] >= 2
    assert all("自行解密" in e["tags"] for e in found["items"])
    assert "自行解密" in found["tags"] and "派生定密" in found["tags"]
    assert (await entries(api, tag="派生定密", q="征求"))["total"] >= 1
    assert (await entries(api, tag="没有这个标签"))["total"] == 0
    first = (await api.get("office", "/qa", per_page=10)).json()
    second = (await api.get("office", "/qa", per_page=10, page=2)).json()
    assert first["total"] == len(ENTRIES) and first["pages"] == -(-len(ENTRIES) // 10)
    assert len(first["items"]) == 10 and not {e["id"] for e in first["items"]} & {e["id"] for e in second["items"]}
    public = await entries(api, public="true")
    internal = await entries(api, public="false")
    assert public["total"] + internal["total"] == len(ENTRIES)
    assert all(e["public"] for e in public["items"]) and not any(e["public"] for e in internal["items"])
    bad = await api.get("office", "/qa", public="maybe")
    assert bad.status_code == 422 and "public" in fields(bad)


async def test_an_answer_past_its_review_date_is_stale(client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    yesterday = (units.today(world.tenant) - timedelta(days=1)).isoformat()
    today = units.today(world.tenant).isoformat()
    old = await made(api, question="过期的回答", review_on=yesterday)
    due_today = await made(api, question="今天复核的回答", review_on=today)
    assert old["stale"] and not due_today["stale"]
    stale = await entries(api, stale="true")
    assert [e["id"] for e in stale["items"]] == [old["id"]]
    current = await entries(api, stale="false")
    assert old["id"] not in {e["id"] for e in current["items"]} and current["total"] == len(ENTRIES) + 1
    # looked at again: a new review date, and it is current
    changed = await api.client.patch(
        f"{api.base}/qa/{old['id']}",
        json={"review_on": (units.today(world.tenant) + timedelta(days=700)).isoformat()},
        headers=api.headers("office"),
    )
    assert changed.status_code == 200 and not changed.json()["stale"]
    await login(client, world.slug, "office")
    page = await client.get(f"/t/{world.slug}/declassification/qa", params={"stale": "true"})
    assert page.status_code == 200 and 'class="badge warn"' not in page.text  # none left
    await made(api, question="又一个过期的", review_on=yesterday)
    page = await client.get(f"/t/{world.slug}/declassification/qa")
    assert page.text.count('class="badge warn"') == 1


async def test_a_few_hundred_entries_are_searched_quickly(env):
    world = await make_world()
    async with db.transaction(world.tenant.id):
        await QAEntry.insert(
            *[
                QAEntry(
                    tenant=world.tenant.id,
                    question=f"第{i}个问题：派生事项的保密期限",
                    answer="解密审核的说明。" * 40,
                    tags=["派生定密", f"标签{i % 7}"],
                    legal_basis="《中华人民共和国保守国家秘密法》",
                )
                for i in range(300)
            ]
        )
    actor = Actor(kind="user", id=world.users["office"]["id"], name="office", role=roles.OFFICE_ADMIN)
    async with db.transaction(world.tenant.id):
        started = time.perf_counter()
        found, tags = await qa.list_entries(world.tenant, actor, {"q": "派生 期限 审核", "tag": "标签3"}, 1, 50)
        elapsed = time.perf_counter() - started
    assert found.total == len([i for i in range(300) if i % 7 == 3])
    assert "标签3" in tags
    assert elapsed < 1.0


# ---------------------------------------------------------------- the public page


async def test_the_public_page_shows_only_public_entries_without_a_session(client, make_client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    shown = await made(api, question="公开问题甲乙丙", answer="公开回答子丑寅", public=True, tags=["公开标签"])
    await made(
        api,
        question="内部问题丁戊己",
        answer="内部回答卯辰巳",
        legal_basis="内部依据庚辛",
        tags=["内部标签"],
        public=False,
    )
    anonymous = await make_client("10.7.7.7")
    page = await anonymous.get(f"/t/{world.slug}/public/qa")
    assert page.status_code == 200
    assert "公开问题甲乙丙" in page.text and "公开回答子丑寅" in page.text
    for secret in ("内部问题丁戊己", "内部回答卯辰巳", "内部依据庚辛", "内部标签"):
        assert secret not in page.text
    internal_defaults = [e for e in ENTRIES if not e["public"]]
    for entry in internal_defaults:
        assert entry["question"] not in page.text
    for entry in (e for e in ENTRIES if e["public"]):
        assert entry["question"] in page.text
    assert "/logout" not in page.text and 'name="answer"' not in page.text  # no account, no forms
    # searched, the internal ones are not found either; a tag leads to its public entries
    found = await anonymous.get(f"/t/{world.slug}/public/qa", params={"q": "丁戊己"})
    assert found.status_code == 200 and "内部问题丁戊己" not in found.text
    found = await anonymous.get(f"/t/{world.slug}/public/qa", params={"q": "甲乙丙"})
    assert "公开问题甲乙丙" in found.text and f'id="qa-{shown["id"]}"' in found.text
    assert "公开问题甲乙丙" in (await anonymous.get(f"/t/{world.slug}/public/qa", params={"tag": "公开标签"})).text
    found = await anonymous.get(f"/t/{world.slug}/public/qa", params={"tag": "内部标签"})
    assert "内部问题丁戊己" not in found.text and "内部回答卯辰巳" not in found.text and "<article" not in found.text
    # the signed-in see the same public page
    await login(client, world.slug, "office")
    assert "内部问题丁戊己" not in (await client.get(f"/t/{world.slug}/public/qa")).text
    # and the internal page needs a sign-in
    assert (await anonymous.get(f"/t/{world.slug}/declassification/qa")).status_code == 303
    assert (await anonymous.get(f"/api/v1/t/{world.slug}/qa")).status_code in (401, 403)
    assert (await anonymous.get("/t/no-such-tenant/public/qa")).status_code == 404


# ---------------------------------------------------------------- Markdown


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">raw</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](/t/other/admin)",
    "<javascript:alert(1)>",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "![pic](https://evil.example/track.png)",
    "![pic](data:image/png;base64,iVBORw0KGgo=)",
    '<div onclick="alert(1)">div</div>',
    '[ok](https://ok.example/"onmouseover="alert(1))',
]


def test_markdown_is_rendered_inert():
    for source in HOSTILE:
        html = qa.render(source)
        lowered = html.lower()
        assert "<script" not in lowered and "<img" not in lowered and "<div" not in lowered, source
        assert 'href="javascript' not in lowered and 'href="vbscript' not in lowered, source
        assert 'href="data:' not in lowered and 'href="/' not in lowered, source
        assert " onerror=" not in lowered.replace("&lt;img src=x onerror=", ""), source
        assert " onclick=" not in lowered.replace("&lt;div onclick=", ""), source
        assert " onmouseover=" not in lowered, source
    good = qa.render("**重点** [法规](https://example.gov.cn/law) [邮件](mailto:a@example.cn)\n\n- 一\n- 二")
    assert "<strong>重点</strong>" in good and "<li>一</li>" in good
    assert '<a href="https://example.gov.cn/law" rel="nofollow noopener noreferrer">法规</a>' in good
    assert 'href="mailto:a@example.cn"' in good
    assert "pic" in qa.render("![pic](https://evil.example/track.png)")  # the image's words stay


async def test_hostile_answers_are_inert_on_the_pages(client, make_client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    entry = await made(
        api,
        question="恶意内容<b>q</b>",
        answer="\n\n".join(HOSTILE),
        legal_basis="<script>basis()</script>",
        tags=["<i>t</i>"],
        public=True,
    )
    assert "<script" not in entry["answer_html"] and entry["answer"].startswith("<script>")
    await login(client, world.slug, "office")
    for path in (f"/t/{world.slug}/declassification/qa/{entry['id']}", f"/t/{world.slug}/declassification/qa"):
        html = (await client.get(path)).text
        assert "<script>alert" not in html and "<img src=x" not in html and 'href="javascript' not in html
        assert "<b>q</b>" not in html and "<script>basis" not in html and "<i>t</i>" not in html
    anonymous = await make_client("10.7.7.8")
    html = (await anonymous.get(f"/t/{world.slug}/public/qa", params={"q": "恶意内容"})).text
    assert "恶意内容" in html and "&lt;script&gt;" in html
    assert "<script>alert" not in html and "<img src=x" not in html and 'href="javascript' not in html
    assert "<b>q</b>" not in html and "<script>basis" not in html and "<i>t</i>" not in html


# ---------------------------------------------------------------- writes and who may


async def test_office_writes_business_roles_read_admins_do_not(client):
    world = await make_world()
    keys = ("office", "district", "officer", "leader", "inspector", "assessor")
    admins = ("system_admin", "security_admin", "audit_admin")
    api = await Api.of(client, world, *keys, *admins)
    internal = await made(api, question="内部问题", public=False)
    for who in keys:
        listed = await api.get(who, "/qa")
        assert listed.status_code == 200, who
        assert (await api.get(who, f"/qa/{internal['id']}")).json()["question"] == "内部问题"
    for who in admins:
        assert (await api.get(who, "/qa")).status_code == 403, who
        assert (await api.get(who, f"/qa/{internal['id']}")).status_code == 403, who
    for who in ("officer", "district", "leader", "system_admin"):
        assert (await create(api, {"question": "问", "answer": "答"}, who)).status_code == 403, who
        patched = await client.patch(
            f"{api.base}/qa/{internal['id']}", json={"question": "改"}, headers=api.headers(who)
        )
        assert patched.status_code == 403, who
        assert (await client.delete(f"{api.base}/qa/{internal['id']}", headers=api.headers(who))).status_code == 403
    assert (await api.get("office", f"/qa/{internal['id']}")).json()["question"] == "内部问题"
    # the page's forms too
    await login(client, world.slug, "officer")
    page = await client.get(f"/t/{world.slug}/declassification/qa")
    assert page.status_code == 200 and "/declassification/qa/new" not in page.text
    token = await csrf(client, f"/t/{world.slug}/declassification/qa")
    refused = await client.post(
        f"/t/{world.slug}/declassification/qa", data={"_csrf": token, "question": "问", "answer": "答"}
    )
    assert refused.status_code == 403
    assert (await client.get(f"/t/{world.slug}/declassification/qa/new")).status_code == 403
    assert 'name="answer"' not in (await client.get(f"/t/{world.slug}/declassification/qa/{internal['id']}")).text


async def test_create_change_delete_and_their_audit_events(client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    entry = await made(
        api,
        question="  新问题  ",
        answer="新回答",
        tags=["甲", "乙", "甲", " "],
        legal_basis="依据",
        public=True,
        review_on="2030-06-30",
    )
    assert entry["question"] == "新问题" and entry["tags"] == ["甲", "乙"] and entry["public"]
    assert entry["review_on"] == "2030-06-30" and entry["updated_by"]
    plain = await made(api)  # no review date given: a year from today; internal
    assert plain["review_on"] == qa.one_year_after(units.today(world.tenant)).isoformat() and not plain["public"]
    changed = await client.patch(
        f"{api.base}/qa/{entry['id']}", json={"tags": "丙，丁、戊", "public": False}, headers=api.headers("office")
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["tags"] == ["丙", "丁", "戊"] and not changed.json()["public"]
    assert changed.json()["question"] == "新问题"
    gone = await client.delete(f"{api.base}/qa/{entry['id']}", headers=api.headers("office"))
    assert gone.status_code == 204
    assert (await api.get("office", f"/qa/{entry['id']}")).status_code == 404
    again = await client.delete(f"{api.base}/qa/{entry['id']}", headers=api.headers("office"))
    assert again.status_code == 404
    created = [e for e in await audit_rows(world, "declass.qa_create") if e["object_id"] == entry["id"]]
    assert len(created) == 1 and created[0]["object_type"] == "declassification_qa"
    updated = await audit_rows(world, "declass.qa_update")
    assert [e["object_id"] for e in updated] == [entry["id"]]
    assert updated[0]["detail"]["fields"] == ["public", "tags"]
    deleted = await audit_rows(world, "declass.qa_delete")
    assert [e["object_id"] for e in deleted] == [entry["id"]] and deleted[0]["detail"]["title"] == "新问题"


async def test_wrong_input_is_refused_naming_the_field(client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    empty = await create(api, {})
    assert empty.status_code == 422 and {"question", "answer"} <= fields(empty)
    blank = await create(api, {"question": "  ", "answer": ""})
    assert blank.status_code == 422 and {"question", "answer"} <= fields(blank)
    cases = [
        ({"question": "问" * 501}, "question"),
        ({"answer": "答" * 20_001}, "answer"),
        ({"legal_basis": "法" * 1001}, "legal_basis"),
        ({"review_on": "2026-13-45"}, "review_on"),
        ({"review_on": "soon"}, "review_on"),
        ({"review_on": "1900-01-01"}, "review_on"),
        ({"tags": [f"t{i}" for i in range(13)]}, "tags"),
        ({"tags": ["长" * 31]}, "tags"),
        ({"public": "perhaps"}, "public"),
    ]
    for change, field in cases:
        answer = await create(api, {"question": "问", "answer": "答", **change})
        assert answer.status_code == 422, change
        assert fields(answer) == {field}, (change, answer.json())
    assert (await create(api, {"question": "问", "answer": "答", "color": "red"})).status_code in (400, 422)
    entry = await made(api)
    path, headers = f"{api.base}/qa/{entry['id']}", api.headers("office")
    nothing = await client.patch(path, json={}, headers=headers)
    assert nothing.status_code == 422 and "body" in fields(nothing)
    wrong = [({"question": ""}, "question"), ({"review_on": ""}, "review_on"), ({"answer": "  "}, "answer")]
    for change, field in wrong:
        answer = await client.patch(path, json=change, headers=headers)
        assert answer.status_code == 422 and field in fields(answer), change
    assert (await api.get("office", f"/qa/{entry['id']}")).json()["question"] == "测试问题"


async def test_another_tenants_entry_is_not_found(client):
    world, other = await make_world(), await make_world("另一市保密局")
    api = await Api.of(client, world, "office")
    theirs = (await entries(await Api.of(client, other, "office")))["items"][0]
    path, headers = f"{api.base}/qa/{theirs['id']}", api.headers("office")
    assert (await api.get("office", f"/qa/{theirs['id']}")).status_code == 404
    assert (await client.patch(path, json={"question": "改"}, headers=headers)).status_code == 404
    assert (await client.delete(path, headers=headers)).status_code == 404
    assert (await api.get("office", "/qa/not-an-id")).status_code == 404
    await login(client, world.slug, "office")
    assert (await client.get(f"/t/{world.slug}/declassification/qa/{theirs['id']}")).status_code == 404
    token = await csrf(client, f"/t/{world.slug}/declassification/qa")
    posted = await client.post(f"/t/{world.slug}/declassification/qa/{theirs['id']}/delete", data={"_csrf": token})
    assert posted.status_code == 404
    other_api = await Api.of(client, other, "office")
    assert (await other_api.get("office", f"/qa/{theirs['id']}")).json()["question"] == theirs["question"]


# ---------------------------------------------------------------- the pages


async def test_the_office_keeps_entries_through_the_pages(client):
    world = await make_world()
    await login(client, world.slug, "office")
    base = f"/t/{world.slug}/declassification/qa"
    index = await client.get(base)
    assert index.status_code == 200 and f"{base}/new" in index.text
    assert "派生事项没有标明保密期限" in index.text and "<table>" in index.text  # the rendered answer
    token = await csrf(client, f"{base}/new")
    wrong = await client.post(base, data={"_csrf": token, "question": "", "answer": "", "public": "0"})
    assert wrong.status_code == 422 and 'id="question-error"' in wrong.text and 'id="answer-error"' in wrong.text
    posted = await client.post(
        base,
        data={
            "_csrf": token,
            "question": "页面上新建的问题",
            "answer": "**回答**",
            "tags": "页面，测试",
            "legal_basis": "依据",
            "review_on": "",
            "public": "1",
        },
    )
    assert posted.status_code == 303
    entry_page = posted.headers["location"]
    shown = await client.get(entry_page)
    assert "<strong>回答</strong>" in shown.text and 'value="页面，测试"' in shown.text
    edited = await client.post(
        entry_page,
        data={
            "_csrf": token,
            "question": "改过的问题",
            "answer": "回答",
            "tags": "页面",
            "legal_basis": "",
            "review_on": "2031-01-01",
            "public": "0",
        },
    )
    assert edited.status_code == 303
    bad_date = await client.post(entry_page, data={"_csrf": token, "question": "问", "answer": "答", "review_on": "x"})
    assert bad_date.status_code == 422 and 'id="review_on-error"' in bad_date.text
    listed = await client.get(base, params={"tag": "页面"})
    assert "改过的问题" in listed.text and listed.text.count('<details class="card qa"') == 1
    live = await client.get(base, params={"q": "改过"}, headers={"HX-Request": "true"})
    assert "改过的问题" in live.text and "<html" not in live.text
    gone = await client.post(f"{entry_page}/delete", data={"_csrf": token})
    assert gone.status_code == 303 and gone.headers["location"] == base
    assert (await client.get(entry_page)).status_code == 404
