"""Reminders on their way out: quiet hours, a mail server that was down, the last attempt,
a claim left by a killed process, two schedulers at once (real processes), what was done
meanwhile, suspended tenants, people who left, and webhooks checked by a real receiver."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from server import db
from server.reminders import dispatch, service
from server.responsibility import confirmations, notices
from server.settings import Settings
from server.units import service as units
from tenants import service as tenants
from tests.conftest import PASSWORD, SYSTEM
from tests.factories import make_person, make_tenant, make_unit, make_user, make_world
from tests.test_cli_platform import luzhi
from tests.test_reminders import (
    actor_of,
    at,
    closed_port_settings,
    delivery_rows,
    generate,
    issue,
    names,
    notice_of,
    received,
    reminder_rows,
    run,
    send,
    set_email,
    set_rules,
    step,
)

MAIL_ONLY = {"days": 7, "repeat_days": 7, "escalate_after": 0, "channels": ["mail"]}


@pytest.fixture
def ticking(monkeypatch):
    """The real tick over the real tenant list, kept to the tenants a test names: the session's
    database holds every other test's tenants too, whose reminders are none of this test's
    business (and would make each tick as slow as the whole suite is big)."""
    mine: set[int] = set()
    everyone = dispatch.active_tenants

    async def listed() -> list:
        return [t for t in await everyone() if t.id in mine]

    monkeypatch.setattr(dispatch, "active_tenants", listed)
    return mine


async def one_leader_world(email: str, **rule):
    """make_world with 李四's address, only notice_unsigned on, her notice issued; the issue day."""
    world = await make_world()
    await set_email(world, "a_lead", email)
    await set_rules(world, notice_unsigned={**MAIL_ONLY, **rule})
    day = await issue(world, scope="person", person_id=world.people["a_lead"]["id"])
    return world, day


# ---------------------------------------------------------------- quiet hours


async def test_quiet_hours_hold_mail_until_morning_while_the_inbox_shows_at_once(env, mailbox, ticking):
    world, day = await one_leader_world("lisi@quiet.example", channels=["mail", "inbox"])
    ticking.add(world.tenant.id)
    evening = at(day + timedelta(days=7), 23, 0)
    assert await dispatch.tick(env.settings, evening) == {"generated": 1, "sent": 1, "retry": 0, "cancelled": 0}
    mail, inbox = (await delivery_rows(world, channel="mail"))[0], (await delivery_rows(world, channel="inbox"))[0]
    assert (mail["status"], mail["attempts"], mail["next_at"]) == ("pending", 0, at(day + timedelta(days=8), 8, 0))
    assert (inbox["status"], inbox["sent_at"]) == ("sent", evening)
    assert received(mailbox, [mail["message_id"]]) == []

    await dispatch.tick(env.settings, at(day + timedelta(days=8), 7, 59))
    assert (await delivery_rows(world, channel="mail"))[0]["status"] == "pending"
    assert received(mailbox, [mail["message_id"]]) == []
    morning = at(day + timedelta(days=8), 8, 0)
    assert await dispatch.tick(env.settings, morning) == {"generated": 0, "sent": 1, "retry": 0, "cancelled": 0}
    mail = (await delivery_rows(world, channel="mail"))[0]
    assert (mail["status"], mail["attempts"], mail["sent_at"], mail["next_at"]) == ("sent", 1, morning, None)
    assert [str(m["To"]) for m in received(mailbox, [mail["message_id"]])] == ["lisi@quiet.example"]

    # a tenant without quiet hours sends at any hour
    other, other_day = await one_leader_world("lisi@noquiet.example", quiet_start="", quiet_end="")
    late = at(other_day + timedelta(days=7), 23, 30)
    await step(other, env.settings, late)
    mail = (await delivery_rows(other))[0]
    assert (mail["status"], mail["sent_at"]) == ("sent", late)


# ---------------------------------------------------------------- retries


async def test_a_mail_server_that_was_down_is_tried_again_with_the_same_message_id(env, mailbox):
    world, day = await one_leader_world("lisi@retry.example")
    down = closed_port_settings(env.settings)
    now = at(day + timedelta(days=7))
    created, counts = await step(world, down, now)
    assert created == 1 and counts == {"sent": 0, "retry": 1, "cancelled": 0}
    row = (await delivery_rows(world))[0]
    assert (row["status"], row["attempts"], row["sent_at"]) == ("pending", 1, None)
    assert row["last_error"].startswith(f"127.0.0.1:{down.smtp_port}: ")
    assert row["next_at"] == now + dispatch.backoff(1) == now + timedelta(minutes=1)
    message_id = row["message_id"]

    # not due yet: nothing is tried, even with the server back
    assert await send(world, env.settings, now + timedelta(seconds=59)) == {"sent": 0, "retry": 0, "cancelled": 0}
    assert (await delivery_rows(world))[0]["attempts"] == 1
    later = now + timedelta(minutes=1)
    assert await send(world, env.settings, later) == {"sent": 1, "retry": 0, "cancelled": 0}
    row = (await delivery_rows(world))[0]
    assert (row["status"], row["attempts"], row["last_error"], row["next_at"], row["sent_at"]) == (
        "sent",
        2,
        "",
        None,
        later,
    )
    mails = received(mailbox, [message_id])
    assert len(mails) == 1 and str(mails[0]["Message-ID"]) == message_id == row["message_id"]
    assert str(mails[0]["To"]) == "lisi@retry.example" and str(mails[0]["From"]) == env.settings.mail_from


async def test_after_the_last_attempt_the_delivery_fails_and_the_office_can_send_it_again(env, mailbox):
    world, day = await one_leader_world("lisi@fail.example", quiet_start="", quiet_end="")
    down = closed_port_settings(env.settings)
    moment = at(day + timedelta(days=7))
    await generate(world, down, moment)
    waits = []
    for attempt in range(1, dispatch.MAX_ATTEMPTS + 1):
        assert (await send(world, down, moment))["retry"] == 1
        row = (await delivery_rows(world))[0]
        assert row["attempts"] == attempt and f"127.0.0.1:{down.smtp_port}" in row["last_error"]
        if attempt < dispatch.MAX_ATTEMPTS:
            assert row["status"] == "pending"
            waits.append(row["next_at"] - moment)
            moment = row["next_at"]
    # 1, 2, 4 … 32 minutes, then hourly, until a day has passed since the first attempt
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32)] + [timedelta(hours=1)] * 23
    assert sum(waits, timedelta(0)) >= dispatch.RETRY_WINDOW > sum(waits[:-1], timedelta(0))
    assert (row["status"], row["next_at"]) == ("failed", None)
    assert await send(world, env.settings, moment + timedelta(days=1)) == {"sent": 0, "retry": 0, "cancelled": 0}
    assert received(mailbox, [row["message_id"]]) == []

    office = await actor_of(world, "office")
    assert await run(world, service.retry, office, row["uuid"]) == {"id": str(row["uuid"]), "status": "pending"}
    assert (await send(world, env.settings, datetime.now(UTC) + timedelta(seconds=1)))["sent"] == 1
    again = (await delivery_rows(world))[0]
    assert (again["status"], again["attempts"], again["message_id"]) == ("sent", 1, row["message_id"])
    assert len(received(mailbox, [row["message_id"]])) == 1


async def test_a_retry_that_would_fall_in_the_quiet_hours_waits_for_the_morning(env):
    world, day = await one_leader_world("lisi@late-retry.example")
    down = closed_port_settings(env.settings)
    await step(world, down, at(day + timedelta(days=7), 21, 59))
    row = (await delivery_rows(world))[0]
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["next_at"] == at(day + timedelta(days=8), 8, 0)


async def test_a_claim_left_by_a_killed_process_is_taken_again_after_the_lease(env, mailbox):
    world, day = await one_leader_world("lisi@lease.example")
    now = at(day + timedelta(days=7))
    await generate(world, env.settings, now)
    async with db.transaction(world.tenant.id):
        claimed = await dispatch.claim(world.tenant, now)
    # ... and the process is killed before sending anything
    assert [c["attempts"] for c in claimed] == [1]
    row = (await delivery_rows(world))[0]
    assert (row["status"], row["next_at"]) == ("sending", now + dispatch.LEASE)
    async with db.transaction(world.tenant.id):
        assert await dispatch.claim(world.tenant, now + timedelta(minutes=5)) == []
    assert await send(world, env.settings, now + timedelta(minutes=9)) == {"sent": 0, "retry": 0, "cancelled": 0}
    assert received(mailbox, [row["message_id"]]) == []

    assert (await send(world, env.settings, now + dispatch.LEASE))["sent"] == 1
    row = (await delivery_rows(world))[0]
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert await send(world, env.settings, now + 3 * dispatch.LEASE) == {"sent": 0, "retry": 0, "cancelled": 0}
    assert len(received(mailbox, [row["message_id"]])) == 1


async def test_a_late_claimer_does_not_settle_what_another_claimed_since(env):
    world, day = await one_leader_world("lisi@late.example")
    now = at(day + timedelta(days=7))
    await generate(world, env.settings, now)
    async with db.transaction(world.tenant.id):
        first = await dispatch.claim(world.tenant, now)
    async with db.transaction(world.tenant.id):
        second = await dispatch.claim(world.tenant, now + dispatch.LEASE)
    assert [c["attempts"] for c in first + second] == [1, 2]
    async with db.transaction(world.tenant.id, write=False):
        reminders, rules = await dispatch._reminders_of(first), await service.rules_of(world.tenant)
    # the first claimer wakes up and reports a failure: the row is the second claimer's now
    await dispatch._settle(world.tenant, first, reminders, rules, {first[0]["id"]: "too late"}, now + dispatch.LEASE)
    row = (await delivery_rows(world))[0]
    assert (row["status"], row["attempts"], row["last_error"]) == ("sending", 2, "")
    await dispatch._settle(world.tenant, second, reminders, rules, {second[0]["id"]: None}, now + dispatch.LEASE)
    assert (await delivery_rows(world))[0]["status"] == "sent"


# ---------------------------------------------------------------- two schedulers


async def crowded_tenant(settings: Settings, members: int, mark: str):
    """One unit: a principal, a secrecy officer and `members` leadership members, all with an
    address, every leader's notice issued and its first reminder made and mailed on the day of
    issue (period "0"; to the session's mailbox). The second (period "1"), on the day after, is
    escalated, as the first reached everyone: each member's goes to three people.
    Due then: 3 * members + 2 mails."""
    tenant = await make_tenant()
    unit = await make_unit(tenant, "大单位")
    async with db.transaction(tenant.id):
        for name, position in (("主要负责人", "principal"), ("保密干部", "secrecy_officer")):
            await units.create_person(
                tenant,
                SYSTEM,
                {"name": name, "unit_id": unit["id"], "position": position, "email": f"{position}@{mark}"},
            )
        for i in range(members):
            await units.create_person(
                tenant,
                SYSTEM,
                {"name": f"成员{i:03d}", "unit_id": unit["id"], "position": "member", "email": f"m{i}@{mark}"},
            )
    await run(tenant, notices.issue, SYSTEM, {"scope": "all"})
    await set_rules(tenant, notice_unsigned={"days": 0, "repeat_days": 1, "escalate_after": 1, "channels": ["mail"]})
    day = units.today(tenant)
    assert await generate(tenant, settings, at(day)) == members + 1
    assert (await send(tenant, settings, at(day)))["sent"] == members + 1
    return tenant, at(day + timedelta(days=1))


async def second_day_rows(tenant, **equal) -> list[dict]:
    """The deliveries of the day after the issue (crowded_tenant's period "1")."""
    return await delivery_rows(tenant, period="1", **equal)


async def test_a_claim_takes_one_batch_and_leaves_the_rest_due(env, mailbox):
    tenant, now = await crowded_tenant(env.settings, 30, "batch.example")
    assert await generate(tenant, env.settings, now) == 3 * 30 + 2
    taken = []
    for size in (7, 7):
        async with db.transaction(tenant.id):
            claimed = await dispatch.claim(tenant, now, size)
        assert len(claimed) == size and {c["attempts"] for c in claimed} == {1}
        taken += [c["id"] for c in claimed]
    assert len(set(taken)) == 14
    rows = await second_day_rows(tenant)
    assert Counter(r["status"] for r in rows) == {"sending": 14, "pending": 3 * 30 + 2 - 14}
    assert {r["id"] for r in rows if r["status"] == "sending"} == set(taken)
    assert {r["next_at"] for r in rows if r["status"] == "sending"} == {now + dispatch.LEASE}


async def assert_each_sent_once(tenant, mailbox, expected: int) -> None:
    rows = await second_day_rows(tenant)
    assert len(rows) == expected == len([r for r in await reminder_rows(tenant) if r["period"] == "1"])
    assert Counter(r["status"] for r in rows) == {"sent": expected}
    # every delivery was claimed exactly once
    assert Counter(r["attempts"] for r in rows) == {1: expected}
    ids = [r["message_id"] for r in rows]
    assert len(set(ids)) == expected
    got = Counter(str(m["Message-ID"]) for m in received(mailbox, ids))
    assert got == Counter(ids)


async def test_two_scheduler_processes_at_once_send_each_reminder_once(env, mailbox):
    tenant, now = await crowded_tenant(env.settings, 110, "crowd.example")
    first, second = await asyncio.gather(
        luzhi(env, "scheduler", "--once", "--now", now.isoformat()),
        luzhi(env, "scheduler", "--once", "--now", now.isoformat()),
    )
    for result in (first, second):
        assert result.stdout.startswith("generated="), result.stdout + result.stderr
    assert "Traceback" not in first.stderr + second.stderr
    await assert_each_sent_once(tenant, mailbox, 3 * 110 + 2)


async def test_two_ticks_in_one_process_at_once_send_each_reminder_once(env, mailbox, monkeypatch):
    tenant, now = await crowded_tenant(env.settings, 30, "pair.example")
    claim = dispatch.claim
    sizes = []

    async def small_claims(t, moment, limit=dispatch.BATCH, lease=dispatch.LEASE, only=None):
        rows = await claim(t, moment, 7, lease, only)
        sizes.append(len(rows))
        return rows

    monkeypatch.setattr(dispatch, "claim", small_claims)

    async def scheduler():
        return await step(tenant, env.settings, now)

    (made_a, sent_a), (made_b, sent_b) = await asyncio.gather(scheduler(), scheduler())
    total = 3 * 30 + 2
    assert sorted([made_a or 0, made_b or 0]) == [0, 3 * 30 + 2] and None in (made_a, made_b)
    assert sent_a["sent"] + sent_b["sent"] == total and sent_a["sent"] > 0 and sent_b["sent"] > 0
    assert sum(sizes) == total and max(sizes) == 7
    await assert_each_sent_once(tenant, mailbox, total)


# ---------------------------------------------------------------- nothing for what no longer needs it


async def test_what_was_done_meanwhile_is_not_sent(env, mailbox):
    world = await make_world()
    for key, email in (("a_lead", "lisi@signed.example"), ("a_principal", "zhangsan@withdrawn.example")):
        await set_email(world, key, email)
    await set_email(world, "b_principal", "wangwu@waiting.example")
    await set_rules(world, notice_unsigned={**MAIL_ONLY, "channels": ["mail", "inbox"]})
    day = await issue(world)
    await generate(world, env.settings, at(day + timedelta(days=7), 23, 0))  # the mail waits for the morning
    who = await names(world)
    assert sorted((who[d["recipient"]], d["channel"]) for d in await delivery_rows(world, status="pending")) == [
        ("张三", "mail"),
        ("李四", "inbox"),
        ("李四", "mail"),
        ("王五", "mail"),
    ]
    # signing settles 李四's reminders at once, in the signing transaction
    leader = await actor_of(world, "leader")
    await run(world, notices.sign, leader, await notice_of(world, "a_lead"), {"password": PASSWORD})
    assert {d["channel"]: d["status"] for d in await delivery_rows(world) if who[d["recipient"]] == "李四"} == {
        "mail": "cancelled",
        "inbox": "cancelled",
    }
    # a notice withdrawn meanwhile is found out when the mail is about to go
    office = await actor_of(world, "office")
    await run(world, notices.withdraw, office, await notice_of(world, "a_principal"), {"reason": "名单有误"})
    counts = await send(world, env.settings, at(day + timedelta(days=8), 8, 0))
    assert counts == {"sent": 1, "retry": 0, "cancelled": 1}
    rows = await delivery_rows(world)
    assert sorted((d["address"] or d["channel"], d["status"]) for d in rows) == [
        ("inbox", "cancelled"),
        ("lisi@signed.example", "cancelled"),
        ("wangwu@waiting.example", "sent"),
        ("zhangsan@withdrawn.example", "cancelled"),
    ]
    assert all(d["next_at"] is None and d["last_error"] == "done" for d in rows if d["status"] == "cancelled")
    assert received(mailbox, [d["message_id"] for d in rows if d["status"] == "cancelled"]) == []
    assert len(received(mailbox, [d["message_id"] for d in rows if d["status"] == "sent"])) == 1
    inbox, total = await run(world, service.inbox, leader, limit=10, offset=0)
    assert total == 0 and inbox == []
    async with db.transaction(world.tenant.id, write=False):
        shown, _total = await service.outbox(world.tenant, {"status": "cancelled"}, limit=10, offset=0)
    assert {d["last_error"] for d in shown} == {str(service.REASONS["done"])} != {"done"}

    # a confirmation submitted after the reminder was made
    tenant = await make_tenant()
    unit = await make_unit(tenant, "确认局")
    period = confirmations.due_period(units.today(tenant))
    person = await make_person(
        tenant, unit, "孔一", "principal", start_date=period.start.isoformat(), email="kong@confirm.example"
    )
    await make_user(tenant, "kongyi", "leader", person_id=person["id"])
    await set_rules(
        tenant, confirmation_overdue={"days": 1, "repeat_days": 7, "escalate_after": 0, "channels": ["mail"]}
    )
    assert await generate(tenant, env.settings, at(period.due + timedelta(days=1), 22, 30)) == 1
    await run(tenant, confirmations.submit, await actor_of(tenant, "kongyi"), period.key, {"all_done": "1"})
    assert (await delivery_rows(tenant))[0]["status"] == "cancelled"
    assert await send(tenant, env.settings, at(period.due + timedelta(days=2), 8, 0)) == {
        "sent": 0,
        "retry": 0,
        "cancelled": 0,
    }
    row = (await delivery_rows(tenant))[0]
    assert row["status"] == "cancelled" and received(mailbox, [row["message_id"]]) == []


async def test_nothing_for_a_suspended_tenant_until_it_is_resumed(env, mailbox, ticking):
    world, day = await one_leader_world("lisi@suspended.example")
    other, _other_day = await one_leader_world("lisi@active.example")
    ticking.update({world.tenant.id, other.tenant.id})
    await generate(world, env.settings, at(day + timedelta(days=7), 23, 0))
    held = (await delivery_rows(world))[0]
    async with db.transaction(None):
        await tenants.set_status(world.slug, "suspended")
    # the tick serves the active tenant, and leaves the suspended one alone: the mail held over
    # night is not sent, and the repeat due on day 14 is not generated
    totals = await dispatch.tick(env.settings, at(day + timedelta(days=14), 9, 0))
    assert totals == {"generated": 1, "sent": 1, "retry": 0, "cancelled": 0}
    assert [d["status"] for d in await delivery_rows(other)] == ["sent"]
    assert [(d["status"], d["attempts"]) for d in await delivery_rows(world)] == [("pending", 0)]
    assert len(await reminder_rows(world)) == 1
    assert received(mailbox, [held["message_id"]]) == []

    async with db.transaction(None):
        await tenants.set_status(world.slug, "active")
    await dispatch.tick(env.settings, at(day + timedelta(days=14), 9, 0))
    rows = await delivery_rows(world)
    assert [(d["period"], d["status"]) for d in rows] == [("0", "sent"), ("1", "sent")]
    assert len(received(mailbox, [d["message_id"] for d in rows])) == 2


async def test_nothing_to_a_person_whose_post_ended(env, mailbox):
    world = await make_world()
    await make_person(world.tenant, world.units["a_unit"], "钱七", "secrecy_officer", email="qianqi@left.example")
    await set_email(world, "a_lead", "lisi@left.example")
    await set_email(world, "a_principal", "zhangsan@left.example")
    await set_rules(world, notice_unsigned={"days": 1, "repeat_days": 1, "escalate_after": 1, "channels": ["mail"]})
    day = await issue(world, scope="person", person_id=world.people["a_lead"]["id"])
    who = await names(world)
    # the second reminder is escalated to the principal and the officer; it waits for the morning
    await generate(world, env.settings, at(day + timedelta(days=1), 10, 0))
    await send(world, env.settings, at(day + timedelta(days=1), 10, 0))
    await generate(world, env.settings, at(day + timedelta(days=2), 23, 0))
    assert sorted(who[d["recipient"]] for d in await delivery_rows(world, status="pending")) == ["张三", "李四", "钱七"]

    principal = world.people["a_principal"]
    today = units.today(world.tenant).isoformat()
    await run(world, units.end_post, SYSTEM, principal["id"], principal["posts"][0]["id"], {"end_date": today})
    counts = await send(world, env.settings, at(day + timedelta(days=3), 8, 0))
    assert counts == {"sent": 2, "retry": 0, "cancelled": 1}
    rows = await delivery_rows(world, period="1")
    assert {who[d["recipient"]]: d["status"] for d in rows} == {"李四": "sent", "钱七": "sent", "张三": "cancelled"}
    assert received(mailbox, [d["message_id"] for d in rows if who[d["recipient"]] == "张三"]) == []

    # 李四 leaves too: her notice no longer waits, nobody hears of it again
    lead = world.people["a_lead"]
    await run(world, units.end_post, SYSTEM, lead["id"], lead["posts"][0]["id"], {"end_date": today})
    assert await generate(world, env.settings, at(day + timedelta(days=4), 10, 0)) == 0


# ---------------------------------------------------------------- webhooks


class Receiver:
    """A real HTTP server in a thread: records each request, answers with `status` and `reply`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.reply = b'{"errcode": 0, "errmsg": "ok"}'
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


async def test_webhooks_generic_signed_dingtalk_signed_and_a_500_retried(env, receiver):
    world, day = await one_leader_world("lisi@hook.example", channels=["webhook"])
    secret = "s3cret-签名"
    await run(
        world,
        service.save_settings,
        SYSTEM,
        {"webhook_url": receiver.url + "/hooks/luzhi", "webhook_preset": "generic", "webhook_secret": secret},
    )
    shown = service.public_settings(await run(world, service.notify_settings))
    assert shown["webhook_secret_set"] is True and secret not in json.dumps(shown, default=str)
    receiver.reply = b"ok"
    now = at(day + timedelta(days=7))
    await step(world, env.settings, now)
    row = (await delivery_rows(world))[0]
    assert (row["channel"], row["status"], row["address"]) == ("webhook", "sent", "generic")
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    timestamp = headers["x-luzhi-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    assert headers["x-luzhi-signature"] == "sha256=" + expected
    assert abs(int(timestamp) - datetime.now(UTC).timestamp()) < 60
    assert headers["x-luzhi-delivery"] == str(row["uuid"]) and request["path"] == "/hooks/luzhi"
    payload = json.loads(request["body"])
    assert payload == {
        "id": str(row["uuid"]),
        "event": "notice_unsigned",
        "title": row["title"],
        "text": row["body"],
        "link": f"/t/{world.slug}/notices/{await notice_of(world, 'a_lead')}",
        "recipient": "李四",
    }

    # a receiver in trouble: retried later, the reason kept
    receiver.status, receiver.reply = 500, b"internal trouble"
    await run(
        world,
        service.save_settings,
        SYSTEM,
        {
            "webhook_url": receiver.url + "/robot/send?access_token=abc",
            "webhook_preset": "dingtalk",
            "webhook_secret": "SECding",
        },
    )
    second = now + timedelta(days=7)
    created, counts = await step(world, env.settings, second)
    assert created == 1 and counts == {"sent": 0, "retry": 1, "cancelled": 0}
    row = (await delivery_rows(world, period="1"))[0]
    assert (row["status"], row["attempts"], row["next_at"]) == ("pending", 1, second + timedelta(minutes=1))
    assert row["last_error"] == "HTTP 500: internal trouble"
    # a robot that answers 200 with an error code is in trouble too
    receiver.status, receiver.reply = 200, b'{"errcode": 310000, "errmsg": "sign not match"}'
    await send(world, env.settings, second + timedelta(minutes=1))
    row = (await delivery_rows(world, period="1"))[0]
    assert (row["status"], row["attempts"]) == ("pending", 2)
    assert row["last_error"] == "errcode 310000: sign not match"

    receiver.reply = b'{"errcode": 0, "errmsg": "ok"}'
    await send(world, env.settings, second + timedelta(minutes=3))
    row = (await delivery_rows(world, period="1"))[0]
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 3, "")
    assert len(receiver.requests) == 4
    for request in receiver.requests[1:]:
        url = urlsplit(request["path"])
        query = parse_qs(url.query)
        assert url.path == "/robot/send" and query["access_token"] == ["abc"]
        timestamp, sign = query["timestamp"][0], query["sign"][0]
        digest = hmac.new(b"SECding", f"{timestamp}\nSECding".encode(), hashlib.sha256).digest()
        assert sign == base64.b64encode(digest).decode()
        assert abs(int(timestamp) / 1000 - datetime.now(UTC).timestamp()) < 60
        body = json.loads(request["body"])
        assert body["msgtype"] == "markdown" and body["markdown"]["title"] == row["title"]
        assert body["markdown"]["text"] == f"### {row['title']}\n{row['body']}"
        assert "x-luzhi-signature" not in {k.lower() for k in request["headers"]}
