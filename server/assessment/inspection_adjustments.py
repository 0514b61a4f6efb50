"""Inspection findings in the assessment: a verified finding takes off the scheme's
deduction of its severity, a confirmed leak is the scheme's veto, a rectification gone
overdue the deduction "overdue". Inspections says what its findings should make of a
unit's year (events.FINDING_ADJUSTMENTS) and the unit's adjustments with those sources
are made to match, in the finding's transaction; it also asks which of them the
assessment holds (events.FINDING_DEDUCTIONS), so that a finding shows what it cost.
Neither domain imports the other."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from server import events
from server.assessment.cycle import refresh_totals
from server.assessment.results import tree_of
from server.assessment.scheme import Tree
from server.assessment.scoring import as_decimal
from server.assessment.tables import Adjustment, AssessedUnit, Assessment, ScoreEvent
from server.core.i18n import _
from tenants.service import TenantRef


def scheme_item(tree: Tree, kind: str, code: str) -> dict | None:
    return tree.deduction(code) if kind == "deduction" else tree.veto(code)


async def _assessed(tenant: TenantRef, year: int, unit: int) -> tuple[dict, int] | None:
    """The year's assessment and the unit's row in it, when the unit is assessed that year."""
    assessment = await Assessment.select().where(Assessment.tenant == tenant.id, Assessment.year == year).first()
    if assessment is None:
        return None
    row = (
        await AssessedUnit.select(AssessedUnit.id)
        .where(AssessedUnit.tenant == tenant.id, AssessedUnit.assessment == assessment["id"], AssessedUnit.unit == unit)
        .first()
    )
    return (assessment, row["id"]) if row else None


async def apply(
    tenant: TenantRef, *, unit: int, year: int, sources: list[str], adjustments: list[dict], actor: str
) -> None:
    """Make the unit's adjustments with these sources what `adjustments` says (items the
    year's scheme lacks are left out), while the year's assessment is open."""
    found = await _assessed(tenant, year, unit)
    if found is None or found[0]["status"] != "open" or not sources:
        return
    assessment, assessed = found
    tree = await tree_of(assessment)
    wanted = {(a["source"], a["kind"], a["item"]): a for a in adjustments if scheme_item(tree, a["kind"], a["item"])}
    present = await Adjustment.select().where(
        Adjustment.tenant == tenant.id, Adjustment.assessed == assessed, Adjustment.source.is_in(sources)
    )
    gone = [a for a in present if (a["source"], a["kind"], a["item"]) not in wanted]
    have = {(a["source"], a["kind"], a["item"]) for a in present}
    new = [a for key, a in wanted.items() if key not in have]
    if not gone and not new:
        return

    def event(kind: str, a: dict, **points: Decimal) -> ScoreEvent:
        return ScoreEvent(
            tenant=tenant.id, assessed=assessed, indicator=a["item"], kind=kind, note=a["note"], actor=actor, **points
        )

    log = [event("removed", a, old=a["points"]) for a in gone]
    if gone:
        await Adjustment.delete().where(Adjustment.id.is_in([a["id"] for a in gone]))
    rows = []
    for a in new:
        item = scheme_item(tree, a["kind"], a["item"])
        points = as_decimal(item.get("points", 0)) if a["kind"] == "deduction" else Decimal(0)
        rows.append(
            Adjustment(
                tenant=tenant.id,
                assessed=assessed,
                kind=a["kind"],
                item=a["item"],
                points=points,
                note=a["note"],
                source=a["source"],
                created_by=actor,
            )
        )
        log.append(event(a["kind"], a, new=points))
    if rows:
        await Adjustment.insert(*rows)
    await ScoreEvent.insert(*log)
    # capped as the scheme says, as the assessor's own deductions are
    await refresh_totals(tenant, assessment["id"], tree, only=assessed)


async def held(tenant: TenantRef, *, wanted: list[dict], answer: dict) -> None:
    """For each wanted adjustment (by source and kind): the one the assessment holds, or
    why the year's assessment cannot hold it (its scheme has no such item)."""
    sources = sorted({w["source"] for w in wanted})
    if not sources:
        return
    rows = await Adjustment.select(
        Adjustment.source,
        Adjustment.kind,
        Adjustment.item,
        Adjustment.points,
        Adjustment.assessed.assessment.as_alias("assessment"),
        Adjustment.assessed.assessment.scheme.as_alias("scheme"),
        Adjustment.assessed.assessment.year.as_alias("year"),
        Adjustment.assessed.unit.uuid.as_alias("unit_uuid"),
    ).where(Adjustment.tenant == tenant.id, Adjustment.source.is_in(sources))
    trees: dict[int, Tree] = {}
    for r in rows:
        if r["assessment"] not in trees:
            trees[r["assessment"]] = await tree_of(r)  # the row names the assessment's scheme
        item = scheme_item(trees[r["assessment"]], r["kind"], r["item"]) or {}
        answer[(r["source"], r["kind"])] = {
            "kind": r["kind"],
            "item": r["item"],
            "name": item.get("name", r["item"]),
            "points": float(r["points"]),
            "year": r["year"],
            "unit_id": str(r["unit_uuid"]),
            "applied": True,
            "problem": "",
        }
    await _missing_items(tenant, [w for w in wanted if (w["source"], w["kind"]) not in answer], answer)


async def _missing_items(tenant: TenantRef, wanted: list[dict], answer: dict) -> None:
    """The wanted adjustments the year's scheme has no item for, where the unit is assessed."""
    by_year: dict[int, list[dict]] = defaultdict(list)
    for w in wanted:
        by_year[w["year"]].append(w)
    for year, items in by_year.items():
        assessment = await Assessment.select().where(Assessment.tenant == tenant.id, Assessment.year == year).first()
        if assessment is None:
            continue
        tree = await tree_of(assessment)
        assessed = {
            r["unit"]
            for r in await AssessedUnit.select(AssessedUnit.unit).where(
                AssessedUnit.tenant == tenant.id,
                AssessedUnit.assessment == assessment["id"],
                AssessedUnit.unit.is_in(sorted({w["unit"] for w in items})),
            )
        }
        for w in items:
            if w["unit"] in assessed and scheme_item(tree, w["kind"], w["item"]) is None:
                answer[(w["source"], w["kind"])] = {
                    "kind": w["kind"],
                    "item": w["item"],
                    "name": w["item"],
                    "points": 0.0,
                    "year": year,
                    "unit_id": "",
                    "applied": False,
                    "problem": _("No such deduction item in %(year)d's scheme.", year=year)
                    if w["kind"] == "deduction"
                    else _("No such veto item in %(year)d's scheme.", year=year),
                }


events.subscribe(events.FINDING_ADJUSTMENTS, apply)
events.subscribe(events.FINDING_DEDUCTIONS, held)
