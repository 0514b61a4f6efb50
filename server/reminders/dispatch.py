"""The outbox at work: a tick claims the deliveries that are due, atomically, so any
number of scheduler processes may run; it sends them and records what happened.

A claim moves `next_at` forward by a lease: a process killed mid-send leaves the row
to be claimed again when the lease lapses (and sent with the same Message-ID)."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from server import db
from server.reminders import outbox, service, sources
from server.reminders import rules as rulebook
from server.reminders.channels import MailServer, post_webhook, send_mails
from server.reminders.tables import Delivery, Reminder
from server.settings import Settings
from tenants.service import TenantRef, active_tenants

log = logging.getLogger("luzhi.reminders")

BATCH = 200
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 6
_RETURNING = (
    'id, uuid, reminder, channel, "user", recipient_name, address, locale, title, body, link, message_id, attempts'
)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes… after the n-th failed attempt, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


async def claim(tenant: TenantRef, now: datetime, limit: int = BATCH) -> list[dict]:
    """Take up to `limit` due deliveries of the tenant: one UPDATE … RETURNING, which two
    schedulers cannot both win (PostgreSQL skips rows another has locked)."""
    due = (
        "SELECT id FROM deliveries WHERE tenant = {} AND next_at IS NOT NULL AND next_at <= {} "
        f"ORDER BY next_at LIMIT {int(limit)}"
    )
    if db.is_postgres():
        # in a CTE, which runs once: as `IN (subquery)` PostgreSQL may plan a nested-loop semi-join
        # that reruns the locking subquery for every row, each run skipping the rows this statement
        # already took, so the LIMIT bounded nothing and one claim took the tenant's whole outbox
        return await Delivery.raw(
            f"WITH due AS MATERIALIZED ({due} FOR UPDATE SKIP LOCKED) "
            "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, next_at = {} "
            f"WHERE id IN (SELECT id FROM due) RETURNING {_RETURNING}",
            tenant.id,
            now,
            now + LEASE,
        )
    return await Delivery.raw(
        "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, next_at = {} "
        f"WHERE id IN ({due}) RETURNING {_RETURNING}",
        now + LEASE,
        tenant.id,
        now,
    )


async def _reminders_of(claimed: list[dict]) -> dict[int, dict]:
    ids = sorted({d["reminder"] for d in claimed})
    found: dict[int, dict] = {}
    for i in range(0, len(ids), 500):
        for r in await Reminder.select(Reminder.id, Reminder.kind, Reminder.subject, Reminder.recipient).where(
            Reminder.id.is_in(ids[i : i + 500])
        ):
            found[r["id"]] = r
    return found


async def _still_wanted(
    tenant: TenantRef, claimed: list[dict], reminders: dict[int, dict], now: datetime, waiting: dict[str, set[str]]
) -> set[int]:
    """The deliveries whose thing is still waiting and whose recipient is still there.
    `waiting` keeps each kind's waiting subjects for the rest of the tick: a source reads
    the whole tenant, so it is read once, not once per batch."""
    day = sources.local_day(tenant, now)
    for kind in {reminders[d["reminder"]]["kind"] for d in claimed} - waiting.keys():
        waiting[kind] = await sources.waiting_subjects(tenant, kind, day)
    people = sorted({int(r["recipient"][1:]) for r in reminders.values() if r["recipient"].startswith("p")})
    present = {p["person"] for p in await sources.current_posts(tenant, day, people=people)} if people else set()
    wanted = set()
    for d in claimed:
        r = reminders[d["reminder"]]
        if not r["subject"].startswith(sources.DIGEST) and r["subject"] not in waiting[r["kind"]]:
            continue
        if r["recipient"].startswith("p") and int(r["recipient"][1:]) not in present:
            continue
        wanted.add(d["id"])
    return wanted


async def _settle(
    tenant: TenantRef,
    claimed: list[dict],
    reminders: dict[int, dict],
    rules: dict[str, dict],
    outcome: dict[int, str | None],
    now: datetime,
) -> None:
    sent = [d["id"] for d in claimed if outcome.get(d["id"], "") is None]
    async with db.transaction(tenant.id):
        for i in range(0, len(sent), 500):
            await Delivery.update(
                {Delivery.status: "sent", Delivery.next_at: None, Delivery.sent_at: now, Delivery.last_error: ""}
            ).where(Delivery.id.is_in(sent[i : i + 500]), Delivery.status == "sending")
        for d in claimed:
            reason = outcome.get(d["id"], "")
            if reason is None:
                continue
            if d["attempts"] >= MAX_ATTEMPTS:
                values = {Delivery.status: "failed", Delivery.next_at: None, Delivery.last_error: reason}
            else:
                rule = rules[reminders[d["reminder"]]["kind"]]
                at = rulebook.after_quiet(rule, now + backoff(d["attempts"]), tenant.timezone)
                values = {Delivery.status: "pending", Delivery.next_at: at, Delivery.last_error: reason}
            # a claim that lapsed and was taken again is the other claimer's to settle
            await Delivery.update(values).where(
                Delivery.id == d["id"], Delivery.status == "sending", Delivery.attempts == d["attempts"]
            )


async def _cancel(tenant: TenantRef, ids: list[int]) -> None:
    async with db.transaction(tenant.id):
        for i in range(0, len(ids), 500):
            await Delivery.update(
                {Delivery.status: "cancelled", Delivery.next_at: None, Delivery.last_error: outbox.DONE}
            ).where(Delivery.id.is_in(ids[i : i + 500]))


async def dispatch_tenant(tenant: TenantRef, settings: Settings, now: datetime, client: httpx.AsyncClient) -> dict:
    """Claim and send the tenant's due deliveries, batch after batch, until none is due."""
    counts = {"sent": 0, "retry": 0, "cancelled": 0}
    waiting: dict[str, set[str]] = {}
    while True:
        async with db.transaction(tenant.id):
            claimed = await claim(tenant, now)
        if not claimed:
            return counts
        async with db.transaction(tenant.id, write=False):
            reminders = await _reminders_of(claimed)
            wanted = await _still_wanted(tenant, claimed, reminders, now, waiting)
            own = await service.notify_settings(tenant)
            rules = await service.rules_of(tenant)
        dropped = [d["id"] for d in claimed if d["id"] not in wanted]
        if dropped:
            await _cancel(tenant, dropped)
        claimed = [d for d in claimed if d["id"] in wanted]
        outcome: dict[int, str | None] = {}
        mails = [d for d in claimed if d["channel"] == "mail"]
        if mails:
            server = MailServer.of(own, settings)
            if server is None:
                outcome |= {d["id"]: "no_mail" for d in mails}
            else:
                outcome |= await send_mails(server, mails, now)
        for d in claimed:
            if d["channel"] == "inbox":
                outcome[d["id"]] = None
            elif d["channel"] == "webhook":
                outcome[d["id"]] = (
                    await post_webhook(client, own, d, reminders[d["reminder"]]["kind"])
                    if own["webhook_url"]
                    else "no_webhook"
                )
        await _settle(tenant, claimed, reminders, rules, outcome, now)
        counts["sent"] += sum(1 for v in outcome.values() if v is None)
        counts["retry"] += sum(1 for v in outcome.values() if v is not None)
        counts["cancelled"] += len(dropped)
        reasons = Counter(reason for reason in outcome.values() if reason)
        for reason, n in reasons.items():
            log.warning("%s: %d deliveries of tenant %s will be retried or have failed", reason, n, tenant.slug)


async def tick(settings: Settings, now: datetime | None = None, *, force: bool = False) -> dict[str, Any]:
    """One generate-and-dispatch pass over every active tenant (suspended ones get nothing)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    async with db.transaction(None, write=False):
        tenants = await active_tenants()
    totals: dict[str, Any] = {"generated": 0, "sent": 0, "retry": 0, "cancelled": 0}
    async with httpx.AsyncClient() as client:
        for tenant in tenants:
            try:
                created = await service.generate_once(tenant, settings, now, force=force)
                totals["generated"] += created or 0
                for key, n in (await dispatch_tenant(tenant, settings, now, client)).items():
                    totals[key] += n
            except Exception:  # one tenant's trouble must not starve the others
                log.exception("reminders of tenant %s failed", tenant.slug)
    return totals
