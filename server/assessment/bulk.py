"""Scores in bulk, at moments in the past: what reviews.self_assess, submit_self, review
and add_adjustment do one indicator at a time, for every unit's form at once (the
demo), with the same rows, score events, audit events and totals, under the same rules
(an open assessment, a pending unit for its own scores, every indicator scored before
submitting, points within the indicator's, a reason for a changed score). No user
input here: a form the services would refuse is a programming error (ValueError).

The bulk writes settle no reminders: they serve a bureau whose scheduler has not run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from server.actor import Actor
from server.assessment import cycle
from server.assessment.results import get_assessment, tree_of
from server.assessment.scheme import Tree
from server.assessment.scoring import as_decimal, as_float
from server.assessment.tables import Adjustment, AssessedUnit, Assessment, Scheme, Score, ScoreEvent
from server.audit import bulk as audit
from server.core.bulk import insert_rows, new_row, update_rows
from server.core.chunks import chunks
from tenants.service import TenantRef


@dataclass
class UnitScores:
    """One unit's form, filled in by `actor` at a moment: (indicator code, points, note)
    for its own scores, (code, other points or None to accept, reason) for a review."""

    actor: Actor
    unit: int  # the unit's row id
    scores: list[tuple[str, float | None, str]]
    at: datetime


@dataclass
class _Round:
    """The open assessment of a year, the units some forms name (in their order) with
    their manual scores, and the score events the forms make."""

    tenant: TenantRef
    year: int
    assessment: dict
    tree: Tree
    units: list[dict]
    scores: dict[tuple[int, str], dict]
    events: list[dict] = field(default_factory=list)

    def score(self, unit: dict, code: str) -> dict:
        found = self.scores.get((unit["id"], code))
        if found is None:
            raise ValueError(f"{code} is no indicator scored by hand in {self.year}")
        return found

    def points(self, code: str, value: Any) -> Decimal:
        leaf = next(leaf for leaf in self.tree.leaves() if leaf["code"] == code)
        if not 0 <= float(value) <= float(leaf["points"]):
            raise ValueError(f"{code}: {value} is not a score from 0 to {leaf['points']}")
        return as_decimal(float(value))

    def event(self, unit: dict, by: Actor, at: datetime, kind: str, **values: Any) -> None:
        """A row of the unit's score history, as reviews._event writes it."""
        self.events.append(
            {"tenant": self.tenant.id, "assessed": unit["id"], "kind": kind, "actor": by.name, "at": at, **values}
        )

    async def done(self) -> None:
        """The score events stored and the units' totals brought up to date."""
        await insert_rows(ScoreEvent, self.events)
        await cycle.refresh_totals(self.tenant, self.assessment["id"], self.tree)


async def _round(tenant: TenantRef, year: int, unit_pks: Sequence[int]) -> _Round:
    assessment = await get_assessment(tenant, year)
    cycle.must_be_open(assessment)
    rows = await AssessedUnit.select().where(
        AssessedUnit.tenant == tenant.id, AssessedUnit.assessment == assessment["id"]
    )
    by_unit = {r["unit"]: r for r in rows}
    if missing := set(unit_pks) - set(by_unit):
        raise ValueError(f"units {sorted(missing)} are not assessed in {year}")
    units = [by_unit[pk] for pk in unit_pks]
    scores = {}
    for batch in chunks([u["id"] for u in units]):
        for r in await Score.select().where(
            Score.tenant == tenant.id, Score.assessed.is_in(list(batch)), Score.method == "manual"
        ):
            scores[(r["assessed"], r["indicator"])] = r
    return _Round(tenant, year, assessment, await tree_of(assessment), units, scores)


async def self_assess(tenant: TenantRef, year: int, forms: Sequence[UnitScores], *, submit: bool) -> None:
    """reviews.self_assess of each indicator of each form, then (`submit`) reviews.submit_self."""
    r = await _round(tenant, year, [f.unit for f in forms])
    updates, audits, submitted = [], [], []
    for form, unit in zip(forms, r.units, strict=True):
        if unit["status"] != "pending":
            raise ValueError(f"unit {form.unit}: the self-assessment was submitted")
        for code, points, note in form.scores:
            score, value = r.score(unit, code), r.points(code, points)
            updates.append((value, note, None, "", "self", form.at, score["id"]))
            r.event(unit, form.actor, form.at, "self", indicator=code, old=score["self_score"], new=value, note=note)
            detail = {"year": year, "indicator": code, "old": as_float(score["self_score"]), "new": float(value)}
            audits.append((form.actor, unit["uuid"], detail))
            score["self_score"] = value
        if submit:
            submitted.append(_submitted(r, unit, form))
    await update_rows(Score, ("self_score", "self_note", "score", "reason", "state", "updated_at"), updates)
    await update_rows(AssessedUnit, ("status", "submitted_at"), submitted)
    await audit.record_each(tenant.id, "assessment.self_score", "assessed_unit", audits)
    done = [(f.actor, u["uuid"], {"year": year}) for f, u in zip(forms, r.units, strict=True) if submit]
    await audit.record_each(tenant.id, "assessment.submit", "assessed_unit", done)
    await r.done()


def _submitted(r: _Round, unit: dict, form: UnitScores) -> tuple:
    """reviews.submit_self: every indicator scored by hand has the unit's own score."""
    if missing := [code for (pk, code), s in r.scores.items() if pk == unit["id"] and s["self_score"] is None]:
        raise ValueError(f"unit {form.unit}: no score for {missing}")
    r.event(unit, form.actor, form.at, "submitted")
    return ("submitted", form.at, unit["id"])


async def review(tenant: TenantRef, year: int, forms: Sequence[UnitScores]) -> None:
    """reviews.review of each indicator of each form: None accepts the unit's own score,
    other points change it for the reason given; a unit with all reviewed is reviewed."""
    r = await _round(tenant, year, [f.unit for f in forms])
    updates, audits, reviewed = [], [], []
    for form, unit in zip(forms, r.units, strict=True):
        for code, other, reason in form.scores:
            score = r.score(unit, code)
            value = score["self_score"] if other is None else r.points(code, other)
            state = "accepted" if value == score["self_score"] else "changed"
            if value is None or (state == "changed" and not reason):
                raise ValueError(f"unit {form.unit}, {code}: {other} without a reason")
            updates.append((value, state, reason, form.at, score["id"]))
            r.event(unit, form.actor, form.at, state, indicator=code, old=score["score"], new=value, note=reason)
            score["score"] = value
            detail = {"year": year, "indicator": code, "score": float(value), "reason": reason}
            audits.append((form.actor, unit["uuid"], detail))
        if all(s["score"] is not None for (pk, _code), s in r.scores.items() if pk == unit["id"]):
            reviewed.append(("reviewed", form.at, unit["id"]))
    await update_rows(Score, ("score", "state", "reason", "updated_at"), updates)
    await update_rows(AssessedUnit, ("status", "reviewed_at"), reviewed)
    await audit.record_each(tenant.id, "assessment.review", "assessed_unit", audits)
    await r.done()


@dataclass
class Finding:
    """A deduction or veto item recorded against a unit by `actor` at a moment."""

    actor: Actor
    unit: int  # the unit's row id
    kind: str  # deduction | veto
    item: str
    note: str
    at: datetime


async def adjust(tenant: TenantRef, year: int, findings: Sequence[Finding]) -> None:
    """reviews.add_adjustment for each finding."""
    r = await _round(tenant, year, [f.unit for f in findings])
    adjustments, audits = [], defaultdict(list)
    for f, unit in zip(findings, r.units, strict=True):
        item = r.tree.deduction(f.item) if f.kind == "deduction" else r.tree.veto(f.item)
        if item is None or not f.note:
            raise ValueError(f"no {f.kind} item {f.item} in the scheme of {year}, or no note")
        points = as_decimal(float(item.get("points", 0)) if f.kind == "deduction" else 0.0)
        entry = {"kind": f.kind, "item": f.item, "points": points, "note": f.note}
        adjustments.append(
            new_row(tenant=tenant.id, assessed=unit["id"], created_by=f.actor.name, created_at=f.at, **entry)
        )
        r.event(unit, f.actor, f.at, f.kind, indicator=f.item, new=points, note=f.note)
        audits[f.kind].append((f.actor, unit["uuid"], {"year": year, "item": f.item, "note": f.note}))
    await insert_rows(Adjustment, adjustments)
    for kind, items in audits.items():
        await audit.record_each(tenant.id, f"assessment.{kind}", "assessed_unit", items)
    await r.done()


async def date_assessment(tenant: TenantRef, year: int, opened: datetime, finalised: datetime | None) -> None:
    """A year's assessment opened (its scheme frozen then) and finalised at moments in the
    past, where cycle.open_assessment and cycle.finalise stamped the time they ran."""
    row = await get_assessment(tenant, year)
    await Assessment.update({Assessment.opened_at: opened, Assessment.finalised_at: finalised}).where(
        Assessment.id == row["id"]
    )
    await Scheme.update({Scheme.frozen_at: opened, Scheme.updated_at: opened}).where(Scheme.id == row["scheme"])
