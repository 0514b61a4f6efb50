"""The reminder rows: generating the day's reminders of the demo tenant, and a tick of
the outbox (claim, check, send, settle) over 1,000 due deliveries behind a backlog of
10,000 and of 1,000,000 pending ones. Registered like the rows of `scenarios.py`,
which imports this module last: these rows come at the end of the table.

The backlog is built once per database with raw INSERT … SELECT (generate_series on
PostgreSQL, a recursive CTE on SQLite), grown from 10,000 to 1,000,000 between the
rows and left in place. Before every timed tick, untimed, the due deliveries are put
back to pending, so every tick does the same work."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bench.context import BenchContext
from bench.harness import Op, Skipped, scenario, staged, with_teardown
from server import db
from server.core.chunks import chunks

DUE = 1_000  # deliveries due at each tick
SMALL, LARGE = 10_000, 1_000_000  # pending deliveries of the tenant, the due ones included
SPREAD_S = 8 * 7 * 24 * 3600  # the pending rest falls due over the next eight weeks, from an hour on
KIND = "notice_unsigned"


# ---------------------------------------------------------------- the outbox's data


@dataclass
class Outbox:
    """The tick rows' data in the demo tenant: the moment every tick runs at, the id
    ranges of the delivery sets a tick sends (one transaction each, so contiguous) and
    how many deliveries are pending."""

    now: datetime
    pending: int = 0
    sets: dict[str, tuple[int, int]] = field(default_factory=dict)  # "inbox", "mail": first and last id
    numbered: int = 0  # backlog reminders made so far: their periods are bench-0, bench-1, ...


class Reminders:
    """Shared by the rows of one worker (ctx.memo): the outbox, once built."""

    def __init__(self) -> None:
        self.outbox: Outbox | None = None


async def _state(ctx: BenchContext) -> Reminders:
    async def make() -> Reminders:
        return Reminders()

    return await ctx.memo("reminders", make)


async def _wipe(tenant: Any) -> None:
    """Every reminder, delivery and generation run of the tenant."""
    from server.reminders.tables import Delivery, Reminder, ReminderRun

    async with db.transaction(tenant.id):
        await Delivery.delete().where(Delivery.tenant == tenant.id)
        await Reminder.delete().where(Reminder.tenant == tenant.id)
        await ReminderRun.delete().where(ReminderRun.tenant == tenant.id)


async def _vacuum() -> float:
    """PostgreSQL: VACUUM ANALYZE the two tables after a bulk write, as autovacuum would
    within a minute (as the owner: the application role may not). Returns seconds."""
    if not db.is_postgres():
        return 0.0
    from server.piccolo_conf import DB as owner

    t0 = time.perf_counter()
    for table in ("reminders", "deliveries"):
        await owner.run_ddl(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - t0


def _message(tenant: Any) -> tuple[str, str]:
    """A real reminder's subject line and body (the built-in Chinese text)."""
    from server.reminders import rules as rulebook

    context = {
        "name": "张三",
        "person": "张三",
        "unit": "示例市保密局办公室",
        "title": "保密工作责任书",
        "since": "2026年11月1日",
        "days": 14,
        "count": 2,
        "link": f"http://127.0.0.1:8000/t/{tenant.slug}/notices/00000000-0000-0000-0000-000000000000",
        "tenant": tenant.name,
    }
    return rulebook.render(rulebook.defaults(KIND), "zh_CN", context, escalated=False)


async def _sendable(tenant: Any, now: datetime, channel: str, count: int) -> tuple[list[Any], list[Any]]:
    """`count` reminders, one delivery each on `channel`, about the notices a dispatch at
    `now` still finds waiting and whose person is still in post (dispatch._still_wanted),
    cycling through them: else the tick would cancel them instead of sending."""
    from server.reminders import sources
    from server.reminders.channels import message_id
    from server.reminders.tables import Delivery, Reminder
    from server.units import service as units

    day = sources.local_day(tenant, now)
    found = await sources.notices(tenant, KIND, day)
    held = await units.posts_on(tenant, day, people=[w.person for w in found], live_units=True)
    present = {p["person"] for p in held}
    waiting = [w for w in found if w.person in present]
    if not waiting:
        raise RuntimeError("the demo tenant has no unsigned notice to remind of")
    title, body = _message(tenant)
    reminders, deliveries = [], []
    for i in range(count):
        w = waiting[i % len(waiting)]
        reminders.append(
            Reminder(
                tenant=tenant.id,
                kind=KIND,
                subject=w.subject,
                period=f"bench-{channel}-{i}",
                recipient=f"p{w.person}",
                person=w.person,
                unit=w.unit,
                day=day,
                created_at=now,
            )
        )
        deliveries.append(
            Delivery(
                tenant=tenant.id,
                reminder=0,  # set once the reminder is inserted
                channel=channel,
                recipient_name="张三",
                address=f"bench-{i}@example.test" if channel == "mail" else "",
                title=title,
                body=body,
                link=w.link,
                message_id=message_id("luzhi@localhost") if channel == "mail" else "",
                status="sent",  # settled until a row's set-up makes them due
                next_at=None,
                created_at=now,
                sent_at=now,
            )
        )
    return reminders, deliveries


async def _add_set(tenant: Any, box: Outbox, channel: str) -> None:
    """The DUE deliveries a tick on `channel` sends, inserted settled (a row's set-up
    makes them due); their ids are contiguous, one transaction."""
    from server.reminders.tables import Delivery, Reminder

    async with db.transaction(tenant.id):
        reminders, deliveries = await _sendable(tenant, box.now, channel, DUE)
        ids: list[int] = []
        for i in range(0, DUE, 500):
            made = await Reminder.insert(*reminders[i : i + 500]).returning(Reminder.id)
            for d, r in zip(deliveries[i : i + 500], made, strict=True):
                d.reminder = r["id"]
            ids += [r["id"] for r in await Delivery.insert(*deliveries[i : i + 500]).returning(Delivery.id)]
    if len(ids) != DUE or max(ids) - min(ids) + 1 != DUE:
        raise RuntimeError(f"the {channel} deliveries' ids are not contiguous: {min(ids)}..{max(ids)}")
    box.sets[channel] = (min(ids), max(ids))


# Per engine: numbers lo..hi, a new uuid, and `now` plus an hour plus up to eight weeks.
_PG = {
    "int": "{}::int",
    "date": "{}::date",
    "ts": "{}::timestamptz",
    "text": "{}::text",
    "numbers": "SELECT g AS x FROM generate_series({}::int, {}::int) AS g",
    "uuid": "gen_random_uuid()",
    "later": f"{{}}::timestamptz + make_interval(secs => 3600 + (r.id::bigint * 7919) % {SPREAD_S})",
}
_SQLITE = {
    "int": "{}",
    "date": "{}",
    "ts": "{}",
    "text": "{}",
    "numbers": "WITH RECURSIVE g(x) AS (SELECT {} UNION ALL SELECT x + 1 FROM g WHERE x < {}) SELECT x FROM g",
    "uuid": (
        "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' "
        "|| substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
    ),
    # Piccolo stores timestamps as text, '2026-11-28 00:40:00+00:00', compared as text
    "later": f"strftime('%Y-%m-%d %H:%M:%S', {{}}, '+' || (3600 + (r.id * 7919) % {SPREAD_S}) || ' seconds') "
    "|| '+00:00'",
}


async def _grow(tenant: Any, box: Outbox, count: int) -> None:
    """`count` more pending reminders and inbox deliveries, due later (spread over eight
    weeks from an hour after the ticks' moment): two INSERT … SELECT. Their people and
    units are those of the tenant's open notices, cycling through them; their subjects
    are notices of their own, none of the tenant's (a tick never reads them; to a
    generation they are the history of other things)."""
    from server.reminders import sources
    from server.reminders.tables import Delivery

    sql = _PG if db.is_postgres() else _SQLITE
    title, body = _message(tenant)
    lo, hi = box.numbered, box.numbered + count - 1
    later = box.now if db.is_postgres() else box.now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    async with db.transaction(tenant.id):
        before = (await Delivery.raw("SELECT coalesce(max(id), 0) AS m FROM reminders"))[0]["m"]
        await Delivery.raw(
            "INSERT INTO reminders (uuid, tenant, kind, subject, period, recipient, level, person, unit, day, "
            f"created_at) SELECT {sql['uuid']}, {sql['int']}, {sql['text']}, 'notice:' || {sql['uuid']}, "
            f"'bench-' || x, 'p' || n.person, 0, n.person, n.unit, {sql['date']}, {sql['ts']} "
            f"FROM ({sql['numbers']}) AS numbers JOIN ("
            "SELECT row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS m, uuid, person, unit "
            "FROM notices WHERE tenant = {} AND status IN ('issued', 'viewed')) AS n ON n.k = x % n.m",
            tenant.id,
            KIND,
            sources.local_day(tenant, box.now),
            box.now,
            lo,
            hi,
            tenant.id,
        )
        await Delivery.raw(
            'INSERT INTO deliveries (uuid, tenant, reminder, channel, "user", recipient_name, address, locale, '
            "title, body, link, message_id, status, attempts, next_at, last_error, created_at) "
            f"SELECT {sql['uuid']}, r.tenant, r.id, 'inbox', NULL, {sql['text']}, '', 'zh_CN', {sql['text']}, "
            f"{sql['text']}, '/t/{tenant.slug}/notices/' || substr(r.subject, 8), '', 'pending', 0, {sql['later']}, "
            f"'', {sql['ts']} "
            "FROM reminders AS r WHERE r.tenant = {} AND r.id > {}",
            "张三",
            title,
            body,
            later,
            box.now,
            tenant.id,
            before,
        )
        made = await Delivery.count().where(Delivery.tenant == tenant.id, Delivery.reminder > before)
    if made != count:
        raise RuntimeError(f"the backlog grew by {made} deliveries, not {count}")
    box.numbered += count
    box.pending += count


async def outbox(ctx: BenchContext, pending: int) -> Outbox:
    """The demo tenant's outbox with `pending` deliveries pending (DUE of them due at a
    tick, the rest later) and a settled set of mail deliveries: built on first use
    (after wiping the tenant's reminders), grown when a row wants a larger backlog."""
    state = await _state(ctx)
    tenant = await ctx.tenant()
    if state.outbox is None:
        await _wipe(tenant)
        box = Outbox(now=datetime.now(UTC).replace(microsecond=0))
        t0 = time.perf_counter()
        await _add_set(tenant, box, "inbox")
        await _add_set(tenant, box, "mail")
        box.pending = DUE  # the inbox set counts once it is due, as it is at every tick
        state.outbox = box
        ctx.note(
            f"reminders: the ticks run at {box.now:%Y-%m-%d %H:%M} UTC; sets of {DUE:,} made in "
            f"{time.perf_counter() - t0:.1f} s"
        )
    box = state.outbox
    if box.pending < pending:
        t0 = time.perf_counter()
        await _grow(tenant, box, pending - box.pending)
        built = time.perf_counter() - t0
        vacuum = await _vacuum()
        extra = f", VACUUM ANALYZE {vacuum:.1f} s" if db.is_postgres() else ""
        ctx.note(
            f"reminders: backlog grown to {box.pending:,} pending deliveries in {built:.1f} s (INSERT … SELECT{extra})"
        )
    return box


async def _make_due(tenant: Any, box: Outbox, channel: str) -> None:
    """Untimed, before each tick: whatever is due or claimed is settled, then the
    channel's set of DUE deliveries is pending again, due a minute before the tick."""
    from server.reminders.dispatch import LEASE
    from server.reminders.tables import Delivery

    if channel not in box.sets:
        raise RuntimeError(f"the outbox has no {channel} set to send (the generation row after the ticks used it)")
    first, last = box.sets[channel]
    async with db.transaction(tenant.id):
        await Delivery.update({Delivery.status: "sent", Delivery.next_at: None}).where(
            Delivery.tenant == tenant.id, Delivery.next_at.is_not_null(), Delivery.next_at <= box.now + LEASE
        )
        await Delivery.update(
            {
                Delivery.status: "pending",
                Delivery.attempts: 0,
                Delivery.next_at: box.now - timedelta(minutes=1),
                Delivery.sent_at: None,
                Delivery.last_error: "",
            }
        ).where(Delivery.tenant == tenant.id, Delivery.id >= first, Delivery.id <= last)


def _query_note(label: str, queries: list[Any], wall: float) -> str:
    """How many queries a call ran, their time, and the costliest statements."""
    by_sql: dict[str, list[float]] = {}
    for q in queries:
        by_sql.setdefault(q.sql[:70], []).append(q.seconds)
    top = sorted(by_sql.items(), key=lambda kv: -sum(kv[1]))[:3]
    parts = "; ".join(f"{len(t)}× {sum(t) * 1000:.1f} ms `{sql}…`" for sql, t in top)
    total = sum(q.seconds for q in queries)
    return (
        f"{label}: {len(queries)} queries, {total * 1000:.1f} ms in queries of {wall * 1000:.1f} ms; costliest: {parts}"
    )


# ---------------------------------------------------------------- generation


def _generation_moment(tenant: Any) -> datetime:
    """20 December of the demo's year, 09:00 local (outside quiet hours): the unsigned
    notices, the overdue confirmations, training hours short and self-assessments due
    all fire."""
    from server.units import service as units

    year = units.today(tenant).year
    return datetime(year, 12, 20, 9, 0, tzinfo=ZoneInfo(tenant.timezone))


async def _generation(ctx: BenchContext, *, history: int) -> Op:
    """service.generate_once(force=True) for the demo tenant on 20 December: every
    rule's sources read, what fires planned, reminders and deliveries inserted, with a
    mail server configured (only its presence counts: generating contacts none). Each
    run starts from none of the day's reminders, deleted before it, untimed: with no
    `history` every reminder of the tenant (so the tick rows, which come later, build
    their outbox afresh); else the outbox of the tick rows, `history` reminders of
    other things, stays."""
    from server.reminders import rules as rulebook
    from server.reminders import service, sources
    from server.reminders.tables import Delivery, Reminder, ReminderRun

    state = await _state(ctx)
    tenant = await ctx.tenant()
    now = _generation_moment(tenant)
    # a deployment that sends mail: without a mail server no mail is queued
    settings = dataclasses.replace(ctx.settings, smtp_host=ctx.settings.smtp_host or "127.0.0.1")
    day = sources.local_day(tenant, now)
    box = await outbox(ctx, history) if history else None
    if box is not None and box.sets:
        # the tick rows' sets are about the notices generation reminds of: ~25 earlier
        # reminders each would escalate them; made about other things, like the rest
        async with db.transaction(tenant.id):
            await Reminder.raw(
                "UPDATE reminders SET subject = 'notice:' || uuid WHERE tenant = {} "
                "AND (period LIKE 'bench-inbox-%' OR period LIKE 'bench-mail-%')",
                tenant.id,
            )
        box.sets.clear()  # no tick can send them now
    # what generation made: the outbox's reminders are numbered bench-…
    of_the_day = (Reminder.tenant == tenant.id, Reminder.day == day, Reminder.period.not_like("bench-%"))

    async def setup() -> None:
        if box is None:
            state.outbox = None
            await _wipe(tenant)
            return
        async with db.transaction(tenant.id):
            ids = [r["id"] for r in await Reminder.select(Reminder.id).where(*of_the_day)]
            for batch in chunks(ids):
                await Delivery.delete().where(Delivery.reminder.is_in(batch))
            await Reminder.delete().where(*of_the_day)
            await ReminderRun.delete().where(ReminderRun.tenant == tenant.id)

    async def op() -> int:
        created = await service.generate_once(tenant, settings, now, force=True)
        if not created:
            raise RuntimeError(f"generating the reminders of {day} created {created!r}")
        return created

    # once, untimed: what the sources hold, what one generation makes, and its queries
    async with db.transaction(tenant.id, write=False):
        rules = await service.rules_of(tenant)
        firing = {}
        for kind, rule in rules.items():
            found = await sources.SOURCES[kind](tenant, kind, day)
            firing[kind] = (sum(1 for w in found if rulebook.fires(rule, w.anchor, day) is not None), len(found))
    await setup()
    with ctx.recording_queries() as queries:
        t0 = time.perf_counter()
        created = await op()
        wall = time.perf_counter() - t0
    async with db.transaction(tenant.id, write=False):
        made = await Reminder.select(Reminder.id, Reminder.kind).where(*of_the_day)
        kinds = Counter(r["kind"] for r in made)
        ids = [r["id"] for r in made]
        channels: Counter[str] = Counter()
        for batch in chunks(ids):
            channels.update(
                r["channel"] for r in await Delivery.select(Delivery.channel).where(Delivery.reminder.is_in(batch))
            )
    if history:
        async with db.transaction(tenant.id, write=False):
            earlier = await Reminder.count().where(Reminder.tenant == tenant.id, Reminder.period.like("bench-%"))
    label = f"with {earlier:,} earlier reminders" if history else "from no reminders"
    if created != len(made):
        raise RuntimeError(f"generation {label}: {created} created, {len(made)} found")
    ctx.note(
        f"reminders generated for {day} {label}: {created:,} reminders ("
        + ", ".join(f"{k} {kinds[k]:,}" for k in rulebook.KINDS if kinds[k])
        + f"), {sum(channels.values()):,} deliveries ("
        + ", ".join(f"{c} {n:,}" for c, n in sorted(channels.items()))
        + "); the rules fire on "
        + ", ".join(f"{k} {f:,}/{n:,}" for k, (f, n) in firing.items())
        + " things waiting"
    )
    ctx.note(_query_note(f"reminders generated {label}, one run", queries, wall))
    return staged(setup, op)


def _generation_row(key: str, label: str, history: int, baseline: str | None = None) -> None:
    @scenario(key, label, iterations=10, warmup=1, unit="reminders", baseline=baseline, vs="p50")
    async def generate(ctx: BenchContext) -> Op:
        return await _generation(ctx, history=history)


_generation_row("reminders.generate", "reminders: generate the day's reminders · demo (generate_once)", history=0)


# ---------------------------------------------------------------- the outbox ticks


def _tick_rows(pending: int, key: str, label: str, baseline: str | None = None) -> None:
    # 40 ticks: the ratio of two medians of ~150 ms, on a machine other work may share
    @scenario(key, label, iterations=40, warmup=3, unit="deliveries", baseline=baseline, vs="p50")
    async def tick(ctx: BenchContext) -> Op:
        """dispatch.dispatch_tenant() at the outbox's moment: DUE inbox deliveries (no
        network) claimed in batches, checked still wanted, settled sent; the others
        pending behind them are due later."""
        from server.reminders import dispatch

        tenant = await ctx.tenant()
        box = await outbox(ctx, pending)
        client = httpx.AsyncClient()

        async def setup() -> None:
            await _make_due(tenant, box, "inbox")

        async def op() -> int:
            counts = await dispatch.dispatch_tenant(tenant, ctx.settings, box.now, client)
            if counts != {"sent": DUE, "retry": 0, "cancelled": 0}:
                raise RuntimeError(f"a tick over {DUE} due inbox deliveries: {counts}")
            return DUE

        await setup()
        with ctx.recording_queries() as queries:
            t0 = time.perf_counter()
            await op()
            wall = time.perf_counter() - t0
        ctx.note(_query_note(f"reminders tick over {box.pending:,} pending, one run", queries, wall))
        return with_teardown(staged(setup, op), client.aclose)


_tick_rows(SMALL, "reminders.tick.10k", f"reminders: tick, {DUE:,} due of {SMALL:,} pending · inbox")


class _Sink:
    """An SMTP server that takes every message and counts them."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.received += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@scenario(
    "reminders.tick.mail",
    f"  the same, mail to a local SMTP sink (aiosmtpd), {DUE:,} due of {SMALL:,} pending",
    iterations=10,
    warmup=1,
    unit="deliveries",
    baseline="reminders.tick.10k",
    vs="p50",
)
async def tick_mail(ctx: BenchContext) -> Op:
    """The tick with DUE mail deliveries, sent over SMTP (one connection per batch, as
    dispatch does) to an aiosmtpd server in this process (its own thread),
    which accepts everything; the deployment's mail settings point at it."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError as exc:
        raise Skipped(f"aiosmtpd is not installed ({exc})") from exc
    from server.reminders import dispatch

    tenant = await ctx.tenant()
    box = await outbox(ctx, SMALL)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line at INFO
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings = dataclasses.replace(
        ctx.settings,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_user=None,
        smtp_password=None,
        smtp_security="none",
    )
    client = httpx.AsyncClient()

    async def setup() -> None:
        await _make_due(tenant, box, "mail")

    async def op() -> int:
        before = sink.received
        counts = await dispatch.dispatch_tenant(tenant, settings, box.now, client)
        if counts != {"sent": DUE, "retry": 0, "cancelled": 0} or sink.received - before != DUE:
            raise RuntimeError(f"a tick over {DUE} due mails: {counts}, {sink.received - before} received")
        return DUE

    async def close() -> None:
        await client.aclose()
        controller.stop()

    ctx.note(f"reminders: mail tick against aiosmtpd on 127.0.0.1:{controller.port}, backlog {box.pending:,}")
    return with_teardown(staged(setup, op), close)


class _SlowSink:
    """An SMTP server that answers each message after `delay` seconds and counts every
    Message-ID it was handed (a duplicate is one counted twice)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.ids: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        from email import message_from_bytes

        self.ids[str(message_from_bytes(envelope.content)["Message-ID"])] += 1
        await asyncio.sleep(self.delay)
        return "250 OK"


# a mail server taking 3 s per message; each scheduler sends over its `mail_connections`
SLOW_DELAY, SCHEDULERS = 3.0, 4


@scenario(
    "reminders.tick.slow4",
    f"  the same, {SCHEDULERS} schedulers at once, sink answering in {SLOW_DELAY:g} s per message",
    iterations=1,
    warmup=0,
    unit="deliveries",
)
async def tick_slow(ctx: BenchContext) -> Op:
    """DUE due mails, SCHEDULERS ticks of the tenant at once (each claims its own batches,
    holds each delivery just before sending it, records each result as the server answers)
    against a sink that takes SLOW_DELAY per message. Duplicates are noted, never expected."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError as exc:
        raise Skipped(f"aiosmtpd is not installed ({exc})") from exc
    from server.reminders import dispatch

    tenant = await ctx.tenant()
    box = await outbox(ctx, SMALL)
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = _SlowSink(SLOW_DELAY)
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings = dataclasses.replace(
        ctx.settings, smtp_host="127.0.0.1", smtp_port=controller.port, smtp_user=None, smtp_password=None
    )
    client = httpx.AsyncClient()

    async def setup() -> None:
        await _make_due(tenant, box, "mail")
        sink.ids.clear()

    async def op() -> int:
        runs = await asyncio.gather(
            *(dispatch.dispatch_tenant(tenant, settings, box.now, client) for _ in range(SCHEDULERS))
        )
        sent = sum(r["sent"] for r in runs)
        twice = sum(n - 1 for n in sink.ids.values() if n > 1)
        ctx.note(
            f"reminders: {SCHEDULERS} schedulers, {sent} sent, {sum(sink.ids.values())} received, "
            f"{twice} duplicates, per scheduler {[r['sent'] for r in runs]}"
        )
        if sent != DUE or twice:
            raise RuntimeError(f"{SCHEDULERS} ticks over {DUE} due mails: {runs}, {twice} duplicates")
        return DUE

    async def close() -> None:
        await client.aclose()
        controller.stop()

    return with_teardown(staged(setup, op), close)


_tick_rows(
    LARGE,
    "reminders.tick.1m",
    f"reminders: tick, {DUE:,} due of {LARGE:,} pending · inbox",
    baseline="reminders.tick.10k",
)


# the generation row again, after the tick rows: the tenant's outbox (a million
# reminders about other things) stays; each run deletes the day's reminders only
_generation_row(
    "reminders.generate.1m",
    f"  generate the day's reminders, the tenant holding {LARGE:,} earlier ones",
    history=LARGE,
    baseline="reminders.generate",
)
