"""The data automatic indicators are computed from, for many units at once, as of a
day: who was expected to do something and who did. The result is frozen with the
score, so a score can always be explained (and names who was missing)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.assessment.tables import AssessedUnit
from server.core.chunks import SIZE
from server.core.rows import joined
from server.declassification import consultations as declass_consultations
from server.declassification import review as declass_review
from server.responsibility import confirmations, notices
from server.training import service as training
from server.units import service as units
from tenants.service import TenantRef, settings_of

# how many names an explanation keeps
MAX_NAMES = 30


def _end_of(tenant: TenantRef, day: date) -> datetime:
    """The first instant after `day` in the tenant's zone."""
    return datetime.combine(day + timedelta(days=1), time.min, ZoneInfo(tenant.timezone))


def _tally(expected: dict[int, list], met: dict[int, set]) -> dict[int, dict[str, Any]]:
    out = {}
    for unit, people in expected.items():
        missing = [name for key, name in people if key not in met.get(unit, set())]
        out[unit] = {
            "expected": len(people),
            "met": len(people) - len(missing),
            "missing": missing[:MAX_NAMES],
        }
    return out


async def _posts(tenant: TenantRef, unit_pks: set[int], as_of: date) -> list[dict]:
    # a few units (a refresh after one change): only theirs; many: one scan, filtered here
    few = 0 < len(unit_pks) <= SIZE
    rows = await units.posts_on(tenant, as_of, units=sorted(unit_pks) if few else None)
    return [r for r in rows if r["unit"] in unit_pks]


async def units_of_people(tenant: TenantRef, person_pks: list[int], as_of: date) -> set[int]:
    """The units where these people (archived since, too) were in post on the day."""
    return {r["unit"] for r in await units.posts_on(tenant, as_of, people=person_pks, archived=True)}


async def pending_self_assessments(tenant: TenantRef) -> list[dict]:
    """The units of an open assessment (not deleted since) yet to submit their self-assessment."""
    return await AssessedUnit.select(
        AssessedUnit.unit,
        *joined(AssessedUnit.unit, "uuid", "name"),
        AssessedUnit.assessment.year.as_alias("year"),
        AssessedUnit.assessment.self_due.as_alias("due"),
    ).where(
        AssessedUnit.tenant == tenant.id,
        AssessedUnit.status == "pending",
        AssessedUnit.assessment.status == "open",
        AssessedUnit.unit.deleted_at.is_null(),
    )


async def compute(
    tenant: TenantRef, unit_pks: list[int], year: int, as_of: date, sources: set[str]
) -> dict[str, dict[int, dict[str, Any]]]:
    """{source: {unit pk: {"expected", "met", "missing", ...}}} for the given sources."""
    wanted = set(unit_pks)
    posts = await _posts(tenant, wanted, as_of)
    leader_posts = [p for p in posts if p["position"] in units.LEADER_POSITIONS]
    settings = await settings_of(tenant)
    out: dict[str, dict[int, dict[str, Any]]] = {}
    if "notices_signed" in sources:
        out["notices_signed"] = await _notices_signed(tenant, leader_posts, as_of, int(settings["renewal_days"]))
    if "confirmations_on_time" in sources:
        out["confirmations_on_time"] = await _confirmations(
            tenant, leader_posts, year, as_of, confirmations.period_kind(settings)
        )
    if sources & {"training_leaders", "training_classified"}:
        out.update(await _training(tenant, posts, year, as_of, sources))
    if "declassification" in sources:
        out["declassification"] = await _declassification(tenant, sorted(wanted), year)
    for source in sources:
        for unit in wanted:
            out[source].setdefault(unit, {"expected": 0, "met": 0, "missing": []})
    return out


async def _notices_signed(tenant: TenantRef, posts: list[dict], as_of: date, renewal_days: int) -> dict:
    """A leader is covered by a notice signed by the day and not yet due for renewal,
    which was still in force then (not superseded or withdrawn before it)."""
    end = _end_of(tenant, as_of)
    oldest = end - timedelta(days=renewal_days)
    covered = await notices.posts_covered(tenant, [p["id"] for p in posts], oldest, end)
    expected: dict[int, list] = defaultdict(list)
    met: dict[int, set] = defaultdict(set)
    for p in posts:
        expected[p["unit"]].append((p["id"], p["person_name"]))
        if p["id"] in covered:
            met[p["unit"]].add(p["id"])
    return _tally(expected, met)


def periods_due(year: int, as_of: date, kind: str) -> list[confirmations.Period]:
    """The confirmations that fell due in the year before the day: last year's final
    period is due in January, so each period counts exactly once, in the year it is due."""
    seen: dict[str, confirmations.Period] = {}
    for month in range(1, 25):
        period = confirmations.period_containing(date(year - 1 + (month - 1) // 12, (month - 1) % 12 + 1, 1), kind)
        if date(year, 1, 1) <= period.due < as_of:
            seen[period.key] = period
    return list(seen.values())


async def _confirmations(tenant: TenantRef, posts: list[dict], year: int, as_of: date, kind: str) -> dict:
    """Each leader owes one confirmation per period that ended while they were in post,
    unless the office waived it; it counts when it came in by its due date."""
    periods = periods_due(year, as_of, kind)
    people = sorted({p["person"] for p in posts})
    on_time: set[tuple[int, str]] = set()
    waived: set[tuple[int, str]] = set()
    if periods:
        given, waived = await confirmations.answered(
            tenant, people, [p.key for p in periods], waived_before=_end_of(tenant, as_of)
        )
        due = {p.key: _end_of(tenant, p.due) for p in periods}
        on_time = {key for key, submitted in given.items() if submitted < due[key[1]]}
    expected: dict[int, list] = defaultdict(list)
    met: dict[int, set] = defaultdict(set)
    seen: set[tuple[int, int]] = set()
    for p in posts:
        if (p["unit"], p["person"]) in seen:
            continue  # one person owes one confirmation, whatever their posts in the unit
        seen.add((p["unit"], p["person"]))
        for period in periods:
            key = (p["person"], period.key)
            if p["start_date"] > period.end or key in waived:
                continue
            expected[p["unit"]].append((key, f"{p['person_name']} ({period.key})"))
            if key in on_time:
                met[p["unit"]].add(key)
    return _tally(expected, met)


async def _training(tenant: TenantRef, posts: list[dict], year: int, as_of: date, sources: set[str]) -> dict:
    """Hours attended in the year up to the day against what each person owes (the
    higher figure when a leader is also classified personnel)."""
    req = await training.requirements(tenant, year)
    people = sorted({p["person"] for p in posts})
    # as for posts: a few people, only theirs; many, the tenant's hours in one scan
    hours = await training.hours_by_person(tenant, people if len(people) <= SIZE else None, year, until=as_of)
    # leadership is per unit: a leader elsewhere is staff here; what one owes counts every post
    leading = {p["person"] for p in posts if p["position"] in units.LEADER_POSITIONS}
    leaders_of = {(p["unit"], p["person"]) for p in posts if p["position"] in units.LEADER_POSITIONS}
    groups: dict[str, dict[int, list]] = {
        "training_leaders": defaultdict(list),
        "training_classified": defaultdict(list),
    }
    met: dict[str, dict[int, set]] = {"training_leaders": defaultdict(set), "training_classified": defaultdict(set)}
    seen: set[tuple[int, int]] = set()
    for p in posts:
        if (p["unit"], p["person"]) in seen:
            continue
        seen.add((p["unit"], p["person"]))
        owed = training.required_of(req, p["person"] in leading, p["classified_level"])
        done = hours.get(p["person"], 0.0)
        label = f"{p['person_name']} ({done:g}/{owed:g})"
        for source, member in (
            ("training_leaders", (p["unit"], p["person"]) in leaders_of),
            ("training_classified", p["classified_level"] not in ("", "none")),
        ):
            if member:
                groups[source][p["unit"]].append((p["person"], label))
                if done + 1e-9 >= owed:
                    met[source][p["unit"]].add(p["person"])
    return {source: _tally(groups[source], met[source]) for source in sources if source in groups}


def declassification_share(items: int, reviewed: int, due: int, answered: int) -> float | None:
    """The mean of the shares there is something to count in: items reviewed of those still
    classified, consultations answered on time of those come due; None when neither."""
    shares = [part / whole for part, whole in ((reviewed, items), (answered, due)) if whole]
    return round(sum(shares) / len(shares), 4) if shares else None


async def _declassification(tenant: TenantRef, unit_pks: list[int], year: int) -> dict:
    """The classification indicator: of the unit's items still classified, those reviewed
    in the year; of the consultations put to it whose deadline falls in the year and that
    came due, those answered by the deadline. Each counts for half (all of it when the
    other has nothing to count)."""
    reviewed = await declass_review.reviewed_on_time(tenant, unit_pks, year)
    answered = await declass_consultations.answered_on_time(tenant, unit_pks, year)
    out = {}
    for unit in unit_pks:
        done, items = reviewed.get(unit, (0, 0))
        on_time, due = answered.get(unit, (0, 0))
        out[unit] = {
            "expected": items + due,
            "met": done + on_time,
            "missing": [],
            "items": items,
            "reviewed": done,
            "consultations": due,
            "answered": on_time,
            "share": declassification_share(items, done, due, on_time),
        }
    return out
