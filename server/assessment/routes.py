"""Assessment pages and API: the scheme, the year's ranking, a unit's scores, the
self-assessment, review, deductions and vetoes, corrections and the documents."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any, NamedTuple

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath, JSONBody, Parameter
from litestar.response import File, Redirect, Template
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import Guard

from server import roles
from server.assessment import cycle, evidence, reports, results, reviews, schemas, scheme
from server.core.errors import Conflict, NotFound
from server.core.i18n import _
from server.core.pagination import Page
from server.documents.pdf import MEDIA_TYPE as PDF
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.units import service as units
from server.web.deps import ActorDep, SettingsDep, TenantDep
from server.web.forms import (
    FormAction,
    body_data,
    file_response,
    is_htmx,
    paging,
    read_upload,
    show_again,
    show_refusal,
    submit_form,
)
from server.web.guards import allow
from server.web.handlers import named
from server.web.kept import KEPT
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

Y = "/assessments/{year:int}"
# years an assessment can have: out of range is no assessment (404), never a database overflow
YEARS = {"ge": 1900, "le": 2999}
Year = Annotated[int, Parameter(**YEARS)]
U = Y + "/units/{unit_id:str}"
READ = allow(results.READERS)
OFFICE = allow(roles.OFFICE_ADMIN)
SELF = allow(reviews.SELF_ASSESSORS)
REVIEW = allow(reviews.REVIEWERS)
ZIP = "application/zip"


class Score(NamedTuple):
    """One indicator's score of a unit in a year, as its URL names it."""

    year: int
    unit_id: str
    code: str


def _score(year: Year, unit_id: FromPath[str], code: FromPath[str]) -> Score:
    return Score(year, unit_id, code)


SCORE = {"score": Provide(_score, sync_to_thread=False)}
ScoreDep = NamedDependency[Score]
# what takes a step on a score: (tenant, actor, year, unit_id, code, fields)
ScoreAction = Callable[..., Awaitable[Any]]


def _pdf(content: bytes, name: str) -> Response:
    return file_response(content, PDF, name, inline=True)


def _place(tenant: TenantDep, year: int, unit_id: str | None = None, anchor: str = "") -> str:
    where = f"/t/{tenant.slug}/assessments/{year}" + (f"/units/{unit_id}" if unit_id else "")
    return where + (f"#{anchor}" if anchor else "")


async def _upload(upload: Any) -> tuple[str, bytes]:
    """The file a form or an API call sent as evidence."""
    return await read_upload(upload, _("Choose a file to upload."))


async def _add_evidence(tenant: TenantDep, actor: ActorDep, year: int, unit_id: str, code: str, data: dict) -> dict:
    filename, content = await _upload(data.get("file"))
    return await evidence.add_evidence(tenant, actor, year, unit_id, code, filename, content)


# the steps on a score (its evidence too, on the page): who takes each, by which call
STEPS: dict[str, tuple[Guard, ScoreAction]] = {
    "self": (SELF, reviews.self_assess),
    "review": (REVIEW, reviews.review),
    "correct": (OFFICE, reviews.correct),
    "evidence": (SELF, _add_evidence),
}
# what a step takes and answers in the API
STEP_BODIES = {
    "self": (schemas.SelfBody, schemas.SelfScore),
    "review": (schemas.ReviewBody, schemas.ReviewedScore),
    "correct": (schemas.ReviewBody, schemas.ReviewedScore),
}


# ---------------------------------------------------------------- what the pages show


def _ranking(request: Request, data: dict) -> Page:
    """The year's ranking as the filters ask (name, grade, status), a page at a time."""
    q, grade, status = (request.query_params.get(k, "") for k in ("q", "grade", "status"))
    rows = [
        u
        for u in data["units"]
        if q in u["unit_name"] and (not grade or u["grade"] == grade) and (not status or u["status"] == status)
    ]
    p, n = paging(request)
    return Page(rows[(p - 1) * n : p * n], len(rows), p, n)


async def _year_page(
    request: Request, tenant: TenantDep, actor: ActorDep, year: int, status: int = 200, **extra: Any
) -> Response:
    try:
        data = await results.overview(tenant, actor, year)
    except NotFound:
        data = None
    if data is not None and actor.role == roles.UNIT_OFFICER and len(data["units"]) == 1 and status == 200:
        return Redirect(_place(tenant, year, data["units"][0]["unit_id"]), status_code=303)
    districts = [(u["id"], u["name"]) for u in await units.unit_choices(tenant, actor) if u["kind"] == "district"]
    return page(
        request,
        "assessment/year.html",
        status,
        year=year,
        data=data,
        years=await cycle.years(tenant),
        scheme=await cycle.scheme_detail(tenant, year),
        districts=districts,
        ranking=_ranking(request, data) if data else None,
        grades=scheme.GRADES,
        statuses=results.UNIT_STATUSES,
        assessment_statuses=results.STATUSES,
        **extra,
    )


async def _year_form(request: Request, tenant: TenantDep, actor: ActorDep, year: int, action: FormAction) -> Response:
    """A form of the office on the year page: on bad input or a refusal, the page again."""
    return await submit_form(
        request,
        action,
        redirect=lambda _done: _place(tenant, year),
        on_error=show_again(_year_page, request, tenant, actor, year),
        on_refusal=show_refusal(_year_page, request, tenant, actor, year),
    )


def _premake_after(request: Request, tenant: TenantDep, year: int) -> None:
    """After a finalisation, once it has committed, the year's scorecards made in the background."""

    async def launch() -> None:
        reports.premake(tenant, year)

    request.state.edge.after.append(launch)


async def _scheme_page(request: Request, tenant: TenantDep, year: int, status: int = 200, **extra: Any) -> Template:
    found = await cycle.scheme_detail(tenant, year)
    form = extra.get("form")
    return page(
        request,
        "assessment/scheme.html",
        status,
        year=year,
        scheme=found,
        # after a refused save the rows as sent, so that nothing typed is lost
        doc=scheme.from_form(form) if form else (found["document"] if found else None),
        sources=scheme.SOURCES,
        methods=scheme.METHODS,
        grades=scheme.GRADES,
        **extra,
    )


async def _unit_page(
    request: Request, tenant: TenantDep, actor: ActorDep, year: int, unit_id: str, status: int = 200, **extra: Any
) -> Template:
    result = await results.unit_result(tenant, actor, year, unit_id)
    kinds = results.ADJUSTMENT_KINDS
    item_options = [
        (f"deduction:{d['code']}", f"{kinds['deduction']} · {d['name']} (−{d['points']:g})")
        for d in result["deduction_items"]
    ]
    item_options += [(f"veto:{v['code']}", f"{kinds['veto']} · {v['name']}") for v in result["veto_items"]]
    extra.setdefault("focus", "")
    errors = extra.get("errors") or {}
    if "kind" in errors or "item" in errors:
        # the form offers kind and item as one list ("pick")
        extra["errors"] = {**errors, "pick": errors.get("item") or errors["kind"]}
    return page(
        request,
        "assessment/unit.html",
        status,
        year=year,
        r=result,
        grades=scheme.GRADES,
        item_options=item_options,
        **extra,
    )


async def _unit_form(
    request: Request, tenant: TenantDep, actor: ActorDep, year: int, unit_id: str, action: FormAction, anchor: str = ""
) -> Response:
    """A form on the unit page: on bad input or a refusal the page again, the messages under the form."""
    return await submit_form(
        request,
        action,
        redirect=lambda _done: _place(tenant, year, unit_id, anchor),
        on_error=show_again(_unit_page, request, tenant, actor, year, unit_id, focus=anchor),
        on_refusal=show_refusal(_unit_page, request, tenant, actor, year, unit_id, focus=anchor),
    )


def _picked(data: dict[str, Any]) -> dict[str, Any]:
    """The form offers one list of items; its value says the kind too ("deduction:minor")."""
    rest = {k: v for k, v in data.items() if k != "pick"}
    kind, _sep, item = str(data.get("pick", "")).partition(":")
    return {"kind": kind, "item": item, **rest}


async def _scorecard(tenant: TenantDep, actor: ActorDep, year: int, unit_id: str) -> Response:
    content, name = await reports.scorecard_pdf(tenant, actor, year, unit_id)
    return _pdf(content, name)


def _score_form(step: str, handler_name: str) -> HTTPRouteHandler:
    """The unit page's form of a step on one score: on bad input or a refusal, the page
    again at that score."""
    guard, act = STEPS[step]

    async def handler(self, request: Request, tenant: TenantDep, actor: ActorDep, score: ScoreDep) -> Response:
        year, unit_id, code = score
        take = partial(act, tenant, actor, *score)
        return await _unit_form(request, tenant, actor, year, unit_id, take, f"i-{code}")

    route = post(f"{U}/scores/{{code:str}}/{step}", guards=[guard], name=f"assessment.{step}", dependencies=SCORE)
    return named(handler_name, route, handler)


def _score_api(step: str) -> HTTPRouteHandler:
    """A step on one score in the API."""
    guard, act = STEPS[step]
    body, answer = STEP_BODIES[step]

    async def handler(self, tenant: TenantDep, actor: ActorDep, score: ScoreDep, data: Any) -> Any:
        return msgspec.convert(await act(tenant, actor, *score, body_data(data)), answer)

    # each step's own body and answer, where Litestar (and so the OpenAPI document) reads them
    handler.__annotations__ |= {"data": JSONBody[body], "return": answer}
    path = f"{U}/scores/{{code:str}}/{step}"
    return named(f"api_{step}", post(path, guards=[guard], name=f"api.assessment.{step}", dependencies=SCORE), handler)


# ---------------------------------------------------------------- pages


class AssessmentPages(Controller):
    path = TENANT_PAGES

    # ------------------------------------------------------------ the year

    @get("/assessments", guards=[READ], name="assessment.index")
    async def index_page(self, tenant: TenantDep, year: Annotated[int | None, Parameter(**YEARS)] = None) -> Response:
        return Redirect(_place(tenant, year or units.today(tenant).year), status_code=303)

    @get(Y, guards=[READ], name="assessment.year", opt=KEPT)
    async def year_page(self, request: Request, tenant: TenantDep, actor: ActorDep, year: Year) -> Response:
        return await _year_page(request, tenant, actor, year)

    @post(f"{Y}/open", guards=[OFFICE], name="assessment.open")
    async def open_submit(self, request: Request, tenant: TenantDep, actor: ActorDep, year: Year) -> Response:
        return await _year_form(
            request, tenant, actor, year, lambda data: cycle.open_assessment(tenant, actor, year, data)
        )

    @post(f"{Y}/recompute", guards=[OFFICE], name="assessment.recompute")
    async def recompute_submit(self, request: Request, tenant: TenantDep, actor: ActorDep, year: Year) -> Response:
        return await _year_form(request, tenant, actor, year, lambda _data: cycle.recompute(tenant, actor, year))

    @post(f"{Y}/finalise", guards=[OFFICE], name="assessment.finalise")
    async def finalise_submit(self, request: Request, tenant: TenantDep, actor: ActorDep, year: Year) -> Response:
        async def finalise(_data: dict) -> dict:
            done = await cycle.finalise(tenant, actor, year)
            _premake_after(request, tenant, year)
            return done

        return await _year_form(request, tenant, actor, year, finalise)

    @get(f"{Y}/scores.xlsx", media_type=XLSX, guards=[READ], name="assessment.export", opt={"writes": True})
    async def export(self, tenant: TenantDep, actor: ActorDep, year: Year) -> Response:
        return file_response(await reports.export_xlsx(tenant, actor, year), XLSX, f"scores-{year}.xlsx")

    @get(f"{Y}/report.pdf", media_type=PDF, guards=[READ], name="assessment.report")
    async def report_pdf(self, tenant: TenantDep, actor: ActorDep, year: Year) -> Response:
        return _pdf(await reports.annual_pdf(tenant, actor, year), f"annual-report-{year}.pdf")

    # ------------------------------------------------------------ the scheme

    @get(f"{Y}/scheme", guards=[READ], name="assessment.scheme")
    async def scheme_page(self, request: Request, tenant: TenantDep, year: Year) -> Template:
        return await _scheme_page(request, tenant, year)

    @post(f"{Y}/scheme", guards=[OFFICE], name="assessment.scheme_save")
    async def scheme_save(self, request: Request, tenant: TenantDep, actor: ActorDep, year: Year) -> Response:
        return await submit_form(
            request,
            lambda data: cycle.save_scheme(tenant, actor, year, scheme.from_form(data)),
            redirect=lambda _done: f"/t/{tenant.slug}/assessments/{year}/scheme?saved=1",
            on_error=show_again(_scheme_page, request, tenant, year),
            on_refusal=show_refusal(_scheme_page, request, tenant, year),
        )

    @post(f"{Y}/scheme/create", guards=[OFFICE], name="assessment.scheme_create")
    async def scheme_create(self, request: Request, tenant: TenantDep, actor: ActorDep, year: Year) -> Response:
        async def create(_data: dict[str, Any]) -> None:
            with contextlib.suppress(Conflict):  # it exists: show it
                await cycle.create_scheme(tenant, actor, year)

        async def on_error(_data: dict[str, Any], errors: dict[str, str]) -> Response:
            return await _year_page(request, tenant, actor, year, 422, errors=errors)

        return await submit_form(
            request, create, redirect=lambda _done: f"/t/{tenant.slug}/assessments/{year}/scheme", on_error=on_error
        )

    # ------------------------------------------------------------ one unit

    @get(U, guards=[READ], name="assessment.unit")
    async def unit_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, year: Year, unit_id: FromPath[str]
    ) -> Template:
        return await _unit_page(request, tenant, actor, year, unit_id)

    self_submit = _score_form("self", "self_submit")
    review_submit = _score_form("review", "review_submit")
    correct_submit = _score_form("correct", "correct_submit")
    evidence_upload = _score_form("evidence", "evidence_upload")

    @post(f"{U}/submit", guards=[SELF], name="assessment.submit")
    async def submit_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, year: Year, unit_id: FromPath[str]
    ) -> Response:
        submit = partial(reviews.submit_self, tenant, actor, year, unit_id)
        return await _unit_form(request, tenant, actor, year, unit_id, lambda _data: submit())

    @post(f"{U}/adjustments", guards=[REVIEW], name="assessment.adjust")
    async def adjust_submit(
        self, request: Request, tenant: TenantDep, actor: ActorDep, year: Year, unit_id: FromPath[str]
    ) -> Response:
        add = partial(reviews.add_adjustment, tenant, actor, year, unit_id)
        return await _unit_form(request, tenant, actor, year, unit_id, lambda data: add(_picked(data)), "adjustments")

    @post("/assessment-adjustments/{adjustment_id:str}/remove", guards=[REVIEW], name="assessment.unadjust")
    async def adjustment_remove(
        self, request: Request, tenant: TenantDep, actor: ActorDep, adjustment_id: FromPath[str]
    ) -> Response:
        async def again(status: int, errors: dict[str, str], problem: str) -> Response:
            where = await reviews.adjustment_place(tenant, actor, adjustment_id)
            return await _unit_page(
                request,
                tenant,
                actor,
                where["year"],
                where["unit_id"],
                status,
                errors=errors,
                problem=problem,
                focus="adjustments",
            )

        return await submit_form(
            request,
            partial(reviews.remove_adjustment, tenant, actor, adjustment_id),
            redirect=lambda where: _place(tenant, where["year"], where["unit_id"], "adjustments"),
            on_error=lambda _data, errors: again(422, errors, ""),
            on_refusal=lambda problem: again(409, {}, problem),
        )

    @get("/assessment-evidence/{evidence_id:str}", guards=[READ], name="assessment.evidence_file")
    async def evidence_download(self, tenant: TenantDep, actor: ActorDep, evidence_id: FromPath[str]) -> Response:
        found = await evidence.evidence_file(tenant, actor, evidence_id)
        return file_response(found["data"], found["content_type"], found["filename"])

    @post("/assessment-evidence/{evidence_id:str}/remove", guards=[SELF], name="assessment.evidence_remove")
    async def evidence_remove(
        self, request: Request, tenant: TenantDep, actor: ActorDep, evidence_id: FromPath[str]
    ) -> Response:
        async def refused(problem: str) -> Template:
            where = await evidence.evidence_place(tenant, actor, evidence_id)
            return await _unit_page(request, tenant, actor, where["year"], where["unit_id"], 409, problem=problem)

        return await submit_form(
            request,
            lambda _data: evidence.remove_evidence(tenant, actor, evidence_id),
            redirect=lambda where: _place(tenant, where["year"], where["unit_id"]),
            on_refusal=refused,
        )

    @get(f"{U}/scorecard.pdf", media_type=PDF, guards=[READ], name="assessment.scorecard")
    async def scorecard(self, tenant: TenantDep, actor: ActorDep, year: Year, unit_id: FromPath[str]) -> Response:
        return await _scorecard(tenant, actor, year, unit_id)

    # ------------------------------------------------------------ every scorecard, in the background

    @post(f"{Y}/scorecards", guards=[READ], name="assessment.batch")
    async def batch_start(
        self, request: Request, tenant: TenantDep, actor: ActorDep, settings: SettingsDep, year: Year
    ) -> Response:
        started = await reports.start_scorecards(tenant, actor, year)

        async def launch() -> None:
            reports.spawn(tenant, actor, started["id"], settings.var_dir)

        request.state.edge.after.append(launch)  # once the job's row is committed
        return Redirect(f"/t/{tenant.slug}/report-jobs/{started['id']}", status_code=303)

    @get("/report-jobs/{job_id:str}", guards=[READ], name="assessment.job")
    async def job_page(self, request: Request, tenant: TenantDep, actor: ActorDep, job_id: FromPath[str]) -> Template:
        found = await reports.job(tenant, actor, job_id)
        template = "assessment/job_progress.html" if is_htmx(request) else "assessment/job.html"
        return page(request, template, job=found)

    @get("/report-jobs/{job_id:str}/download", media_type=ZIP, guards=[READ], name="assessment.job_download")
    async def job_download(
        self, tenant: TenantDep, actor: ActorDep, settings: SettingsDep, job_id: FromPath[str]
    ) -> File:
        path, name = await reports.job_file(tenant, actor, job_id, settings.var_dir)
        return File(path=path, filename=name, media_type=ZIP)


# ---------------------------------------------------------------- API


class EvidenceUpload(msgspec.Struct):
    """The multipart body of an evidence upload (Litestar's UploadFile: declared here, by its handler)."""

    file: UploadFile | None = None


class AssessmentApi(Controller):
    path = TENANT_API

    @get(Y, guards=[READ], name="api.assessment.year")
    async def api_year(self, tenant: TenantDep, actor: ActorDep, year: Year) -> schemas.Overview:
        return msgspec.convert(await results.overview(tenant, actor, year), schemas.Overview)

    @get(U, guards=[READ], name="api.assessment.unit")
    async def api_unit(
        self, tenant: TenantDep, actor: ActorDep, year: Year, unit_id: FromPath[str]
    ) -> schemas.UnitDetail:
        return msgspec.convert(await results.unit_result(tenant, actor, year, unit_id), schemas.UnitDetail)

    @get(f"{U}/scorecard.pdf", media_type=PDF, guards=[READ], name="api.assessment.scorecard")
    async def api_scorecard(self, tenant: TenantDep, actor: ActorDep, year: Year, unit_id: FromPath[str]) -> Response:
        return await _scorecard(tenant, actor, year, unit_id)

    @get(f"{Y}/scheme", guards=[READ], name="api.assessment.scheme")
    async def api_scheme(self, tenant: TenantDep, year: Year) -> schemas.Scheme:
        found = await cycle.scheme_detail(tenant, year)
        if found is None:
            raise NotFound()
        return msgspec.convert(found, schemas.Scheme)

    @put(f"{Y}/scheme", guards=[OFFICE], name="api.assessment.scheme_save")
    async def api_scheme_save(
        self, tenant: TenantDep, actor: ActorDep, year: Year, data: JSONBody[schemas.SchemeBody]
    ) -> schemas.Scheme:
        return msgspec.convert(await cycle.save_scheme(tenant, actor, year, body_data(data)), schemas.Scheme)

    @post(f"{Y}/open", guards=[OFFICE], status_code=HTTP_201_CREATED, name="api.assessment.open")
    async def api_open(
        self, tenant: TenantDep, actor: ActorDep, year: Year, data: JSONBody[schemas.OpenBody]
    ) -> schemas.Overview:
        return msgspec.convert(await cycle.open_assessment(tenant, actor, year, body_data(data)), schemas.Overview)

    @post(f"{Y}/finalise", guards=[OFFICE], name="api.assessment.finalise")
    async def api_finalise(self, request: Request, tenant: TenantDep, actor: ActorDep, year: Year) -> schemas.Overview:
        done = await cycle.finalise(tenant, actor, year)
        _premake_after(request, tenant, year)
        return msgspec.convert(done, schemas.Overview)

    api_self = _score_api("self")

    @post(f"{U}/submit", guards=[SELF], name="api.assessment.submit")
    async def api_submit(
        self, tenant: TenantDep, actor: ActorDep, year: Year, unit_id: FromPath[str]
    ) -> schemas.Submitted:
        return msgspec.convert(await reviews.submit_self(tenant, actor, year, unit_id), schemas.Submitted)

    api_review = _score_api("review")
    api_correct = _score_api("correct")

    @post(f"{U}/adjustments", guards=[REVIEW], status_code=HTTP_201_CREATED, name="api.assessment.adjust")
    async def api_adjust(
        self,
        tenant: TenantDep,
        actor: ActorDep,
        year: Year,
        unit_id: FromPath[str],
        data: JSONBody[schemas.AdjustmentBody],
    ) -> schemas.AdjustmentAdded:
        done = await reviews.add_adjustment(tenant, actor, year, unit_id, body_data(data))
        return msgspec.convert(done, schemas.AdjustmentAdded)

    @post(
        f"{U}/scores/{{code:str}}/evidence",
        guards=[SELF],
        status_code=HTTP_201_CREATED,
        name="api.assessment.evidence",
        dependencies=SCORE,
    )
    async def api_evidence(
        self,
        tenant: TenantDep,
        actor: ActorDep,
        score: ScoreDep,
        data: Annotated[EvidenceUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> schemas.EvidenceFile:
        # another tenant's unit: 404 before the file is looked at
        await reviews.unit_context(tenant, actor, score.year, score.unit_id)
        filename, content = await _upload(data.file)
        done = await evidence.add_evidence(tenant, actor, *score, filename, content)
        return msgspec.convert(done, schemas.EvidenceFile)


ROUTES = [AssessmentPages, AssessmentApi]
