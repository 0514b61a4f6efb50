"""Where the chain of responsibility is broken: units without a principal or a
secrecy lead, leaders without a notice, notices unsigned too long, outdated or due
for renewal, confirmations overdue — for the tenant, each district, each unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from server.actor import Actor
from server.audit import service as audit
from server.audit import summaries
from server.core.chunks import chunks
from server.core.i18n import _l, format_date
from server.documents.xlsx import write_workbook
from server.responsibility import catalog as catalogs
from server.responsibility import confirmations
from server.responsibility.notices import LIVE, OPEN, STATUSES
from server.responsibility.tables import Notice
from server.units import service as units
from tenants.service import TenantRef, settings_of

UNIT_METRICS = {"no_principal": units.GAPS["no_principal"], "no_secrecy_lead": units.GAPS["no_secrecy_lead"]}
LEADER_METRICS = {
    "no_notice": _l("Leaders without a notice"),
    "unsigned_overdue": _l("Notices unsigned too long"),
    "outdated": _l("Notices outdated by a new catalog"),
    "renewal_due": _l("Signatures due for renewal"),
    "confirmation_overdue": _l("Confirmations overdue"),
}
METRICS = {**UNIT_METRICS, **LEADER_METRICS}
MUNICIPAL_GROUP = "municipal"


@dataclass
class Tally:
    units: int = 0
    leaders: int = 0
    missed_confirmations: int = 0  # periods, however many a leader missed
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METRICS, 0))

    def rate(self, metric: str) -> float:
        base = self.units if metric in UNIT_METRICS else self.leaders
        return self.counts[metric] / base if base else 0.0

    def public(self) -> dict:
        return {
            "units": self.units,
            "leaders": self.leaders,
            "missed_confirmations": self.missed_confirmations,
            "counts": dict(self.counts),
            "rates": {m: round(self.rate(m), 4) for m in METRICS},
        }


@dataclass
class Snapshot:
    """Every unit and leadership post in scope with the problems found on each."""

    units: list[dict]
    posts: list[dict]
    period: confirmations.Period
    groups: dict[str, str]  # group id -> name


@summaries.kept("coverage.snapshot")
async def snapshot(tenant: TenantRef, actor: Actor) -> Snapshot:
    today = units.today(tenant)
    unit_rows = await units.units_in_scope(tenant, actor)
    summary = await units.leadership(tenant, [u["pk"] for u in unit_rows])
    by_pk = {u["pk"]: u for u in unit_rows}
    tops = await units.top_units(tenant, unit_rows)
    groups: dict[str, str] = {}
    for u in unit_rows:
        top = tops[u["pk"]]
        u["group"] = top["id"] if top["kind"] == "district" else MUNICIPAL_GROUP
        groups[u["group"]] = top["name"] if top["kind"] == "district" else str(_l("Municipal units"))
        u["problems"] = list(summary[u["pk"]]["gaps"])
    posts = await units.current_leader_posts(tenant, actor)
    live = await _live_notices(tenant, [p["id"] for p in posts], whole=not actor.scope_path)
    current = (await catalogs.current_catalog(tenant))["id"]
    now = datetime.now(UTC)
    settings = await settings_of(tenant)
    sign_days, renewal_days = int(settings["notice_sign_days"]), int(settings["renewal_days"])
    kind = confirmations.period_kind(settings)
    period = confirmations.due_period(today, kind)
    owed = await confirmations.outstanding(
        tenant, None if not actor.scope_path else sorted({p["person"] for p in posts}), today, kind
    )
    seen_people: set[int] = set()
    out_posts = []
    # the first moment a live notice turns overdue or due for renewal: the answer holds until then
    turns: list[datetime] = []
    for p in posts:
        unit = by_pk.get(p["unit"])
        if unit is None:
            continue
        notice = live.get(p["id"])
        problems = []
        if notice is None:
            problems.append("no_notice")
        elif notice["status"] in OPEN:
            overdue_at = notice["issued_at"] + timedelta(days=sign_days)
            if now > overdue_at:
                problems.append("unsigned_overdue")
            else:
                turns.append(overdue_at)
        elif notice["catalog"] != current:
            problems.append("outdated")
        elif now > (renew_at := notice["signed_at"] + timedelta(days=renewal_days)):
            problems.append("renewal_due")
        else:
            turns.append(renew_at)
        # a person owes one confirmation a period, however many posts they hold; every
        # missed period stays until it is given or waived
        missed = [o for o in owed.get(p["person"], []) if today > o.due] if p["person"] not in seen_people else []
        if missed:
            problems.append("confirmation_overdue")
        seen_people.add(p["person"])
        out_posts.append(
            {
                "person_id": str(p["person_uuid"]),
                "person_name": p["person_name"],
                "unit_id": unit["id"],
                "unit_name": unit["name"],
                "group": unit["group"],
                "position": p["position"],
                "notice_id": str(notice["uuid"]) if notice else None,
                "notice_status": notice["status"] if notice else None,
                "issued_at": notice["issued_at"] if notice else None,
                "signed_at": notice["signed_at"] if notice else None,
                "missed": [{"period": o.key, "due_date": o.due, "days_overdue": (today - o.due).days} for o in missed],
                "problems": problems,
            }
        )
    summaries.valid_until(min(turns, default=None))
    return Snapshot(unit_rows, out_posts, period, groups)


async def _live_notices(tenant: TenantRef, post_pks: list[int], *, whole: bool) -> dict[int, dict]:
    """Live notices by post: the whole tenant's at once, or a scope's in chunks of posts."""
    columns = (Notice.uuid, Notice.post, Notice.status, Notice.catalog, Notice.issued_at, Notice.signed_at)
    where = [Notice.tenant == tenant.id, Notice.status.is_in(LIVE)]
    wanted = set(post_pks)
    found: dict[int, dict] = {}
    for batch in [None] if whole else chunks(post_pks):
        rows = await Notice.select(*columns).where(*where, *([Notice.post.is_in(batch)] if batch else []))
        found.update((r["post"], r) for r in rows if r["post"] in wanted)
    return found


def tallies(snap: Snapshot) -> tuple[Tally, dict[str, Tally], dict[str, Tally]]:
    """Totals, per group (district) and per unit."""
    total, groups, by_unit = Tally(), {g: Tally() for g in snap.groups}, {u["id"]: Tally() for u in snap.units}
    for u in snap.units:
        for t in (total, groups[u["group"]], by_unit[u["id"]]):
            t.units += 1
            for problem in u["problems"]:
                t.counts[problem] += 1
    for p in snap.posts:
        for t in (total, groups[p["group"]], by_unit[p["unit_id"]]):
            t.leaders += 1
            t.missed_confirmations += len(p["missed"])
            for problem in p["problems"]:
                t.counts[problem] += 1
    return total, groups, by_unit


@summaries.kept("coverage")
async def coverage(tenant: TenantRef, actor: Actor) -> dict[str, Any]:
    snap = await snapshot(tenant, actor)
    total, groups, by_unit = tallies(snap)
    unit_rows = [
        {"id": u["id"], "name": u["name"], "group": u["group"], "depth": u["depth"], **by_unit[u["id"]].public()}
        for u in snap.units
    ]
    return {
        "period": {"key": snap.period.key, "label": snap.period.label, "due_date": snap.period.due},
        "totals": total.public(),
        "groups": [{"id": g, "name": name, **groups[g].public()} for g, name in snap.groups.items()],
        # the units where something is missing, worst first
        "units": sorted(
            (u for u in unit_rows if any(u["counts"].values())),
            key=lambda u: (-sum(u["counts"].values()), u["name"]),
        ),
    }


def drilldown(snap: Snapshot, metric: str, group: str = "", unit: str = "") -> list[dict]:
    if metric in UNIT_METRICS:
        rows = [u for u in snap.units if metric in u["problems"]]
        return [
            {"unit_id": u["id"], "unit_name": u["name"], "group": snap.groups[u["group"]]}
            for u in rows
            if (not group or u["group"] == group) and (not unit or u["id"] == unit)
        ]
    rows = [
        {**p, "group": snap.groups[p["group"]]}
        for p in snap.posts
        if metric in p["problems"] and (not group or p["group"] == group) and (not unit or p["unit_id"] == unit)
    ]
    if metric == "confirmation_overdue":  # one row per missed period, each to be given or waived
        return [
            {**r, **missed, "period_label": confirmations.period_label(missed["period"])}
            for r in rows
            for missed in r["missed"]
        ]
    return rows


async def coverage_list(tenant: TenantRef, actor: Actor, metric: str, group: str = "", unit: str = "") -> list[dict]:
    if metric not in METRICS:
        return []
    return drilldown(await snapshot(tenant, actor), metric, group, unit)


async def export_xlsx(tenant: TenantRef, actor: Actor) -> bytes:
    """A workbook: the summary by district, then one sheet per problem with its list."""
    await audit.record(tenant.id, actor, "export.coverage", "coverage", "")
    snap = await snapshot(tenant, actor)
    total, groups, _units = tallies(snap)
    summary = [
        [name, groups[g].units, groups[g].leaders, *[groups[g].counts[m] for m in METRICS]]
        for g, name in snap.groups.items()
    ]
    summary.append([str(_l("Total")), total.units, total.leaders, *[total.counts[m] for m in METRICS]])
    sheets = [
        (
            str(_l("Summary")),
            [str(_l("District")), str(_l("Units")), str(_l("Leaders")), *[str(label) for label in METRICS.values()]],
            summary,
        )
    ]
    for metric, label in METRICS.items():
        rows = drilldown(snap, metric)
        if metric in UNIT_METRICS:
            sheets.append(
                (str(label), [str(_l("District")), str(_l("Unit"))], [[r["group"], r["unit_name"]] for r in rows])
            )
            continue
        sheets.append((str(label), *_leader_sheet(metric, rows)))
    return write_workbook(sheets)


def _leader_sheet(metric: str, rows: list[dict]) -> tuple[list[str], list[list]]:
    """A leader metric's headers and rows: the notice's state, or for overdue
    confirmations the period missed, its due date and how late it is."""
    headers = [str(_l("District")), str(_l("Unit")), str(_l("Full name")), str(_l("Position"))]

    def who(r: dict) -> list:
        return [r["group"], r["unit_name"], r["person_name"], str(units.POSITIONS[r["position"]])]

    if metric == "confirmation_overdue":
        headers += [str(_l("Confirmation period")), str(_l("Due date")), str(_l("Days overdue"))]
        return headers, [[*who(r), r["period_label"], format_date(r["due_date"]), r["days_overdue"]] for r in rows]
    headers += [str(_l("Notice status")), str(_l("Issued on")), str(_l("Signed on"))]
    return headers, [
        [
            *who(r),
            str(STATUSES[r["notice_status"]]) if r["notice_status"] else "",
            format_date(r["issued_at"]),
            format_date(r["signed_at"]),
        ]
        for r in rows
    ]
