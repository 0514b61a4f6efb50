"""The year's cycle: a scheme per year, the assessment opened for all units (or a
district) with the automatic scores frozen with their inputs, those scores kept current,
each unit's total stored, and finalisation with grades and ranks."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from server import db, events
from server.actor import Actor
from server.assessment import sources
from server.assessment.results import get_assessment, overview, results_of, tree_of
from server.assessment.scheme import DEFAULT, Tree, check
from server.assessment.scoring import as_decimal, auto_score, effective, unit_total
from server.assessment.tables import Adjustment, AssessedUnit, Assessment, Scheme, Score
from server.audit import service as audit
from server.audit import summaries
from server.core.chunks import chunks
from server.core.errors import Conflict, NotFound, ValidationFailed
from server.core.i18n import _, _l
from server.core.rows import public
from server.core.validation import Checker
from server.units import service as units
from tenants.service import TenantRef, register_provisioner

LABELS = {
    "cutoff": _l("Cut-off date"),
    "self_due": _l("Self-assessment due"),
    "scope": _l("Units assessed"),
    "year": _l("Year"),
}


# ---------------------------------------------------------------- schemes


async def provision(tenant: TenantRef) -> None:
    """A new tenant starts with domain.md's scheme for this year."""
    await Scheme.insert(Scheme(tenant=tenant.id, year=units.today(tenant).year, document=DEFAULT))


register_provisioner(provision)


async def _scheme_row(tenant: TenantRef, year: int) -> dict | None:
    return await Scheme.select().where(Scheme.tenant == tenant.id, Scheme.year == year).first().output(load_json=True)


def _scheme_public(row: dict) -> dict:
    tree = Tree(row["document"])
    return public(row, "year", "status", "document", "updated_at", "frozen_at", indicators=tree.ordered())


@summaries.kept("assessment.scheme_detail")
async def scheme_detail(tenant: TenantRef, year: int) -> dict | None:
    row = await _scheme_row(tenant, year)
    return _scheme_public(row) if row else None


def check_year(tenant: TenantRef, year: int) -> None:
    """Schemes and assessments exist for real years only: none far in the past or future."""
    if not 2000 <= year <= units.today(tenant).year + 1:
        raise ValidationFailed({"year": _("%(field)s is out of range.", field=str(LABELS["year"]))})


async def create_scheme(tenant: TenantRef, actor: Actor, year: int) -> dict:
    """This year's scheme as a copy of the nearest earlier one (or the default)."""
    check_year(tenant, year)
    if await _scheme_row(tenant, year):
        raise Conflict(_("The scheme of %(year)d already exists.", year=year))
    earlier = (
        await Scheme.select(Scheme.document)
        .where(Scheme.tenant == tenant.id, Scheme.year < year)
        .order_by(Scheme.year, ascending=False)
        .first()
        .output(load_json=True)
    )
    async with db.atomic():
        row = Scheme(tenant=tenant.id, year=year, document=earlier["document"] if earlier else DEFAULT)
        await row.save()
        await audit.record(tenant.id, actor, "assessment.scheme_create", "scheme", row.uuid, detail={"year": year})
    return _scheme_public(await _scheme_row(tenant, year))


async def save_scheme(tenant: TenantRef, actor: Actor, year: int, raw: dict[str, Any]) -> dict:
    row = await _scheme_row(tenant, year)
    if row is None:
        raise NotFound()
    if row["status"] == "frozen":
        raise Conflict(_("The scheme of %(year)d is frozen: its assessment has opened.", year=year))
    tree = check(raw)
    async with db.atomic():
        await Scheme.update({Scheme.document: tree.document, Scheme.updated_at: datetime.now(UTC)}).where(
            Scheme.id == row["id"]
        )
        await audit.record(
            tenant.id, actor, "assessment.scheme_save", "scheme", row["uuid"], detail={"year": year, **tree.document}
        )
    return _scheme_public(await _scheme_row(tenant, year))


@summaries.kept("assessment.years")
async def years(tenant: TenantRef) -> list[dict]:
    """Every year with a scheme or an assessment, newest first."""
    schemes = {
        r["year"]: r["status"]
        for r in await Scheme.select(Scheme.year, Scheme.status).where(Scheme.tenant == tenant.id)
    }
    opened = {
        r["year"]: r["status"]
        for r in await Assessment.select(Assessment.year, Assessment.status).where(Assessment.tenant == tenant.id)
    }
    return [
        {"year": y, "scheme": schemes.get(y), "assessment": opened.get(y)}
        for y in sorted(set(schemes) | set(opened), reverse=True)
    ]


def must_be_open(assessment: dict) -> None:
    if assessment["status"] != "open":
        raise Conflict(
            _("The assessment of %(year)d is finalised: scores change only by a correction.", year=assessment["year"])
        )


# ---------------------------------------------------------------- opening and automatic scores


async def _units_to_assess(
    tenant: TenantRef, actor: Actor, check_: Checker, scope_id: Any
) -> tuple[dict | None, list[dict]]:
    """The district chosen as the scope (none: every unit) and the units it holds, each
    with the district it is ranked in."""
    every = await units.units_in_scope(tenant, actor)
    scope_unit = None
    if scope_id is not None and "scope" not in check_.errors:
        scope_unit = next((u for u in every if u["id"] == str(scope_id)), None)
        if scope_unit is None:
            raise NotFound()
        if scope_unit["kind"] != "district":
            check_.fail("scope", _("Choose all units or one district."))
    rows = [
        u for u in every if u["kind"] != "district" and (scope_unit is None or u["path"].startswith(scope_unit["path"]))
    ]
    tops = await units.top_units(tenant, rows)
    return scope_unit, [
        {"pk": r["pk"], "district": tops[r["pk"]]["pk"] if tops[r["pk"]]["kind"] == "district" else None} for r in rows
    ]


def _as_of(tenant: TenantRef, cutoff: date) -> date:
    return min(cutoff, units.today(tenant))


async def _auto_scores(tenant: TenantRef, tree: Tree, year: int, as_of: date, assessed: dict[int, int]) -> list[Score]:
    """Score rows of every automatic indicator for the units (unit pk -> assessed pk)."""
    autos = [leaf for leaf in tree.leaves() if leaf["method"] == "auto"]
    data = await sources.compute(tenant, list(assessed), year, as_of, {leaf["source"] for leaf in autos})
    rows = []
    for unit, assessed_pk in assessed.items():
        for leaf in autos:
            inputs = {**data[leaf["source"]][unit], "source": leaf["source"], "as_of": as_of.isoformat()}
            rows.append(
                Score(
                    tenant=tenant.id,
                    assessed=assessed_pk,
                    indicator=leaf["code"],
                    method="auto",
                    score=as_decimal(auto_score(leaf["points"], inputs)),
                    state="auto",
                    inputs=inputs,
                )
            )
    return rows


async def _insert(rows: list) -> None:
    for batch in chunks(rows):
        await type(batch[0]).insert(*batch)


async def _assessed_pks(tenant: TenantRef, assessment_pk: int) -> dict[int, int]:
    rows = await AssessedUnit.select(AssessedUnit.id, AssessedUnit.unit).where(
        AssessedUnit.tenant == tenant.id, AssessedUnit.assessment == assessment_pk
    )
    return {r["unit"]: r["id"] for r in rows}


async def open_assessment(tenant: TenantRef, actor: Actor, year: int, data: dict[str, Any]) -> dict:
    check_year(tenant, year)
    check_ = Checker(data, LABELS)
    cutoff = check_.date("cutoff") or date(year, 12, 31)
    self_due = check_.date("self_due") or cutoff
    scope_id = check_.uuid("scope")
    if cutoff.year != year:
        check_.fail("cutoff", _("The cut-off date must fall in %(year)d.", year=year))
    scope_unit, targets = await _units_to_assess(tenant, actor, check_, scope_id)
    check_.done()
    scheme = await _scheme_row(tenant, year)
    if scheme is None:
        raise Conflict(_("There is no scheme for %(year)d yet: create it first.", year=year))
    if await Assessment.exists().where(Assessment.tenant == tenant.id, Assessment.year == year):
        raise Conflict(_("The assessment of %(year)d is already open.", year=year))
    try:
        tree = check(scheme["document"])
    except ValidationFailed as exc:
        raise Conflict(
            _("The scheme of %(year)d has errors; correct it before opening: %(errors)s", year=year, errors=exc.message)
        ) from exc
    if not targets:
        raise Conflict(_("There are no units to assess in this scope."))
    as_of = _as_of(tenant, cutoff)
    async with db.atomic():
        await Scheme.update({Scheme.status: "frozen", Scheme.frozen_at: datetime.now(UTC)}).where(
            Scheme.id == scheme["id"]
        )
        row = Assessment(
            tenant=tenant.id,
            year=year,
            scheme=scheme["id"],
            scope_unit=scope_unit["pk"] if scope_unit else None,
            cutoff=cutoff,
            self_due=self_due,
            opened_by=actor.name,
            auto_as_of=as_of,
        )
        await row.save()
        await _insert(
            [AssessedUnit(tenant=tenant.id, assessment=row.id, unit=u["pk"], district=u["district"]) for u in targets]
        )
        assessed = await _assessed_pks(tenant, row.id)
        manual = [leaf for leaf in tree.leaves() if leaf["method"] == "manual"]
        await _insert(
            [
                Score(tenant=tenant.id, assessed=pk, indicator=leaf["code"], method="manual")
                for pk in assessed.values()
                for leaf in manual
            ]
            + await _auto_scores(tenant, tree, year, as_of, assessed)
        )
        await refresh_totals(tenant, row.id, tree)
        # what other domains hold against units of that year (findings' deductions) joins it
        await events.publish(events.ASSESSMENT_OPENED, tenant, year=year, actor=actor.name)
        await audit.record(
            tenant.id,
            actor,
            "assessment.open",
            "assessment",
            row.uuid,
            detail={"year": year, "cutoff": cutoff.isoformat(), "units": len(targets)},
        )
    return await overview(tenant, actor, year)


async def recompute(tenant: TenantRef, actor: Actor, year: int) -> dict:
    """The automatic scores again, from today's data up to the cut-off (only while open)."""
    assessment = await get_assessment(tenant, year)
    must_be_open(assessment)
    async with db.atomic():
        await _recompute(tenant, assessment)
        await audit.record(
            tenant.id, actor, "assessment.recompute", "assessment", assessment["uuid"], detail={"year": year}
        )
    return await overview(tenant, actor, year)


async def _recompute(tenant: TenantRef, assessment: dict) -> date:
    tree = await tree_of(assessment)
    as_of = _as_of(tenant, assessment["cutoff"])
    assessed = await _assessed_pks(tenant, assessment["id"])
    await Score.delete().where(
        Score.tenant == tenant.id, Score.assessed.is_in(list(assessed.values()) or [0]), Score.method == "auto"
    )
    await _insert(await _auto_scores(tenant, tree, assessment["year"], as_of, assessed))
    await Assessment.update({Assessment.auto_as_of: as_of}).where(Assessment.id == assessment["id"])
    await refresh_totals(tenant, assessment["id"], tree)
    return as_of


async def refresh_for_people(tenant: TenantRef, people: list[int], units_: list[int] = ()) -> None:
    """Recompute, in every open assessment, the automatic indicators of the units where
    these people hold a post (and of `units_`, e.g. the one a post was ended in): a
    signature, a confirmation, hours or a post change count at once, not at the office's
    next "recompute". A few rows per unit, in the change's transaction."""
    people = sorted(set(people))
    if not people and not units_:
        return
    for assessment in await Assessment.select().where(Assessment.tenant == tenant.id, Assessment.status == "open"):
        as_of = _as_of(tenant, assessment["cutoff"])
        held = await sources.units_of_people(tenant, people, as_of) | set(units_)
        assessed = {u: pk for u, pk in (await _assessed_pks(tenant, assessment["id"])).items() if u in held}
        if not assessed:
            continue
        tree = await tree_of(assessment)
        now = datetime.now(UTC)
        async with db.atomic():
            for row in await _auto_scores(tenant, tree, assessment["year"], as_of, assessed):
                await Score.update({Score.score: row.score, Score.inputs: row.inputs, Score.updated_at: now}).where(
                    Score.tenant == tenant.id,
                    Score.assessed == row.assessed,
                    Score.indicator == row.indicator,
                    Score.method == "auto",
                )
            # one unit: its row alone; more (an import): every row in one pass, written where changed
            only = next(iter(assessed.values())) if len(assessed) == 1 else None
            await refresh_totals(tenant, assessment["id"], tree, only=only)


async def _on_indicator_inputs(tenant: TenantRef, *, people: list[int], units: list[int] = ()) -> None:
    await refresh_for_people(tenant, people, units)


events.subscribe(events.INDICATOR_INPUTS, _on_indicator_inputs)


async def refresh_totals(tenant: TenantRef, assessment_pk: int, tree: Tree, only: int | None = None) -> None:
    """Store each unit's sum, capped deductions, veto and total (one unit, or all)."""
    where = [AssessedUnit.tenant == tenant.id, AssessedUnit.assessment == assessment_pk]
    if only is not None:
        where.append(AssessedUnit.id == only)
    rows = await AssessedUnit.select(
        AssessedUnit.id, AssessedUnit.score_sum, AssessedUnit.deduction, AssessedUnit.veto, AssessedUnit.total
    ).where(*where)
    pks = [r["id"] for r in rows]
    scores: dict[int, list] = defaultdict(list)
    for s in await Score.select(Score.assessed, Score.score, Score.self_score).where(
        Score.tenant == tenant.id, Score.assessed.is_in(pks or [0])
    ):
        scores[s["assessed"]].append(effective(s))
    deductions: dict[int, list] = defaultdict(list)
    vetoed: set[int] = set()
    for a in await Adjustment.select(Adjustment.assessed, Adjustment.kind, Adjustment.points).where(
        Adjustment.tenant == tenant.id, Adjustment.assessed.is_in(pks or [0])
    ):
        if a["kind"] == "veto":
            vetoed.add(a["assessed"])
        else:
            deductions[a["assessed"]].append(float(a["points"]))
    for r in rows:
        result = unit_total(scores[r["id"]], deductions[r["id"]], tree.document["deduction_cap"], r["id"] in vetoed)
        stored = (float(r["score_sum"]), float(r["deduction"]), r["veto"], float(r["total"]))
        if stored != (result["score_sum"], result["deduction"], result["veto"], result["total"]):
            await AssessedUnit.update(
                {
                    AssessedUnit.score_sum: as_decimal(result["score_sum"]),
                    AssessedUnit.deduction: as_decimal(result["deduction"]),
                    AssessedUnit.veto: result["veto"],
                    AssessedUnit.total: as_decimal(result["total"]),
                }
            ).where(AssessedUnit.id == r["id"])


# ---------------------------------------------------------------- finalising


async def persist_ranks(tenant: TenantRef, assessment: dict, tree: Tree) -> None:
    """Store grades and ranks; a correction usually moves few units, so only those are written."""
    stored = {
        r["id"]: (r["grade"], r["rank"], r["district_rank"])
        for r in await AssessedUnit.select(
            AssessedUnit.id, AssessedUnit.grade, AssessedUnit.rank, AssessedUnit.district_rank
        ).where(AssessedUnit.tenant == tenant.id, AssessedUnit.assessment == assessment["id"])
    }
    for r in await results_of(tenant, assessment, tree):
        if stored.get(r["id"]) == (r["grade"], r["rank"], r["district_rank"]):
            continue
        await AssessedUnit.update(
            {
                AssessedUnit.grade: r["grade"],
                AssessedUnit.rank: r["rank"],
                AssessedUnit.district_rank: r["district_rank"],
            }
        ).where(AssessedUnit.id == r["id"])


async def finalise(tenant: TenantRef, actor: Actor, year: int) -> dict:
    """Freeze the year: automatic scores as of the cut-off, grades and ranks stored."""
    assessment = await get_assessment(tenant, year)
    must_be_open(assessment)
    assessed = await _assessed_pks(tenant, assessment["id"])
    unreviewed = (
        await AssessedUnit.count().where(
            AssessedUnit.tenant == tenant.id,
            AssessedUnit.assessment == assessment["id"],
            AssessedUnit.id.is_in(
                Score.select(Score.assessed).where(
                    Score.tenant == tenant.id, Score.method == "manual", Score.score.is_null()
                )
            ),
        )
        if assessed
        else 0
    )
    if unreviewed:
        raise Conflict(
            _(
                "%(count)d units still have indicators without a reviewed score; review them before finalising.",
                count=unreviewed,
            )
        )
    async with db.atomic():
        as_of = await _recompute(tenant, assessment)
        await Assessment.update(
            {
                Assessment.status: "finalised",
                Assessment.finalised_at: datetime.now(UTC),
                Assessment.finalised_by: actor.name,
            }
        ).where(Assessment.id == assessment["id"])
        assessment = await get_assessment(tenant, year)
        await persist_ranks(tenant, assessment, await tree_of(assessment))
        await audit.record(
            tenant.id,
            actor,
            "assessment.finalise",
            "assessment",
            assessment["uuid"],
            detail={"year": year, "as_of": as_of.isoformat()},
        )
    return await overview(tenant, actor, year)
