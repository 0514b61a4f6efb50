"""Duty catalog, notice templates, notices, signing, confirmations and coverage:
pages for the office and the leader portal, and the same under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from server.accounts import roles
from server.accounts import service as accounts
from server.core.errors import Conflict, ValidationFailed
from server.core.pagination import page_args
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.mail import MailUnavailable
from server.reminders import dispatch
from server.responsibility import catalog as catalogs
from server.responsibility import confirmations, coverage, notices
from server.responsibility.defaults import POSITION_TITLES
from server.training import service as training
from server.units import service as units
from server.web import pages
from server.web.forms import body_data, file_response, form_data, page_json, submit_form
from server.web.guards import allow, any_member
from server.web.templating import page

T = "/t/{slug:str}"
API = "/api/v1/t/{slug:str}"
OFFICE = allow(roles.OFFICE_ADMIN)
ISSUERS = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN})
READERS = allow(roles.REGISTRY_READERS)
COVERAGE = allow(roles.REGISTRY_READERS)
PEOPLE_EDITORS = allow(roles.PEOPLE_EDITORS)
# a GET that writes (marking a notice read) takes the write lock up front
WRITES = {"writes": True}


def _ctx(request: Request):
    edge = request.state.edge
    return edge.tenant, edge.actor


# ---------------------------------------------------------------- duty catalog


@get(f"{T}/duties", guards=[READERS], name="duties.index")
async def duties_page(request: Request) -> Template:
    tenant, _actor = _ctx(request)
    current = await catalogs.current_catalog(tenant)
    return page(
        request,
        "responsibility/catalogs.html",
        catalogs=await catalogs.list_catalogs(tenant),
        catalog=await catalogs.catalog_detail(tenant, current["uuid"]),
        sections=catalogs.DUTY_SECTIONS,
    )


@get(f"{T}/duties/{{catalog_id:str}}", guards=[READERS], name="duties.catalog")
async def catalog_page(request: Request, catalog_id: FromPath[str]) -> Template:
    tenant, _actor = _ctx(request)
    return page(
        request,
        "responsibility/catalogs.html",
        catalogs=await catalogs.list_catalogs(tenant),
        catalog=await catalogs.catalog_detail(tenant, catalog_id),
        sections=catalogs.DUTY_SECTIONS,
    )


async def _catalog_error(request: Request, catalog_id: str | None, errors: dict[str, str]) -> Template:
    tenant, _actor = _ctx(request)
    catalog_id = catalog_id or (await catalogs.current_catalog(tenant))["uuid"]
    return page(
        request,
        "responsibility/catalogs.html",
        422,
        catalogs=await catalogs.list_catalogs(tenant),
        catalog=await catalogs.catalog_detail(tenant, catalog_id),
        sections=catalogs.DUTY_SECTIONS,
        errors=errors,
    )


@post(f"{T}/duties", guards=[OFFICE], name="duties.draft")
async def catalog_draft(request: Request) -> Response:
    tenant, actor = _ctx(request)

    async def on_error(data: dict, errors: dict) -> Template:
        return await _catalog_error(request, None, errors)

    try:
        return await submit_form(
            request,
            lambda data: catalogs.create_draft(tenant, actor, data),
            redirect=lambda c: f"/t/{tenant.slug}/duties/{c['id']}",
            on_error=on_error,
        )
    except Conflict as exc:
        return await _catalog_error(request, None, {"catalog": exc.message})


@post(f"{T}/duties/{{catalog_id:str}}/duties", guards=[OFFICE], name="duties.add")
async def duty_add(request: Request, catalog_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)

    async def on_error(data: dict, errors: dict) -> Template:
        return await _catalog_error(request, catalog_id, errors)

    return await submit_form(
        request,
        lambda data: catalogs.add_duty(tenant, actor, catalog_id, data),
        redirect=lambda c: f"/t/{tenant.slug}/duties/{c['id']}",
        on_error=on_error,
    )


@post(f"{T}/duties/items/{{duty_id:str}}", guards=[OFFICE], name="duties.update")
async def duty_update(request: Request, duty_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    data = await form_data(request)
    if data.get("action") == "delete":
        catalog = await catalogs.delete_duty(tenant, actor, duty_id)
    else:
        catalog = await catalogs.update_duty(tenant, actor, duty_id, data)
    return Redirect(f"/t/{tenant.slug}/duties/{catalog['id']}", status_code=303)


@post(f"{T}/duties/{{catalog_id:str}}/publish", guards=[OFFICE], name="duties.publish")
async def catalog_publish(request: Request, catalog_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    data = await form_data(request)
    if data.get("action") == "discard":
        await catalogs.discard_draft(tenant, actor, catalog_id)
        return Redirect(f"/t/{tenant.slug}/duties", status_code=303)
    try:
        await catalogs.publish(tenant, actor, catalog_id)
    except ValidationFailed as exc:
        return await _catalog_error(request, catalog_id, exc.errors)
    return Redirect(f"/t/{tenant.slug}/duties/{catalog_id}", status_code=303)


@post(f"{T}/people/{{person_id:str}}/duties", guards=[PEOPLE_EDITORS], name="duties.assign")
async def duty_assign(request: Request, person_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    data = await form_data(request)
    try:
        await catalogs.assign(tenant, actor, person_id, data)
    except ValidationFailed as exc:
        return await pages.person_page(request, tenant, actor, person_id, 422, duty_form=data, duty_errors=exc.errors)
    return Redirect(f"/t/{tenant.slug}/people/{person_id}", status_code=303)


@post(f"{T}/duty-assignments/{{assignment_id:str}}/remove", guards=[PEOPLE_EDITORS], name="duties.unassign")
async def duty_unassign(request: Request, assignment_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    person_id = await catalogs.unassign(tenant, actor, assignment_id)
    return Redirect(f"/t/{tenant.slug}/people/{person_id}", status_code=303)


# ---------------------------------------------------------------- notice templates


@get(f"{T}/notice-templates", guards=[OFFICE], name="templates.index")
async def templates_page(request: Request, position: FromQuery[str] = "principal") -> Template:
    tenant, _actor = _ctx(request)
    templates = await catalogs.current_templates(tenant)
    position = position if position in POSITION_TITLES else "principal"
    current = templates.get(position)
    return page(
        request,
        "responsibility/templates.html",
        templates=templates,
        position=position,
        titles=POSITION_TITLES,
        form={"title": current["title"], "body": current["body"]} if current else {},
    )


@post(f"{T}/notice-templates/{{position:str}}", guards=[OFFICE], name="templates.save")
async def template_save(request: Request, position: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)

    async def on_error(data: dict, errors: dict) -> Template:
        return page(
            request,
            "responsibility/templates.html",
            422,
            templates=await catalogs.current_templates(tenant),
            position=position,
            titles=POSITION_TITLES,
            form=data,
            errors=errors,
        )

    return await submit_form(
        request,
        lambda data: catalogs.save_template(tenant, actor, position, data),
        redirect=lambda t: f"/t/{tenant.slug}/notice-templates?position={position}",
        on_error=on_error,
    )


# ---------------------------------------------------------------- notices (office)


async def _notices_list(request: Request, status_code: int = 200, **extra: Any) -> Template:
    tenant, actor = _ctx(request)
    status = request.query_params.get("status", "")
    q = request.query_params.get("q", "").strip()
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    result = await notices.list_notices(tenant, actor, status=status, q=q, page=p, per_page=n)
    return page(
        request,
        "responsibility/notices.html",
        status_code,
        result=result,
        status=status,
        q=q,
        statuses=notices.STATUSES,
        choices=await units.unit_choices(tenant, actor),
        **extra,
    )


@get(f"{T}/notices", guards=[READERS], name="notices.index")
async def notices_page(request: Request) -> Template:
    return await _notices_list(request)


@post(f"{T}/notices/issue", guards=[ISSUERS], name="notices.issue")
async def notices_issue(request: Request) -> Response:
    tenant, actor = _ctx(request)
    data = await form_data(request)
    try:
        result = await notices.issue(tenant, actor, data)
    except ValidationFailed as exc:
        if data.get("scope") == "person" and data.get("person_id"):
            return await pages.person_page(request, tenant, actor, str(data["person_id"]), 422, issue_errors=exc.errors)
        return await _notices_list(request, 422, form=data, errors=exc.errors)
    # redirect, so that reloading the page does not issue everything again
    counts = "&".join(f"{k}={result[k]}" for k in ("issued", "superseded", "skipped"))
    back = str(data.get("back", ""))
    if back.startswith(f"/t/{tenant.slug}/people/"):
        return Redirect(f"{back}?{counts}", status_code=303)
    return Redirect(f"/t/{tenant.slug}/notices?{counts}", status_code=303)


@get(f"{T}/notices/verify", guards=[any_member], name="notices.verify_form")
async def verify_page(request: Request) -> Template:
    return page(request, "responsibility/verify.html")


@post(f"{T}/notices/verify", guards=[any_member], name="notices.verify")
async def verify_submit(request: Request) -> Template:
    tenant, actor = _ctx(request)
    form = await request.form()
    upload = form.get("file")
    pdf = await upload.read() if isinstance(upload, UploadFile) and upload.filename else None
    try:
        result = await notices.verify(tenant, actor, str(form.get("code", "")), pdf)
    except ValidationFailed as exc:
        return page(request, "responsibility/verify.html", 422, errors=exc.errors)
    return page(request, "responsibility/verify.html", result=result, form={"code": form.get("code", "")})


@get(f"{T}/notices/{{notice_id:str}}", guards=[any_member], name="notices.detail", opt=WRITES)
async def notice_page(request: Request, notice_id: FromPath[str]) -> Template:
    tenant, actor = _ctx(request)
    await notices.mark_viewed(tenant, actor, notice_id)
    return page(request, "responsibility/notice.html", notice=await notices.notice_detail(tenant, actor, notice_id))


@post(f"{T}/notices/{{notice_id:str}}/withdraw", guards=[ISSUERS], name="notices.withdraw")
async def notice_withdraw(request: Request, notice_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    data = await form_data(request)
    try:
        await notices.withdraw(tenant, actor, notice_id, data)
    except (ValidationFailed, Conflict) as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"reason": exc.message}
        return page(
            request,
            "responsibility/notice.html",
            422,
            notice=await notices.notice_detail(tenant, actor, notice_id),
            errors=errors,
        )
    return Redirect(f"/t/{tenant.slug}/notices/{notice_id}", status_code=303)


@post(f"{T}/notices/{{notice_id:str}}/sign", guards=[any_member], name="notices.sign")
async def notice_sign(request: Request, notice_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    data = await form_data(request)
    try:
        await notices.sign(tenant, actor, notice_id, data)
    except ValidationFailed as exc:
        _remember_reauth_failure(request, notice_id)
        return page(
            request,
            "responsibility/notice.html",
            422,
            notice=await notices.notice_detail(tenant, actor, notice_id),
            errors=exc.errors,
        )
    except Conflict as exc:
        return page(
            request,
            "responsibility/notice.html",
            409,
            notice=await notices.notice_detail(tenant, actor, notice_id),
            problem=exc.message,
        )
    return Redirect(f"/t/{tenant.slug}/notices/{notice_id}?signed=1", status_code=303)


@post(f"{T}/notices/{{notice_id:str}}/code", guards=[any_member], name="notices.code")
async def notice_code(request: Request, notice_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    try:
        sent_to, delivery = await notices.send_sign_code(tenant, actor, notice_id, request.state.edge.settings)
    except (ValidationFailed, Conflict, MailUnavailable) as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"code": exc.message}
        return page(
            request,
            "responsibility/notice.html",
            exc.status_code,
            notice=await notices.notice_detail(tenant, actor, notice_id),
            code_errors=errors,
        )
    answer = page(
        request,
        "responsibility/notice.html",
        notice=await notices.notice_detail(tenant, actor, notice_id),
        code_sent=sent_to,
    )
    # sent once the page has answered (the next tick sends it if this cannot)
    answer.background = BackgroundTask(dispatch.send_now, tenant, request.state.edge.settings, [delivery])
    return answer


def _remember_reauth_failure(request: Request, notice_id: str) -> None:
    """A wrong password or code at signing counts towards the sign-in lock and is
    audited, though the refused request itself rolls back."""
    edge = request.state.edge
    actor = edge.actor
    edge.after.append(
        lambda: accounts.note_reauth_failure(edge.tenant.id, actor, edge.settings, "notice.sign", "notice", notice_id)
    )


async def _pdf_response(request: Request, notice_id: str) -> Response:
    tenant, actor = _ctx(request)
    pdf, name = await notices.notice_pdf(tenant, actor, notice_id)
    return file_response(pdf, "application/pdf", name, inline=True)


@get(
    f"{T}/notices/{{notice_id:str}}/pdf",
    media_type="application/pdf",
    guards=[any_member],
    name="notices.pdf",
    opt=WRITES,
)
async def notice_pdf(request: Request, notice_id: FromPath[str]) -> Response:
    return await _pdf_response(request, notice_id)


# ---------------------------------------------------------------- the leader portal


@get(f"{T}/me", guards=[any_member], name="me")
async def me_page(request: Request) -> Template:
    """Short and phone-sized: what to sign, what to confirm, what was signed."""
    tenant, actor = _ctx(request)
    return page(
        request,
        "me.html",
        person=await units.own_person(tenant, actor),
        notices=await notices.my_notices(tenant, actor),
        owed=await confirmations.pending(tenant, actor),
        duties=await confirmations.my_duties(tenant, actor),
        training=await training.my_hours(tenant, actor),
    )


# ---------------------------------------------------------------- confirmations


@get(f"{T}/me/confirmation", guards=[any_member], name="confirmations.form")
async def confirmation_page(request: Request) -> Template:
    tenant, actor = _ctx(request)
    return page(request, "responsibility/confirmation.html", owed=await confirmations.pending(tenant, actor))


@post(f"{T}/me/confirmation/{{period:str}}", guards=[any_member], name="confirmations.submit")
async def confirmation_submit(request: Request, period: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)

    async def on_error(data: dict, errors: dict) -> Template:
        return page(
            request,
            "responsibility/confirmation.html",
            422,
            owed=await confirmations.pending(tenant, actor),
            form=data,
            errors=errors,
        )

    return await submit_form(
        request,
        lambda data: confirmations.submit(tenant, actor, period, data),
        redirect=lambda c: f"/t/{tenant.slug}/me?confirmed={c['period']}",
        on_error=on_error,
    )


@post(f"{T}/people/{{person_id:str}}/confirmations/waive", guards=[OFFICE], name="confirmations.waive")
async def confirmation_waive(request: Request, person_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    back = f"/t/{tenant.slug}/coverage/list?metric=confirmation_overdue"

    async def on_error(data: dict, errors: dict) -> Template:
        rows = await coverage.coverage_list(tenant, actor, "confirmation_overdue")
        return page(
            request,
            "responsibility/coverage_list.html",
            422,
            rows=rows,
            metric="confirmation_overdue",
            label=coverage.METRICS["confirmation_overdue"],
            unit_metric=False,
            form=data,
            errors=errors,
            waiving=(person_id, data.get("period", "")),
        )

    return await submit_form(
        request,
        lambda data: confirmations.waive(tenant, actor, person_id, data),
        redirect=lambda w: f"{back}&waived={w['period']}",
        on_error=on_error,
    )


# ---------------------------------------------------------------- coverage


@get(f"{T}/coverage", guards=[COVERAGE], name="coverage.index")
async def coverage_page(request: Request) -> Template:
    tenant, actor = _ctx(request)
    return page(
        request,
        "responsibility/coverage.html",
        data=await coverage.coverage(tenant, actor),
        metrics=coverage.METRICS,
        unit_metrics=coverage.UNIT_METRICS,
    )


@get(f"{T}/coverage/list", guards=[COVERAGE], name="coverage.list")
async def coverage_list_page(
    request: Request, metric: FromQuery[str] = "", group: FromQuery[str] = "", unit: FromQuery[str] = ""
) -> Template:
    tenant, actor = _ctx(request)
    rows = await coverage.coverage_list(tenant, actor, metric, group, unit)
    return page(
        request,
        "responsibility/coverage_list.html",
        rows=rows,
        metric=metric,
        label=coverage.METRICS.get(metric, ""),
        unit_metric=metric in coverage.UNIT_METRICS,
    )


@get(f"{T}/coverage.xlsx", media_type=XLSX, guards=[COVERAGE], name="coverage.export", opt=WRITES)
async def coverage_export(request: Request) -> Response:
    tenant, actor = _ctx(request)
    return file_response(await coverage.export_xlsx(tenant, actor), XLSX, f"coverage-{tenant.slug}.xlsx")


# ---------------------------------------------------------------- API


class SignBody(msgspec.Struct, forbid_unknown_fields=True):
    """Either the password, or the one-time code mailed by .../code."""

    password: str | msgspec.UnsetType = msgspec.UNSET
    code: str | msgspec.UnsetType = msgspec.UNSET


class IssueBody(msgspec.Struct, forbid_unknown_fields=True):
    scope: str
    person_id: str | None = None
    unit_id: str | None = None
    renew: bool = False


class ConfirmationBody(msgspec.Struct, forbid_unknown_fields=True):
    period: str
    items: list[dict[str, Any]]


@get(f"{API}/me/notices", guards=[any_member], name="api.me.notices")
async def api_my_notices(request: Request) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await notices.my_notices(tenant, actor)


@post(f"{API}/me/notices/{{notice_id:str}}/sign", guards=[any_member], name="api.me.sign")
async def api_sign(request: Request, notice_id: FromPath[str], data: JSONBody[SignBody]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    try:
        signed = await notices.sign(tenant, actor, notice_id, body_data(data))
    except ValidationFailed:
        _remember_reauth_failure(request, notice_id)
        raise
    return {**signed, "body_html": str(signed["body_html"])}


@post(f"{API}/me/notices/{{notice_id:str}}/code", guards=[any_member], name="api.me.code")
async def api_sign_code(request: Request, notice_id: FromPath[str]) -> Response[dict[str, Any]]:
    tenant, actor = _ctx(request)
    settings = request.state.edge.settings
    sent_to, delivery = await notices.send_sign_code(tenant, actor, notice_id, settings)
    # on its way: sent once this has answered (the next tick sends it if this cannot)
    return Response(
        {"sent_to": sent_to, "status": "queued"},
        status_code=HTTP_201_CREATED,
        background=BackgroundTask(dispatch.send_now, tenant, settings, [delivery]),
    )


@get(f"{API}/notices", guards=[READERS], name="api.notices.list")
async def api_notices(request: Request, status: FromQuery[str] = "", q: FromQuery[str] = "") -> dict[str, Any]:
    tenant, actor = _ctx(request)
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    return page_json(await notices.list_notices(tenant, actor, status=status, q=q, page=p, per_page=n))


@post(f"{API}/notices/issue", guards=[ISSUERS], status_code=HTTP_201_CREATED, name="api.notices.issue")
async def api_issue(request: Request, data: JSONBody[IssueBody]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await notices.issue(tenant, actor, body_data(data))


@get(f"{API}/notices/{{notice_id:str}}", guards=[any_member], name="api.notices.detail")
async def api_notice(request: Request, notice_id: FromPath[str]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    detail = await notices.notice_detail(tenant, actor, notice_id)
    return {**detail, "body_html": str(detail["body_html"])}


@get(
    f"{API}/notices/{{notice_id:str}}/pdf",
    media_type="application/pdf",
    guards=[any_member],
    name="api.notices.pdf",
    opt=WRITES,
)
async def api_notice_pdf(request: Request, notice_id: FromPath[str]) -> Response:
    return await _pdf_response(request, notice_id)


@post(f"{API}/notices/verify", guards=[any_member], name="api.notices.verify")
async def api_verify(
    request: Request, data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    upload = data.get("file")
    pdf = await upload.read() if isinstance(upload, UploadFile) else None
    return await notices.verify(tenant, actor, str(data.get("code", "")), pdf)


@post(f"{API}/me/confirmations", guards=[any_member], status_code=HTTP_201_CREATED, name="api.me.confirm")
async def api_confirm(request: Request, data: JSONBody[ConfirmationBody]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    form: dict[str, Any] = {}
    for i, item in enumerate(data.items):
        form[f"done_{i}"] = "yes" if item.get("done") is True else "no" if item.get("done") is False else ""
        form[f"note_{i}"] = str(item.get("note", ""))
    return await confirmations.submit(tenant, actor, data.period, form)


@get(f"{API}/me/confirmations", guards=[any_member], name="api.me.confirmations")
async def api_confirmations(request: Request) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    owed = await confirmations.pending(tenant, actor)
    return {
        "due": None
        if owed is None
        else {
            "period": owed["period"].key,
            "due_date": owed["period"].due,
            "overdue": owed["overdue"],
            "duties": owed["duties"],
        },
        # every period owed, oldest first: a missed one stays until confirmed or waived
        "owed": []
        if owed is None
        else [{"period": p.key, "due_date": p.due, "overdue": units.today(tenant) > p.due} for p in owed["owed"]],
        "history": await confirmations.history(tenant, actor.person_id) if actor.person_id else [],
    }


class WaiverBody(msgspec.Struct, forbid_unknown_fields=True):
    period: str
    reason: str


@post(
    f"{API}/people/{{person_id:str}}/confirmation-waivers",
    guards=[OFFICE],
    status_code=HTTP_201_CREATED,
    name="api.confirmations.waive",
)
async def api_waive(request: Request, person_id: FromPath[str], data: JSONBody[WaiverBody]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await confirmations.waive(tenant, actor, person_id, body_data(data))


@get(f"{API}/coverage", guards=[COVERAGE], name="api.coverage")
async def api_coverage(request: Request) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await coverage.coverage(tenant, actor)


@get(f"{API}/coverage/list", guards=[COVERAGE], name="api.coverage.list")
async def api_coverage_list(
    request: Request, metric: FromQuery[str] = "", group: FromQuery[str] = "", unit: FromQuery[str] = ""
) -> list[dict[str, Any]]:
    tenant, actor = _ctx(request)
    return await coverage.coverage_list(tenant, actor, metric, group, unit)


@get(f"{API}/duty-catalogs", guards=[READERS], name="api.catalogs")
async def api_catalogs(request: Request) -> list[dict[str, Any]]:
    tenant, _actor = _ctx(request)
    return await catalogs.list_catalogs(tenant)


@get(f"{API}/duty-catalogs/{{catalog_id:str}}", guards=[READERS], name="api.catalog")
async def api_catalog(request: Request, catalog_id: FromPath[str]) -> dict[str, Any]:
    tenant, _actor = _ctx(request)
    return await catalogs.catalog_detail(tenant, catalog_id)


ROUTES = [
    me_page,
    duties_page,
    catalog_page,
    catalog_draft,
    duty_add,
    duty_update,
    catalog_publish,
    duty_assign,
    duty_unassign,
    templates_page,
    template_save,
    notices_page,
    notices_issue,
    verify_page,
    verify_submit,
    notice_page,
    notice_withdraw,
    notice_sign,
    notice_code,
    notice_pdf,
    confirmation_page,
    confirmation_submit,
    confirmation_waive,
    coverage_page,
    coverage_list_page,
    coverage_export,
    api_my_notices,
    api_sign,
    api_sign_code,
    api_notices,
    api_issue,
    api_notice,
    api_notice_pdf,
    api_verify,
    api_confirm,
    api_confirmations,
    api_waive,
    api_coverage,
    api_coverage_list,
    api_catalogs,
    api_catalog,
]
