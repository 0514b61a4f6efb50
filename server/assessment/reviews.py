"""A unit's scores by hand: its self-assessment and submission, the assessor's review,
deductions and vetoes, and after finalisation the recorded corrections."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from server import db, events, roles
from server.actor import Actor
from server.assessment.cycle import must_be_open, persist_ranks, refresh_totals
from server.assessment.results import ADJUSTMENT_KINDS, assessed_row, fmt, get_assessment, tree_of
from server.assessment.scheme import Tree
from server.assessment.scoring import as_decimal, as_float
from server.assessment.tables import Adjustment, AssessedUnit, Assessment, Score, ScoreEvent
from server.audit import service as audit
from server.core.errors import Conflict, NotFound
from server.core.i18n import _, _l
from server.core.rows import pick
from server.core.validation import Checker
from tenants.service import TenantRef, get_owned

LABELS = {
    "score": _l("Points scored"),
    "note": _l("Note"),
    "reason": _l("Reason"),
    "kind": _l("Kind"),
    "item": _l("Item"),
}
REVIEWERS = {roles.OFFICE_ADMIN, roles.ASSESSOR}
SELF_ASSESSORS = {roles.OFFICE_ADMIN, roles.UNIT_OFFICER}


# ---------------------------------------------------------------- lookups


async def unit_context(tenant: TenantRef, actor: Actor, year: int, unit_id: Any) -> tuple[dict, dict, Tree]:
    """The assessment, the unit's row in it (404 outside the actor's scope) and the scheme."""
    assessment = await get_assessment(tenant, year)
    assessed = await assessed_row(tenant, actor, assessment, unit_id)
    return assessment, assessed, await tree_of(assessment)


async def owner_of(tenant: TenantRef, actor: Actor, assessed_pk: int) -> tuple[dict, dict]:
    """The unit's row and the assessment a child row belongs to; 404 outside the actor's scope."""
    found = (
        await AssessedUnit.select(AssessedUnit.assessment, AssessedUnit.unit.uuid.as_alias("unit_uuid"))
        .where(AssessedUnit.tenant == tenant.id, AssessedUnit.id == assessed_pk)
        .first()
    )
    assessment = await Assessment.select().where(Assessment.id == found["assessment"]).first()
    assessed = await assessed_row(tenant, actor, assessment, found["unit_uuid"])
    return assessed, {**assessment, "unit_id": str(found["unit_uuid"])}


def self_assessment_open(assessment: dict, assessed: dict) -> None:
    """The unit's own scores and evidence change only while open and not yet submitted."""
    must_be_open(assessment)
    if assessed["status"] != "pending":
        raise Conflict(_("The self-assessment was submitted; the assessor takes it from here."))


async def _score_row(tenant: TenantRef, assessed: dict, code: str) -> dict:
    row = (
        await Score.select()
        .where(Score.tenant == tenant.id, Score.assessed == assessed["id"], Score.indicator == code)
        .first()
    )
    if row is None:
        raise NotFound(_("There is no indicator %(code)s in this scheme.", code=code))
    return row


async def manual_score(tenant: TenantRef, assessed: dict, tree: Tree, code: str) -> tuple[dict, dict]:
    """The indicator and the unit's score row on it, if it is scored by hand."""
    leaf = next((i for i in tree.leaves() if i["code"] == code), None)
    if leaf is None:
        raise NotFound(_("There is no indicator %(code)s in this scheme.", code=code))
    if leaf["method"] != "manual":
        raise Conflict(_("%(code)s is computed automatically and cannot be scored by hand.", code=code))
    return leaf, await _score_row(tenant, assessed, code)


def _check_score(check_: Checker, field: str, points: float, *, required: bool = True) -> Decimal | None:
    value = check_.data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            check_.fail(field, _("%(field)s is required.", field=check_.label(field)))
        return None
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number != number:
        check_.fail(field, _("%(field)s must be a number.", field=check_.label(field)))
        return None
    if not 0 <= number <= points or round(number, 2) != number:
        check_.fail(
            field,
            _(
                "%(field)s must be between 0 and %(points)s, with at most two decimals.",
                field=check_.label(field),
                points=fmt(points),
            ),
        )
        return None
    return as_decimal(number)


async def _event(tenant: TenantRef, actor: Actor, assessed: dict, kind: str, **values: Any) -> None:
    await ScoreEvent.insert(
        ScoreEvent(tenant=tenant.id, assessed=assessed["id"], kind=kind, actor=actor.name, **values)
    )


# ---------------------------------------------------------------- self-assessment and review


async def self_assess(
    tenant: TenantRef, actor: Actor, year: int, unit_id: Any, code: str, data: dict[str, Any]
) -> dict:
    assessment, assessed, tree = await unit_context(tenant, actor, year, unit_id)
    self_assessment_open(assessment, assessed)
    leaf, score = await manual_score(tenant, assessed, tree, code)
    check_ = Checker(data, LABELS)
    value = _check_score(check_, "score", leaf["points"])
    note = check_.text("note", max_len=2000)
    check_.done()
    async with db.atomic():
        # a new self-score replaces any earlier review of this indicator: the assessor looks again
        await Score.update(
            {
                Score.self_score: value,
                Score.self_note: note,
                Score.score: None,
                Score.reason: "",
                Score.state: "self",
                Score.updated_at: datetime.now(UTC),
            }
        ).where(Score.id == score["id"])
        await _event(tenant, actor, assessed, "self", indicator=code, old=score["self_score"], new=value, note=note)
        await audit.record(
            tenant.id,
            actor,
            "assessment.self_score",
            "assessed_unit",
            assessed["uuid"],
            detail={"year": year, "indicator": code, "old": as_float(score["self_score"]), "new": float(value)},
        )
        # the self score counts until reviewed
        await refresh_totals(tenant, assessment["id"], tree, only=assessed["id"])
    return {"indicator": code, "self_score": float(value), "note": note}


async def submit_self(tenant: TenantRef, actor: Actor, year: int, unit_id: Any) -> dict:
    assessment, assessed, _tree = await unit_context(tenant, actor, year, unit_id)
    must_be_open(assessment)
    if assessed["status"] != "pending":
        raise Conflict(_("The self-assessment was already submitted."))
    missing = await Score.select(Score.indicator).where(
        Score.tenant == tenant.id,
        Score.assessed == assessed["id"],
        Score.method == "manual",
        Score.self_score.is_null(),
    )
    if missing:
        raise Conflict(
            _(
                "Score every indicator before submitting; missing: %(codes)s.",
                codes=", ".join(m["indicator"] for m in missing),
            )
        )
    async with db.atomic():
        await AssessedUnit.update(
            {AssessedUnit.status: "submitted", AssessedUnit.submitted_at: datetime.now(UTC)}
        ).where(AssessedUnit.id == assessed["id"])
        await _event(tenant, actor, assessed, "submitted")
        await audit.record(
            tenant.id, actor, "assessment.submit", "assessed_unit", assessed["uuid"], detail={"year": year}
        )
        await events.publish(
            events.REMINDERS_SETTLED,
            tenant,
            kinds=("assessment_due", "assessment_overdue"),
            subjects=(f"assessment:{year}:{assessed['unit_uuid']}",),
        )
    return {"status": "submitted"}


async def review(tenant: TenantRef, actor: Actor, year: int, unit_id: Any, code: str, data: dict[str, Any]) -> dict:
    """Accept the self-assessed score, or set another one with a reason."""
    assessment, assessed, tree = await unit_context(tenant, actor, year, unit_id)
    must_be_open(assessment)
    leaf, score = await manual_score(tenant, assessed, tree, code)
    check_ = Checker(data, LABELS)
    value = _check_score(check_, "score", leaf["points"], required=score["self_score"] is None)
    reason = check_.text("reason", max_len=2000)
    if value is None and score["self_score"] is not None and "score" not in check_.errors:
        value = score["self_score"]
    changed = value is not None and (score["self_score"] is None or value != score["self_score"])
    if changed and not reason:
        check_.fail("reason", _("Give a reason when the score differs from the self-assessment."))
    check_.done()
    state = "changed" if changed else "accepted"
    async with db.atomic():
        await Score.update(
            {Score.score: value, Score.state: state, Score.reason: reason, Score.updated_at: datetime.now(UTC)}
        ).where(Score.id == score["id"])
        await _event(tenant, actor, assessed, state, indicator=code, old=score["score"], new=value, note=reason)
        unreviewed = await Score.count().where(
            Score.tenant == tenant.id, Score.assessed == assessed["id"], Score.method == "manual", Score.score.is_null()
        )
        if not unreviewed:
            await AssessedUnit.update(
                {AssessedUnit.status: "reviewed", AssessedUnit.reviewed_at: datetime.now(UTC)}
            ).where(AssessedUnit.id == assessed["id"])
        await refresh_totals(tenant, assessment["id"], tree, only=assessed["id"])
        await audit.record(
            tenant.id,
            actor,
            "assessment.review",
            "assessed_unit",
            assessed["uuid"],
            detail={"year": year, "indicator": code, "score": float(value), "reason": reason},
        )
    return {"indicator": code, "score": float(value), "state": state}


# ---------------------------------------------------------------- deductions and vetoes


async def add_adjustment(tenant: TenantRef, actor: Actor, year: int, unit_id: Any, data: dict[str, Any]) -> dict:
    assessment, assessed, tree = await unit_context(tenant, actor, year, unit_id)
    must_be_open(assessment)
    check_ = Checker(data, LABELS)
    kind = check_.choice("kind", ADJUSTMENT_KINDS)
    code = check_.text("item", required=True, max_len=32)
    note = check_.text("note", required=True, max_len=2000)
    item = None
    if kind and code:
        item = tree.deduction(code) if kind == "deduction" else tree.veto(code)
        if item is None:
            check_.fail("item", _("%(field)s is not one of the allowed values.", field=check_.label("item")))
    check_.done()
    points = float(item.get("points", 0)) if kind == "deduction" else 0.0
    entry = {"kind": kind, "item": code, "points": as_decimal(points), "note": note}
    async with db.atomic():
        row = Adjustment(tenant=tenant.id, assessed=assessed["id"], created_by=actor.name, **entry)
        await row.save()
        await _event(tenant, actor, assessed, kind, indicator=code, new=entry["points"], note=note)
        await refresh_totals(tenant, assessment["id"], tree, only=assessed["id"])
        detail = {"year": year, **pick(entry, "item", "note")}
        await audit.record(tenant.id, actor, f"assessment.{kind}", "assessed_unit", assessed["uuid"], detail=detail)
    return {"id": str(row.uuid), "kind": kind, "item": code, "points": points}


async def remove_adjustment(tenant: TenantRef, actor: Actor, adjustment_id: Any, data: dict[str, Any]) -> dict:
    row = await get_owned(Adjustment, tenant, adjustment_id)
    assessed, assessment = await owner_of(tenant, actor, row["assessed"])
    must_be_open(assessment)
    if row["source"]:
        raise Conflict(_("This deduction follows an inspection finding: it goes when the finding is reopened."))
    check_ = Checker(data, LABELS)
    reason = check_.text("reason", required=True, max_len=2000)
    check_.done()
    async with db.atomic():
        await Adjustment.delete().where(Adjustment.id == row["id"])
        await _event(tenant, actor, assessed, "removed", indicator=row["item"], old=row["points"], note=reason)
        await refresh_totals(tenant, assessment["id"], await tree_of(assessment), only=assessed["id"])
        await audit.record(
            tenant.id,
            actor,
            "assessment.adjustment_remove",
            "assessed_unit",
            assessed["uuid"],
            detail={"item": row["item"], "reason": reason},
        )
    return {"year": assessment["year"], "unit_id": assessment["unit_id"]}


async def adjustment_place(tenant: TenantRef, actor: Actor, adjustment_id: Any) -> dict:
    """The year and unit an adjustment belongs to (to show its page again)."""
    row = await get_owned(Adjustment, tenant, adjustment_id)
    _assessed, assessment = await owner_of(tenant, actor, row["assessed"])
    return {"year": assessment["year"], "unit_id": assessment["unit_id"]}


# ---------------------------------------------------------------- corrections


async def correct(tenant: TenantRef, actor: Actor, year: int, unit_id: Any, code: str, data: dict[str, Any]) -> dict:
    """After finalisation a score changes only this way: a new value with its reason, recorded."""
    assessment, assessed, tree = await unit_context(tenant, actor, year, unit_id)
    if assessment["status"] != "finalised":
        raise Conflict(_("Corrections are for finalised assessments; while open, review the score instead."))
    leaf = next((i for i in tree.leaves() if i["code"] == code), None)
    if leaf is None:
        raise NotFound(_("There is no indicator %(code)s in this scheme.", code=code))
    score = await _score_row(tenant, assessed, code)
    check_ = Checker(data, LABELS)
    value = _check_score(check_, "score", leaf["points"])
    reason = check_.text("reason", required=True, max_len=2000)
    if value is not None and score["score"] is not None and value == score["score"]:
        check_.fail("score", _("The corrected score is the same as the current one."))
    check_.done()
    async with db.atomic():
        await Score.update(
            {Score.score: value, Score.state: "corrected", Score.reason: reason, Score.updated_at: datetime.now(UTC)}
        ).where(Score.id == score["id"])
        await _event(tenant, actor, assessed, "corrected", indicator=code, old=score["score"], new=value, note=reason)
        await refresh_totals(tenant, assessment["id"], tree, only=assessed["id"])
        await persist_ranks(tenant, assessment, tree)
        await audit.record(
            tenant.id,
            actor,
            "assessment.correct",
            "assessed_unit",
            assessed["uuid"],
            detail={
                "year": year,
                "indicator": code,
                "old": as_float(score["score"]),
                "new": float(value),
                "reason": reason,
            },
        )
    return {"indicator": code, "score": float(value), "state": "corrected"}
