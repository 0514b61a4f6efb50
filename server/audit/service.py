"""The audit trail: one event per state change, written in the change's transaction,
append-only and hash-chained per tenant (see server.audit.chain)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count

from server import db
from server.actor import Actor
from server.audit import chain, labels
from server.audit.tables import AuditDayHead, AuditEvent, AuditHead
from server.core.chunks import chunks
from server.core.errors import NotFound
from server.core.i18n import _, _l
from server.core.validation import Checker
from server.documents import render_html, render_pdf
from server.documents.xlsx import write_workbook
from tenants import service as tenants
from tenants.service import TenantRef

# The retention purge keeps at least this many days; the database triggers refuse
# to delete anything younger (see migrations/audit/audit_2026_12_05t01_40_*).
KEEP_DAYS = 180
# detail keys that name the object, for the readable list
_NAME_KEYS = ("name", "title", "display_name", "username", "slug")
PLATFORM_ZONE = "UTC"

_zones: dict[int, ZoneInfo] = {}


async def record(
    tenant_id: int | None,
    actor: Actor,
    action: str,
    object_type: str = "",
    object_id: Any = "",
    *,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> None:
    await _append(tenant_id, action, object_type, [(actor, object_id or "", detail)], outcome)


async def record_many(
    tenant_id: int | None,
    actor: Actor,
    action: str,
    object_type: str,
    object_ids: list[Any],
    detail: dict | None = None,
) -> None:
    """One event per object of a bulk change, inserted together."""
    await record_each(tenant_id, action, object_type, [(actor, object_id, detail) for object_id in object_ids])


Store = Callable[[list[dict[str, Any]]], Awaitable[None]]


async def record_each(
    tenant_id: int | None,
    action: str,
    object_type: str,
    items: Sequence[tuple[Actor, Any, dict | None]],
    *,
    store: Store | None = None,
) -> None:
    """One event per (actor, object id, detail), chained and inserted together: record_many
    for events whose actor or detail differ (a bulk write of things done by several people,
    which may `store` the event rows with its own statement)."""
    if items:
        await _append(tenant_id, action, object_type, items, "success", store or _insert)


async def _insert(rows: list[dict[str, Any]]) -> None:
    for batch in chunks(rows):
        await AuditEvent.insert(*[AuditEvent(**row) for row in batch])


async def _append(
    tenant_id: int | None,
    action: str,
    object_type: str,
    items: Sequence[tuple[Actor, Any, dict | None]],
    outcome: str,
    store: Store = _insert,
) -> None:
    if db.engine().current_transaction.get() is None:
        # the chain head's lock must last until the events are stored
        async with db.transaction(tenant_id):
            await _append(tenant_id, action, object_type, items, outcome, store)
        return
    key = chain.chain_key(tenant_id)
    last_seq, prev = await _claim(key, tenant_id, len(items))
    # after the claim: within a chain, times then follow seq
    at = datetime.now(UTC)
    seq = last_seq - len(items)
    plain: dict[int, dict] = {}  # each detail made plain once (a bulk change shares one)
    rows = []
    for actor, object_id, detail in items:
        seq += 1
        if id(detail) not in plain:
            plain[id(detail)] = chain.normal_detail(detail)
        shown = plain[id(detail)]
        name = next((str(shown[k]) for k in _NAME_KEYS if isinstance(shown.get(k), str | int) and shown[k]), "")
        event = {
            "tenant": tenant_id,
            "seq": seq,
            "at": at,
            "actor_kind": actor.kind,
            "actor_id": actor.id,
            "actor_name": actor.name[:100],
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id)[:64],
            "object_name": name[:200],
            "outcome": outcome,
            "client_addr": actor.client_addr[:64],
            "detail": shown,
            "prev_hash": prev,
        }
        prev = chain.digest(event)
        rows.append({**event, "hash": prev, "hash_alg": chain.ALG})
    await store(rows)
    await AuditHead.update({AuditHead.hash: prev}).where(AuditHead.chain == key)
    day = at.astimezone(await _zone(tenant_id)).date()
    await AuditDayHead.raw(
        "INSERT INTO audit_day_heads (chain, tenant, day, seq, hash) VALUES ({}, {}, {}, {}, {}) "
        "ON CONFLICT (chain, day) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        key,
        tenant_id,
        day,
        seq,
        prev,
    )


async def _claim(key: int, tenant_id: int | None, count: int) -> tuple[int, str]:
    """Reserve `count` positions of the chain: (the last reserved seq, the hash before
    the first). The row stays locked until the transaction ends, so writers of one
    chain take turns and the chain never forks; other tenants' rows are not touched."""
    claim = "UPDATE audit_heads SET seq = seq + {} WHERE chain = {} RETURNING seq, hash"
    rows = await AuditHead.raw(claim, count, key)
    if not rows:
        await AuditHead.raw(
            "INSERT INTO audit_heads (chain, tenant, seq, hash) VALUES ({}, {}, 0, {}) ON CONFLICT (chain) DO NOTHING",
            key,
            tenant_id,
            chain.GENESIS,
        )
        rows = await AuditHead.raw(claim, count, key)
    return rows[0]["seq"], rows[0]["hash"]


async def _zone(tenant_id: int | None) -> ZoneInfo:
    """The tenant's zone, which dates its day heads (cached: a zone hardly ever changes,
    and a day head read with another zone's days still pins the chain)."""
    if tenant_id is None:
        return ZoneInfo(PLATFORM_ZONE)
    if tenant_id not in _zones:
        try:
            zone = (await tenants.by_id(tenant_id)).timezone
        except NotFound:
            zone = "Asia/Shanghai"
        _zones[tenant_id] = ZoneInfo(zone)
    return _zones[tenant_id]


def _chain_where(table, tenant_id: int | None) -> list:
    return [table.tenant == tenant_id] if tenant_id else [table.tenant.is_null()]


# ---------------------------------------------------------------- reading


FILTER_LABELS = {
    "actor": _l("Operator"),
    "action": _l("Action"),
    "object_type": _l("Object type"),
    "object": _l("Object"),
    "outcome": _l("Outcome"),
    "from": _l("From date"),
    "until": _l("Until date"),
}
FILTERS = tuple(FILTER_LABELS)


@dataclass(frozen=True)
class Filters:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object: str = ""
    outcome: str = ""
    since: date | None = None
    until: date | None = None

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for links and the export)."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object": self.object,
            "outcome": self.outcome,
            "from": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in values.items() if v}


def parse_filters(raw: dict[str, Any]) -> Filters:
    """The list's filters from a query string; a bad one is refused with its field named."""
    check = Checker({k: raw.get(k) for k in FILTERS}, FILTER_LABELS)
    found = Filters(
        actor=check.text("actor", max_len=100),
        action=check.text("action", max_len=64),
        object_type=check.text("object_type", max_len=32),
        object=check.text("object", max_len=200),
        outcome=check.choice("outcome", labels.OUTCOMES, required=False),
        since=check.date("from"),
        until=check.date("until"),
    )
    for field, day in (("from", found.since), ("until", found.until)):
        if day and not 1970 <= day.year <= 9998:
            check.fail(field, _("%(field)s is out of range.", field=check.label(field)))
    if found.since and found.until and found.until < found.since:
        check.fail(
            "until", _("%(field)s must not be before %(other)s.", field=check.label("until"), other=check.label("from"))
        )
    check.done()
    return found


def _local_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zone)


def _where(tenant_id: int | None, zone: ZoneInfo, f: Filters) -> list:
    where = _chain_where(AuditEvent, tenant_id)
    if f.actor:
        where.append(db.contains(AuditEvent.actor_name, f.actor))
    if f.action:
        # a whole code, or a family ("notice." or "notice")
        family = f.action.rstrip(".") + "."
        where.append((AuditEvent.action == f.action) | AuditEvent.action.like(family.replace("%", "") + "%"))
    if f.object_type:
        where.append(AuditEvent.object_type == f.object_type)
    if f.object:
        where.append((AuditEvent.object_id == f.object) | db.contains(AuditEvent.object_name, f.object))
    if f.outcome:
        where.append(AuditEvent.outcome == f.outcome)
    if f.since:
        where.append(AuditEvent.at >= _local_start(f.since, zone))
    if f.until:
        where.append(AuditEvent.at < _local_start(f.until + timedelta(days=1), zone))
    return where


def readable(row: dict) -> dict:
    """An event with its codes said in the reader's language."""
    return {
        **row,
        "action_label": labels.action_label(row["action"]),
        "outcome_label": labels.outcome_label(row["outcome"]),
        "actor_kind_label": labels.actor_kind_label(row["actor_kind"]),
        "object_type_label": labels.object_type_label(row["object_type"]),
    }


_LIST_COLUMNS = (
    AuditEvent.id,
    AuditEvent.seq,
    AuditEvent.at,
    AuditEvent.actor_kind,
    AuditEvent.actor_id,
    AuditEvent.actor_name,
    AuditEvent.action,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.object_name,
    AuditEvent.outcome,
    AuditEvent.client_addr,
    AuditEvent.detail,
    AuditEvent.hash,
)


async def events(
    tenant_id: int | None,
    filters: Filters | None = None,
    *,
    zone: str = "Asia/Shanghai",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict], int]:
    """A page of the chain's events, newest first, and how many match."""
    where = _where(tenant_id, ZoneInfo(zone), filters or Filters())
    rows = (
        await AuditEvent.select(*_LIST_COLUMNS)
        .where(*where)
        .order_by(AuditEvent.seq, ascending=False)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
    )
    return [readable(r) for r in rows], await AuditEvent.count().where(*where)


EXPORT_LIMIT = 100_000


async def export_xlsx(tenant_id: int, actor: Actor, filters: Filters, *, zone: str) -> bytes:
    """The filtered list as a workbook; exporting personal data is itself audited."""
    tz = ZoneInfo(zone)
    where = _where(tenant_id, tz, filters)
    rows = []
    async for row in _stream(where, ascending=False, limit=EXPORT_LIMIT):
        rows.append(
            [
                row["seq"],
                row["at"].astimezone(tz).replace(tzinfo=None),
                row["actor_name"],
                labels.actor_kind_label(row["actor_kind"]),
                labels.action_label(row["action"]),
                row["action"],
                labels.object_type_label(row["object_type"]),
                row["object_id"],
                row["object_name"],
                labels.outcome_label(row["outcome"]),
                row["client_addr"],
                row["hash"],
            ]
        )
    headers = [
        _("No."),
        _("Time"),
        _("Operator"),
        _("Operator kind"),
        _("Action"),
        _("Action code"),
        _("Object type"),
        _("Object"),
        _("Object name"),
        _("Outcome"),
        _("Address"),
        _("Hash (SM3)"),
    ]
    await record(tenant_id, actor, "audit.export", "audit", "", detail={"filters": filters.query(), "rows": len(rows)})
    return write_workbook([(_("Audit log"), headers, rows)])


async def _stream(where: list, *, ascending: bool, limit: int | None = None, chunk: int = 1000) -> AsyncIterator[dict]:
    """Events in seq order, a chunk at a time (keyset paging: memory stays flat)."""
    last: int | None = None
    sent = 0
    while limit is None or sent < limit:
        size = chunk if limit is None else min(chunk, limit - sent)
        query = AuditEvent.select().where(*where)
        if last is not None:
            query = query.where(AuditEvent.seq > last if ascending else AuditEvent.seq < last)
        rows = await query.order_by(AuditEvent.seq, ascending=ascending).limit(size).output(load_json=True)
        for row in rows:
            yield row
        sent += len(rows)
        if len(rows) < size:
            return
        last = rows[-1]["seq"]


# ---------------------------------------------------------------- verifying


@dataclass
class Verdict:
    """A chain checked from its first kept event to its head."""

    events: int
    head_seq: int
    head_hash: str
    ok: bool = True
    bad_seq: int | None = None
    kind: str = ""  # see labels.BREAKS
    problem: str = ""  # the same, with the positions, in English for the command line


async def verify(tenant_id: int | None, *, chunk: int = 1000) -> Verdict:
    """Recompute every event's hash and link, and hold the chain against its head and
    the kept day heads (a cut tail no longer reaches them). Stops at the first break."""
    key = chain.chain_key(tenant_id)
    # day heads first, then the head: every day head read is then at or before the head
    day_heads = {
        r["seq"]: r
        for r in await AuditDayHead.select(AuditDayHead.day, AuditDayHead.seq, AuditDayHead.hash).where(
            AuditDayHead.chain == key
        )
    }
    head = await AuditHead.select(AuditHead.seq, AuditHead.hash).where(AuditHead.chain == key).first()
    head = head or {"seq": 0, "hash": chain.GENESIS}
    start, prev = await _anchor(tenant_id)
    verdict = Verdict(events=0, head_seq=head["seq"], head_hash=head["hash"])

    def broken(seq: int, kind: str, problem: str) -> Verdict:
        verdict.ok, verdict.bad_seq, verdict.kind, verdict.problem = False, seq, kind, problem
        return verdict

    expected = start + 1
    where = [*_chain_where(AuditEvent, tenant_id), AuditEvent.seq > start, AuditEvent.seq <= head["seq"]]
    async for row in _stream(where, ascending=True, chunk=chunk):
        if row["seq"] != expected:
            return broken(expected, "missing", f"event {expected} is missing (the next stored event is {row['seq']})")
        if row["prev_hash"] != prev:
            return broken(
                row["seq"],
                "unlinked",
                f"event {row['seq']} does not link to event {row['seq'] - 1} (prev_hash differs)",
            )
        if chain.digest(row, row["hash_alg"]) != row["hash"]:
            return broken(row["seq"], "changed", f"event {row['seq']} was changed (its fields no longer give its hash)")
        kept = day_heads.get(row["seq"])
        if kept is not None and kept["hash"] != row["hash"]:
            return broken(row["seq"], "day_head", f"event {row['seq']} differs from the head kept for {kept['day']}")
        prev = row["hash"]
        verdict.events += 1
        expected += 1
    last = expected - 1
    if last < head["seq"]:
        return broken(last + 1, "head", f"the chain ends at event {last} but its head is event {head['seq']}")
    if head["seq"] > start and head["hash"] != prev:
        return broken(last, "head_differs", f"event {last} differs from the chain head")
    beyond = [r for seq, r in sorted(day_heads.items()) if seq > last]
    if beyond:
        return broken(
            last + 1,
            "cut_tail",
            f"the chain ends at event {last} but the head kept for {beyond[0]['day']} is event {beyond[0]['seq']}",
        )
    return verdict


async def _anchor(tenant_id: int | None) -> tuple[int, str]:
    """Where the kept chain starts: after what the last retention purge deleted."""
    purge = (
        await AuditEvent.select(AuditEvent.detail)
        .where(*_chain_where(AuditEvent, tenant_id), AuditEvent.action == "audit.purge")
        .order_by(AuditEvent.seq, ascending=False)
        .first()
        .output(load_json=True)
    )
    if purge is None:
        return 0, chain.GENESIS
    return int(purge["detail"]["through_seq"]), str(purge["detail"]["through_hash"])


async def purge(tenant_id: int | None, actor: Actor, *, keep_days: int = KEEP_DAYS, now: datetime | None = None) -> int:
    """Delete the chain's events older than keep_days (never fewer than KEEP_DAYS) and
    record where the kept chain now starts. Runs in the caller's transaction."""
    if keep_days < KEEP_DAYS:
        raise ValueError(f"the audit trail keeps at least {KEEP_DAYS} days")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    last = (
        await AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
        .where(*_chain_where(AuditEvent, tenant_id), AuditEvent.at < cutoff)
        .order_by(AuditEvent.seq, ascending=False)
        .first()
    )
    if last is None:
        return 0
    if db.is_postgres():
        # the only deletions the append-only trigger lets through (this transaction only)
        # (row_security: the owner's connection, which has the right to delete, refuses
        # filtered queries unless told to apply the policies)
        await AuditEvent.raw(
            "SELECT set_config('luzhi.audit_purge', 'on', true), set_config('row_security', 'on', true)"
        )
    gone = await AuditEvent.count().where(*_chain_where(AuditEvent, tenant_id), AuditEvent.seq <= last["seq"])
    await AuditEvent.delete().where(*_chain_where(AuditEvent, tenant_id), AuditEvent.seq <= last["seq"])
    await AuditDayHead.delete().where(AuditDayHead.chain == chain.chain_key(tenant_id), AuditDayHead.seq <= last["seq"])
    detail = {"through_seq": last["seq"], "through_hash": last["hash"], "keep_days": keep_days, "deleted": gone}
    await record(tenant_id, actor, "audit.purge", "audit", "", detail=detail)
    return gone


# ---------------------------------------------------------------- the monthly report


async def monthly_report(tenant_id: int, actor: Actor, year: int, month: int, *, zone: str) -> dict:
    """What happened in a (tenant-local) month: counts by action and outcome, the
    refusals, the chain head kept for each day and at the month's end."""
    tz = ZoneInfo(zone)
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    f = Filters(since=first, until=following - timedelta(days=1))
    where = _where(tenant_id, tz, f)
    counts = (
        await AuditEvent.select(AuditEvent.action, AuditEvent.outcome, Count(AuditEvent.id, alias="count"))
        .where(*where)
        .group_by(AuditEvent.action, AuditEvent.outcome)
    )
    by_action: dict[str, dict[str, Any]] = {}
    for row in counts:
        entry = by_action.setdefault(
            row["action"], {"code": row["action"], "label": labels.action_label(row["action"]), "total": 0}
        )
        entry[row["outcome"]] = entry.get(row["outcome"], 0) + row["count"]
        entry["total"] += row["count"]
    outcomes = {code: sum(e.get(code, 0) for e in by_action.values()) for code in labels.OUTCOMES}
    refusals, refusal_count = await events(
        tenant_id, Filters(since=f.since, until=f.until, outcome="denied"), zone=zone, limit=200
    )
    day_heads = (
        await AuditDayHead.select(AuditDayHead.day, AuditDayHead.seq, AuditDayHead.hash)
        .where(
            AuditDayHead.chain == chain.chain_key(tenant_id), AuditDayHead.day >= first, AuditDayHead.day < following
        )
        .order_by(AuditDayHead.day)
    )
    month_end = (
        await AuditDayHead.select(AuditDayHead.day, AuditDayHead.seq, AuditDayHead.hash)
        .where(AuditDayHead.chain == chain.chain_key(tenant_id), AuditDayHead.day < following)
        .order_by(AuditDayHead.day, ascending=False)
        .first()
    )
    verdict = await verify(tenant_id)
    report = {
        "year": year,
        "month": month,
        "first": first,
        "last": following - timedelta(days=1),
        "generated_at": datetime.now(UTC),
        "generated_by": actor.name,
        "total": sum(outcomes.values()),
        "outcomes": [{"code": c, "label": str(label), "count": outcomes[c]} for c, label in labels.OUTCOMES.items()],
        "actions": sorted(by_action.values(), key=lambda e: (-e["total"], e["code"])),
        "refusals": refusals,
        "refusal_count": refusal_count,
        "day_heads": day_heads,
        "month_end": month_end,
        "verdict": verdict,
        "break_label": labels.break_label(verdict.kind),
    }
    await record(
        tenant_id,
        actor,
        "audit.report",
        "audit",
        f"{year:04d}-{month:02d}",
        detail={"month": f"{year:04d}-{month:02d}"},
    )
    return report


async def report_pdf(tenant: TenantRef, report: dict) -> bytes:
    """The monthly report as archival PDF (PDF/A-3b)."""
    return await render_pdf(render_html("audit_report.html", report=report, tenant_name=tenant.name))
