"""The outbox at work: a tick claims the deliveries that are due, atomically, so any
number of scheduler processes may run; it sends them and records what happened.

A claim moves `next_at` forward by a lease. Just before each send the claim is checked and
renewed in one conditional UPDATE (still "sending", still this claim's attempt number), so a
delivery whose lease lapsed and was claimed by another scheduler is never sent by this one;
each result is recorded as soon as the server answers. A process killed mid-send leaves at
most the one message in flight to be claimed again after the lease, and sent with the same
Message-ID. A message handed to the server whose answer never came (the client's timeout) is
marked "uncertain" and not retried by itself: resending it could deliver it twice."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from server import db, events
from server.core.chunks import chunks
from server.reminders import outbox, service, sources
from server.reminders import rules as rulebook
from server.reminders.channels import Mailer, MailServer, Uncertain, post_webhook
from server.reminders.tables import Delivery, Reminder
from server.settings import Settings
from server.units import service as units
from tenants.service import TenantRef, active_tenants

log = logging.getLogger("luzhi.reminders")

BATCH = Settings.delivery_batch
LEASE = timedelta(seconds=Settings.delivery_lease)
# failures are retried for a day (the waits below add up to it), then the delivery fails
RETRY_WINDOW = timedelta(hours=24)
# what no channel can carry: shown as undeliverable, never retried by itself
UNDELIVERABLE = {"no_mail", "no_webhook", "no_address", "no_account"}
_RETURNING = (
    'id, uuid, reminder, channel, "user", recipient_name, address, locale, title, body, link, message_id, attempts'
)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes… after the n-th failed attempt, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _attempts_in_window() -> int:
    waited, n = timedelta(0), 1
    while waited < RETRY_WINDOW:
        waited += backoff(n)
        n += 1
    return n


# 1 + 2 + 4 + 8 + 16 + 32 minutes, then hourly: the 30th attempt comes a day after the first
MAX_ATTEMPTS = _attempts_in_window()


async def claim(
    tenant: TenantRef, now: datetime, limit: int = BATCH, lease: timedelta = LEASE, only: list[int] | None = None
) -> list[dict]:
    """Take up to `limit` due deliveries of the tenant (of `only` these, when given): one
    UPDATE … RETURNING, which two schedulers cannot both win (PostgreSQL skips rows another
    has locked). The earliest due go first (a signing code is queued as due long ago)."""
    among = f"AND id IN ({', '.join(str(int(i)) for i in only)}) " if only else ""
    due = (
        "SELECT id FROM deliveries WHERE tenant = {} AND next_at IS NOT NULL AND next_at <= {} "
        f"{among}ORDER BY next_at LIMIT {int(limit)}"
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
            now + lease,
        )
    return await Delivery.raw(
        "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, next_at = {} "
        f"WHERE id IN ({due}) RETURNING {_RETURNING}",
        now + lease,
        tenant.id,
        now,
    )


async def _reminders_of(claimed: list[dict]) -> dict[int, dict]:
    ids = sorted({d["reminder"] for d in claimed})
    found: dict[int, dict] = {}
    for batch in chunks(ids):
        for r in await Reminder.select(
            Reminder.id, Reminder.kind, Reminder.subject, Reminder.recipient, Reminder.period
        ).where(Reminder.id.is_in(batch)):
            found[r["id"]] = r
    return found


async def _still_wanted(
    tenant: TenantRef, claimed: list[dict], reminders: dict[int, dict], now: datetime, waiting: dict[str, set[str]]
) -> set[int]:
    """The deliveries whose thing is still waiting and whose recipient is still there.
    `waiting` keeps each kind's waiting subjects for the rest of the tick: a source reads
    the whole tenant, so it is read once, not once per batch."""
    day = sources.local_day(tenant, now)
    for kind in ({reminders[d["reminder"]]["kind"] for d in claimed} - waiting.keys()) & rulebook.KINDS.keys():
        waiting[kind] = await sources.waiting_subjects(tenant, kind, day)
    people = sorted({int(r["recipient"][1:]) for r in reminders.values() if r["recipient"].startswith("p")})
    present = {p["person"] for p in await units.posts_on(tenant, day, people=people, live_units=True)}
    wanted = set()
    for d in claimed:
        r = reminders[d["reminder"]]
        # a mail of its own (a signing code) is not about a thing still waiting: always wanted
        ruled = r["kind"] in rulebook.KINDS and not r["subject"].startswith(sources.DIGEST)
        if ruled and r["subject"] not in waiting[r["kind"]]:
            continue
        if r["recipient"].startswith("p") and int(r["recipient"][1:]) not in present:
            continue
        wanted.add(d["id"])
    return wanted


@dataclass
class _Round:
    """A claimed batch's setting: what its deliveries are about, the tenant's rules, the
    tick's moment, and what became of each delivery so far (None: sent)."""

    tenant: TenantRef
    reminders: dict[int, dict]
    rules: dict[str, dict]
    outcome: dict[int, str | None]
    now: datetime

    async def record(self, claimed: list[dict]) -> None:
        """Record what became of these claimed deliveries, in the caller's transaction."""
        sent = [d["id"] for d in claimed if self.outcome.get(d["id"], "") is None]
        for batch in chunks(sent):
            await Delivery.update(
                {Delivery.status: "sent", Delivery.next_at: None, Delivery.sent_at: self.now, Delivery.last_error: ""}
            ).where(Delivery.id.is_in(batch), Delivery.status == "sending")
        # a signing code is kept only until the mail server has taken it
        codes = [d["id"] for d in claimed if d["id"] in sent and self.kind_of(d) == outbox.SIGN_CODE]
        if codes:
            await Delivery.update({Delivery.body: ""}).where(Delivery.id.is_in(codes))
        for d in claimed:
            reason = self.outcome.get(d["id"], "")
            if reason is None:
                continue
            # a claim that lapsed and was taken again is the other claimer's to settle
            await Delivery.update(self._unsent(d, reason)).where(
                Delivery.id == d["id"], Delivery.status == "sending", Delivery.attempts == d["attempts"]
            )

    def kind_of(self, delivery: dict) -> str:
        return self.reminders[delivery["reminder"]]["kind"]

    def _unsent(self, d: dict, reason: str) -> dict:
        """What a delivery that did not go becomes: kept in sight, or tried again later."""
        if isinstance(reason, Uncertain):
            status = "uncertain"
        elif reason in UNDELIVERABLE:
            status = "undeliverable"
        elif d["attempts"] >= MAX_ATTEMPTS:
            status = "failed"
        else:
            rule = self.rules.get(self.kind_of(d))
            at = self.now + backoff(d["attempts"])
            at = rulebook.after_quiet(rule, at, self.tenant.timezone) if rule else at
            return {Delivery.status: "pending", Delivery.next_at: at, Delivery.last_error: reason}
        return {Delivery.status: status, Delivery.next_at: None, Delivery.last_error: reason}


async def _settle(
    tenant: TenantRef,
    claimed: list[dict],
    reminders: dict[int, dict],
    rules: dict[str, dict],
    outcome: dict[int, str | None],
    now: datetime,
) -> None:
    """Record what became of these claimed deliveries, in a transaction of their own."""
    async with db.transaction(tenant.id):
        await _Round(tenant, reminders, rules, outcome, now).record(claimed)


def _expired(reminder: dict, now: datetime) -> bool:
    """A signing code past its validity (its reminder's period is the moment it was asked for)."""
    if reminder["kind"] != outbox.SIGN_CODE:
        return False
    return datetime.fromisoformat(reminder["period"]) + events.SIGN_CODE_VALID <= now


async def _cancel(tenant: TenantRef, ids: list[int], reason: str) -> None:
    async with db.transaction(tenant.id):
        for batch in chunks(ids):
            await Delivery.update(
                {Delivery.status: "cancelled", Delivery.next_at: None, Delivery.last_error: reason}
            ).where(Delivery.id.is_in(batch))


async def _hold(tenant: TenantRef, delivery: dict, until: datetime) -> bool:
    """Renew this delivery's claim just before it is sent, in the caller's transaction; False
    when it is no longer ours (settled meanwhile, or its lease lapsed and another scheduler
    claimed it since)."""
    held = await (
        Delivery.update({Delivery.next_at: until})
        .where(Delivery.id == delivery["id"], Delivery.status == "sending", Delivery.attempts == delivery["attempts"])
        .returning(Delivery.id)
    )
    return bool(held)


async def _renew(tenant: TenantRef, ids: list[int], now: datetime, until: datetime) -> None:
    """Extend the claims of these deliveries whose lease still runs. A row whose lease lapsed
    may be another scheduler's now and is left alone; extending one that is (claimed again
    and still running) only delays it: what is sent is decided by `_hold` alone."""
    for batch in chunks(ids):
        await Delivery.update({Delivery.next_at: until}).where(
            Delivery.id.is_in(batch), Delivery.status == "sending", Delivery.next_at > now
        )


class _Clock:
    """The tick's moment moved on by the time spent since: what is due and what is recorded
    stay as of the tick's moment (`--now` drills keep their date), leases count real seconds."""

    def __init__(self, now: datetime) -> None:
        self.now, self.start = now, time.monotonic()

    def __call__(self) -> datetime:
        return self.now + timedelta(seconds=time.monotonic() - self.start)


class _Batch:
    """A claimed batch being sent over several connections at once. Each lane holds a
    message, sends it and records the answer in the transaction that holds its next one
    (one commit per message), so every result is kept as soon as the server gives it."""

    def __init__(self, round_: _Round, settings: Settings, client, own, server, claimed, clock: _Clock) -> None:
        self.round, self.settings, self.client, self.own, self.server = round_, settings, client, own, server
        self.tenant, self.outcome, self.claimed, self.clock = round_.tenant, round_.outcome, claimed, clock
        self.lease = timedelta(seconds=settings.delivery_lease)
        self.queue = iter([d for d in claimed if d["id"] not in self.outcome])
        self.renewed = clock()

    async def lane(self) -> None:
        mailer = Mailer(self.server, self.settings.mail_timeout) if self.server else None
        answered: list[dict] = []
        try:
            for d in self.queue:
                if not await self._record_and_hold(answered, d):
                    answered = []
                    continue
                if d["channel"] == "mail":
                    self.outcome[d["id"]] = await mailer.send(d, self.round.now)
                else:
                    kind = self.round.kind_of(d)
                    self.outcome[d["id"]] = await post_webhook(
                        self.client, self.own, d, kind, self.settings.mail_timeout
                    )
                answered = [d]
        finally:
            if answered:
                r = self.round
                await _settle(r.tenant, answered, r.reminders, r.rules, r.outcome, r.now)
            if mailer:
                await mailer.close()

    async def _record_and_hold(self, answered: list[dict], d: dict) -> bool:
        """Record the lane's last answer and hold `d` for sending; False when it is no longer ours."""
        async with db.transaction(self.tenant.id):
            await self.round.record(answered)
            if self.clock() - self.renewed > self.lease / 2:
                # the rest of the batch keeps its claim while a slow server works through it
                self.renewed = self.clock()
                rest = [r["id"] for r in self.claimed if r["id"] not in self.outcome and r is not d]
                await _renew(self.tenant, rest, self.renewed, self.renewed + self.lease)
            return await _hold(self.tenant, d, self.clock() + self.lease)


async def _drop_unwanted(
    tenant: TenantRef, claimed: list[dict], reminders: dict[int, dict], wanted: set[int], clock: _Clock
) -> tuple[list[dict], int]:
    """Cancel what is no longer wanted and the signing codes that expired: (the rest, how many cancelled)."""
    dropped = [d["id"] for d in claimed if d["id"] not in wanted]
    if dropped:
        await _cancel(tenant, dropped, outbox.DONE)
    expired = [d["id"] for d in claimed if d["id"] in wanted and _expired(reminders[d["reminder"]], clock())]
    if expired:
        await _cancel(tenant, expired, outbox.EXPIRED)
    kept = [d for d in claimed if d["id"] in wanted and d["id"] not in expired]
    return kept, len(dropped) + len(expired)


def _local_outcomes(claimed: list[dict], own: dict, server: MailServer | None) -> dict[int, str | None]:
    """The inbox (sent as soon as it is recorded), and what cannot go out at all."""
    outcome: dict[int, str | None] = {}
    for d in claimed:
        if d["channel"] == "inbox":
            outcome[d["id"]] = None
        elif d["channel"] == "mail" and server is None:
            outcome[d["id"]] = "no_mail"
        elif d["channel"] == "mail" and not d["address"]:
            outcome[d["id"]] = "no_address"
        elif d["channel"] == "webhook" and not own["webhook_url"]:
            outcome[d["id"]] = "no_webhook"
    return outcome


async def dispatch_tenant(
    tenant: TenantRef, settings: Settings, now: datetime, client: httpx.AsyncClient, only: list[int] | None = None
) -> dict:
    """Claim and send the tenant's due deliveries (or only these), batch after batch, until none is due."""
    counts = {"sent": 0, "retry": 0, "cancelled": 0}
    waiting: dict[str, set[str]] = {}
    clock = _Clock(now)
    lease = timedelta(seconds=settings.delivery_lease)
    while True:
        async with db.transaction(tenant.id):
            # due as of the tick's moment; held for the lease from the real time spent since
            claimed = await claim(tenant, now, settings.delivery_batch, lease + (clock() - now), only)
        if not claimed:
            return counts
        async with db.transaction(tenant.id, write=False):
            reminders = await _reminders_of(claimed)
            wanted = await _still_wanted(tenant, claimed, reminders, now, waiting)
            own = await service.notify_settings(tenant)
            rules = await service.rules_of(tenant)
        claimed, cancelled = await _drop_unwanted(tenant, claimed, reminders, wanted, clock)
        # the inbox, and what cannot go out at all, settle together
        server = MailServer.of(own, settings)
        outcome = _local_outcomes(claimed, own, server)
        if local := [d for d in claimed if d["id"] in outcome]:
            await _settle(tenant, local, reminders, rules, outcome, now)
        # the rest over `mail_connections` connections at once: a server that takes seconds per
        # message holds up one lane, not the day's whole outbox
        batch = _Batch(_Round(tenant, reminders, rules, outcome, now), settings, client, own, server, claimed, clock)
        async with asyncio.TaskGroup() as lanes:  # one lane failing stops the others
            for _ in range(settings.mail_connections):
                lanes.create_task(batch.lane())
        _count(tenant, counts, outcome, cancelled)


def _count(tenant: TenantRef, counts: dict[str, int], outcome: dict[int, str | None], cancelled: int) -> None:
    counts["sent"] += sum(1 for v in outcome.values() if v is None)
    counts["retry"] += sum(1 for v in outcome.values() if v is not None)
    counts["cancelled"] += cancelled
    reasons = Counter(reason for reason in outcome.values() if reason)
    for reason, n in reasons.items():
        log.warning("%s: %d deliveries of tenant %s were not sent", reason, n, tenant.slug)


async def send_now(tenant: TenantRef, settings: Settings, ids: list[int]) -> None:
    """Send these deliveries at once (a signing code, after the request that queued it has
    answered); the next tick sends them if this cannot, so a failure is only logged."""
    try:
        async with httpx.AsyncClient() as client:
            await dispatch_tenant(tenant, settings, datetime.now(UTC), client, only=ids)
    except Exception:
        log.exception("sending %s of tenant %s at once failed; the next tick will", ids, tenant.slug)


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
