"""What an assessment shows: every unit's total, grade and ranks, last year's result,
the year's overview, and one unit's indicators with how each score came about."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from server import roles
from server.actor import Actor
from server.assessment.scheme import GRADES, METHODS, SOURCES, Tree
from server.assessment.scoring import as_float, effective, rank_and_grade
from server.assessment.tables import Adjustment, AssessedUnit, Assessment, Evidence, Scheme, Score, ScoreEvent
from server.audit import summaries
from server.core.errors import NotFound
from server.core.i18n import _, _l, format_date
from server.core.rows import joined, pick, public, read_row
from server.units import service as units
from tenants.service import TenantRef

STATUSES = {"open": _l("Open"), "finalised": _l("Finalised")}
UNIT_STATUSES = {"pending": _l("Not submitted"), "submitted": _l("Submitted"), "reviewed": _l("Reviewed")}
SCORE_STATES = {
    "auto": _l("Computed"),
    "self": _l("Self-assessed"),
    "accepted": _l("Accepted"),
    "changed": _l("Changed by the assessor"),
    "corrected": _l("Corrected after finalisation"),
}
ADJUSTMENT_KINDS = {"deduction": _l("Deduction"), "veto": _l("Veto")}
EVENT_KINDS = {
    **SCORE_STATES,
    **ADJUSTMENT_KINDS,
    "removed": _l("Removed"),
    "submitted": _l("Self-assessment submitted"),
}
# who sees every unit's result in their scope; unit officers see their own units
READERS = {roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.ASSESSOR, roles.INSPECTOR, roles.UNIT_OFFICER}


# ---------------------------------------------------------------- lookups


async def get_assessment(tenant: TenantRef, year: int) -> dict:
    row = await Assessment.select().where(Assessment.tenant == tenant.id, Assessment.year == year).first()
    if row is None:
        raise NotFound(_("There is no assessment for %(year)d.", year=year))
    return row


async def tree_of(assessment: dict) -> Tree:
    return Tree((await read_row(Scheme, assessment["scheme"], Scheme.document))["document"])


async def assessed_row(tenant: TenantRef, actor: Actor, assessment: dict, unit_id: Any) -> dict:
    """The unit's row in the assessment (with the unit's public id), if the unit is within
    the actor's scope."""
    pk = await units.unit_pk(tenant, actor, unit_id)
    row = (
        await AssessedUnit.select(*AssessedUnit.all_columns(), *joined(AssessedUnit.unit, "uuid"))
        .where(AssessedUnit.tenant == tenant.id, AssessedUnit.assessment == assessment["id"], AssessedUnit.unit == pk)
        .first()
    )
    if row is None:
        raise NotFound(_("This unit is not part of the assessment of %(year)d.", year=assessment["year"]))
    return row


# ---------------------------------------------------------------- results, grades and ranks


async def results_of(tenant: TenantRef, assessment: dict, tree: Tree) -> list[dict]:
    """Every unit of the assessment with its total, grade and ranks, best first."""
    rows = await AssessedUnit.select(
        AssessedUnit.id,
        AssessedUnit.uuid,
        AssessedUnit.unit,
        AssessedUnit.district,
        AssessedUnit.status,
        AssessedUnit.score_sum,
        AssessedUnit.deduction,
        AssessedUnit.veto,
        AssessedUnit.total,
        *joined(AssessedUnit.unit, "uuid", "name", "code", "path"),
        *joined(AssessedUnit.district, "name"),
    ).where(AssessedUnit.tenant == tenant.id, AssessedUnit.assessment == assessment["id"])
    # a unit with a manual indicator neither self-assessed nor reviewed has no total yet:
    # it is neither graded nor ranked, rather than shown failing
    unscored = {
        s["assessed"]
        for s in await Score.select(Score.assessed).where(
            Score.tenant == tenant.id,
            Score.assessed.is_in([r["id"] for r in rows] or [0]),
            Score.method == "manual",
            Score.score.is_null(),
            Score.self_score.is_null(),
        )
    }
    ranked = rank_and_grade(
        [
            {
                **r,
                "key": r["id"],
                "total": float(r["total"]),
                "score_sum": float(r["score_sum"]),
                "deduction": float(r["deduction"]),
                "complete": r["id"] not in unscored,
            }
            for r in rows
        ],
        tree.document["grades"],
        tree.document["top_cap"],
    )
    graded = sum(1 for r in ranked if r["complete"])
    for r in ranked:
        r["rank_of"] = graded
        r["grade_label"] = str(GRADES[r["grade"]]) if r["grade"] else "—"
        r["status_label"] = str(UNIT_STATUSES[r["status"]])
        r["group_name"] = r["district_name"] or str(_l("Municipal units"))
    return ranked


_RESULT_FIELDS = (
    "unit_name",
    "unit_code",
    "status",
    "score_sum",
    "deduction",
    "veto",
    "total",
    "grade",
    "rank",
    "rank_of",
    "district_rank",
    "district_of",
    "complete",
)


def public_result(r: dict, previous: dict | None = None) -> dict:
    return {
        "unit_id": str(r["unit_uuid"]),
        "district": r["group_name"],
        **pick(r, *_RESULT_FIELDS),
        "previous": previous,
    }


async def previous_results(tenant: TenantRef, year: int) -> dict[int, dict]:
    """Last year's result of each unit (by unit pk), when there was an assessment."""
    try:
        assessment = await get_assessment(tenant, year - 1)
    except NotFound:
        return {}
    tree = await tree_of(assessment)
    return {
        r["unit"]: {"year": year - 1, **pick(r, "total", "grade", "rank")}
        for r in await results_of(tenant, assessment, tree)
    }


def in_scope(actor: Actor, rows: list[dict]) -> list[dict]:
    if actor.scope_path is None:
        return rows
    return [r for r in rows if r["unit_path"].startswith(actor.scope_path)]


def _assessment_public(assessment: dict) -> dict:
    return public(assessment, "year", "status", "cutoff", "self_due", "auto_as_of", "opened_at", "finalised_at")


@summaries.kept("assessment.overview")
async def overview(tenant: TenantRef, actor: Actor, year: int, *, with_previous: bool = True) -> dict:
    """The year's assessment: every visible unit's total, grade and rank, and the counts
    (with last year's result of each unit unless the caller has no use for it)."""
    assessment = await get_assessment(tenant, year)
    tree = await tree_of(assessment)
    results = await results_of(tenant, assessment, tree)
    previous = await previous_results(tenant, year) if with_previous else {}
    visible = in_scope(actor, results)
    grades = {code: 0 for code in GRADES}
    statuses = {code: 0 for code in UNIT_STATUSES}
    for r in visible:
        if r["grade"]:
            grades[r["grade"]] += 1
        statuses[r["status"]] += 1
    graded = [r for r in visible if r["complete"]]
    return {
        **_assessment_public(assessment),
        "units": [public_result(r, previous.get(r["unit"])) for r in visible],
        "grades": grades,
        "statuses": statuses,
        "ungraded": len(visible) - len(graded),
        "average": round(sum(r["total"] for r in graded) / len(graded), 2) if graded else None,
    }


@summaries.kept("assessment.home_summary")
async def home_summary(tenant: TenantRef, actor: Actor) -> dict | None:
    """This year's assessment at a glance for the overview page (None before it opens)."""
    year = units.today(tenant).year
    try:
        data = await overview(tenant, actor, year, with_previous=False)  # every overview page: no more than needed
    except NotFound:
        return None
    return {
        "year": year,
        **pick(data, "status", "self_due", "statuses", "grades", "average"),
        "units": data["units"][:5] if actor.role == roles.UNIT_OFFICER else [],
        "count": len(data["units"]),
    }


# ---------------------------------------------------------------- one unit


def figures_as_of(scores: dict[str, dict], default: date | None) -> date | None:
    """The day a unit's automatic figures were computed for: the last refresh of its own
    (after a change of its inputs) or the assessment's last recompute, whichever is later."""
    days = [date.fromisoformat(s["inputs"]["as_of"]) for s in scores.values() if (s.get("inputs") or {}).get("as_of")]
    return max([*days, *([default] if default else [])], default=None)


def fmt(value: Any) -> str:
    """A score as people write it: no trailing zeros, a dash for none."""
    return "—" if value is None else f"{float(value):.2f}".rstrip("0").rstrip(".")


def _how(leaf: dict, score: dict | None, as_of: Any) -> str:
    """How the score was obtained, in a sentence."""
    if score is None:
        return ""
    if score["method"] == "auto":
        inputs = score["inputs"] or {}
        day = format_date(date.fromisoformat(inputs["as_of"])) if inputs.get("as_of") else format_date(as_of)
        expected, met = int(inputs.get("expected") or 0), int(inputs.get("met") or 0)
        if expected == 0:
            return _("Full points: nobody was to be counted on %(day)s.", day=day)
        texts = {
            "notices_signed": _l("%(met)d of %(expected)d leaders in post on %(day)s had a signed, valid notice."),
            "confirmations_on_time": _l("%(met)d of %(expected)d confirmations due by %(day)s came in on time."),
            "training_leaders": _l("%(met)d of %(expected)d leaders had their training hours by %(day)s."),
            "training_classified": _l(
                "%(met)d of %(expected)d classified personnel had their training hours by %(day)s."
            ),
            "declassification": _l(
                "%(reviewed)d of %(items)d classified items reviewed in the year and %(answered)d of"
                " %(consultations)d consultations answered on time, by %(day)s."
            ),
        }
        parts = {k: int(inputs.get(k) or 0) for k in ("items", "reviewed", "consultations", "answered")}
        values = {"met": met, "expected": expected, "day": day, **parts}
        return str(texts[inputs.get("source") or leaf["source"]]) % values
    parts = []
    if score["self_score"] is not None:
        parts.append(_("Self-assessed %(score)s.", score=fmt(score["self_score"])))
    if score["state"] == "accepted":
        parts.append(_("Accepted by the assessor."))
    elif score["state"] in ("changed", "corrected"):
        parts.append(f"{SCORE_STATES[score['state']]}: {fmt(score['score'])} — {score['reason']}")
    elif score["score"] is None:
        parts.append(_("Not yet scored by an assessor."))
    return " ".join(parts)


def indicator_rows(tree: Tree, scores: dict[str, dict], evidence: dict[int, list], as_of: Any) -> list[dict]:
    """The scheme's tree in order with one unit's scores (a group scores the sum of its leaves)."""
    parents = {i["code"]: i["parent"] for i in tree.indicators}
    sums: dict[str, float] = defaultdict(float)
    for code, score in scores.items():
        if effective(score) is not None and code in parents:
            # a leaf's score counts towards every group above it
            while code:
                sums[code] += effective(score)
                code = parents[code]
    rows = []
    for ind in tree.ordered():
        score = scores.get(ind["code"])
        rows.append(
            {
                **pick(ind, "code", "name", "parent", "area", "depth", "group", "points"),
                "method": None if ind["group"] else ind["method"],
                "method_label": "" if ind["group"] else str(METHODS[ind["method"]]),
                "source": ind.get("source") or None,
                "source_label": str(SOURCES[ind["source"]]) if ind.get("source") else "",
                "guide": ind.get("guide", ""),
                "score": round(sums[ind["code"]], 2) if ind["group"] else (effective(score) if score else None),
                # counted from the self-assessment until an assessor has reviewed it
                "provisional": bool(score and score["score"] is None and score["self_score"] is not None),
                "self_score": as_float(score["self_score"]) if score else None,
                "self_note": score["self_note"] if score else "",
                "state": score["state"] if score else "",
                "reason": score["reason"] if score else "",
                "inputs": score["inputs"] if score and score["method"] == "auto" else None,
                "how": "" if ind["group"] else _how(ind, score, as_of),
                "evidence": evidence.get(score["id"], []) if score else [],
            }
        )
    return rows


def adjustment_public(tree: Tree, a: dict) -> dict:
    item = (tree.deduction(a["item"]) if a["kind"] == "deduction" else tree.veto(a["item"])) or {}
    return public(
        a,
        "kind",
        "item",
        "note",
        "created_by",
        "created_at",
        kind_label=str(ADJUSTMENT_KINDS[a["kind"]]),
        name=item.get("name", a["item"]),
        points=float(a["points"]),
        finding_id=source_finding(a.get("source", "")),
    )


def source_finding(source: str) -> str | None:
    """The inspection finding an adjustment came from ("finding:<id>", "overdue:<id>")."""
    kind, _sep, key = source.partition(":")
    return key if kind in ("finding", "overdue") and key else None


async def unit_result(tenant: TenantRef, actor: Actor, year: int, unit_id: Any) -> dict:
    """One unit: each indicator's points, score and how it was obtained, deductions,
    veto, total, grade, ranks, last year, and its history."""
    assessment = await get_assessment(tenant, year)
    assessed = await assessed_row(tenant, actor, assessment, unit_id)
    tree = await tree_of(assessment)
    results = await results_of(tenant, assessment, tree)
    mine = next(r for r in results if r["id"] == assessed["id"])
    scores = {
        s["indicator"]: s
        for s in await Score.select()
        .where(Score.tenant == tenant.id, Score.assessed == assessed["id"])
        .output(load_json=True)
    }
    evidence: dict[int, list] = defaultdict(list)
    for e in await Evidence.select(
        Evidence.uuid, Evidence.score, Evidence.filename, Evidence.content_type, Evidence.size, Evidence.uploaded_at
    ).where(Evidence.tenant == tenant.id, Evidence.score.is_in([s["id"] for s in scores.values()] or [0])):
        evidence[e["score"]].append(public(e, "filename", "content_type", "size", "uploaded_at"))
    indicators = indicator_rows(tree, scores, evidence, assessment["auto_as_of"])
    adjustments = [
        adjustment_public(tree, a)
        for a in await Adjustment.select()
        .where(Adjustment.tenant == tenant.id, Adjustment.assessed == assessed["id"])
        .order_by(Adjustment.created_at)
    ]
    events = [
        {
            **pick(e, "indicator", "kind", "note", "actor", "at"),
            "kind_label": str(EVENT_KINDS.get(e["kind"], e["kind"])),
            "old": as_float(e["old"]),
            "new": as_float(e["new"]),
        }
        for e in await ScoreEvent.select()
        .where(ScoreEvent.tenant == tenant.id, ScoreEvent.assessed == assessed["id"])
        .order_by(ScoreEvent.at, ascending=False)
    ]
    previous = (await previous_results(tenant, year)).get(assessed["unit"])
    return {
        "assessment": _assessment_public(assessment),
        **public_result(mine, previous),
        "grade_label": mine["grade_label"],
        "status_label": mine["status_label"],
        "indicators": indicators,
        "adjustments": adjustments,
        "deduction_cap": tree.document["deduction_cap"],
        "deduction_items": tree.document["deductions"],
        "veto_items": tree.document["vetoes"],
        "events": events,
        "figures_as_of": figures_as_of(scores, assessment["auto_as_of"]),
        **pick(assessed, "submitted_at", "reviewed_at"),
    }
