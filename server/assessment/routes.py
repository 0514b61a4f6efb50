"""Assessment pages and API: the scheme, the year's ranking, a unit's scores, the
self-assessment, review, deductions and vetoes, corrections and the documents."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post, put
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, Parameter
from litestar.response import File, Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from server.accounts import roles
from server.assessment import reports, scheme, service
from server.assessment.tables import Adjustment, Evidence
from server.core.errors import Conflict, NotFound, ValidationFailed
from server.core.i18n import _
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.units import service as units
from server.web.forms import body_data, file_response, form_data, is_htmx, uploaded_file
from server.web.guards import allow
from server.web.templating import page

T = "/t/{slug:str}"
API = "/api/v1/t/{slug:str}"
Y = "/assessments/{year:int}"
# years an assessment can have: out of range is no assessment (404), never a database overflow
YEARS = {"ge": 1900, "le": 2999}
Year = Annotated[int, Parameter(**YEARS)]
U = Y + "/units/{unit_id:str}"
READ = allow(service.READERS)
OFFICE = allow(roles.OFFICE_ADMIN)
SELF = allow(service.SELF_ASSESSORS)
REVIEW = allow(service.REVIEWERS)
PDF = "application/pdf"


def _ctx(request: Request):
    edge = request.state.edge
    return edge.tenant, edge.actor


def _pdf(content: bytes, name: str) -> Response:
    return file_response(content, PDF, name, inline=True)


def _back(request: Request, year: int, unit_id: str | None = None, anchor: str = "") -> Redirect:
    tenant, _actor = _ctx(request)
    where = f"/t/{tenant.slug}/assessments/{year}" + (f"/units/{unit_id}" if unit_id else "")
    return Redirect(where + (f"#{anchor}" if anchor else ""), status_code=303)


# ---------------------------------------------------------------- pages: the year


@get(f"{T}/assessments", guards=[READ], name="assessment.index")
async def index_page(request: Request, year: Annotated[int | None, Parameter(**YEARS)] = None) -> Response:
    tenant, actor = _ctx(request)
    current = units.today(tenant).year
    return Redirect(f"/t/{tenant.slug}/assessments/{year or current}", status_code=303)


async def _year_page(request: Request, year: int, status: int = 200, **extra: Any) -> Response:
    tenant, actor = _ctx(request)
    try:
        data = await service.overview(tenant, actor, year)
    except NotFound:
        data = None
    if data is not None and actor.role == roles.UNIT_OFFICER and len(data["units"]) == 1 and status == 200:
        return _back(request, year, data["units"][0]["unit_id"])
    districts = [(u["id"], u["name"]) for u in await units.unit_choices(tenant, actor) if u["kind"] == "district"]
    return page(
        request,
        "assessment/year.html",
        status,
        year=year,
        data=data,
        years=await service.years(tenant),
        scheme=await service.scheme_detail(tenant, year),
        districts=districts,
        grades=scheme.GRADES,
        statuses=service.UNIT_STATUSES,
        assessment_statuses=service.STATUSES,
        **extra,
    )


@get(f"{T}{Y}", guards=[READ], name="assessment.year")
async def year_page(request: Request, year: Year) -> Response:
    return await _year_page(request, year)


async def _office_action(request: Request, year: int, action) -> Response:
    try:
        await action()
    except Conflict as exc:
        return await _year_page(request, year, 409, problem=exc.message)
    except ValidationFailed as exc:
        return await _year_page(request, year, 422, errors=exc.errors, form=await form_data(request))
    return _back(request, year)


@post(f"{T}{Y}/open", guards=[OFFICE], name="assessment.open")
async def open_submit(request: Request, year: Year) -> Response:
    tenant, actor = _ctx(request)
    data = await form_data(request)
    return await _office_action(request, year, lambda: service.open_assessment(tenant, actor, year, data))


@post(f"{T}{Y}/recompute", guards=[OFFICE], name="assessment.recompute")
async def recompute_submit(request: Request, year: Year) -> Response:
    tenant, actor = _ctx(request)
    return await _office_action(request, year, lambda: service.recompute(tenant, actor, year))


@post(f"{T}{Y}/finalise", guards=[OFFICE], name="assessment.finalise")
async def finalise_submit(request: Request, year: Year) -> Response:
    tenant, actor = _ctx(request)
    return await _office_action(request, year, lambda: service.finalise(tenant, actor, year))


@get(f"{T}{Y}/scores.xlsx", media_type=XLSX, guards=[READ], name="assessment.export", opt={"writes": True})
async def export(request: Request, year: Year) -> Response:
    tenant, actor = _ctx(request)
    return file_response(await service.export_xlsx(tenant, actor, year), XLSX, f"scores-{year}.xlsx")


@get(f"{T}{Y}/report.pdf", media_type=PDF, guards=[READ], name="assessment.report")
async def report_pdf(request: Request, year: Year) -> Response:
    tenant, actor = _ctx(request)
    return _pdf(await reports.annual_pdf(tenant, actor, year), f"annual-report-{year}.pdf")


# ---------------------------------------------------------------- pages: the scheme


async def _scheme_page(request: Request, year: int, status: int = 200, **extra: Any) -> Template:
    tenant, _actor = _ctx(request)
    found = await service.scheme_detail(tenant, year)
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


@get(f"{T}{Y}/scheme", guards=[READ], name="assessment.scheme")
async def scheme_page(request: Request, year: Year) -> Template:
    return await _scheme_page(request, year)


@post(f"{T}{Y}/scheme", guards=[OFFICE], name="assessment.scheme_save")
async def scheme_save(request: Request, year: Year) -> Response:
    tenant, actor = _ctx(request)
    data = await form_data(request)
    try:
        await service.save_scheme(tenant, actor, year, scheme.from_form(data))
    except ValidationFailed as exc:
        return await _scheme_page(request, year, 422, errors=exc.errors, form=data)
    except Conflict as exc:
        return await _scheme_page(request, year, 409, problem=exc.message)
    tenant_slug = tenant.slug
    return Redirect(f"/t/{tenant_slug}/assessments/{year}/scheme?saved=1", status_code=303)


@post(f"{T}{Y}/scheme/create", guards=[OFFICE], name="assessment.scheme_create")
async def scheme_create(request: Request, year: Year) -> Response:
    tenant, actor = _ctx(request)
    try:
        await service.create_scheme(tenant, actor, year)
    except Conflict:
        pass  # it exists: show it
    except ValidationFailed as exc:
        return await _year_page(request, year, 422, errors=exc.errors)
    return Redirect(f"/t/{tenant.slug}/assessments/{year}/scheme", status_code=303)


# ---------------------------------------------------------------- pages: one unit


async def _unit_page(request: Request, year: int, unit_id: str, status: int = 200, **extra: Any) -> Template:
    tenant, actor = _ctx(request)
    result = await service.unit_result(tenant, actor, year, unit_id)
    kinds = service.ADJUSTMENT_KINDS
    item_options = [
        (f"deduction:{d['code']}", f"{kinds['deduction']} · {d['name']} (−{d['points']:g})")
        for d in result["deduction_items"]
    ]
    item_options += [(f"veto:{v['code']}", f"{kinds['veto']} · {v['name']}") for v in result["veto_items"]]
    extra.setdefault("focus", "")
    errors = extra.get("errors") or {}
    if "kind" in errors or "item" in errors:
        extra["errors"] = {**errors, "pick": errors.get("item") or errors["kind"]}
    if "form" in extra and "kind" in extra["form"]:
        extra["form"] = {**extra["form"], "pick": f"{extra['form']['kind']}:{extra['form'].get('item', '')}"}
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


@get(f"{T}{U}", guards=[READ], name="assessment.unit")
async def unit_page(request: Request, year: Year, unit_id: FromPath[str]) -> Template:
    return await _unit_page(request, year, unit_id)


async def _unit_action(request: Request, year: int, unit_id: str, action, anchor: str = "", data=None) -> Response:
    """A form on the unit page: on bad input the page again, the messages under the form."""
    data = await form_data(request) if data is None else data
    try:
        await action(data)
    except ValidationFailed as exc:
        return await _unit_page(request, year, unit_id, 422, errors=exc.errors, form=data, focus=anchor)
    except Conflict as exc:
        return await _unit_page(request, year, unit_id, 409, problem=exc.message, focus=anchor)
    return _back(request, year, unit_id, anchor)


@post(f"{T}{U}/scores/{{code:str}}/self", guards=[SELF], name="assessment.self")
async def self_submit(request: Request, year: Year, unit_id: FromPath[str], code: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    return await _unit_action(
        request, year, unit_id, lambda d: service.self_assess(tenant, actor, year, unit_id, code, d), f"i-{code}"
    )


@post(f"{T}{U}/submit", guards=[SELF], name="assessment.submit")
async def submit_page(request: Request, year: Year, unit_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    return await _unit_action(request, year, unit_id, lambda d: service.submit_self(tenant, actor, year, unit_id))


@post(f"{T}{U}/scores/{{code:str}}/review", guards=[REVIEW], name="assessment.review")
async def review_submit(request: Request, year: Year, unit_id: FromPath[str], code: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    return await _unit_action(
        request, year, unit_id, lambda d: service.review(tenant, actor, year, unit_id, code, d), f"i-{code}"
    )


@post(f"{T}{U}/scores/{{code:str}}/correct", guards=[OFFICE], name="assessment.correct")
async def correct_submit(request: Request, year: Year, unit_id: FromPath[str], code: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    return await _unit_action(
        request, year, unit_id, lambda d: service.correct(tenant, actor, year, unit_id, code, d), f"i-{code}"
    )


@post(f"{T}{U}/adjustments", guards=[REVIEW], name="assessment.adjust")
async def adjust_submit(request: Request, year: Year, unit_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    data = await form_data(request)
    # the form offers one list of items; its value says the kind too ("deduction:minor")
    kind, _sep, item = str(data.pop("pick", "")).partition(":")
    data = {"kind": kind, "item": item, **data}
    return await _unit_action(
        request, year, unit_id, lambda d: service.add_adjustment(tenant, actor, year, unit_id, d), "adjustments", data
    )


@post(f"{T}/assessment-adjustments/{{adjustment_id:str}}/remove", guards=[REVIEW], name="assessment.unadjust")
async def adjustment_remove(request: Request, adjustment_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    data = await form_data(request)
    try:
        where = await service.remove_adjustment(tenant, actor, adjustment_id, data)
    except (ValidationFailed, Conflict) as exc:
        where = await service.place_of(tenant, actor, Adjustment, adjustment_id)
        errors = exc.errors if isinstance(exc, ValidationFailed) else {}
        return await _unit_page(
            request,
            where["year"],
            where["unit_id"],
            422 if errors else 409,
            errors=errors,
            problem="" if errors else exc.message,
            focus="adjustments",
        )
    return _back(request, where["year"], where["unit_id"], "adjustments")


async def _upload(request: Request) -> tuple[str, bytes]:
    return await uploaded_file(request, _("Choose a file to upload."))


@post(f"{T}{U}/scores/{{code:str}}/evidence", guards=[SELF], name="assessment.evidence")
async def evidence_upload(request: Request, year: Year, unit_id: FromPath[str], code: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)

    async def action(_data: dict) -> None:
        filename, content = await _upload(request)
        await service.add_evidence(tenant, actor, year, unit_id, code, filename, content)

    return await _unit_action(request, year, unit_id, action, f"i-{code}", data={})


@get(f"{T}/assessment-evidence/{{evidence_id:str}}", guards=[READ], name="assessment.evidence_file")
async def evidence_download(request: Request, evidence_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    found = await service.evidence_file(tenant, actor, evidence_id)
    return file_response(found["data"], found["content_type"], found["filename"])


@post(f"{T}/assessment-evidence/{{evidence_id:str}}/remove", guards=[SELF], name="assessment.evidence_remove")
async def evidence_remove(request: Request, evidence_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    try:
        where = await service.remove_evidence(tenant, actor, evidence_id)
    except Conflict as exc:
        where = await service.place_of(tenant, actor, Evidence, evidence_id)
        return await _unit_page(request, where["year"], where["unit_id"], 409, problem=exc.message)
    return _back(request, where["year"], where["unit_id"])


async def _scorecard(request: Request, year: int, unit_id: str) -> Response:
    tenant, actor = _ctx(request)
    content, name = await reports.scorecard_pdf(tenant, actor, year, unit_id)
    return _pdf(content, name)


@get(f"{T}{U}/scorecard.pdf", media_type=PDF, guards=[READ], name="assessment.scorecard")
async def scorecard(request: Request, year: Year, unit_id: FromPath[str]) -> Response:
    return await _scorecard(request, year, unit_id)


# ---------------------------------------------------------------- every scorecard, in the background


@post(f"{T}{Y}/scorecards", guards=[READ], name="assessment.batch")
async def batch_start(request: Request, year: Year) -> Response:
    tenant, actor = _ctx(request)
    started = await reports.start_scorecards(tenant, actor, year)
    var_dir = request.state.edge.settings.var_dir

    async def launch() -> None:
        reports.spawn(tenant, actor, started["id"], var_dir)

    request.state.edge.after.append(launch)
    return Redirect(f"/t/{tenant.slug}/report-jobs/{started['id']}", status_code=303)


@get(f"{T}/report-jobs/{{job_id:str}}", guards=[READ], name="assessment.job")
async def job_page(request: Request, job_id: FromPath[str]) -> Template:
    tenant, actor = _ctx(request)
    found = await reports.job(tenant, actor, job_id)
    template = "assessment/job_progress.html" if is_htmx(request) else "assessment/job.html"
    return page(request, template, job=found)


@get(f"{T}/report-jobs/{{job_id:str}}/download", guards=[READ], name="assessment.job_download")
async def job_download(request: Request, job_id: FromPath[str]) -> File:
    tenant, actor = _ctx(request)
    path, name = await reports.job_file(tenant, actor, job_id, request.state.edge.settings.var_dir)
    return File(path=path, filename=name, media_type="application/zip")


# ---------------------------------------------------------------- API


class OpenBody(msgspec.Struct, forbid_unknown_fields=True):
    cutoff: str | msgspec.UnsetType = msgspec.UNSET
    self_due: str | msgspec.UnsetType = msgspec.UNSET
    scope: str | None | msgspec.UnsetType = msgspec.UNSET


class SelfBody(msgspec.Struct, forbid_unknown_fields=True):
    # any JSON value: the service judges it, so a wrong one gets its 422 naming the field
    score: Any = None
    note: str = ""


class ReviewBody(msgspec.Struct, forbid_unknown_fields=True):
    # any JSON value: the service judges it, so a wrong one gets its 422 naming the field
    score: Any = None
    reason: str = ""


class AdjustmentBody(msgspec.Struct, forbid_unknown_fields=True):
    kind: str = ""
    item: str = ""
    note: str = ""


@get(f"{API}{Y}", guards=[READ], name="api.assessment.year")
async def api_year(request: Request, year: Year) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.overview(tenant, actor, year)


@get(f"{API}{U}", guards=[READ], name="api.assessment.unit")
async def api_unit(request: Request, year: Year, unit_id: FromPath[str]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.unit_result(tenant, actor, year, unit_id)


@get(f"{API}{U}/scorecard.pdf", media_type=PDF, guards=[READ], name="api.assessment.scorecard")
async def api_scorecard(request: Request, year: Year, unit_id: FromPath[str]) -> Response:
    return await _scorecard(request, year, unit_id)


@get(f"{API}{Y}/scheme", guards=[READ], name="api.assessment.scheme")
async def api_scheme(request: Request, year: Year) -> dict[str, Any]:
    tenant, _actor = _ctx(request)
    found = await service.scheme_detail(tenant, year)
    if found is None:
        raise NotFound()
    return found


@put(f"{API}{Y}/scheme", guards=[OFFICE], name="api.assessment.scheme_save")
async def api_scheme_save(request: Request, year: Year, data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.save_scheme(tenant, actor, year, data)


@post(f"{API}{Y}/open", guards=[OFFICE], status_code=HTTP_201_CREATED, name="api.assessment.open")
async def api_open(request: Request, year: Year, data: JSONBody[OpenBody]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.open_assessment(tenant, actor, year, body_data(data))


@post(f"{API}{Y}/finalise", guards=[OFFICE], name="api.assessment.finalise")
async def api_finalise(request: Request, year: Year) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.finalise(tenant, actor, year)


@post(f"{API}{U}/scores/{{code:str}}/self", guards=[SELF], name="api.assessment.self")
async def api_self(
    request: Request, year: Year, unit_id: FromPath[str], code: FromPath[str], data: JSONBody[SelfBody]
) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.self_assess(tenant, actor, year, unit_id, code, body_data(data))


@post(f"{API}{U}/submit", guards=[SELF], name="api.assessment.submit")
async def api_submit(request: Request, year: Year, unit_id: FromPath[str]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.submit_self(tenant, actor, year, unit_id)


@post(f"{API}{U}/scores/{{code:str}}/review", guards=[REVIEW], name="api.assessment.review")
async def api_review(
    request: Request, year: Year, unit_id: FromPath[str], code: FromPath[str], data: JSONBody[ReviewBody]
) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.review(tenant, actor, year, unit_id, code, body_data(data))


@post(f"{API}{U}/scores/{{code:str}}/correct", guards=[OFFICE], name="api.assessment.correct")
async def api_correct(
    request: Request, year: Year, unit_id: FromPath[str], code: FromPath[str], data: JSONBody[ReviewBody]
) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.correct(tenant, actor, year, unit_id, code, body_data(data))


@post(f"{API}{U}/adjustments", guards=[REVIEW], status_code=HTTP_201_CREATED, name="api.assessment.adjust")
async def api_adjust(
    request: Request, year: Year, unit_id: FromPath[str], data: JSONBody[AdjustmentBody]
) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.add_adjustment(tenant, actor, year, unit_id, body_data(data))


@post(
    f"{API}{U}/scores/{{code:str}}/evidence",
    guards=[SELF],
    status_code=HTTP_201_CREATED,
    name="api.assessment.evidence",
)
async def api_evidence(
    request: Request,
    year: Year,
    unit_id: FromPath[str],
    code: FromPath[str],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    await service.unit_context(tenant, actor, year, unit_id)  # another tenant's unit: 404 before the file is looked at
    filename, content = await _upload(request)
    return await service.add_evidence(tenant, actor, year, unit_id, code, filename, content)


ROUTES = [
    index_page,
    year_page,
    open_submit,
    recompute_submit,
    finalise_submit,
    export,
    report_pdf,
    scheme_page,
    scheme_save,
    scheme_create,
    unit_page,
    self_submit,
    submit_page,
    review_submit,
    correct_submit,
    adjust_submit,
    adjustment_remove,
    evidence_upload,
    evidence_download,
    evidence_remove,
    scorecard,
    batch_start,
    job_page,
    job_download,
    api_year,
    api_unit,
    api_scorecard,
    api_scheme,
    api_scheme_save,
    api_open,
    api_finalise,
    api_self,
    api_submit,
    api_review,
    api_correct,
    api_adjust,
    api_evidence,
]
