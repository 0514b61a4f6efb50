"""The annual assessment: a scheme per year, an assessment opened for all units (or a
district), automatic scores frozen with their inputs, self-assessment with evidence,
review, deductions and vetoes, finalisation and recorded corrections."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from server import events
from server.accounts import roles
from server.actor import Actor
from server.assessment import scoring, sources
from server.assessment.scheme import DEFAULT, GRADES, METHODS, SOURCES, Tree, check
from server.assessment.tables import Adjustment, AssessedUnit, Assessment, Evidence, Scheme, Score, ScoreEvent
from server.audit import service as audit
from server.core.errors import Conflict, NotFound, ValidationFailed
from server.core.i18n import _, _l, format_date
from server.core.validation import Checker
from server.documents.xlsx import write_workbook
from server.reminders import outbox
from server.units import service as units
from server.units.tables import Unit
from tenants.service import TenantRef, get_owned, register_provisioner

STATUSES = {"open": _l("Open"), "finalised": _l("Finalised")}
UNIT_STATUSES = {"pending": _l("Not submitted"), "submitted": _l("Submitted"), "reviewed": _l("Reviewed")}
SCORE_STATES = {
    "auto": _l("Computed"),
    "self": _l("Self-assessed"),
    "accepted": _l("Accepted"),
    "changed": _l("Changed by the assessor"),
    "corrected": _l("Corrected after finalisation"),
}
EVENT_KINDS = {
    **SCORE_STATES,
    "deduction": _l("Deduction"),
    "veto": _l("Veto"),
    "removed": _l("Removed"),
    "submitted": _l("Self-assessment submitted"),
}
ADJUSTMENT_KINDS = {"deduction": _l("Deduction"), "veto": _l("Veto")}
LABELS = {
    "cutoff": _l("Cut-off date"),
    "self_due": _l("Self-assessment due"),
    "scope": _l("Units assessed"),
    "score": _l("Points scored"),
    "note": _l("Note"),
    "reason": _l("Reason"),
    "kind": _l("Kind"),
    "item": _l("Item"),
    "file": _l("File"),
    "year": _l("Year"),
}
EVIDENCE_TYPES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
# below the request body limit (LUZHI_MAX_BODY_BYTES), so that the message is ours, not a bare 413
MAX_EVIDENCE = 8 * 1024 * 1024
MAX_EVIDENCE_FILES = 10
# who sees every unit's result in their scope; unit officers see their own units
READERS = {roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.ASSESSOR, roles.INSPECTOR, roles.UNIT_OFFICER}
REVIEWERS = {roles.OFFICE_ADMIN, roles.ASSESSOR}
SELF_ASSESSORS = {roles.OFFICE_ADMIN, roles.UNIT_OFFICER}


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def effective(score: dict) -> float | None:
    """The score that counts: the reviewed one, or while under review the self-assessed one
    (finalising needs every score reviewed, so a finalised total is reviewed scores only)."""
    value = score["score"] if score["score"] is not None else score.get("self_score")
    return _num(value)


def _dec(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


# ---------------------------------------------------------------- schemes


async def provision(tenant: TenantRef) -> None:
    """A new tenant starts with domain.md's scheme for this year."""
    await Scheme.insert(Scheme(tenant=tenant.id, year=units.today(tenant).year, document=DEFAULT))


register_provisioner(provision)


async def _scheme_row(tenant: TenantRef, year: int) -> dict | None:
    return await Scheme.select().where(Scheme.tenant == tenant.id, Scheme.year == year).first().output(load_json=True)


def _scheme_public(row: dict) -> dict:
    tree = Tree(row["document"])
    return {
        "id": str(row["uuid"]),
        "year": row["year"],
        "status": row["status"],
        "document": row["document"],
        "indicators": tree.ordered(),
        "updated_at": row["updated_at"],
        "frozen_at": row["frozen_at"],
    }


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
    await Scheme.update({Scheme.document: tree.document, Scheme.updated_at: datetime.now(UTC)}).where(
        Scheme.id == row["id"]
    )
    await audit.record(
        tenant.id, actor, "assessment.scheme_save", "scheme", row["uuid"], detail={"year": year, **tree.document}
    )
    return _scheme_public(await _scheme_row(tenant, year))


# ---------------------------------------------------------------- lookups


async def get_assessment(tenant: TenantRef, year: int) -> dict:
    row = await Assessment.select().where(Assessment.tenant == tenant.id, Assessment.year == year).first()
    if row is None:
        raise NotFound(_("There is no assessment for %(year)d.", year=year))
    return row


async def tree_of(assessment: dict) -> Tree:
    row = await Scheme.select(Scheme.document).where(Scheme.id == assessment["scheme"]).first().output(load_json=True)
    return Tree(row["document"])


def _self_assessment_open(assessment: dict, assessed: dict) -> None:
    """The unit's own scores and evidence change only while open and not yet submitted."""
    _must_be_open(assessment)
    if assessed["status"] != "pending":
        raise Conflict(_("The self-assessment was submitted; the assessor takes it from here."))


def _must_be_open(assessment: dict) -> None:
    if assessment["status"] != "open":
        raise Conflict(
            _("The assessment of %(year)d is finalised: scores change only by a correction.", year=assessment["year"])
        )


async def assessed_row(tenant: TenantRef, actor: Actor, assessment: dict, unit_id: Any) -> dict:
    """The unit's row in the assessment, if the unit is within the actor's scope."""
    pk = await units.unit_pk(tenant, actor, unit_id)
    row = (
        await AssessedUnit.select()
        .where(AssessedUnit.tenant == tenant.id, AssessedUnit.assessment == assessment["id"], AssessedUnit.unit == pk)
        .first()
    )
    if row is None:
        raise NotFound(_("This unit is not part of the assessment of %(year)d.", year=assessment["year"]))
    return row


async def _score_row(tenant: TenantRef, assessed: dict, code: str) -> dict:
    row = (
        await Score.select()
        .where(Score.tenant == tenant.id, Score.assessed == assessed["id"], Score.indicator == code)
        .first()
    )
    if row is None:
        raise NotFound(_("There is no indicator %(code)s in this scheme.", code=code))
    return row


def _audit_score(value: Any) -> float | None:
    return None if value is None else float(value)


async def _event(tenant: TenantRef, actor: Actor, assessed: dict, kind: str, **values: Any) -> None:
    await ScoreEvent.insert(
        ScoreEvent(tenant=tenant.id, assessed=assessed["id"], kind=kind, actor=actor.name, **values)
    )


# ---------------------------------------------------------------- opening and automatic scores


async def _units_to_assess(tenant: TenantRef, scope_unit: dict | None) -> list[dict]:
    rows = await Unit.select(Unit.id, Unit.path, Unit.kind).where(Unit.tenant == tenant.id, Unit.deleted_at.is_null())
    rows = [
        {"pk": r["id"], "path": r["path"], "kind": r["kind"]}
        for r in rows
        if r["kind"] != "district" and (scope_unit is None or r["path"].startswith(scope_unit["path"]))
    ]
    tops = await units.top_units(tenant, rows)
    for r in rows:
        top = tops[r["pk"]]
        r["district"] = top["pk"] if top["kind"] == "district" else None
    return rows


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
                    score=_dec(scoring.auto_score(leaf["points"], inputs)),
                    state="auto",
                    inputs=inputs,
                )
            )
    return rows


async def _insert(rows: list) -> None:
    for i in range(0, len(rows), 500):
        await type(rows[0]).insert(*rows[i : i + 500])


async def open_assessment(tenant: TenantRef, actor: Actor, year: int, data: dict[str, Any]) -> dict:
    check_year(tenant, year)
    check_ = Checker(data, LABELS)
    cutoff = check_.date("cutoff") or date(year, 12, 31)
    self_due = check_.date("self_due") or cutoff
    scope_id = check_.uuid("scope")
    if cutoff.year != year:
        check_.fail("cutoff", _("The cut-off date must fall in %(year)d.", year=year))
    scope_unit = None
    if scope_id is not None and "scope" not in check_.errors:
        scope_unit = await get_owned(Unit, tenant, scope_id)
        if scope_unit["kind"] != "district":
            check_.fail("scope", _("Choose all units or one district."))
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
    now = datetime.now(UTC)
    await Scheme.update({Scheme.status: "frozen", Scheme.frozen_at: now}).where(Scheme.id == scheme["id"])
    as_of = _as_of(tenant, cutoff)
    row = Assessment(
        tenant=tenant.id,
        year=year,
        scheme=scheme["id"],
        scope_unit=scope_unit["id"] if scope_unit else None,
        cutoff=cutoff,
        self_due=self_due,
        opened_by=actor.name,
        auto_as_of=as_of,
    )
    await row.save()
    targets = await _units_to_assess(tenant, scope_unit)
    if not targets:
        raise Conflict(_("There are no units to assess in this scope."))
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
    await _refresh(tenant, row.id, tree)
    await audit.record(
        tenant.id,
        actor,
        "assessment.open",
        "assessment",
        row.uuid,
        detail={"year": year, "cutoff": cutoff.isoformat(), "units": len(targets)},
    )
    return await overview(tenant, actor, year)


async def _assessed_pks(tenant: TenantRef, assessment_pk: int) -> dict[int, int]:
    rows = await AssessedUnit.select(AssessedUnit.id, AssessedUnit.unit).where(
        AssessedUnit.tenant == tenant.id, AssessedUnit.assessment == assessment_pk
    )
    return {r["unit"]: r["id"] for r in rows}


async def recompute(tenant: TenantRef, actor: Actor, year: int) -> dict:
    """The automatic scores again, from today's data up to the cut-off (only while open)."""
    assessment = await get_assessment(tenant, year)
    _must_be_open(assessment)
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
    await _refresh(tenant, assessment["id"], tree)
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
        for row in await _auto_scores(tenant, tree, assessment["year"], as_of, assessed):
            await Score.update({Score.score: row.score, Score.inputs: row.inputs, Score.updated_at: now}).where(
                Score.tenant == tenant.id,
                Score.assessed == row.assessed,
                Score.indicator == row.indicator,
                Score.method == "auto",
            )
        # one unit: its row alone; more (an import): every row in one pass, written where changed
        only = next(iter(assessed.values())) if len(assessed) == 1 else None
        await _refresh(tenant, assessment["id"], tree, only=only)


def figures_as_of(scores: dict[str, dict], default: date | None) -> date | None:
    """The day a unit's automatic figures were computed for: the last refresh of its own
    (after a change of its inputs) or the assessment's last recompute, whichever is later."""
    days = [date.fromisoformat(s["inputs"]["as_of"]) for s in scores.values() if (s.get("inputs") or {}).get("as_of")]
    return max([*days, *([default] if default else [])], default=None)


async def _on_indicator_inputs(tenant: TenantRef, *, people: list[int], units: list[int] = ()) -> None:
    await refresh_for_people(tenant, people, units)


events.subscribe(events.INDICATOR_INPUTS, _on_indicator_inputs)


async def _refresh(tenant: TenantRef, assessment_pk: int, tree: Tree, only: int | None = None) -> None:
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
        result = scoring.unit_total(
            scores[r["id"]], deductions[r["id"]], tree.document["deduction_cap"], r["id"] in vetoed
        )
        stored = (float(r["score_sum"]), float(r["deduction"]), r["veto"], float(r["total"]))
        if stored != (result["score_sum"], result["deduction"], result["veto"], result["total"]):
            await AssessedUnit.update(
                {
                    AssessedUnit.score_sum: _dec(result["score_sum"]),
                    AssessedUnit.deduction: _dec(result["deduction"]),
                    AssessedUnit.veto: result["veto"],
                    AssessedUnit.total: _dec(result["total"]),
                }
            ).where(AssessedUnit.id == r["id"])


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
        AssessedUnit.unit.uuid.as_alias("unit_uuid"),
        AssessedUnit.unit.name.as_alias("unit_name"),
        AssessedUnit.unit.code.as_alias("unit_code"),
        AssessedUnit.unit.path.as_alias("unit_path"),
        AssessedUnit.district.name.as_alias("district_name"),
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
    ranked = scoring.rank_and_grade(
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


def public_result(r: dict, previous: dict | None = None) -> dict:
    return {
        "unit_id": str(r["unit_uuid"]),
        "unit_name": r["unit_name"],
        "unit_code": r["unit_code"],
        "district": r["group_name"],
        "status": r["status"],
        "score_sum": r["score_sum"],
        "deduction": r["deduction"],
        "veto": r["veto"],
        "total": r["total"],
        "grade": r["grade"],
        "rank": r["rank"],
        "rank_of": r["rank_of"],
        "district_rank": r["district_rank"],
        "district_of": r["district_of"],
        "complete": r["complete"],
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
        r["unit"]: {"year": year - 1, "total": r["total"], "grade": r["grade"], "rank": r["rank"]}
        for r in await results_of(tenant, assessment, tree)
    }


def in_scope(actor: Actor, rows: list[dict]) -> list[dict]:
    if actor.scope_path is None:
        return rows
    return [r for r in rows if r["unit_path"].startswith(actor.scope_path)]


def _assessment_public(assessment: dict) -> dict:
    return {
        "id": str(assessment["uuid"]),
        "year": assessment["year"],
        "status": assessment["status"],
        "cutoff": assessment["cutoff"],
        "self_due": assessment["self_due"],
        "auto_as_of": assessment["auto_as_of"],
        "opened_at": assessment["opened_at"],
        "finalised_at": assessment["finalised_at"],
    }


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


async def home_summary(tenant: TenantRef, actor: Actor) -> dict | None:
    """This year's assessment at a glance for the overview page (None before it opens)."""
    year = units.today(tenant).year
    try:
        data = await overview(tenant, actor, year, with_previous=False)  # every overview page: no more than needed
    except NotFound:
        return None
    return {
        "year": year,
        "status": data["status"],
        "self_due": data["self_due"],
        "statuses": data["statuses"],
        "grades": data["grades"],
        "average": data["average"],
        "units": data["units"][:5] if actor.role == roles.UNIT_OFFICER else [],
        "count": len(data["units"]),
    }


# ---------------------------------------------------------------- one unit


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
        }
        return str(texts[inputs.get("source") or leaf["source"]]) % {"met": met, "expected": expected, "day": day}
    parts = []
    if score["self_score"] is not None:
        parts.append(_("Self-assessed %(score)s.", score=_fmt(score["self_score"])))
    if score["state"] == "accepted":
        parts.append(_("Accepted by the assessor."))
    elif score["state"] in ("changed", "corrected"):
        label = _("Changed by the assessor") if score["state"] == "changed" else _("Corrected after finalisation")
        parts.append(f"{label}: {_fmt(score['score'])} — {score['reason']}")
    elif score["score"] is None:
        parts.append(_("Not yet scored by an assessor."))
    return " ".join(parts)


def _fmt(value: Any) -> str:
    return "—" if value is None else f"{float(value):.2f}".rstrip("0").rstrip(".")


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
                "code": ind["code"],
                "name": ind["name"],
                "parent": ind["parent"],
                "area": ind["area"],
                "depth": ind["depth"],
                "group": ind["group"],
                "points": ind["points"],
                "method": None if ind["group"] else ind["method"],
                "method_label": "" if ind["group"] else str(METHODS[ind["method"]]),
                "source": ind.get("source") or None,
                "source_label": str(SOURCES[ind["source"]]) if ind.get("source") else "",
                "guide": ind.get("guide", ""),
                "score": round(sums[ind["code"]], 2) if ind["group"] else (effective(score) if score else None),
                # counted from the self-assessment until an assessor has reviewed it
                "provisional": bool(score and score["score"] is None and score["self_score"] is not None),
                "self_score": _num(score["self_score"]) if score else None,
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
    return {
        "id": str(a["uuid"]),
        "kind": a["kind"],
        "kind_label": str(ADJUSTMENT_KINDS[a["kind"]]),
        "item": a["item"],
        "name": item.get("name", a["item"]),
        "points": float(a["points"]),
        "note": a["note"],
        "created_by": a["created_by"],
        "created_at": a["created_at"],
    }


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
        evidence[e["score"]].append(
            {
                "id": str(e["uuid"]),
                "filename": e["filename"],
                "content_type": e["content_type"],
                "size": e["size"],
                "uploaded_at": e["uploaded_at"],
            }
        )
    indicators = indicator_rows(tree, scores, evidence, assessment["auto_as_of"])
    adjustments = [
        adjustment_public(tree, a)
        for a in await Adjustment.select()
        .where(Adjustment.tenant == tenant.id, Adjustment.assessed == assessed["id"])
        .order_by(Adjustment.created_at)
    ]
    events = [
        {
            "indicator": e["indicator"],
            "kind": e["kind"],
            "kind_label": str(EVENT_KINDS.get(e["kind"], e["kind"])),
            "old": _num(e["old"]),
            "new": _num(e["new"]),
            "note": e["note"],
            "actor": e["actor"],
            "at": e["at"],
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
        "submitted_at": assessed["submitted_at"],
        "reviewed_at": assessed["reviewed_at"],
    }


# ---------------------------------------------------------------- self-assessment and review


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
                points=_fmt(points),
            ),
        )
        return None
    return _dec(number)


async def _manual(tenant: TenantRef, assessed: dict, tree: Tree, code: str) -> tuple[dict, dict]:
    leaf = next((i for i in tree.leaves() if i["code"] == code), None)
    if leaf is None:
        raise NotFound(_("There is no indicator %(code)s in this scheme.", code=code))
    if leaf["method"] != "manual":
        raise Conflict(_("%(code)s is computed automatically and cannot be scored by hand.", code=code))
    return leaf, await _score_row(tenant, assessed, code)


async def unit_context(tenant: TenantRef, actor: Actor, year: int, unit_id: Any) -> tuple[dict, dict, Tree]:
    assessment = await get_assessment(tenant, year)
    assessed = await assessed_row(tenant, actor, assessment, unit_id)
    return assessment, assessed, await tree_of(assessment)


async def self_assess(
    tenant: TenantRef, actor: Actor, year: int, unit_id: Any, code: str, data: dict[str, Any]
) -> dict:
    assessment, assessed, tree = await unit_context(tenant, actor, year, unit_id)
    _self_assessment_open(assessment, assessed)
    leaf, score = await _manual(tenant, assessed, tree, code)
    check_ = Checker(data, LABELS)
    value = _check_score(check_, "score", leaf["points"])
    note = check_.text("note", max_len=2000)
    check_.done()
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
        detail={"year": year, "indicator": code, "old": _audit_score(score["self_score"]), "new": float(value)},
    )
    await _refresh(tenant, assessment["id"], tree, only=assessed["id"])  # the self score counts until reviewed
    return {"indicator": code, "self_score": float(value), "note": note}


async def submit_self(tenant: TenantRef, actor: Actor, year: int, unit_id: Any) -> dict:
    assessment, assessed, tree = await unit_context(tenant, actor, year, unit_id)
    _must_be_open(assessment)
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
    await AssessedUnit.update({AssessedUnit.status: "submitted", AssessedUnit.submitted_at: datetime.now(UTC)}).where(
        AssessedUnit.id == assessed["id"]
    )
    await _event(tenant, actor, assessed, "submitted")
    await audit.record(tenant.id, actor, "assessment.submit", "assessed_unit", assessed["uuid"], detail={"year": year})
    unit = await Unit.select(Unit.uuid).where(Unit.id == assessed["unit"]).first()
    await outbox.settle(tenant.id, ("assessment_due", "assessment_overdue"), f"assessment:{year}:{unit['uuid']}")
    return {"status": "submitted"}


async def review(tenant: TenantRef, actor: Actor, year: int, unit_id: Any, code: str, data: dict[str, Any]) -> dict:
    """Accept the self-assessed score, or set another one with a reason."""
    assessment, assessed, tree = await unit_context(tenant, actor, year, unit_id)
    _must_be_open(assessment)
    leaf, score = await _manual(tenant, assessed, tree, code)
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
    await Score.update(
        {Score.score: value, Score.state: state, Score.reason: reason, Score.updated_at: datetime.now(UTC)}
    ).where(Score.id == score["id"])
    await _event(tenant, actor, assessed, state, indicator=code, old=score["score"], new=value, note=reason)
    unreviewed = await Score.count().where(
        Score.tenant == tenant.id, Score.assessed == assessed["id"], Score.method == "manual", Score.score.is_null()
    )
    if not unreviewed:
        await AssessedUnit.update({AssessedUnit.status: "reviewed", AssessedUnit.reviewed_at: datetime.now(UTC)}).where(
            AssessedUnit.id == assessed["id"]
        )
    await _refresh(tenant, assessment["id"], tree, only=assessed["id"])
    await audit.record(
        tenant.id,
        actor,
        "assessment.review",
        "assessed_unit",
        assessed["uuid"],
        detail={"year": year, "indicator": code, "score": float(value), "reason": reason},
    )
    return {"indicator": code, "score": float(value), "state": state}


async def add_adjustment(tenant: TenantRef, actor: Actor, year: int, unit_id: Any, data: dict[str, Any]) -> dict:
    assessment, assessed, tree = await unit_context(tenant, actor, year, unit_id)
    _must_be_open(assessment)
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
    row = Adjustment(
        tenant=tenant.id,
        assessed=assessed["id"],
        kind=kind,
        item=code,
        points=_dec(points),
        note=note,
        created_by=actor.name,
    )
    await row.save()
    await _event(tenant, actor, assessed, kind, indicator=code, new=_dec(points), note=note)
    await _refresh(tenant, assessment["id"], tree, only=assessed["id"])
    await audit.record(
        tenant.id,
        actor,
        f"assessment.{kind}",
        "assessed_unit",
        assessed["uuid"],
        detail={"year": year, "item": code, "note": note},
    )
    return {"id": str(row.uuid), "kind": kind, "item": code, "points": points}


async def remove_adjustment(tenant: TenantRef, actor: Actor, adjustment_id: Any, data: dict[str, Any]) -> dict:
    row = await get_owned(Adjustment, tenant, adjustment_id)
    assessed, assessment = await _owner_of(tenant, actor, row["assessed"])
    _must_be_open(assessment)
    check_ = Checker(data, LABELS)
    reason = check_.text("reason", required=True, max_len=2000)
    check_.done()
    await Adjustment.delete().where(Adjustment.id == row["id"])
    await _event(tenant, actor, assessed, "removed", indicator=row["item"], old=row["points"], note=reason)
    await _refresh(tenant, assessment["id"], await tree_of(assessment), only=assessed["id"])
    await audit.record(
        tenant.id,
        actor,
        "assessment.adjustment_remove",
        "assessed_unit",
        assessed["uuid"],
        detail={"item": row["item"], "reason": reason},
    )
    return {"year": assessment["year"], "unit_id": assessment["unit_id"]}


async def place_of(tenant: TenantRef, actor: Actor, table: type[Adjustment | Evidence], row_id: Any) -> dict:
    """The year and unit an adjustment or evidence file belongs to (to show its page again)."""
    row = await get_owned(table, tenant, row_id)
    if table is Evidence:
        row = await Score.select(Score.assessed).where(Score.tenant == tenant.id, Score.id == row["score"]).first()
    _assessed, assessment = await _owner_of(tenant, actor, row["assessed"])
    return {"year": assessment["year"], "unit_id": assessment["unit_id"]}


async def _owner_of(tenant: TenantRef, actor: Actor, assessed_pk: int) -> tuple[dict, dict]:
    """The unit row and assessment a child row belongs to; 404 outside the actor's scope."""
    assessed = (
        await AssessedUnit.select().where(AssessedUnit.tenant == tenant.id, AssessedUnit.id == assessed_pk).first()
    )
    assessment = await Assessment.select().where(Assessment.id == assessed["assessment"]).first()
    unit = await Unit.select(Unit.uuid).where(Unit.id == assessed["unit"]).first()
    await assessed_row(tenant, actor, assessment, unit["uuid"])
    return assessed, {**assessment, "unit_id": str(unit["uuid"])}


# ---------------------------------------------------------------- evidence


def sniff(data: bytes) -> str | None:
    """The evidence's real type, from its first bytes (never from its name)."""
    return next((kind for magic, kind in EVIDENCE_TYPES.items() if data.startswith(magic)), None)


def check_evidence(filename: str, data: bytes) -> str:
    if not data:
        raise ValidationFailed({"file": _("Choose a file to upload.")})
    if len(data) > MAX_EVIDENCE:
        raise ValidationFailed({"file": _("The file is larger than %(size)d MB.", size=MAX_EVIDENCE // (1024 * 1024))})
    kind = sniff(data)
    if kind is None:
        raise ValidationFailed({"file": _("Evidence must be a PDF, PNG or JPEG file.")})
    return kind


async def add_evidence(
    tenant: TenantRef, actor: Actor, year: int, unit_id: Any, code: str, filename: str, data: bytes
) -> dict:
    assessment, assessed, tree = await unit_context(tenant, actor, year, unit_id)
    _self_assessment_open(assessment, assessed)
    _leaf, score = await _manual(tenant, assessed, tree, code)
    kind = check_evidence(filename, data)
    if await Evidence.count().where(Evidence.tenant == tenant.id, Evidence.score == score["id"]) >= MAX_EVIDENCE_FILES:
        raise ValidationFailed({"file": _("At most %(count)d files per indicator.", count=MAX_EVIDENCE_FILES)})
    name = (filename.replace("\x00", "").replace("/", "_").replace("\\", "_").strip() or "evidence")[-200:]
    row = Evidence(
        tenant=tenant.id,
        score=score["id"],
        filename=name,
        content_type=kind,
        size=len(data),
        digest=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by=actor.name,
    )
    await row.save()
    await audit.record(
        tenant.id,
        actor,
        "assessment.evidence_add",
        "evidence",
        row.uuid,
        detail={"indicator": code, "filename": name, "size": len(data)},
    )
    return {"id": str(row.uuid), "filename": name, "content_type": kind, "size": len(data)}


async def _evidence_row(tenant: TenantRef, actor: Actor, evidence_id: Any) -> tuple[dict, dict, dict]:
    row = await get_owned(Evidence, tenant, evidence_id)
    score = await Score.select(Score.assessed).where(Score.tenant == tenant.id, Score.id == row["score"]).first()
    assessed, assessment = await _owner_of(tenant, actor, score["assessed"])
    return row, assessed, assessment


async def evidence_file(tenant: TenantRef, actor: Actor, evidence_id: Any) -> dict:
    row, _assessed_row, _assessment_row = await _evidence_row(tenant, actor, evidence_id)
    return {"filename": row["filename"], "content_type": row["content_type"], "data": row["data"]}


async def remove_evidence(tenant: TenantRef, actor: Actor, evidence_id: Any) -> dict:
    row, assessed, assessment = await _evidence_row(tenant, actor, evidence_id)
    _self_assessment_open(assessment, assessed)
    await Evidence.delete().where(Evidence.id == row["id"])
    await audit.record(
        tenant.id, actor, "assessment.evidence_remove", "evidence", row["uuid"], detail={"filename": row["filename"]}
    )
    return {"year": assessment["year"], "unit_id": assessment["unit_id"]}


# ---------------------------------------------------------------- finalising and corrections


async def _persist_ranks(tenant: TenantRef, assessment: dict, tree: Tree) -> None:
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
    _must_be_open(assessment)
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
    as_of = await _recompute(tenant, assessment)
    now = datetime.now(UTC)
    await Assessment.update(
        {Assessment.status: "finalised", Assessment.finalised_at: now, Assessment.finalised_by: actor.name}
    ).where(Assessment.id == assessment["id"])
    assessment = await get_assessment(tenant, year)
    await _persist_ranks(tenant, assessment, await tree_of(assessment))
    await audit.record(
        tenant.id,
        actor,
        "assessment.finalise",
        "assessment",
        assessment["uuid"],
        detail={"year": year, "as_of": as_of.isoformat()},
    )
    return await overview(tenant, actor, year)


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
    await Score.update(
        {Score.score: value, Score.state: "corrected", Score.reason: reason, Score.updated_at: datetime.now(UTC)}
    ).where(Score.id == score["id"])
    await _event(tenant, actor, assessed, "corrected", indicator=code, old=score["score"], new=value, note=reason)
    await _refresh(tenant, assessment["id"], tree, only=assessed["id"])
    await _persist_ranks(tenant, assessment, tree)
    await audit.record(
        tenant.id,
        actor,
        "assessment.correct",
        "assessed_unit",
        assessed["uuid"],
        detail={"year": year, "indicator": code, "old": _num(score["score"]), "new": float(value), "reason": reason},
    )
    return {"indicator": code, "score": float(value), "state": "corrected"}


# ---------------------------------------------------------------- export


async def export_xlsx(tenant: TenantRef, actor: Actor, year: int) -> bytes:
    """Every visible unit's score on every indicator, with totals, grade and rank."""
    await audit.record(tenant.id, actor, "export.scores", "assessment", year)
    assessment = await get_assessment(tenant, year)
    tree = await tree_of(assessment)
    results = in_scope(actor, await results_of(tenant, assessment, tree))
    leaves = tree.leaves()
    scores: dict[int, dict[str, float | None]] = defaultdict(dict)
    pks = [r["id"] for r in results]
    for i in range(0, len(pks), 500):
        for s in await Score.select(Score.assessed, Score.indicator, Score.score, Score.self_score).where(
            Score.tenant == tenant.id, Score.assessed.is_in(pks[i : i + 500])
        ):
            scores[s["assessed"]][s["indicator"]] = effective(s)
    headers = [
        str(_l("Rank")),
        str(_l("Unit")),
        str(_l("District")),
        *[f"{leaf['code']} {leaf['name']} ({leaf['points']:g})" for leaf in leaves],
        str(_l("Indicator total")),
        str(_l("Points deducted")),
        str(_l("Veto")),
        str(_l("Total score")),
        str(_l("Grade")),
        str(_l("Status")),
    ]
    rows = [
        [
            r["rank"],
            r["unit_name"],
            r["group_name"],
            *[scores[r["id"]].get(leaf["code"]) for leaf in leaves],
            r["score_sum"],
            r["deduction"],
            str(_l("Yes")) if r["veto"] else "",
            r["total"],
            r["grade_label"],
            r["status_label"],
        ]
        for r in results
    ]
    return write_workbook([(_("Scores %(year)d", year=year), headers, rows)])
