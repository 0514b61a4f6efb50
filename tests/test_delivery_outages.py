"""Reminders under absent, slow, hanging and killed mail delivery, against real aiosmtpd
servers: nothing is lost from sight, nothing the server accepted is sent twice."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import signal
import socket
import sys
from collections import Counter
from datetime import timedelta

import openpyxl
import pytest
from aiosmtpd.controller import Controller

from server import db
from server.core.i18n import set_locale
from server.reminders import dispatch, service
from server.reminders import rules as rulebook
from server.responsibility import notices
from server.settings import Settings
from tests.conftest import Mailbox, csrf, login
from tests.test_reminders import at, delivery_rows, generate, issue, run, send, set_email, set_rules, step
from tests.test_reminders_delivery import MAIL_ONLY, crowded_tenant, one_leader_world, second_day_rows

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SlowMailbox(Mailbox):
    """A mail server that keeps each message, then takes `delay` seconds to answer."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return answer


@pytest.fixture
def slow_server():
    """Start a slow mail server on a free port: (mailbox, port)."""
    controllers = []

    def start(delay: float) -> tuple[SlowMailbox, int]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        box = SlowMailbox(delay)
        controller = Controller(box, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return box, port

    yield start
    for controller in controllers:
        controller.stop()


def of(box: Mailbox, message_ids) -> Counter:
    wanted = set(message_ids)
    return Counter(str(m["Message-ID"]) for m in list(box.messages) if str(m["Message-ID"]) in wanted)


# ---------------------------------------------------------------- no mail server


async def test_without_a_mail_server_every_reminder_is_shown_undeliverable_and_can_be_sent_again_in_bulk(
    env, client, mailbox
):
    world = await make_world_with_mail_only()
    no_mail = dataclasses.replace(env.settings, smtp_host=None)
    day = await issue(world)
    created, counts = await step(world, no_mail, at(day + timedelta(days=7)))
    rows = await delivery_rows(world, status="undeliverable")
    # every reminder made is in sight, with its reason; nothing waits, nothing vanished
    assert created and len(rows) == created and await delivery_rows(world) == []
    assert {r["last_error"] for r in rows} == {"no_mail"} and {r["channel"] for r in rows} == {"mail"}
    async with db.transaction(world.tenant.id, write=False):
        summary = await service.outbox_summary(world.tenant)
    assert summary["undeliverable"] == created and summary["pending"] == summary["failed"] == 0

    await login(client, world.slug, "office")
    page = await client.get(f"/t/{world.slug}/outbox", params={"status": "undeliverable"})
    assert f"共 {created} 条投递" in page.text and "未配置邮件服务器。" in page.text
    # the status's own name ("无法投递" once the catalog has it)
    assert "无法投递" in page.text or "Undeliverable" in page.text
    assert "No mail server is configured." not in page.text

    # and exports them, each with its reason
    export = await client.get(f"/t/{world.slug}/outbox.xlsx", params={"status": "undeliverable"})
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).worksheets[0]
    table = [[c.value for c in row] for row in sheet.iter_rows()][1:]
    assert len(table) == created and {row[10] for row in table} == {"未配置邮件服务器。"}
    # the office overview counts them, linking to the list
    home = await client.get(f"/t/{world.slug}")
    assert "status=undeliverable&amp;from=" in home.text
    # most people in post have no account: the reminders page warns when no mail server is set
    without_account, in_post = await run(world, service.mail_only)
    assert 0 < without_account < in_post and without_account * 2 > in_post

    # the mail server is set up: the office sends them all again by filter, in one go
    token = await csrf(client, f"/t/{world.slug}/outbox")
    answer = await client.post(f"/t/{world.slug}/outbox/retry", data={"_csrf": token, "status": "undeliverable"})
    assert answer.status_code == 303
    counts = await send(world, env.settings, at(day + timedelta(days=7), 11))
    after = {r["address"]: r for r in await delivery_rows(world, status="sent")}
    assert set(after) == {"lisi@nomail.example"} and counts["sent"] == 1
    assert of(mailbox, [after["lisi@nomail.example"]["message_id"]]) == {after["lisi@nomail.example"]["message_id"]: 1}
    # those without an address stay in sight, now for that reason
    left = await delivery_rows(world, status="undeliverable")
    assert len(left) == created - 1 and {r["last_error"] for r in left} == {"no_address"}


async def make_world_with_mail_only():
    from tests.factories import make_world

    world = await make_world()
    await set_email(world, "a_lead", "lisi@nomail.example")
    await set_rules(world, notice_unsigned={**MAIL_ONLY, "quiet_start": "", "quiet_end": ""})
    return world


# ---------------------------------------------------------------- a lapsed claim


async def test_a_claim_that_lapsed_and_was_taken_again_is_never_sent_by_its_first_holder(env):
    world, day = await one_leader_world("lisi@lapsed.example")
    tenant, now = world.tenant, at(day + timedelta(days=7))
    await generate(world, env.settings, now)
    async with db.transaction(tenant.id):
        first = await dispatch.claim(tenant, now, 1)
    async with db.transaction(tenant.id):
        second = await dispatch.claim(tenant, now + dispatch.LEASE, 1)
    assert [d["id"] for d in first] == [d["id"] for d in second] and [second[0]["attempts"]] == [2]
    # the first holder wakes up: its check right before sending fails, the second's holds
    async with db.transaction(tenant.id):
        assert not await dispatch._hold(tenant, first[0], now + 2 * dispatch.LEASE)
        assert await dispatch._hold(tenant, second[0], now + 2 * dispatch.LEASE)


# ---------------------------------------------------------------- a slow server, leases shorter than a batch


async def test_a_server_slower_than_the_lease_still_gets_each_mail_once(env, mailbox, slow_server):
    box, port = slow_server(3.0)
    # 3 s a mail over one connection each, a lease of 14 s (the shortest a 3.5 s timeout
    # allows) and batches of six: the first batch outlives its lease and is held by
    # renewals while the other scheduler claims what is left
    slow = dataclasses.replace(
        env.settings, smtp_port=port, delivery_lease=14, delivery_batch=6, mail_timeout=3.5, mail_connections=1
    )
    tenant, now = await crowded_tenant(env.settings, 2, "slow.example")
    await generate(tenant, env.settings, now)
    a, b = await asyncio.gather(send(tenant, slow, now), send(tenant, slow, now))
    rows = await second_day_rows(tenant)
    ids = [r["message_id"] for r in rows]
    assert Counter(r["status"] for r in rows) == {"sent": len(rows)} and a["sent"] + b["sent"] == len(rows) == 8
    assert of(box, ids) == Counter(ids)
    assert {r["attempts"] for r in rows} == {1}


async def test_a_server_stopped_for_over_an_hour_gets_each_mail_once_when_it_is_back(env, mailbox):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = Mailbox()
    settings = dataclasses.replace(env.settings, smtp_port=port)
    tenant, now = await crowded_tenant(env.settings, 2, "stopped.example")
    await generate(tenant, env.settings, now)
    # down: each tick finds the port closed; the retries back off 1, 2, 4 … minutes
    moments = [now]
    while moments[-1] - now < timedelta(minutes=90):
        await send(tenant, settings, moments[-1])
        (row, *_rest) = await second_day_rows(tenant)
        moments.append(row["next_at"])
    rows = await second_day_rows(tenant)
    assert {r["status"] for r in rows} == {"pending"} and all("Connect" in r["last_error"] for r in rows)
    waits = [round((b - a).total_seconds() / 60) for a, b in zip(moments, moments[1:], strict=False)]
    assert waits[:6] == [1, 2, 4, 8, 16, 32] and max(waits) == 60
    # back: the next tick sends each mail once, nothing ends as failed
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await send(tenant, settings, moments[-1])
    finally:
        controller.stop()
    rows = await second_day_rows(tenant)
    ids = [r["message_id"] for r in rows]
    assert Counter(r["status"] for r in rows) == {"sent": 8} and of(box, ids) == Counter(ids)


async def test_a_server_slower_than_the_client_timeout_leaves_the_mail_uncertain_not_resent(env, mailbox, slow_server):
    box, port = slow_server(1.5)
    hanging = dataclasses.replace(env.settings, smtp_port=port, mail_timeout=0.5)
    tenant, now = await crowded_tenant(env.settings, 0, "timeout.example")
    await generate(tenant, env.settings, now)
    counts = await send(tenant, hanging, now)
    rows = await second_day_rows(tenant, status="uncertain")
    assert counts["sent"] == 0 and len(rows) >= 1 and all("Timeout" in r["last_error"] for r in rows)
    # the server did take it; it is not tried again by itself (a day of ticks later, still once)
    for hours in range(1, 25, 6):
        await send(tenant, hanging, now + timedelta(hours=hours))
    await asyncio.sleep(1.6)
    assert of(box, [r["message_id"] for r in rows]) == Counter(r["message_id"] for r in rows)
    assert {r["id"] for r in rows} <= {r["id"] for r in await second_day_rows(tenant, status="uncertain")}
    # the office reads why in its language, the server's words kept as the detail
    set_locale("en")
    async with db.transaction(tenant.id, write=False):
        shown, _total = await service.outbox(tenant, {"status": "uncertain"}, limit=10, offset=0)
    sentence = "The server took the message but did not confirm in time"
    assert shown and all(d["last_error"].startswith(sentence) and "Timeout" in d["last_error"] for d in shown)


# ---------------------------------------------------------------- kill -9 mid-batch


@pytest.mark.parametrize("connections", [1, 4])
async def test_a_scheduler_killed_mid_batch_resends_at_most_the_mail_in_flight(env, mailbox, slow_server, connections):
    """At most one message per connection is in flight when the process dies."""
    box, port = slow_server(0.3)
    tenant, now = await crowded_tenant(env.settings, 5, "killed.example")
    await generate(tenant, env.settings, now)
    before = await second_day_rows(tenant)
    ids = [r["message_id"] for r in before]
    environment = {**env.env, "LUZHI_SMTP_PORT": str(port), "LUZHI_MAIL_CONNECTIONS": str(connections)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "server.cli", "scheduler", "--once", "--now", now.isoformat()),
        env=environment,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    for _ in range(1200):  # at most a minute: kill it once five of its mails were accepted
        if sum(of(box, ids).values()) >= 5 or process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    got = of(box, ids)
    assert 5 <= sum(got.values()) < len(ids), "the kill came too late to be mid-batch"
    # each result was recorded as the server answered: all but those in flight
    sent = {r["message_id"] for r in await second_day_rows(tenant, status="sent")}
    assert len(set(got) - sent) <= connections and sent <= set(got)

    # after the lease another tick takes over
    await send(tenant, dataclasses.replace(env.settings, smtp_port=port), now + dispatch.LEASE + timedelta(minutes=1))
    rows = await second_day_rows(tenant)
    assert Counter(r["status"] for r in rows) == {"sent": len(rows)}
    final = of(box, ids)
    assert set(final) == set(ids)
    twice = [m for m, n in final.items() if n > 1]
    assert len(twice) <= connections and all(n <= 2 for n in final.values())


# ---------------------------------------------------------------- escalation counts what arrived


async def test_reminders_lost_to_an_outage_do_not_escalate_to_the_principal(env, mailbox):
    world, day = await one_leader_world("lisi@outage.example", days=1, repeat_days=1, escalate_after=1)
    await set_email(world, "a_principal", "zhangsan@outage.example")
    down = dataclasses.replace(env.settings, smtp_host=None)
    # the first reminder never goes out (no mail server that day)
    await step(world, down, at(day + timedelta(days=1)))
    assert [r["last_error"] for r in await delivery_rows(world, status="undeliverable")] == ["no_mail"]
    # the second is still put to the person alone, and arrives
    await step(world, env.settings, at(day + timedelta(days=2)))
    second = await delivery_rows(world, period="1")
    assert [(r["level"], r["address"], r["status"]) for r in second] == [(0, "lisi@outage.example", "sent")]
    # one reminder arrived: the third is escalated to the principal, marked 【督办】
    await step(world, env.settings, at(day + timedelta(days=3)))
    third = await delivery_rows(world, period="2")
    assert {r["address"] for r in third} == {"lisi@outage.example", "zhangsan@outage.example"}
    assert {r["level"] for r in third} == {1}
    assert [r["title"].startswith("【督办】") for r in third if r["address"].startswith("zhangsan")] == [True]


# ---------------------------------------------------------------- words for the reader and the day


def test_the_last_day_of_the_year_is_worded_for_the_day():
    rule = rulebook.defaults("training_short")
    context = {**rulebook.SAMPLE, "hours": 1, "required": 4}
    _title, last = rulebook.render(rule, "en", {**context, "days": 0}, escalated=False)
    assert "today is the last day of the year" in last and "0 days" not in last
    _title, earlier = rulebook.render(rule, "en", {**context, "days": 3}, escalated=False)
    assert "with 3 days left in the year" in earlier
    # a tenant's own text is theirs to word
    own = {**rule, "templates": {"en": {"body": "{{ days }} to go"}}}
    assert rulebook.render(own, "en", {**context, "days": 0}, escalated=False)[1] == "0 to go"


# ---------------------------------------------------------------- the signing code goes through the outbox


async def test_the_signing_code_is_queued_not_mailed_by_the_request_and_sent_ahead_of_the_backlog(env, mailbox):
    from tests.test_reminders import actor_of
    from tests.test_responsibility import leader_notice

    world, day = await one_leader_world("lisi@code.example", quiet_start="", quiet_end="")
    # a backlog of the day's reminders is due before the code is asked for
    await generate(world, env.settings, at(day + timedelta(days=7)))
    notice_id = await leader_notice(world)
    leader = await actor_of(world, "leader")
    # the mail server is down: the request answers all the same, the code waits in the outbox
    down = dataclasses.replace(env.settings, smtp_port=closed_port())
    async with db.transaction(world.tenant.id):
        sent_to, delivery = await notices.send_sign_code(world.tenant, leader, notice_id, down)
    assert sent_to == "l***@code.example"
    queued = [r for r in await delivery_rows(world) if r["kind"] == "sign_code"]
    assert [(r["id"], r["status"], r["address"]) for r in queued] == [(delivery, "pending", "lisi@code.example")]
    # the outbox says a code went, never the code
    async with db.transaction(world.tenant.id, write=False):
        shown, _n = await service.outbox(world.tenant, {}, limit=10, offset=0)
    assert all(queued[0]["title"] not in d["title"] and not d["body"] for d in shown if d["kind"] == "sign_code")

    # ahead of the day's reminders (claims take the earliest due first), and sent at once
    reminder = next(r for r in await delivery_rows(world) if r["kind"] == "notice_unsigned")
    assert queued[0]["next_at"] < reminder["next_at"]
    await dispatch.send_now(world.tenant, env.settings, [delivery])
    mail = of(mailbox, [queued[0]["message_id"]])
    assert mail == {queued[0]["message_id"]: 1}
    # once the server took it, the code is no longer kept in the outbox's table
    (sent,) = [r for r in await delivery_rows(world) if r["kind"] == "sign_code"]
    assert sent["status"] == "sent" and sent["body"] == ""
    # the reminder due before it was left to the tick
    assert [r["status"] for r in await delivery_rows(world) if r["kind"] == "notice_unsigned"] == ["pending"]


async def test_the_leader_is_told_the_code_is_on_its_way(env, client, mailbox):
    from tests.test_responsibility import leader_notice

    world, _day = await one_leader_world("lisi@way.example")
    await login(client, world.slug, "leader")
    token = await csrf(client, f"/t/{world.slug}/me")
    answer = await client.post(f"/t/{world.slug}/notices/{await leader_notice(world)}/code", data={"_csrf": token})
    assert answer.status_code == 200 and "l***@way.example" in answer.text
    assert "正在发往" in answer.text or "on its way" in answer.text


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_lease_shorter_than_a_few_timeouts_is_refused_at_start(tmp_path):
    base = {"LUZHI_VAR_DIR": str(tmp_path), "LUZHI_SECRET_KEY": "k"}
    settings = Settings.from_env(base)
    assert (settings.mail_timeout, settings.delivery_batch, settings.delivery_lease) == (15.0, 200, 600)
    chosen = Settings.from_env({**base, "LUZHI_MAIL_TIMEOUT": "5", "LUZHI_DELIVERY_LEASE": "20"})
    assert (chosen.mail_timeout, chosen.delivery_lease) == (5.0, 20)
    with pytest.raises(ValueError, match="LUZHI_DELIVERY_LEASE"):
        Settings.from_env({**base, "LUZHI_MAIL_TIMEOUT": "60", "LUZHI_DELIVERY_LEASE": "120"})


async def test_a_signing_code_the_server_did_not_take_in_time_is_never_sent(env, mailbox):
    from tests.test_reminders import actor_of
    from tests.test_responsibility import leader_notice

    world, _day = await one_leader_world("lisi@stale.example", quiet_start="", quiet_end="")
    leader = await actor_of(world, "leader")
    down = dataclasses.replace(env.settings, smtp_port=closed_port())
    async with db.transaction(world.tenant.id):
        _to, delivery = await notices.send_sign_code(world.tenant, leader, await leader_notice(world), down)
    (queued,) = [r for r in await delivery_rows(world) if r["kind"] == "sign_code"]
    # the mail server comes back after the code's ten minutes: the code is dropped, not mailed
    await send(world, env.settings, queued["created_at"] + timedelta(minutes=11))
    (row,) = [r for r in await delivery_rows(world) if r["kind"] == "sign_code"]
    assert (row["id"], row["status"], row["last_error"]) == (delivery, "cancelled", "expired")
    assert of(mailbox, [queued["message_id"]]) == {}
    async with db.transaction(world.tenant.id, write=False):
        set_locale("zh_CN")
        shown, _n = await service.outbox(world.tenant, {"status": "cancelled"}, limit=10, offset=0)
    assert [d["last_error"] for d in shown if d["kind"] == "sign_code"] == ["验证码在邮件服务器接收前已过期。"]
