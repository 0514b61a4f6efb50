"""What the documents show: a unit's scorecard, the tenant's annual report and the
workbook of every score, built for many units at once; and the background batch of every
scorecard as a zip."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import statistics
import zipfile
from collections import Counter, defaultdict
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from server import db
from server.actor import Actor
from server.assessment import documents, results
from server.assessment.scheme import GRADES
from server.assessment.scoring import effective
from server.assessment.tables import Adjustment, Assessment, ReportJob, Score
from server.audit import service as audit
from server.core import i18n
from server.core.chunks import chunks
from server.core.errors import NotFound
from server.core.i18n import _, _l
from server.core.rows import public
from server.documents import pdf
from server.documents.xlsx import write_workbook
from server.units import service as units
from tenants.service import TenantRef, get_owned

GAP_TEXTS = {
    "notices_signed": _l("%(count)d leaders without a signed, valid notice: %(names)s"),
    "confirmations_on_time": _l("%(count)d confirmations late or missing: %(names)s"),
    "training_leaders": _l("%(count)d leaders short of training hours: %(names)s"),
    "training_classified": _l("%(count)d classified personnel short of training hours: %(names)s"),
}
GAP_LABELS = {
    "notices_signed": _l("Leaders without a signed, valid notice"),
    "confirmations_on_time": _l("Confirmations late or missing"),
    "training_leaders": _l("Leaders short of training hours"),
    "training_classified": _l("Classified personnel short of training hours"),
}
JOB_STATUSES = {"queued": _l("Queued"), "running": _l("Running"), "done": _l("Done"), "failed": _l("Failed")}
log = logging.getLogger(__name__)


async def _scores(tenant: TenantRef, assessed_pks: list[int]) -> dict[int, dict[str, dict]]:
    out: dict[int, dict[str, dict]] = defaultdict(dict)
    for batch in chunks(assessed_pks):
        for s in (
            await Score.select().where(Score.tenant == tenant.id, Score.assessed.is_in(batch)).output(load_json=True)
        ):
            out[s["assessed"]][s["indicator"]] = s
    return out


async def _adjustments(tenant: TenantRef, assessed_pks: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for batch in chunks(assessed_pks):
        for a in (
            await Adjustment.select()
            .where(Adjustment.tenant == tenant.id, Adjustment.assessed.is_in(batch))
            .order_by(Adjustment.created_at)
        ):
            out[a["assessed"]].append(a)
    return out


def _gaps(indicators: list[dict], adjustments: list[dict]) -> list[str]:
    """What the unit has to put right, in the scheme's order."""
    gaps = []
    for ind in indicators:
        if ind["group"] or ind["score"] is None or ind["score"] >= ind["points"]:
            continue
        inputs = ind["inputs"] or {}
        if ind["method"] == "auto" and inputs.get("source") in GAP_TEXTS:
            missing = int(inputs.get("expected") or 0) - int(inputs.get("met") or 0)
            names = "、".join(inputs.get("missing") or [])
            if missing > len(inputs.get("missing") or []):
                names += " …"
            gaps.append(str(GAP_TEXTS[inputs["source"]]) % {"count": missing, "names": names})
        else:
            why = ind["reason"] or ind["self_note"] or ind["guide"]
            gaps.append(
                _(
                    "%(name)s: %(score)s of %(points)s points — %(why)s",
                    name=ind["name"],
                    score=f"{ind['score']:g}",
                    points=f"{ind['points']:g}",
                    why=why,
                )
            )
    for a in adjustments:
        gaps.append(f"{a['kind_label']} · {a['name']}: {a['note']}")
    return gaps


class Year:
    """One year's assessment loaded once: results, every score and adjustment."""

    def __init__(self, assessment: dict, tree: Any, ranked: list[dict], scores: dict, adjustments: dict) -> None:
        self.assessment = assessment
        self.tree = tree
        self.results = ranked
        self.scores = scores
        self.adjustments = adjustments

    @classmethod
    async def load(cls, tenant: TenantRef, year: int) -> Year:
        assessment = await results.get_assessment(tenant, year)
        tree = await results.tree_of(assessment)
        ranked = await results.results_of(tenant, assessment, tree)
        pks = [r["id"] for r in ranked]
        return cls(assessment, tree, ranked, await _scores(tenant, pks), await _adjustments(tenant, pks))

    def indicators(self, assessed_pk: int) -> list[dict]:
        return results.indicator_rows(self.tree, self.scores[assessed_pk], {}, self.assessment["auto_as_of"])

    def area_averages(self) -> dict[str, float]:
        """Average score by area over the units with a total (all of them once finalised)."""
        graded = [r for r in self.results if r["complete"]]
        area_of = {leaf["code"]: leaf["area"] for leaf in self.tree.leaves()}
        sums: dict[str, float] = defaultdict(float)
        for r in graded:
            for code, score in self.scores[r["id"]].items():
                if code in area_of:
                    sums[area_of[code]] += effective(score) or 0.0
        return {code: round(total / len(graded), 2) for code, total in sums.items()} if graded else {}


async def cards(tenant: TenantRef, actor: Actor, year: int, unit_pks: list[int] | None = None) -> list[dict]:
    """The scorecards of the units in the actor's scope (or of these units), best first."""
    data = await Year.load(tenant, year)
    previous = await results.previous_results(tenant, year)
    averages = data.area_averages()
    now = datetime.now(UTC)
    out = []
    for r in results.in_scope(actor, data.results):
        if unit_pks is not None and r["unit"] not in unit_pks:
            continue
        indicators = data.indicators(r["id"])
        adjustments = [results.adjustment_public(data.tree, a) for a in data.adjustments[r["id"]]]
        last = previous.get(r["unit"])
        out.append(
            {
                "tenant_name": tenant.name,
                "year": year,
                "status": data.assessment["status"],
                "status_label": str(results.STATUSES[data.assessment["status"]]),
                "cutoff": data.assessment["cutoff"],
                "as_of": results.figures_as_of(data.scores[r["id"]], data.assessment["auto_as_of"]),
                "generated_at": now,
                "unit": {
                    "id": str(r["unit_uuid"]),
                    "name": r["unit_name"],
                    "code": r["unit_code"] or "",
                    "group_name": r["group_name"],
                },
                "total": r["total"],
                "score_sum": r["score_sum"],
                "deduction": r["deduction"],
                "veto": r["veto"],
                "grade": r["grade"],
                "grade_label": r["grade_label"],
                "rank": r["rank"],
                "rank_of": r["rank_of"],
                "district_rank": r["district_rank"],
                "district_of": r["district_of"],
                "previous": {**last, "grade_label": str(GRADES[last["grade"]])} if last else None,
                "areas": [
                    {
                        "code": i["code"],
                        "name": i["name"],
                        "points": i["points"],
                        "score": i["score"] or 0.0,
                        "average": averages.get(i["code"], 0.0),
                    }
                    for i in indicators
                    if i["depth"] == 0
                ],
                "indicators": indicators,
                "adjustments": adjustments,
                "deduction_cap": data.tree.document["deduction_cap"],
                "gaps": _gaps(indicators, adjustments),
            }
        )
    return out


async def scorecard(tenant: TenantRef, actor: Actor, year: int, unit_id: Any) -> dict:
    assessment = await results.get_assessment(tenant, year)
    assessed = await results.assessed_row(tenant, actor, assessment, unit_id)
    found = await cards(tenant, actor, year, [assessed["unit"]])
    if not found:
        raise NotFound()
    return found[0]


async def scorecard_pdf(tenant: TenantRef, actor: Actor, year: int, unit_id: Any) -> tuple[bytes, str]:
    card = await scorecard(tenant, actor, year, unit_id)
    return await documents.scorecard_pdf(card, tenant.uuid), card_filename(card)


def card_filename(card: dict) -> str:
    safe = re.sub(r'[\\/:*?"<>|\s]+', "_", card["unit"]["name"])
    return f"{card['year']}-{card['rank'] or 999:03d}-{safe}.pdf"


async def annual_report(tenant: TenantRef, actor: Actor, year: int) -> dict:
    """The tenant's year: figures, grades, ranking, averages by indicator and district,
    the most common gaps and the trend over the years (the actor's scope)."""
    data = await Year.load(tenant, year)
    previous = await results.previous_results(tenant, year)
    scope = results.in_scope(actor, data.results)
    # while open, only units with every indicator scored have a total to report
    rows = [r for r in scope if r["complete"]]
    totals = [r["total"] for r in rows]
    n = len(rows)
    grades = Counter(r["grade"] for r in rows)
    leaves = data.tree.leaves()
    leaf_sums: dict[str, float] = defaultdict(float)
    gaps: dict[str, dict] = {}

    def gap(key: str, label: str, people: int = 0) -> None:
        entry = gaps.setdefault(key, {"label": label, "count": 0, "units": 0})
        entry["count"] += people or 1
        entry["units"] += 1

    for r in rows:
        for leaf in leaves:
            score = data.scores[r["id"]].get(leaf["code"])
            value = (effective(score) if score else None) or 0.0
            leaf_sums[leaf["code"]] += value
            if value >= leaf["points"]:
                continue
            inputs = (score or {}).get("inputs") or {}
            if leaf["method"] == "auto" and inputs.get("source") in GAP_LABELS:
                missing = int(inputs.get("expected") or 0) - int(inputs.get("met") or 0)
                gap(inputs["source"], str(GAP_LABELS[inputs["source"]]), missing)
            else:
                gap(leaf["code"], _("Points lost on %(name)s", name=leaf["name"]))
        for a in data.adjustments[r["id"]]:
            public = results.adjustment_public(data.tree, a)
            gap(f"{a['kind']}:{a['item']}", f"{public['kind_label']} · {public['name']}")
    districts: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        districts[r["group_name"]].append(r)
    area_of = {leaf["code"]: leaf["area"] for leaf in leaves}
    area_names = {i["code"]: i["name"] for i in data.tree.indicators}
    scope_name = await _scope_unit_name(tenant, actor)
    return {
        "tenant_name": tenant.name,
        "scope_name": scope_name,
        "title": _("%(unit)s %(year)s secrecy-work assessment report", unit=scope_name, year=year)
        if scope_name
        else _("%(year)s secrecy-work assessment report", year=year),
        "year": year,
        "status": data.assessment["status"],
        "status_label": str(results.STATUSES[data.assessment["status"]]),
        "generated_at": datetime.now(UTC),
        "units": n,
        "ungraded": len(scope) - n,
        "average": round(statistics.fmean(totals), 2) if totals else None,
        "median": round(statistics.median(totals), 2) if totals else None,
        "max": max(totals) if totals else None,
        "min": min(totals) if totals else None,
        "vetoed": sum(1 for r in rows if r["veto"]),
        "grades": [
            {"code": code, "label": str(label), "count": grades[code], "share": grades[code] / n if n else 0.0}
            for code, label in GRADES.items()
        ],
        # units still without a total follow the ranked ones, shown without figures
        "ranking": [
            {
                "rank": r["rank"],
                "unit_name": r["unit_name"],
                "group_name": r["group_name"],
                "total": r["total"] if r["complete"] else None,
                "grade_label": r["grade_label"],
                "veto": r["veto"],
                "previous_rank": previous[r["unit"]]["rank"] if r["unit"] in previous else None,
                "change": round(r["total"] - previous[r["unit"]]["total"], 2)
                if r["complete"] and r["unit"] in previous
                else None,
            }
            for r in scope
        ],
        "indicators": [
            {
                "code": leaf["code"],
                "name": leaf["name"],
                "area": area_names[area_of[leaf["code"]]],
                "points": leaf["points"],
                "average": round(leaf_sums[leaf["code"]] / n, 2) if n else None,
                "rate": leaf_sums[leaf["code"]] / n / leaf["points"] if n else None,
            }
            for leaf in leaves
        ],
        "districts": [
            {
                "name": name,
                "units": len(members),
                "average": round(statistics.fmean(m["total"] for m in members), 2),
                "excellent": sum(1 for m in members if m["grade"] == "excellent"),
            }
            for name, members in sorted(districts.items(), key=lambda kv: -statistics.fmean(m["total"] for m in kv[1]))
        ],
        "gaps": sorted(gaps.values(), key=lambda g: (-g["units"], -g["count"]))[:10],
        "trend": await _trend(tenant, actor, year),
    }


async def _scope_unit_name(tenant: TenantRef, actor: Actor) -> str | None:
    """The unit whose subtree the actor's report covers (a district), None for the whole bureau."""
    if actor.scope_unit_id is None:
        return None
    return next((u["name"] for u in await units.units_in_scope(tenant, actor) if u["pk"] == actor.scope_unit_id), None)


async def _trend(tenant: TenantRef, actor: Actor, year: int) -> list[dict]:
    """Average total, units and share of the top grade for every assessed year up to this one."""
    out = []
    for row in (
        await Assessment.select(Assessment.year)
        .where(Assessment.tenant == tenant.id, Assessment.year <= year)
        .order_by(Assessment.year)
    ):
        assessment = await results.get_assessment(tenant, row["year"])
        rows = [
            r
            for r in results.in_scope(
                actor, await results.results_of(tenant, assessment, await results.tree_of(assessment))
            )
            if r["complete"]
        ]
        if rows:
            out.append(
                {
                    "year": row["year"],
                    "average": round(statistics.fmean(r["total"] for r in rows), 2),
                    "units": len(rows),
                    "excellent_share": sum(1 for r in rows if r["grade"] == "excellent") / len(rows),
                }
            )
    return out[-10:]


async def annual_pdf(tenant: TenantRef, actor: Actor, year: int) -> bytes:
    report = await annual_report(tenant, actor, year)
    return await documents.annual_pdf(report, tenant.uuid, scope_name(actor))


def scope_name(actor: Actor) -> str:
    """Whose units an actor's documents cover, as a plain name: all, or one unit's subtree."""
    return "all" if actor.scope_unit_id is None else f"unit{actor.scope_unit_id}"


async def export_xlsx(tenant: TenantRef, actor: Actor, year: int) -> bytes:
    """Every visible unit's score on every indicator, with totals, grade and rank."""
    await audit.record(tenant.id, actor, "export.scores", "assessment", year)
    assessment = await results.get_assessment(tenant, year)
    tree = await results.tree_of(assessment)
    ranked = results.in_scope(actor, await results.results_of(tenant, assessment, tree))
    leaves = tree.leaves()
    scores: dict[int, dict[str, float | None]] = defaultdict(dict)
    for batch in chunks([r["id"] for r in ranked]):
        for s in await Score.select(Score.assessed, Score.indicator, Score.score, Score.self_score).where(
            Score.tenant == tenant.id, Score.assessed.is_in(batch)
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
        for r in ranked
    ]
    return write_workbook([(_("Scores %(year)d", year=year), headers, rows)])


# ---------------------------------------------------------------- every scorecard at once


async def render_cards(tenant: TenantRef, found: list[dict], on_done=None) -> list[tuple[str, bytes]]:
    """Every card as a PDF through the process pool, keeping the pool busy but not flooded."""
    limit = asyncio.Semaphore(max(2, pdf.workers() * 2))
    done = 0

    async def one(card: dict) -> tuple[str, bytes]:
        nonlocal done
        async with limit:
            content = await documents.scorecard_pdf(card, tenant.uuid)
        done += 1
        if on_done is not None:
            await on_done(done)
        return card_filename(card), content

    return await asyncio.gather(*(one(card) for card in found))


_JOB_FIELDS = ("year", "status", "done", "total", "error", "created_at", "finished_at")


def _job_public(row: dict, slug: str) -> dict:
    return public(
        row,
        *_JOB_FIELDS,
        status_label=str(JOB_STATUSES[row["status"]]),
        percent=round(100 * row["done"] / row["total"]) if row["total"] else 0,
        download=f"/t/{slug}/report-jobs/{row['uuid']}/download" if row["status"] == "done" else None,
    )


async def start_scorecards(tenant: TenantRef, actor: Actor, year: int) -> dict:
    """A job row now; the rendering starts once the request has committed (see run_job)."""
    overview = await results.overview(tenant, actor, year)
    async with db.atomic():
        row = ReportJob(
            tenant=tenant.id, year=year, total=len(overview["units"]), language=i18n.get_locale(), user_id=actor.id or 0
        )
        await row.save()
        await audit.record(tenant.id, actor, "assessment.scorecards", "report_job", row.uuid, detail={"year": year})
    return _job_public((await ReportJob.select().where(ReportJob.id == row.id).first()), tenant.slug)


async def job(tenant: TenantRef, actor: Actor, job_id: Any) -> dict:
    row = await get_owned(ReportJob, tenant, job_id)
    if row["user_id"] != (actor.id or 0):
        raise NotFound()  # a batch belongs to whoever started it, as its scope does
    return _job_public(row, tenant.slug)


async def job_file(tenant: TenantRef, actor: Actor, job_id: Any, var_dir: Path) -> tuple[Path, str]:
    info = await job(tenant, actor, job_id)
    path = _job_path(var_dir, tenant, info["id"])
    if info["status"] != "done" or not path.exists():
        raise NotFound()
    return path, f"scorecards-{info['year']}.zip"


def _job_path(var_dir: Path, tenant: TenantRef, job_uuid: str) -> Path:
    return var_dir / "reports" / str(tenant.uuid) / f"{job_uuid}.zip"


def spawn(tenant: TenantRef, actor: Actor, job_id: str, var_dir: Path) -> None:
    """Run the job in the background."""
    _background(run_job(tenant, actor, job_id, var_dir))


def premake(tenant: TenantRef, year: int) -> None:
    """Once a year is finalised its cards never change: make them all now, in the background
    and in the finalising user's language, so that the leaders' downloads and the batches
    read kept files (server.documents.kept) instead of waiting for them to be made."""
    locale = i18n.get_locale()

    async def make() -> None:
        i18n.set_locale(locale)
        i18n.set_zone(tenant.timezone)
        async with db.transaction(tenant.id, write=False):
            found = await cards(tenant, Actor.system(), year)
        # called after the request whether it committed or not: only a finalised year
        if found and found[0]["status"] == "finalised":
            await render_cards(tenant, found)

    _background(make())


def _background(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` outside the request's context (its transaction and locale ContextVars
    must not leak into the task), keeping a reference until it is done."""
    task = asyncio.get_running_loop().create_task(work, context=contextvars.Context())
    _tasks.add(task)
    task.add_done_callback(_done)


def _done(task: asyncio.Task) -> None:
    _tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("background assessment work failed", exc_info=task.exception())


_tasks: set[asyncio.Task] = set()


def _write_zip(path: Path, files: list[tuple[str, bytes]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:  # PDFs are compressed already
        for name, content in files:
            archive.writestr(name, content)


async def run_job(tenant: TenantRef, actor: Actor, job_id: str, var_dir: Path) -> None:
    async with db.transaction(tenant.id):
        row = await ReportJob.select().where(ReportJob.tenant == tenant.id, ReportJob.uuid == job_id).first()
        if row is None or row["status"] != "queued":
            return
        i18n.set_locale(row["language"])
        i18n.set_zone(tenant.timezone)
        await ReportJob.update({ReportJob.status: "running"}).where(ReportJob.id == row["id"])
        found = await cards(tenant, actor, row["year"])

    async def progress(done: int) -> None:
        if done % 5 == 0 or done == len(found):
            async with db.transaction(tenant.id):
                await ReportJob.update({ReportJob.done: done}).where(ReportJob.id == row["id"])

    path = _job_path(var_dir, tenant, job_id)
    try:
        rendered = await render_cards(tenant, found, progress)
        await asyncio.to_thread(_write_zip, path, rendered)  # tens of MB: not on the event loop
        values = {ReportJob.status: "done", ReportJob.path: path.name}
    except Exception as exc:  # the job shows why, the log has the trace
        log.exception("scorecard batch failed")
        values = {ReportJob.status: "failed", ReportJob.error: str(exc)[:500]}
    async with db.transaction(tenant.id):
        await ReportJob.update({**values, ReportJob.finished_at: datetime.now(UTC)}).where(ReportJob.id == row["id"])
