"""Reminders: the rules fire on the right local day and never twice, escalate to the
unit's officers and then to the office, speak the recipient's language (or the tenant's
own template), and the pages, API and CLI around them.

Data is built through the services; time is moved by passing `now`, never slept.
Sending (quiet hours, retries, concurrency, webhooks) is in test_reminders_delivery.py."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
import socket
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import openpyxl

from server import db
from server.accounts import service as accounts
from server.accounts.tables import User
from server.assessment import cycle
from server.assessment import reviews as assess
from server.core.i18n import translations
from server.reminders import dispatch, service
from server.reminders import rules as rulebook
from server.reminders.tables import Delivery, NotifyPreference, Reminder, ReminderRule
from server.responsibility import confirmations, notices
from server.responsibility.tables import Notice
from server.settings import Settings
from server.training import service as training
from server.units import service as units
from server.units.tables import Person
from tenants.service import TenantRef
from tests.conftest import SYSTEM, csrf, login
from tests.factories import make_person, make_tenant, make_unit, make_user, make_world, token_for
from tests.helpers import both_pass
from tests.test_cli_platform import luzhi

ZONE = ZoneInfo("Asia/Shanghai")
ZH = translations("zh_CN")


# ---------------------------------------------------------------- helpers (test_reminders_delivery uses them too)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment of a local day in the tenants' zone (Asia/Shanghai, the default)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def closed_port_settings(settings: Settings) -> Settings:
    """The deployment's mail settings, pointing at a port where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)


def tenant_of(where) -> TenantRef:
    return where if isinstance(where, TenantRef) else where.tenant


async def run(where, fn, *args, **kwargs):
    """One service call in its own transaction, as a request would run it."""
    tenant = tenant_of(where)
    async with db.transaction(tenant.id):
        return await fn(tenant, *args, **kwargs)


async def actor_of(where, username: str, client: str = "10.0.0.8"):
    tenant = tenant_of(where)
    async with db.transaction(tenant.id):
        return accounts.actor_for(tenant, await accounts.user_by_username(tenant, username), client=client)


async def set_rules(where, **kinds: dict) -> None:
    """Turn on exactly these kinds, each with these changes to its defaults; the rest off."""
    for kind in rulebook.KINDS:
        data = {k: v for k, v in rulebook.defaults(kind).items() if k not in ("kind", "templates")}
        if kind in kinds:
            data.update(kinds[kind])
        else:
            data["enabled"] = False
        await run(where, service.save_rule, SYSTEM, kind, data)


async def set_email(world, key: str, email: str) -> None:
    await run(world, units.update_person, SYSTEM, world.people[key]["id"], {"email": email})


async def issue(world, **scope) -> date:
    """Issue notices (to every leader, or one person) and return the local day of issue."""
    office = await actor_of(world, "office")
    await run(world, notices.issue, office, scope or {"scope": "all"})
    async with db.transaction(world.tenant.id):
        rows = await Notice.select(Notice.issued_at).where(Notice.tenant == world.tenant.id)
    days = {r["issued_at"].astimezone(ZONE).date() for r in rows}
    assert len(days) == 1
    return days.pop()


async def notice_of(world, key: str) -> str:
    async with db.transaction(world.tenant.id):
        row = (
            await Notice.select(Notice.uuid)
            .where(Notice.tenant == world.tenant.id, Notice.person.uuid == world.people[key]["id"])
            .order_by(Notice.id, ascending=False)
            .first()
        )
    return str(row["uuid"])


async def generate(where, settings, now: datetime) -> int | None:
    return await service.generate_once(tenant_of(where), settings, now)


async def send(where, settings, now: datetime) -> dict:
    """What a tick does for one tenant after generating: claim and send what is due."""
    async with httpx.AsyncClient() as client:
        return await dispatch.dispatch_tenant(tenant_of(where), settings, now, client)


async def step(where, settings, now: datetime) -> tuple[int | None, dict]:
    return await generate(where, settings, now), await send(where, settings, now)


async def names(where) -> dict[str, str]:
    """Reminder recipient keys ("p<pk>", "u<pk>") -> person name or username."""
    tenant = tenant_of(where)
    async with db.transaction(tenant.id, write=False):
        people = await Person.select(Person.id, Person.name).where(Person.tenant == tenant.id)
        users = await User.select(User.id, User.username).where(User.tenant == tenant.id)
    return {f"p{p['id']}": p["name"] for p in people} | {f"u{u['id']}": u["username"] for u in users}


async def reminder_rows(where) -> list[dict]:
    tenant = tenant_of(where)
    async with db.transaction(tenant.id, write=False):
        return await Reminder.select().where(Reminder.tenant == tenant.id).order_by(Reminder.id)


async def delivery_rows(where, **equal) -> list[dict]:
    """The tenant's deliveries with their reminder's kind, level, period and recipient key;
    those no channel could carry only when asked for (`status="undeliverable"`)."""
    tenant = tenant_of(where)
    async with db.transaction(tenant.id, write=False):
        rows = (
            await Delivery.select(
                *Delivery.all_columns(),
                Delivery.reminder.kind.as_alias("kind"),
                Delivery.reminder.level.as_alias("level"),
                Delivery.reminder.period.as_alias("period"),
                Delivery.reminder.recipient.as_alias("recipient"),
            )
            .where(Delivery.tenant == tenant.id)
            .order_by(Delivery.id)
        )
    shown = [r for r in rows if r["status"] != "undeliverable" or equal.get("status") == "undeliverable"]
    return [r for r in shown if all(r[k] == v for k, v in equal.items())]


def received(mailbox, message_ids) -> list:
    wanted = set(message_ids)
    return [m for m in list(mailbox.messages) if str(m["Message-ID"]) in wanted]


def by_recipient(rows: list[dict], who: dict[str, str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(who[r["recipient"]], []).append(r)
    return out


# ---------------------------------------------------------------- the pure rules


def test_fires_counts_after_before_and_weeks_left():
    after = {**rulebook.defaults("notice_unsigned"), "days": 7, "repeat_days": 7}
    issued = date(2026, 3, 2)
    assert rulebook.fires(after, issued, issued + timedelta(days=6)) is None
    assert [rulebook.fires(after, issued, issued + timedelta(days=n)) for n in (7, 13, 14, 20, 21)] == [0, 0, 1, 1, 2]
    once = {**after, "repeat_days": 0}
    assert rulebook.fires(once, issued, issued + timedelta(days=70)) == 0
    before = {**rulebook.defaults("confirmation_due"), "days": 7}
    due = date(2026, 10, 15)
    assert rulebook.fires(before, due, date(2026, 10, 7)) is None
    assert rulebook.fires(before, due, date(2026, 10, 8)) == 0 and rulebook.fires(before, due, due) == 0
    assert rulebook.fires(before, due, due + timedelta(days=1)) is None
    weeks = {**rulebook.defaults("training_short"), "days": 8, "repeat_days": 14}
    end = date(2026, 12, 31)
    assert rulebook.fires(weeks, end, date(2026, 11, 4)) is None
    assert rulebook.fires(weeks, end, date(2026, 11, 5)) == 0 and rulebook.fires(weeks, end, date(2026, 11, 19)) == 1
    rule = {"escalate_after": 3}
    assert [rulebook.level_of(rule, n) for n in range(8)] == [0, 0, 0, 1, 1, 1, 2, 2]
    assert rulebook.level_of({"escalate_after": 0}, 40) == 0


def test_quiet_hours_and_backoff():
    rule = {"quiet_start": "22:00", "quiet_end": "08:00"}
    zone = "Asia/Shanghai"
    evening = at(date(2026, 12, 1), 23, 0)
    assert rulebook.after_quiet(rule, evening, zone) == at(date(2026, 12, 2), 8, 0)
    assert rulebook.after_quiet(rule, at(date(2026, 12, 2), 7, 59), zone) == at(date(2026, 12, 2), 8, 0)
    assert rulebook.after_quiet(rule, at(date(2026, 12, 2), 8, 0), zone) == at(date(2026, 12, 2), 8, 0)
    assert rulebook.after_quiet(rule, at(date(2026, 12, 2), 21, 59), zone) == at(date(2026, 12, 2), 21, 59)
    # the zone counts, not the server's clock: 23:00 in Shanghai is 15:00 UTC
    utc = evening.astimezone(UTC)
    moved = rulebook.after_quiet(rule, utc, zone)
    assert moved == at(date(2026, 12, 2), 8, 0) and moved.tzinfo == UTC
    lunch = {"quiet_start": "12:00", "quiet_end": "14:00"}
    assert rulebook.after_quiet(lunch, at(date(2026, 12, 2), 12, 30), zone) == at(date(2026, 12, 2), 14, 0)
    assert rulebook.after_quiet(lunch, at(date(2026, 12, 2), 23, 0), zone) == at(date(2026, 12, 2), 23, 0)
    assert rulebook.after_quiet({"quiet_start": "", "quiet_end": ""}, evening, zone) == evening
    assert [dispatch.backoff(n) for n in range(1, 9)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]


# ---------------------------------------------------------------- rules fire on the right day


async def test_notice_unsigned_fires_on_the_local_day_repeats_and_is_never_made_twice(env, monkeypatch):
    world = await make_world()
    t = world.tenant
    await set_email(world, "a_lead", f"lisi@{world.slug}.example")
    await set_rules(world, notice_unsigned={"days": 7, "repeat_days": 7, "escalate_after": 0})
    day = await issue(world)
    who = await names(world)

    # 23:30 on day 6 in Shanghai (15:30 UTC): not yet; 00:30 on day 7 (16:30 UTC the day before): yes
    assert await generate(world, env.settings, at(day + timedelta(days=6), 23, 30)) == 0
    assert await reminder_rows(world) == []
    assert await generate(world, env.settings, at(day + timedelta(days=7), 0, 30)) == 4
    first = await reminder_rows(world)
    assert sorted(who[r["recipient"]] for r in first) == ["张三", "李四", "王五", "赵六"]
    assert {(r["kind"], r["period"], r["level"], r["day"]) for r in first} == {
        ("notice_unsigned", "0", 0, day + timedelta(days=7))
    }
    before = await delivery_rows(world)
    # only 李四 can be reached: an address in the record and an account (the others have neither)
    assert sorted((who[d["recipient"]], d["channel"]) for d in before) == [("李四", "inbox"), ("李四", "mail")]
    mail = next(d for d in before if d["channel"] == "mail")
    notice = await notice_of(world, "a_lead")
    assert mail["address"] == f"lisi@{world.slug}.example" and mail["link"] == f"/t/{world.slug}/notices/{notice}"
    assert mail["title"] == "责任告知书待签署：李四"
    assert "李四" in mail["body"] and "已 7 天未签署" in mail["body"]
    assert env.settings.base_url + mail["link"] in mail["body"]
    assert mail["message_id"].startswith("<") and mail["message_id"].endswith("@test.example>")

    # the same day again: another scheduler finds the day taken; generating anyway adds nothing (the key)
    assert await generate(world, env.settings, at(day + timedelta(days=7), 9)) is None
    async with db.transaction(t.id):
        assert await service.generate(t, env.settings, at(day + timedelta(days=7), 9)) == 0
    assert await reminder_rows(world) == first and await delivery_rows(world) == before

    # nothing new until the repeat falls due, then the next one for everybody
    for n in range(8, 14):
        assert await generate(world, env.settings, at(day + timedelta(days=n))) == 0, n
    assert await generate(world, env.settings, at(day + timedelta(days=14))) == 4
    second = (await reminder_rows(world))[4:]
    assert {r["period"] for r in second} == {"1"} and len(await delivery_rows(world)) == 4
    assert "已 14 天未签署" in (await delivery_rows(world, period="1", channel="mail"))[0]["body"]

    # two generations racing past the day's claim still make each reminder once: the unique key.
    # On PostgreSQL both look for earlier reminders before either inserts (SQLite's write lock
    # makes the second wait for the first, which is its guarantee)
    if env.kind == "postgres":
        both_pass(monkeypatch, service, "_earlier")

    async def racing() -> int:
        async with db.transaction(t.id):
            return await service.generate(t, env.settings, at(day + timedelta(days=21)))

    assert sorted(await asyncio.gather(racing(), racing())) == [0, 4]
    assert len(await reminder_rows(world)) == 12 and len(await delivery_rows(world, period="2")) == 2


async def test_confirmation_due_before_the_due_date_and_overdue_after_it(env):
    tenant = await make_tenant()
    unit = await make_unit(tenant, "测试局")
    period = confirmations.due_period(units.today(tenant))
    start = period.start.isoformat()
    late = await make_person(tenant, unit, "周一", "principal", start_date=start, email="zhou@late.example")
    done = await make_person(tenant, unit, "吴二", "secrecy_lead", start_date=start, email="wu@done.example")
    await make_person(tenant, unit, "郑三", "secrecy_officer", start_date=start, email="zheng@staff.example")
    await make_user(tenant, "wuer", "leader", person_id=done["id"])
    await set_rules(
        tenant,
        confirmation_due={"days": 7},
        confirmation_overdue={"days": 1, "repeat_days": 7, "escalate_after": 0},
    )
    # 吴二 confirms the period; 周一 does not; 郑三 is no leader and owes none
    await run(tenant, confirmations.submit, await actor_of(tenant, "wuer"), period.key, {"all_done": "1"})
    who = await names(tenant)

    async def fired(day: date) -> list[tuple[str, str, str]]:
        known = len(await reminder_rows(tenant))
        await generate(tenant, env.settings, at(day))
        return [(r["kind"], who[r["recipient"]], r["period"]) for r in (await reminder_rows(tenant))[known:]]

    due = period.due
    assert await fired(due - timedelta(days=8)) == []
    assert await fired(due - timedelta(days=7)) == [("confirmation_due", "周一", "0")]
    assert await fired(due) == []  # the same reminder: once
    assert await fired(due + timedelta(days=1)) == [("confirmation_overdue", "周一", "0")]
    assert await fired(due + timedelta(days=7)) == []
    assert await fired(due + timedelta(days=8)) == [("confirmation_overdue", "周一", "1")]
    subjects = {r["subject"] for r in await reminder_rows(tenant)}
    assert subjects == {f"confirmation:{late['id']}:{period.key}"}
    mails = await delivery_rows(tenant, channel="mail")
    assert {d["address"] for d in mails} == {"zhou@late.example"}
    assert all(period.key in d["body"] and d["link"] == f"/t/{tenant.slug}/me/confirmation" for d in mails)
    due_text = f"{due.year}年{due.month}月{due.day}日"
    assert all(due_text in d["body"] for d in mails)


async def test_training_short_only_near_the_year_end_and_only_for_who_is_short(env):
    tenant = await make_tenant()
    unit = await make_unit(tenant, "培训局")
    year = units.today(tenant).year
    start = f"{year}-01-01"
    await make_person(tenant, unit, "冯一", "principal", start_date=start, email="feng@short.example")
    met = await make_person(tenant, unit, "陈二", "secrecy_lead", start_date=start, email="chen@met.example")
    await make_person(
        tenant, unit, "褚三", "staff", start_date=start, email="chu@classified.example", classified_level="important"
    )
    await make_person(tenant, unit, "卫四", "staff", start_date=start, email="wei@plain.example")
    course = await run(
        tenant,
        training.create_course,
        SYSTEM,
        {"title": "保密法规讲座", "kind": "lecture", "hours": "4", "date": units.today(tenant).isoformat()},
    )
    await run(tenant, training.add_attendance, SYSTEM, course["id"], {"person_id": met["id"]})
    await set_rules(tenant, training_short={"days": 8, "repeat_days": 14})
    who = await names(tenant)
    first = date(year, 12, 31) - timedelta(weeks=8)

    assert await generate(tenant, env.settings, at(first - timedelta(days=1))) == 0
    assert await generate(tenant, env.settings, at(first)) == 2
    rows = await reminder_rows(tenant)
    # the leader without hours (4 owed) and the classified staff member (8 owed); not the one who
    # made the 4 hours, not the unclassified staff member who owes none
    assert sorted(who[r["recipient"]] for r in rows) == ["冯一", "褚三"]
    mails = {d["address"]: d for d in await delivery_rows(tenant, channel="mail")}
    assert set(mails) == {"feng@short.example", "chu@classified.example"}
    assert "已完成 0 学时，应完成 4 学时，距年底还有 56 天" in mails["feng@short.example"]["body"]
    assert "应完成 8 学时" in mails["chu@classified.example"]["body"]
    assert await generate(tenant, env.settings, at(first + timedelta(days=13))) == 0
    assert await generate(tenant, env.settings, at(first + timedelta(days=14))) == 2
    assert {r["period"] for r in (await reminder_rows(tenant))[2:]} == {"1"}


TWO_INDICATORS = {
    "total": 100,
    "indicators": [
        {"code": "A", "name": "甲项", "parent": "", "points": 60, "method": "manual"},
        {"code": "B", "name": "乙项", "parent": "", "points": 40, "method": "manual"},
    ],
    "deductions": [{"code": "minor", "name": "一般问题", "points": 1}],
    "deduction_cap": 10,
    "vetoes": [{"code": "leak", "name": "泄密"}],
    "grades": {"excellent": 90, "good": 80, "pass": 60},
    "top_cap": None,
}


async def test_assessment_due_and_overdue_for_units_that_have_not_submitted(env, mailbox):
    tenant = await make_tenant()
    waiting = await make_unit(tenant, "未交局")
    submitted = await make_unit(tenant, "已交局")
    await make_person(tenant, waiting, "蒋一", "secrecy_officer", email="jiang@waiting.example")
    await make_person(tenant, waiting, "沈二", "principal", email="shen@waiting.example")
    await make_person(tenant, submitted, "韩三", "secrecy_officer", email="han@submitted.example")
    await make_user(tenant, "waitofficer", "unit_officer", scope_unit_id=waiting["id"])
    year = units.today(tenant).year
    due = units.today(tenant) + timedelta(days=30)
    await run(tenant, cycle.save_scheme, SYSTEM, year, TWO_INDICATORS)
    await run(tenant, cycle.open_assessment, SYSTEM, year, {"cutoff": f"{year}-12-31", "self_due": due.isoformat()})
    for code, score in (("A", 50), ("B", 30)):
        await run(tenant, assess.self_assess, SYSTEM, year, submitted["id"], code, {"score": score})
    await run(tenant, assess.submit_self, SYSTEM, year, submitted["id"])
    await set_rules(tenant, assessment_due={"days": 7}, assessment_overdue={"days": 1, "repeat_days": 3})
    who = await names(tenant)

    async def fired(day: date, deliver: bool = True) -> list[tuple[str, str]]:
        """The reminders made that day (and sent: only those that arrive count toward escalation)."""
        known = len(await reminder_rows(tenant))
        await (step if deliver else generate)(tenant, env.settings, at(day))
        return sorted((r["kind"], who[r["recipient"]]) for r in (await reminder_rows(tenant))[known:])

    assert await fired(due - timedelta(days=8)) == []
    # the unit's secrecy officer and its officer account; the principal only on escalation; the unit
    # that submitted: nobody
    assert await fired(due - timedelta(days=7)) == [("assessment_due", "waitofficer"), ("assessment_due", "蒋一")]
    assert await fired(due) == []
    assert await fired(due + timedelta(days=1)) == [
        ("assessment_overdue", "waitofficer"),
        ("assessment_overdue", "蒋一"),
    ]
    assert await fired(due + timedelta(days=3)) == []
    assert await fired(due + timedelta(days=4)) == [
        ("assessment_overdue", "waitofficer"),
        ("assessment_overdue", "蒋一"),
    ]
    # the third overdue reminder (escalate_after 2) also goes to the unit's principal
    assert await fired(due + timedelta(days=7), deliver=False) == [
        ("assessment_overdue", "waitofficer"),
        ("assessment_overdue", "沈二"),
        ("assessment_overdue", "蒋一"),
    ]
    link = f"/t/{tenant.slug}/assessments/{year}/units/{waiting['id']}"
    rows = await delivery_rows(tenant, kind="assessment_overdue", period="2")
    assert {d["address"] for d in rows if d["channel"] == "mail"} == {"jiang@waiting.example", "shen@waiting.example"}
    assert {d["channel"] for d in rows if who[d["recipient"]] == "waitofficer"} == {"inbox"}
    assert {d["link"] for d in rows} == {link} and {d["status"] for d in rows} == {"pending"}
    everything = await delivery_rows(tenant)
    assert all(d["title"].startswith("【督办】") == (d["level"] == 1) for d in everything)
    assert {d["level"] for d in everything} == {0, 1} and {d["level"] for d in rows} == {1}
    # submitting settles what is still waiting to be sent about it
    for code, score in (("A", 40), ("B", 20)):
        await run(tenant, assess.self_assess, SYSTEM, year, waiting["id"], code, {"score": score})
    await run(tenant, assess.submit_self, SYSTEM, year, waiting["id"])
    assert {d["status"] for d in await delivery_rows(tenant, kind="assessment_overdue", period="2")} == {"cancelled"}
    assert await fired(due + timedelta(days=10)) == []


# ---------------------------------------------------------------- escalation


async def test_escalation_reaches_the_principal_and_officer_then_the_office(env, mailbox):
    world = await make_world()
    await make_person(world.tenant, world.units["a_unit"], "钱七", "secrecy_officer", email="qianqi@a.example")
    for key, email in (("a_lead", "lisi@a.example"), ("a_principal", "zhangsan@a.example")):
        await set_email(world, key, email)
    await set_rules(world, notice_unsigned={"days": 1, "repeat_days": 1, "escalate_after": 2})
    day = await issue(world, scope="person", person_id=world.people["a_lead"]["id"])
    who = await names(world)
    prefix = ZH.gettext(rulebook.ESCALATED_PREFIX.message)
    assert prefix == "【督办】"

    levels = {}
    # each day's reminders arrive (only those count toward escalation); the fifth day's wait
    for n in range(1, 5):
        await step(world, env.settings, at(day + timedelta(days=n)))
    await generate(world, env.settings, at(day + timedelta(days=5)))
    for r in await reminder_rows(world):
        levels.setdefault(r["period"], set()).add((who[r["recipient"]], r["level"]))
    assert levels == {
        "0": {("李四", 0)},
        "1": {("李四", 0)},
        "2": {("李四", 1), ("张三", 1), ("钱七", 1)},
        "3": {("李四", 1), ("张三", 1), ("钱七", 1)},
        "4": {("李四", 2), ("张三", 2), ("钱七", 2)},
        # the office hears of what stays undone in one digest of the day per kind
        (day + timedelta(days=5)).isoformat(): {("office", 2)},
    }
    escalated = by_recipient(await delivery_rows(world, period="2"), who)
    assert [d["channel"] for d in escalated["张三"]] == ["mail"] and [d["channel"] for d in escalated["钱七"]] == [
        "mail"
    ]
    assert escalated["张三"][0]["title"].startswith(prefix + " ")
    assert "李四" in escalated["张三"][0]["body"] and "张三" in escalated["张三"][0]["body"]
    # the person who must act is not told they were escalated
    assert not any(d["title"].startswith(prefix) for d in escalated["李四"])
    office = by_recipient(await delivery_rows(world, period=(day + timedelta(days=5)).isoformat()), who)["office"]
    assert [d["channel"] for d in office] == ["inbox"] and office[0]["title"].startswith(prefix)
    assert "李四 (甲区财政局)" in office[0]["body"] and "/coverage/list?metric=unsigned_overdue" in office[0]["body"]
    assert office[0]["link"] == f"/t/{world.slug}/coverage/list?metric=unsigned_overdue"

    sent = await send(world, env.settings, at(day + timedelta(days=5)))
    assert sent["sent"] > 0 and sent["retry"] == 0 and {d["status"] for d in await delivery_rows(world)} == {"sent"}
    mails = received(mailbox, [d["message_id"] for d in await delivery_rows(world, channel="mail")])
    assert sorted(str(m["To"]) for m in mails if str(m["Subject"]).startswith(prefix)) == [
        "qianqi@a.example",
        "qianqi@a.example",
        "qianqi@a.example",
        "zhangsan@a.example",
        "zhangsan@a.example",
        "zhangsan@a.example",
    ]
    inbox, total = await run(world, service.inbox, await actor_of(world, "office"), limit=10, offset=0)
    assert total == 1 and inbox[0]["title"].startswith(prefix) and inbox[0]["level"] == 2


# ---------------------------------------------------------------- languages and templates


async def test_messages_speak_the_recipients_language_and_the_tenants_template(env, mailbox):
    world = await make_world()
    await set_email(world, "a_lead", "lisi@lang.example")
    await set_email(world, "a_principal", "zhangsan@lang.example")
    await run(world, accounts.set_locale, await actor_of(world, "leader"), {"locale": "en"})
    await set_rules(world, notice_unsigned={"days": 7, "repeat_days": 7, "escalate_after": 0, "channels": ["mail"]})
    day = await issue(world)

    await step(world, env.settings, at(day + timedelta(days=7)))
    mails = {str(m["To"]): m for m in received(mailbox, [d["message_id"] for d in await delivery_rows(world)])}
    assert set(mails) == {"lisi@lang.example", "zhangsan@lang.example"}
    english, chinese = mails["lisi@lang.example"], mails["zhangsan@lang.example"]
    assert english["Subject"] == "Responsibility notice awaiting signature: 李四"
    text = english.get_content()
    assert text.startswith("李四: the secrecy responsibility notice") and "still unsigned after 7 days" in text
    assert f"{day:%B} {day.day}, {day.year}" in text  # the date in English
    assert chinese["Subject"] == "责任告知书待签署：张三"
    body = chinese.get_content()
    assert "保密工作责任告知书" in body and f"{day.year}年{day.month}月{day.day}日" in body
    assert english["Message-ID"] and english["Auto-Submitted"] == "auto-generated"

    # the tenant's own Chinese text; English readers keep the built-in English text
    await set_rules(
        world,
        notice_unsigned={
            "days": 7,
            "repeat_days": 7,
            "escalate_after": 0,
            "channels": ["mail"],
            "subject_zh_CN": "第{{ count }}次提醒：请签署《{{ title }}》",
            "body_zh_CN": "{{ name }}同志：告知书已下发{{ days }}天。{{ link }}",
        },
    )
    await step(world, env.settings, at(day + timedelta(days=14)))
    second = await delivery_rows(world, period="1")
    mails = {str(m["To"]): m for m in received(mailbox, [d["message_id"] for d in second])}
    office = await actor_of(world, "office")
    title = (await run(world, notices.notice_detail, office, await notice_of(world, "a_principal")))["title"]
    assert mails["zhangsan@lang.example"]["Subject"] == f"第2次提醒：请签署《{title}》"
    link = env.settings.base_url + f"/t/{world.slug}/notices/{await notice_of(world, 'a_principal')}"
    assert mails["zhangsan@lang.example"].get_content().strip() == f"张三同志：告知书已下发14天。{link}"
    assert mails["lisi@lang.example"]["Subject"] == "Responsibility notice awaiting signature: 李四"
    assert "still unsigned after 14 days" in mails["lisi@lang.example"].get_content()


async def test_a_template_that_cannot_be_rendered_is_refused_with_the_field_named(env, client):
    world = await make_world()
    api = {"Authorization": "Bearer " + await token_for(world, "office")}
    url = f"/api/v1/t/{world.slug}/reminder-rules/notice_unsigned"
    rule = {"enabled": True, "days": 5, "repeat_days": 2, "escalate_after": 3, "channels": ["mail", "inbox"]}

    async def stored() -> list[dict]:
        async with db.transaction(world.tenant.id, write=False):
            return await ReminderRule.select().where(ReminderRule.tenant == world.tenant.id).output(load_json=True)

    bad = await client.put(
        url, json={**rule, "templates": {"zh_CN": {"subject": "提醒", "body": "{% if %}"}}}, headers=api
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["body_zh_CN"]
    assert await stored() == []
    sandbox = await client.put(url, json={**rule, "subject_en": "{{ name.__class__.__mro__ }}"}, headers=api)
    assert sandbox.status_code == 422 and [e["field"] for e in sandbox.json()["errors"]] == ["subject_en"]
    good = await client.put(
        url, json={**rule, "templates": {"en": {"subject": "Sign, {{ name }}", "body": ""}}}, headers=api
    )
    assert good.status_code == 200, good.text
    assert good.json()["templates"] == {"en": {"subject": "Sign, {{ name }}", "body": ""}} and good.json()["days"] == 5
    listed = (await client.get(f"/api/v1/t/{world.slug}/reminder-rules", headers=api)).json()["rules"]
    assert next(r for r in listed if r["kind"] == "notice_unsigned")["days"] == 5
    bad = await client.put(url, json={**rule, "quiet_start": "22:00", "quiet_end": "", "days": ""}, headers=api)
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"days", "quiet_end"}
    assert (await stored())[0]["days"] == 5


async def test_a_refused_rule_form_comes_back_with_the_field_named(env, client):
    world = await make_world()

    async def stored() -> list[dict]:
        async with db.transaction(world.tenant.id, write=False):
            return await ReminderRule.select().where(ReminderRule.tenant == world.tenant.id).output(load_json=True)

    await login(client, world.slug, "office")
    token = await csrf(client, f"/t/{world.slug}/reminders")
    form = {
        "_csrf": token,
        "enabled": ["0", "1"],
        "days": "9",
        "repeat_days": "3",
        "escalate_after": "2",
        "channels": ["mail", "inbox"],
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "subject_zh_CN": "请签署",
        "body_zh_CN": "{{ name }：请签署",
    }
    page = await client.post(f"/t/{world.slug}/reminders/rules/notice_unsigned", data=form)
    assert (
        page.status_code == 422 and 'id="body_zh_CN-error"' in page.text and 'id="subject_zh_CN-error"' not in page.text
    )
    assert "{{ name }：请签署" in page.text  # the form comes back with what was typed
    assert await stored() == []
    ok = await client.post(
        f"/t/{world.slug}/reminders/rules/notice_unsigned", data={**form, "body_zh_CN": "{{ name }}：请签署"}
    )
    assert ok.status_code == 303 and ok.headers["location"] == f"/t/{world.slug}/reminders#rule-notice_unsigned"
    now = (await stored())[0]
    assert (now["days"], now["repeat_days"], now["escalate_after"], now["channels"]) == (9, 3, 2, ["mail", "inbox"])
    assert now["templates"]["zh_CN"] == {"subject": "请签署", "body": "{{ name }}：请签署"}
    assert "en" not in now["templates"]
    other = await client.post(
        f"/t/{world.slug}/reminders/rules/notice_unsigned", data={**form, "body_zh_CN": "", "quiet_end": "25:00"}
    )
    assert other.status_code == 422 and 'id="quiet_end-error"' in other.text


# ---------------------------------------------------------------- pages and API


async def test_office_pages_outbox_filters_export_and_retry(env, client, make_client, mailbox):
    world = await make_world()
    await set_email(world, "a_lead", "lisi@outbox.example")
    await set_email(world, "a_principal", "zhangsan@outbox.example")
    await set_rules(world, notice_unsigned={"days": 7, "repeat_days": 0, "escalate_after": 0})
    day = await issue(world)
    down = closed_port_settings(env.settings)
    moment = at(day + timedelta(days=7))
    await generate(world, env.settings, moment)
    for _attempt in range(dispatch.MAX_ATTEMPTS):  # the mail server never answers: both mails fail
        await send(world, down, moment)
        moment += timedelta(hours=10)  # past any wait, the quiet hours' too
    rows = await delivery_rows(world)
    assert sorted((d["channel"], d["status"]) for d in rows) == [
        ("inbox", "sent"),
        ("mail", "failed"),
        ("mail", "failed"),
    ]

    await login(client, world.slug, "office")
    rules_page = await client.get(f"/t/{world.slug}/reminders")
    assert (
        rules_page.status_code == 200
        and "告知书" in rules_page.text
        and 'id="rule-assessment_overdue"' in rules_page.text
    )
    # the leaders with neither an address nor an account are listed too, as undeliverable
    unreachable = await delivery_rows(world, status="undeliverable")
    everything = 3 + len(unreachable)
    outbox = await client.get(f"/t/{world.slug}/outbox")
    assert outbox.status_code == 200 and f"共 {everything} 条投递" in outbox.text
    assert "lisi@outbox.example" in outbox.text and f"127.0.0.1:{down.smtp_port}" in outbox.text
    failed = await client.get(f"/t/{world.slug}/outbox", params={"status": "failed"}, headers={"HX-Request": "true"})
    assert "共 2 条投递" in failed.text and "<html" not in failed.text and failed.text.count("/retry") == 2
    inbox_only = await client.get(f"/t/{world.slug}/outbox", params={"channel": "inbox"})
    inboxes = 1 + sum(d["channel"] == "inbox" for d in unreachable)
    assert f"共 {inboxes} 条投递" in inbox_only.text and "lisi@outbox.example" not in inbox_only.text
    assert "共 0 条投递" in (await client.get(f"/t/{world.slug}/outbox", params={"kind": "training_short"})).text
    today = units.today(world.tenant)
    since_today = await client.get(f"/t/{world.slug}/outbox", params={"from": today.isoformat()})
    assert f"共 {everything} 条投递" in since_today.text
    yesterday = (today - timedelta(days=1)).isoformat()
    assert "共 0 条投递" in (await client.get(f"/t/{world.slug}/outbox", params={"to": yesterday})).text
    assert "共 1 条投递" in (await client.get(f"/t/{world.slug}/outbox", params={"q": "zhangsan"})).text
    listed = (await client.get(f"/api/v1/t/{world.slug}/outbox", params={"status": "failed", "channel": "mail"})).json()
    assert listed["total"] == 2 and {i["address"] for i in listed["items"]} == {
        "lisi@outbox.example",
        "zhangsan@outbox.example",
    }
    assert all(i["attempts"] == dispatch.MAX_ATTEMPTS and i["last_error"] for i in listed["items"])

    export = await client.get(f"/t/{world.slug}/outbox.xlsx")
    assert export.status_code == 200 and export.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).worksheets[0]
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(table) == 1 + everything
    addresses = [row[4] for row in table[1:]]
    assert sorted(a for a in addresses if a) == ["lisi@outbox.example", "zhangsan@outbox.example"]
    assert all(row[10] for row in table[1:] if row[4])  # the reason of each failure
    only_failed = openpyxl.load_workbook(
        io.BytesIO((await client.get(f"/t/{world.slug}/outbox.xlsx?status=failed")).content)
    )
    assert only_failed.worksheets[0].max_row == 1 + 2

    # send one again: same message, same Message-ID, now that the server answers
    lisi = next(i for i in listed["items"] if i["address"] == "lisi@outbox.example")
    message_id = next(d["message_id"] for d in rows if d["address"] == "lisi@outbox.example")
    token = await csrf(client, f"/t/{world.slug}/outbox")
    again = await client.post(f"/t/{world.slug}/outbox/{lisi['id']}/retry", data={"_csrf": token})
    assert again.status_code == 303
    retried = (await delivery_rows(world, address="lisi@outbox.example"))[0]
    assert (retried["status"], retried["attempts"]) == ("pending", 0)
    twice = await client.post(f"/t/{world.slug}/outbox/{lisi['id']}/retry", data={"_csrf": token})
    assert twice.status_code == 409
    await send(world, env.settings, datetime.now(UTC) + timedelta(seconds=1))
    assert (await delivery_rows(world, address="lisi@outbox.example"))[0]["status"] == "sent"
    assert [str(m["Message-ID"]) for m in received(mailbox, [message_id])] == [message_id]
    assert (await delivery_rows(world, address="zhangsan@outbox.example"))[0]["status"] == "failed"

    # none of it is a leader's business
    leader = await make_client()
    await login(leader, world.slug, "leader")
    for path in ("reminders", "outbox", "outbox.xlsx"):
        assert (await leader.get(f"/t/{world.slug}/{path}")).status_code == 403, path
    leader_token = await csrf(leader, f"/t/{world.slug}/inbox")
    refused = await leader.post(f"/t/{world.slug}/outbox/{lisi['id']}/retry", data={"_csrf": leader_token})
    assert refused.status_code == 403
    refused = await leader.post(
        f"/t/{world.slug}/reminders/rules/notice_unsigned", data={"_csrf": leader_token, "days": "1"}
    )
    assert refused.status_code == 403
    assert (await leader.get(f"/api/v1/t/{world.slug}/outbox")).status_code == 403


async def test_the_inbox_counts_opens_and_marks_read(env, client, make_client):
    world = await make_world()
    await set_rules(world, notice_unsigned={"days": 7, "repeat_days": 0, "escalate_after": 0})
    day = await issue(world)
    await step(world, env.settings, at(day + timedelta(days=7), 23, 0))  # inbox: not held by quiet hours
    notice = await notice_of(world, "a_lead")
    await login(client, world.slug, "leader")
    count = await client.get(f"/t/{world.slug}/inbox/count")
    assert count.status_code == 200 and re.search(r'class="badge bad"[^>]*>1<', count.text)
    page = await client.get(f"/t/{world.slug}/inbox")
    message = (await delivery_rows(world, channel="inbox"))[0]
    assert page.status_code == 200 and message["title"] in page.text and f"/inbox/{message['uuid']}/open" in page.text
    assert (await client.get(f"/api/v1/t/{world.slug}/inbox")).json()["unread"] == 1

    token = await csrf(client, f"/t/{world.slug}/inbox")
    opened = await client.post(f"/t/{world.slug}/inbox/{message['uuid']}/open", data={"_csrf": token})
    assert opened.status_code == 303 and opened.headers["location"] == f"/t/{world.slug}/notices/{notice}"
    assert (await delivery_rows(world, channel="inbox"))[0]["read_at"] is not None
    count = await client.get(f"/t/{world.slug}/inbox/count")
    assert "badge" not in count.text
    assert (await client.get(f"/api/v1/t/{world.slug}/inbox")).json()["unread"] == 0

    # someone else's message does not exist for this user
    other = await make_client()
    await login(other, world.slug, "office")
    other_token = await csrf(other, f"/t/{world.slug}/inbox")
    assert message["title"] not in (await other.get(f"/t/{world.slug}/inbox")).text
    stolen = await other.post(f"/t/{world.slug}/inbox/{message['uuid']}/open", data={"_csrf": other_token})
    assert stolen.status_code == 404


async def test_preferences_choose_the_channels_and_refuse_a_bad_address(env, client, mailbox):
    world = await make_world()
    await set_email(world, "a_lead", "lisi@record.example")
    await set_rules(world, notice_unsigned={"days": 1, "repeat_days": 1, "escalate_after": 0})
    day = await issue(world, scope="person", person_id=world.people["a_lead"]["id"])
    await login(client, world.slug, "leader")
    page = await client.get(f"/t/{world.slug}/account/notifications")
    assert page.status_code == 200 and page.text.count('type="checkbox" name="channels"') == 2
    token = await csrf(client, f"/t/{world.slug}/account/notifications")

    bad = await client.post(
        f"/t/{world.slug}/account/notifications", data={"_csrf": token, "channels": ["mail"], "email": "not-an-address"}
    )
    assert bad.status_code == 422 and 'id="email-error"' in bad.text
    async with db.transaction(world.tenant.id, write=False):
        assert await NotifyPreference.count().where(NotifyPreference.tenant == world.tenant.id) == 0
    bearer = {"Authorization": "Bearer " + await token_for(world, "leader")}
    api = await client.put(
        f"/api/v1/t/{world.slug}/me/notifications", json={"channels": ["fax"], "email": "x@"}, headers=bearer
    )
    assert api.status_code == 422 and {e["field"] for e in api.json()["errors"]} == {"channels", "email"}
    # a value of the wrong shape is refused the same way, not a server error
    shape = await client.put(f"/api/v1/t/{world.slug}/me/notifications", json={"channels": 5}, headers=bearer)
    assert shape.status_code == 422 and [e["field"] for e in shape.json()["errors"]] == ["channels"]

    # an address of one's own replaces the record's
    own = await client.post(
        f"/t/{world.slug}/account/notifications",
        data={"_csrf": token, "channels": ["mail", "inbox"], "email": "li.si@own.example"},
    )
    assert own.status_code == 303 and own.headers["location"].endswith("saved=1")
    await generate(world, env.settings, at(day + timedelta(days=1)))
    assert {(d["channel"], d["address"]) for d in await delivery_rows(world, period="0")} == {
        ("mail", "li.si@own.example"),
        ("inbox", ""),
    }
    # inbox only: the next reminder comes without mail
    inbox_only = await client.post(f"/t/{world.slug}/account/notifications", data={"_csrf": token, "channels": "inbox"})
    assert inbox_only.status_code == 303
    assert (await client.get(f"/api/v1/t/{world.slug}/me/notifications")).json() == {
        "channels": ["inbox"],
        "email": "",
    }
    await step(world, env.settings, at(day + timedelta(days=2)))
    assert [d["channel"] for d in await delivery_rows(world, period="1")] == ["inbox"]
    assert received(mailbox, [d["message_id"] for d in await delivery_rows(world, period="1")]) == []


# ---------------------------------------------------------------- CLI


async def test_cli_scheduler_once_prints_totals_and_refuses_a_bad_moment(env, mailbox):
    world = await make_world()
    await set_email(world, "city_lead", "zhaoliu@cli.example")
    await set_rules(world, notice_unsigned={"days": 7, "repeat_days": 7, "escalate_after": 0, "channels": ["mail"]})
    day = await issue(world, scope="person", person_id=world.people["city_lead"]["id"])
    moment = at(day + timedelta(days=7), 9, 30)
    result = await luzhi(env, "scheduler", "--once", "--now", moment.isoformat())
    totals = dict(pair.split("=") for pair in result.stdout.split())
    assert set(totals) == {"generated", "sent", "retry", "cancelled"}
    assert int(totals["generated"]) >= 1 and int(totals["sent"]) >= 1
    rows = await delivery_rows(world)
    assert [(d["address"], d["status"], d["attempts"]) for d in rows] == [("zhaoliu@cli.example", "sent", 1)]
    assert rows[0]["sent_at"] == moment
    assert len(received(mailbox, [rows[0]["message_id"]])) == 1

    *refused, alone = await asyncio.gather(
        luzhi(env, "scheduler", "--once", "--now", "yesterday", check=False),
        luzhi(env, "scheduler", "--once", "--now", "2026-13-01T09:00", check=False),
        luzhi(env, "scheduler", "--now", moment.isoformat(), check=False),
    )
    for result in refused:
        assert result.returncode == 2 and "--now" in result.stderr and "ISO 8601" in result.stderr
    assert alone.returncode == 2 and "--now needs --once" in alone.stderr
    assert await delivery_rows(world) == rows


# ---------------------------------------------------------------- keeping the outbox in bounds


async def test_reminders_older_than_the_outbox_keeps_are_purged_one_tenant_at_a_time(env):
    world, other = await make_world(), await make_world("另一市保密局")
    for w in (world, other):
        day = await issue(w, scope="person", person_id=w.people["a_lead"]["id"])
        assert await generate(w, env.settings, at(day + timedelta(days=7)))
    made = len(await reminder_rows(world))
    assert made and await delivery_rows(world)
    now = datetime.now(UTC)
    assert await service.purge(world.tenant, now + timedelta(days=service.KEEP_DAYS - 1)) == 0
    assert len(await reminder_rows(world)) == made
    assert await service.purge(world.tenant, now + timedelta(days=service.KEEP_DAYS + 1)) == made
    assert await reminder_rows(world) == [] and await delivery_rows(world) == []
    assert await reminder_rows(other) and await delivery_rows(other)


async def test_the_office_overview_counts_the_weeks_deliveries(env, client):
    world = await make_world()
    day = await issue(world, scope="person", person_id=world.people["a_lead"]["id"])
    await generate(world, env.settings, at(day + timedelta(days=7), hour=23))  # mail waits for the morning
    waiting = [d for d in await delivery_rows(world) if d["status"] == "pending"]
    assert waiting
    await login(client, world.slug, "office")
    home = await client.get(f"/t/{world.slug}/")
    assert home.status_code == 200 and f'href="/t/{world.slug}/reminders"' in home.text
    since = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
    stat = re.search(
        rf'href="/t/{world.slug}/outbox\?status=pending&amp;from={since}"><div class="n">(\d+)</div>', home.text
    )
    assert stat and int(stat.group(1)) == len(waiting)
    await login(client, world.slug, "assessor")
    assert f"/t/{world.slug}/outbox" not in (await client.get(f"/t/{world.slug}/")).text
