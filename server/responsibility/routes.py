"""Duty catalog, notice templates, notices, signing, confirmations and coverage:
pages for the office and the leader portal, and the same under /api/v1."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from server import roles
from server.accounts import service as accounts
from server.core.errors import Conflict, ValidationFailed
from server.documents.pdf import MEDIA_TYPE as PDF
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.inspections import findings
from server.mail import MailUnavailable
from server.reminders import dispatch
from server.responsibility import catalog as catalogs
from server.responsibility import confirmations, coverage, notices, schemas
from server.responsibility.defaults import POSITION_TITLES
from server.training import service as training
from server.units import service as units
from server.web import pages
from server.web.deps import ActorDep, Filters, SettingsDep, TenantDep
from server.web.forms import (
    body_data,
    file_response,
    form_data,
    page_json,
    paging,
    show_again,
    show_refusal,
    submit_form,
)
from server.web.guards import allow, any_member
from server.web.handlers import api_call, post_form, show_page, template_page
from server.web.kept import KEPT
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

OFFICE = allow(roles.OFFICE_ADMIN)
ISSUERS = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN})
READERS = allow(roles.REGISTRY_READERS)
COVERAGE = allow(roles.REGISTRY_READERS)
PEOPLE_EDITORS = allow(roles.PEOPLE_EDITORS)
# a GET that writes (marking a notice read) takes the write lock up front
WRITES = {"writes": True}
CATALOG = "/duties/{catalog_id:str}"


async def _catalog_page(
    request: Request, tenant: TenantDep, catalog_id: str | None = None, status_code: int = 200, **extra: Any
) -> Template:
    """A catalog version (the one in force when none is named) beside the list of versions."""
    catalog_id = catalog_id or str((await catalogs.current_catalog(tenant))["uuid"])
    return page(
        request,
        "responsibility/catalogs.html",
        status_code,
        catalogs=await catalogs.list_catalogs(tenant),
        catalog=await catalogs.catalog_detail(tenant, catalog_id),
        sections=catalogs.DUTY_SECTIONS,
        **extra,
    )


async def _notices_list(
    request: Request, tenant: TenantDep, actor: ActorDep, status_code: int = 200, **extra: Any
) -> Template:
    status = request.query_params.get("status", "")
    q = request.query_params.get("q", "").strip()
    p, n = paging(request)
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


_notice_page = template_page("responsibility/notice.html", "notice_id", notice=notices.notice_detail)


async def _templates_page(
    request: Request, tenant: TenantDep, position: str, status_code: int = 200, **extra: Any
) -> Template:
    """A position's notice template beside the others; its form holds the template in force
    unless a refused one comes back."""
    templates = await catalogs.current_templates(tenant)
    if "form" not in extra:
        current = templates.get(position)
        extra["form"] = {"title": current["title"], "body": current["body"]} if current else {}
    return page(
        request,
        "responsibility/templates.html",
        status_code,
        templates=templates,
        position=position,
        titles=POSITION_TITLES,
        **extra,
    )


_confirmation_page = template_page("responsibility/confirmation.html", owed=confirmations.pending)


async def _me_page(request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
    """What to sign, what to confirm, what was signed; the unit's open inspection findings."""
    return page(
        request,
        "me.html",
        person=await units.own_person(tenant, actor),
        notices=await notices.my_notices(tenant, actor),
        owed=await confirmations.pending(tenant, actor),
        duties=await confirmations.my_duties(tenant, actor),
        training=await training.my_hours(tenant, actor),
        findings=await findings.leader_findings(tenant, actor),
    )


_coverage_page = template_page(
    "responsibility/coverage.html",
    data=coverage.coverage,
    metrics=coverage.METRICS,
    unit_metrics=coverage.UNIT_METRICS,
)


def _coverage_filters(metric: FromQuery[str] = "", group: FromQuery[str] = "", unit: FromQuery[str] = "") -> dict:
    return {"metric": metric, "group": group, "unit": unit}


# which list of the coverage: the same on the page and in the API
COVERAGE_FILTERS = {"filters": Provide(_coverage_filters, sync_to_thread=False)}


async def _coverage_list(
    request: Request, tenant: TenantDep, actor: ActorDep, filters: dict[str, str], status_code: int = 200, **extra: Any
) -> Template:
    metric = filters["metric"]
    return page(
        request,
        "responsibility/coverage_list.html",
        status_code,
        rows=await coverage.coverage_list(tenant, actor, **filters),
        metric=metric,
        label=coverage.METRICS.get(metric, ""),
        unit_metric=metric in coverage.UNIT_METRICS,
        **extra,
    )


def _remember_reauth_failure(
    request: Request, tenant: TenantDep, actor: ActorDep, settings: SettingsDep, notice_id: str
) -> None:
    """A wrong password or code at signing counts towards the sign-in lock and is
    audited, though the refused request itself rolls back."""
    request.state.edge.after.append(
        lambda: accounts.note_reauth_failure(tenant.id, actor, settings, "notice.sign", "notice", notice_id)
    )


async def _pdf_response(tenant: TenantDep, actor: ActorDep, notice_id: str) -> Response:
    pdf, name = await notices.notice_pdf(tenant, actor, notice_id)
    return file_response(pdf, PDF, name, inline=True, fallback="notice.pdf")


def _detail(notice: dict[str, Any]) -> schemas.NoticeDetail:
    return msgspec.convert({**notice, "body_html": str(notice["body_html"])}, schemas.NoticeDetail)


class CatalogPages(Controller):
    """The duty catalog's versions, individual duties on a person's page, notice templates."""

    path = TENANT_PAGES

    duties_page = show_page("/duties", _catalog_page, guards=[READERS], name="duties.index")
    catalog_page = show_page(CATALOG, _catalog_page, guards=[READERS], name="duties.catalog")

    @post("/duties", guards=[OFFICE], name="duties.draft")
    async def catalog_draft(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        again = show_again(_catalog_page, request, tenant, None)
        return await submit_form(
            request,
            partial(catalogs.create_draft, tenant, actor),
            redirect=lambda c: f"/t/{tenant.slug}/duties/{c['id']}",
            on_error=again,
            on_refusal=lambda problem: again({}, {"catalog": problem}),
        )

    duty_add = post_form(
        f"{CATALOG}/duties",
        catalogs.add_duty,
        guards=[OFFICE],
        name="duties.add",
        then="duties/{result[id]}",
        again=_catalog_page,
    )

    @post("/duties/items/{duty_id:str}", guards=[OFFICE], name="duties.update")
    async def duty_update(
        self, request: Request, tenant: TenantDep, actor: ActorDep, duty_id: FromPath[str]
    ) -> Response:
        data = await form_data(request)
        if data.get("action") == "delete":
            catalog = await catalogs.delete_duty(tenant, actor, duty_id)
        else:
            catalog = await catalogs.update_duty(tenant, actor, duty_id, data)
        return Redirect(f"/t/{tenant.slug}/duties/{catalog['id']}", status_code=303)

    @post("/duties/{catalog_id:str}/publish", guards=[OFFICE], name="duties.publish")
    async def catalog_publish(
        self, request: Request, tenant: TenantDep, actor: ActorDep, catalog_id: FromPath[str]
    ) -> Response:
        async def publish_or_discard(data: dict[str, Any]) -> str:
            if data.get("action") == "discard":
                await catalogs.discard_draft(tenant, actor, catalog_id)
                return f"/t/{tenant.slug}/duties"
            await catalogs.publish(tenant, actor, catalog_id)
            return f"/t/{tenant.slug}/duties/{catalog_id}"

        again = show_again(_catalog_page, request, tenant, catalog_id)
        return await submit_form(request, publish_or_discard, redirect=lambda url: url, on_error=again)

    duty_assign = post_form(
        "/people/{person_id:str}/duties",
        catalogs.assign,
        guards=[PEOPLE_EDITORS],
        name="duties.assign",
        then="people/{person_id}",
        again=pages.person_form("duty"),
    )

    @post("/duty-assignments/{assignment_id:str}/remove", guards=[PEOPLE_EDITORS], name="duties.unassign")
    async def duty_unassign(self, tenant: TenantDep, actor: ActorDep, assignment_id: FromPath[str]) -> Response:
        person_id = await catalogs.unassign(tenant, actor, assignment_id)
        return Redirect(f"/t/{tenant.slug}/people/{person_id}", status_code=303)

    @get("/notice-templates", guards=[OFFICE], name="templates.index")
    async def templates_page(
        self, request: Request, tenant: TenantDep, position: FromQuery[str] = "principal"
    ) -> Template:
        return await _templates_page(request, tenant, position if position in POSITION_TITLES else "principal")

    template_save = post_form(
        "/notice-templates/{position:str}",
        catalogs.save_template,
        guards=[OFFICE],
        name="templates.save",
        then="notice-templates?position={position}",
        again=_templates_page,
    )


class NoticePages(Controller):
    """Notices for the office (issue, list, withdraw) and for their addressee (read, sign)."""

    path = TENANT_PAGES

    notices_page = show_page("/notices", _notices_list, guards=[READERS], name="notices.index")

    @post("/notices/issue", guards=[ISSUERS], name="notices.issue")
    async def notices_issue(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        async def issue(data: dict[str, Any]) -> str:
            result = await notices.issue(tenant, actor, data)
            # redirect, so that reloading the page does not issue everything again
            counts = "&".join(f"{k}={result[k]}" for k in ("issued", "superseded", "skipped"))
            back = str(data.get("back", ""))
            if back.startswith(f"/t/{tenant.slug}/people/"):
                return f"{back}?{counts}"
            return f"/t/{tenant.slug}/notices?{counts}"

        async def on_error(data: dict[str, Any], errors: dict[str, str]) -> Template:
            if data.get("scope") == "person" and data.get("person_id"):
                return await pages.person_page(request, tenant, actor, str(data["person_id"]), 422, issue_errors=errors)
            return await _notices_list(request, tenant, actor, 422, form=data, errors=errors)

        return await submit_form(request, issue, redirect=lambda url: url, on_error=on_error)

    @get("/notices/verify", guards=[any_member], name="notices.verify_form")
    async def verify_page(self, request: Request) -> Template:
        return page(request, "responsibility/verify.html")

    @post("/notices/verify", guards=[any_member], name="notices.verify")
    async def verify_submit(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        form = await request.form()
        upload = form.get("file")
        pdf = await upload.read() if isinstance(upload, UploadFile) and upload.filename else None
        try:
            result = await notices.verify(tenant, actor, str(form.get("code", "")), pdf)
        except ValidationFailed as exc:
            return page(request, "responsibility/verify.html", 422, errors=exc.errors)
        return page(request, "responsibility/verify.html", result=result, form={"code": form.get("code", "")})

    @get("/notices/{notice_id:str}", guards=[any_member], name="notices.detail", opt=WRITES)
    async def notice_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, notice_id: FromPath[str]
    ) -> Template:
        await notices.mark_viewed(tenant, actor, notice_id)
        return await _notice_page(request, tenant, actor, notice_id)

    @post("/notices/{notice_id:str}/withdraw", guards=[ISSUERS], name="notices.withdraw")
    async def notice_withdraw(
        self, request: Request, tenant: TenantDep, actor: ActorDep, notice_id: FromPath[str]
    ) -> Response:
        again = show_again(_notice_page, request, tenant, actor, notice_id)
        return await submit_form(
            request,
            partial(notices.withdraw, tenant, actor, notice_id),
            redirect=lambda _withdrawn: f"/t/{tenant.slug}/notices/{notice_id}",
            on_error=again,
            on_refusal=lambda problem: again({}, {"reason": problem}),
        )

    @post("/notices/{notice_id:str}/sign", guards=[any_member], name="notices.sign")
    async def notice_sign(
        self, request: Request, tenant: TenantDep, actor: ActorDep, settings: SettingsDep, notice_id: FromPath[str]
    ) -> Response:
        async def on_error(data: dict[str, Any], errors: dict[str, str]) -> Template:
            _remember_reauth_failure(request, tenant, actor, settings, notice_id)
            return await _notice_page(request, tenant, actor, notice_id, 422, errors=errors)

        return await submit_form(
            request,
            partial(notices.sign, tenant, actor, notice_id),
            redirect=lambda _signed: f"/t/{tenant.slug}/notices/{notice_id}?signed=1",
            on_error=on_error,
            on_refusal=show_refusal(_notice_page, request, tenant, actor, notice_id),
        )

    @post("/notices/{notice_id:str}/code", guards=[any_member], name="notices.code")
    async def notice_code(
        self, request: Request, tenant: TenantDep, actor: ActorDep, settings: SettingsDep, notice_id: FromPath[str]
    ) -> Response:
        try:
            sent_to, delivery = await notices.send_sign_code(tenant, actor, notice_id, settings)
        except (ValidationFailed, Conflict, MailUnavailable) as exc:
            errors = exc.errors if isinstance(exc, ValidationFailed) else {"code": exc.message}
            return await _notice_page(request, tenant, actor, notice_id, exc.status_code, code_errors=errors)
        answer = await _notice_page(request, tenant, actor, notice_id, code_sent=sent_to)
        # sent once the page has answered (the next tick sends it if this cannot)
        answer.background = BackgroundTask(dispatch.send_now, tenant, settings, [delivery])
        return answer

    @get("/notices/{notice_id:str}/pdf", media_type=PDF, guards=[any_member], name="notices.pdf", opt=WRITES)
    async def notice_pdf(self, tenant: TenantDep, actor: ActorDep, notice_id: FromPath[str]) -> Response:
        return await _pdf_response(tenant, actor, notice_id)


class PortalPages(Controller):
    """The leader portal: short and phone-sized."""

    path = TENANT_PAGES
    guards = [any_member]

    me_page = show_page("/me", _me_page, name="me", handler="me_page")
    confirmation_page = show_page("/me/confirmation", _confirmation_page, name="confirmations.form")
    confirmation_submit = post_form(
        "/me/confirmation/{period:str}",
        confirmations.submit,
        name="confirmations.submit",
        then="me?confirmed={result[period]}",
        again=_confirmation_page,
    )


class CoveragePages(Controller):
    """Where the chain of responsibility is broken, and the office's waivers of missed confirmations."""

    path = TENANT_PAGES
    guards = [COVERAGE]

    coverage_page = show_page("/coverage", _coverage_page, name="coverage.index", handler="coverage_page", opt=KEPT)

    @get("/coverage/list", name="coverage.list", dependencies=COVERAGE_FILTERS)
    async def coverage_list_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, filters: Filters
    ) -> Template:
        return await _coverage_list(request, tenant, actor, filters)

    @get("/coverage.xlsx", media_type=XLSX, name="coverage.export", opt=WRITES)
    async def coverage_export(self, tenant: TenantDep, actor: ActorDep) -> Response:
        return file_response(await coverage.export_xlsx(tenant, actor), XLSX, f"coverage-{tenant.slug}.xlsx")

    # the office alone, among the coverage readers
    @post("/people/{person_id:str}/confirmations/waive", guards=[OFFICE], name="confirmations.waive")
    async def confirmation_waive(
        self, request: Request, tenant: TenantDep, actor: ActorDep, person_id: FromPath[str]
    ) -> Response:
        overdue = {"metric": "confirmation_overdue", "group": "", "unit": ""}

        async def on_error(data: dict[str, Any], errors: dict[str, str]) -> Template:
            waiving = (person_id, data.get("period", ""))
            return await _coverage_list(request, tenant, actor, overdue, 422, form=data, errors=errors, waiving=waiving)

        return await submit_form(
            request,
            partial(confirmations.waive, tenant, actor, person_id),
            redirect=lambda w: f"/t/{tenant.slug}/coverage/list?metric=confirmation_overdue&waived={w['period']}",
            on_error=on_error,
        )


class VerifyForm(msgspec.Struct):
    """A verification code, and optionally the PDF to compare with the signed one (here,
    not in schemas: an upload is a Litestar type, which the schemas module does not know)."""

    code: str = ""
    file: UploadFile | None = None


class CatalogApi(Controller):
    path = TENANT_API
    guards = [READERS]

    @get("/duty-catalogs", name="api.catalogs")
    async def api_catalogs(self, tenant: TenantDep) -> list[schemas.Catalog]:
        return msgspec.convert(await catalogs.list_catalogs(tenant), list[schemas.Catalog])

    @get("/duty-catalogs/{catalog_id:str}", name="api.catalog")
    async def api_catalog(self, tenant: TenantDep, catalog_id: FromPath[str]) -> schemas.CatalogDetail:
        return msgspec.convert(await catalogs.catalog_detail(tenant, catalog_id), schemas.CatalogDetail)


class NoticeApi(Controller):
    path = TENANT_API

    @get("/notices", guards=[READERS], name="api.notices.list")
    async def api_notices(
        self, request: Request, tenant: TenantDep, actor: ActorDep, status: FromQuery[str] = "", q: FromQuery[str] = ""
    ) -> schemas.NoticePage:
        p, n = paging(request)
        result = await notices.list_notices(tenant, actor, status=status, q=q, page=p, per_page=n)
        return msgspec.convert(page_json(result), schemas.NoticePage)

    api_issue = api_call(
        post,
        "/notices/issue",
        notices.issue,
        body=schemas.IssueBody,
        answer=schemas.IssueResult,
        guards=[ISSUERS],
        status_code=HTTP_201_CREATED,
        name="api.notices.issue",
    )

    @get("/notices/{notice_id:str}", guards=[any_member], name="api.notices.detail")
    async def api_notice(self, tenant: TenantDep, actor: ActorDep, notice_id: FromPath[str]) -> schemas.NoticeDetail:
        return _detail(await notices.notice_detail(tenant, actor, notice_id))

    @get("/notices/{notice_id:str}/pdf", media_type=PDF, guards=[any_member], name="api.notices.pdf", opt=WRITES)
    async def api_notice_pdf(self, tenant: TenantDep, actor: ActorDep, notice_id: FromPath[str]) -> Response:
        return await _pdf_response(tenant, actor, notice_id)

    @post("/notices/verify", guards=[any_member], name="api.notices.verify")
    async def api_verify(
        self,
        tenant: TenantDep,
        actor: ActorDep,
        data: Annotated[VerifyForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> schemas.Verification:
        pdf = await data.file.read() if data.file is not None else None
        return msgspec.convert(await notices.verify(tenant, actor, data.code, pdf), schemas.Verification)


class PortalApi(Controller):
    """The leader's own notices and confirmations."""

    path = TENANT_API
    guards = [any_member]

    api_my_notices = api_call(get, "/me/notices", notices.my_notices, answer=schemas.MyNotices, name="api.me.notices")

    @post("/me/notices/{notice_id:str}/sign", name="api.me.sign")
    async def api_sign(
        self,
        request: Request,
        tenant: TenantDep,
        actor: ActorDep,
        settings: SettingsDep,
        notice_id: FromPath[str],
        data: JSONBody[schemas.SignBody],
    ) -> schemas.NoticeDetail:
        try:
            signed = await notices.sign(tenant, actor, notice_id, body_data(data))
        except ValidationFailed:
            _remember_reauth_failure(request, tenant, actor, settings, notice_id)
            raise
        return _detail(signed)

    @post("/me/notices/{notice_id:str}/code", name="api.me.code")
    async def api_sign_code(
        self, tenant: TenantDep, actor: ActorDep, settings: SettingsDep, notice_id: FromPath[str]
    ) -> Response[schemas.CodeSent]:
        sent_to, delivery = await notices.send_sign_code(tenant, actor, notice_id, settings)
        # on its way: sent once this has answered (the next tick sends it if this cannot)
        return Response(
            schemas.CodeSent(sent_to=sent_to, status="queued"),
            status_code=HTTP_201_CREATED,
            background=BackgroundTask(dispatch.send_now, tenant, settings, [delivery]),
        )

    @post("/me/confirmations", status_code=HTTP_201_CREATED, name="api.me.confirm")
    async def api_confirm(
        self, tenant: TenantDep, actor: ActorDep, data: JSONBody[schemas.ConfirmationBody]
    ) -> schemas.Confirmation:
        form: dict[str, Any] = {}
        for i, item in enumerate(data.items):
            form[f"done_{i}"] = "" if item.done is None else "yes" if item.done else "no"
            form[f"note_{i}"] = item.note
        return msgspec.convert(await confirmations.submit(tenant, actor, data.period, form), schemas.Confirmation)

    @get("/me/confirmations", name="api.me.confirmations")
    async def api_confirmations(self, tenant: TenantDep, actor: ActorDep) -> schemas.MyConfirmations:
        owed = await confirmations.pending(tenant, actor)
        history = await confirmations.history(tenant, actor.person_id) if actor.person_id else []
        today = units.today(tenant)
        return schemas.MyConfirmations(
            due=None
            if owed is None
            else schemas.DueConfirmation(
                period=owed["period"].key, due_date=owed["period"].due, overdue=owed["overdue"], duties=owed["duties"]
            ),
            # every period owed, oldest first: a missed one stays until confirmed or waived
            owed=[]
            if owed is None
            else [schemas.OwedPeriod(period=p.key, due_date=p.due, overdue=today > p.due) for p in owed["owed"]],
            history=msgspec.convert(history, list[schemas.ConfirmationRecord]),
        )


class CoverageApi(Controller):
    path = TENANT_API
    guards = [COVERAGE]

    api_coverage = api_call(get, "/coverage", coverage.coverage, answer=schemas.Coverage, name="api.coverage")

    @get("/coverage/list", name="api.coverage.list", dependencies=COVERAGE_FILTERS)
    async def api_coverage_list(
        self, tenant: TenantDep, actor: ActorDep, filters: Filters
    ) -> list[schemas.CoverageRow]:
        return msgspec.convert(await coverage.coverage_list(tenant, actor, **filters), list[schemas.CoverageRow])

    # the office alone, among the coverage readers
    api_waive = api_call(
        post,
        "/people/{person_id:str}/confirmation-waivers",
        confirmations.waive,
        body=schemas.WaiverBody,
        answer=schemas.Waiver,
        guards=[OFFICE],
        status_code=HTTP_201_CREATED,
        name="api.confirmations.waive",
    )


ROUTES = [CatalogPages, NoticePages, PortalPages, CoveragePages, CatalogApi, NoticeApi, PortalApi, CoverageApi]
