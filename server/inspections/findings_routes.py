"""Findings as pages and API: an inspection's findings and the form to record one, the
findings in the actor's scope (the unit officer's list of rectifications to do), one
finding with its history, the rectification upload, the verdict and comments."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, JSONBody
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import Guard

from server import roles
from server.core.errors import ValidationFailed
from server.core.i18n import _
from server.inspections import checklist, findings, rounds
from server.inspections import findings_schemas as schemas
from server.inspections.access import OFFICE, TEAM
from server.web.deps import ActorDep, TenantDep
from server.web.forms import (
    body_data,
    page_json,
    paging,
    read_upload,
    show_again,
    show_refusal,
    submit_form,
)
from server.web.guards import allow
from server.web.handlers import list_page, show_page, template_page
from server.web.registry import named
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

INSP = "/inspections/{inspection_id:str}"
ONE = "/findings/{finding_id:str}"
# who sees findings (the service narrows it to their units); a district admin only reads
READ = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.INSPECTOR, roles.UNIT_OFFICER})
# one finding: its unit's leaders too (their portal lists it, an escalated reminder links it)
READ_ONE = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.INSPECTOR, roles.UNIT_OFFICER, roles.LEADER})
RECORD = allow({roles.OFFICE_ADMIN, roles.INSPECTOR})
ACT = allow({roles.OFFICE_ADMIN, roles.INSPECTOR, roles.UNIT_OFFICER})
SUBMIT = allow({roles.OFFICE_ADMIN, roles.UNIT_OFFICER})
FILTERS = ("state", "overdue", "round")


@dataclass
class RectificationBody(Operation):
    """The rectification's body as the OpenAPI document shows it: multipart (a note and
    files) or JSON (a note alone). The handler reads either itself: Litestar parses a
    declared body one way only."""

    def __post_init__(self) -> None:
        note = Schema(type=OpenAPIType.STRING, description="what was done")
        files = Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
        self.request_body = RequestBody(
            required=True,
            content={
                "multipart/form-data": OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.OBJECT, required=["note"], properties={"note": note, "files": files})
                ),
                "application/json": OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.OBJECT, required=["note"], properties={"note": note})
                ),
            },
        )


async def _rectification(request: Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The note (and files) of a rectification posted as multipart or as JSON."""
    if request.content_type[0] == "application/json":
        try:
            return body_data(msgspec.json.decode(await request.body(), type=schemas.Note)), []
        except msgspec.DecodeError as exc:
            raise ValidationFailed({"body": _("The request body is not valid JSON of the expected shape.")}) from exc
    form = await request.form()
    return ({"note": form["note"]} if "note" in form else {}), await _files(request)


async def _files(request: Request) -> list[tuple[str, bytes]]:
    """The files of a multipart post (a form's empty file field is none)."""
    form = await request.form()
    uploads = [u for u in form.getall("files") if isinstance(u, UploadFile) and u.filename] if "files" in form else []
    return [await read_upload(u, _("Choose a file to upload.")) for u in uploads]


def _query(request: Request) -> dict[str, Any]:
    return {k: request.query_params.get(k) for k in FILTERS if request.query_params.get(k) is not None}


def _finding_url(tenant: TenantDep, finding: dict) -> str:
    return f"/t/{tenant.slug}/findings/{finding['id']}"


# ---------------------------------------------------------------- pages


async def _inspection_page(
    request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: str, status: int = 200, **extra: Any
) -> Template:
    insp, found = await findings.inspection_findings(tenant, actor, inspection_id)
    recording = insp["view"] in (OFFICE, TEAM) and insp["status"] != "finalised"
    return page(
        request,
        "inspections/findings.html",
        status,
        insp=insp,
        tab="findings",
        findings=found,
        recording=recording,
        areas=checklist.items_by_area(insp["checklist"]) if recording else [],
        devices=await findings.unit_devices(tenant, insp["unit"]) if recording else [],
        codes=checklist,
        **extra,
    )


async def _list_page(request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
    return await list_page(
        request,
        "inspections/findings_list.html",
        partial(findings.list_findings, tenant, actor),
        _query(request),
        rounds=await rounds.list_rounds(tenant, actor),
        states=checklist.STATES,
    )


_finding_page = template_page("inspections/finding.html", "finding_id", f=findings.finding_detail)


def _form(
    form: str, call: Callable[..., Awaitable[dict]], guard: Guard, *, path: str = "", files: bool = False
) -> HTTPRouteHandler:
    """A form on the finding's page, posted to the finding's `path` (default: the form's
    name): its fields (and its files, when it takes them) go to one service call; back to
    the page, or the page again with the form's messages (422) or why the change was
    refused (409)."""

    async def handler(
        self, request: Request, tenant: TenantDep, actor: ActorDep, finding_id: FromPath[str]
    ) -> Response:
        async def action(data: dict) -> dict:
            uploaded = [await _files(request)] if files else []
            return await call(tenant, actor, finding_id, data, *uploaded)

        return await submit_form(
            request,
            action,
            redirect=partial(_finding_url, tenant),
            on_error=show_again(_finding_page, request, tenant, actor, finding_id, focus=form),
            on_refusal=show_refusal(_finding_page, request, tenant, actor, finding_id),
        )

    return post(f"{ONE}/{path or form}", guards=[guard], name=f"findings.{form}")(named(handler, f"finding_{form}"))


class FindingPages(Controller):
    path = TENANT_PAGES

    inspection_findings_page = show_page(
        f"{INSP}/findings",
        _inspection_page,
        guards=[READ],
        name="inspections.findings",
        handler="inspection_findings_page",
    )

    @post(f"{INSP}/findings", guards=[RECORD], name="inspections.finding_create")
    async def finding_create(
        self, request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> Response:
        async def record(data: dict) -> dict:
            return await findings.create_finding(tenant, actor, inspection_id, data, await _files(request))

        return await submit_form(
            request,
            record,
            redirect=partial(_finding_url, tenant),
            on_error=show_again(_inspection_page, request, tenant, actor, inspection_id),
        )

    findings_page = show_page("/findings", _list_page, guards=[READ], name="findings.index", handler="findings_page")
    finding_page = show_page(ONE, _finding_page, guards=[READ_ONE], name="findings.finding", handler="finding_page")

    finding_start = _form("start", findings.start, ACT)
    finding_rectification = _form("rectification", findings.submit, SUBMIT, files=True)
    finding_verify = _form("verify", findings.verify, RECORD)
    finding_comment = _form("comment", findings.comment, ACT, path="comments")


# ---------------------------------------------------------------- API


def _detail(found: dict) -> schemas.FindingDetail:
    return msgspec.convert(found, schemas.FindingDetail)


class FindingApi(Controller):
    path = TENANT_API

    @get(f"{INSP}/findings", guards=[READ], name="api.inspections.findings")
    async def api_inspection_findings(
        self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> list[schemas.FindingRow]:
        _insp, found = await findings.inspection_findings(tenant, actor, inspection_id)
        return msgspec.convert(found, list[schemas.FindingRow])

    @post(f"{INSP}/findings", guards=[RECORD], status_code=HTTP_201_CREATED, name="api.inspections.finding_create")
    async def api_finding_create(
        self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str], data: JSONBody[schemas.FindingCreate]
    ) -> schemas.FindingDetail:
        return _detail(await findings.create_finding(tenant, actor, inspection_id, body_data(data)))

    @get("/findings", guards=[READ], name="api.findings")
    async def api_findings(self, request: Request, tenant: TenantDep, actor: ActorDep) -> schemas.FindingPage:
        p, n = paging(request)
        result = await findings.list_findings(tenant, actor, _query(request), p, n)
        return msgspec.convert(page_json(result), schemas.FindingPage)

    @get(ONE, guards=[READ_ONE], name="api.finding")
    async def api_finding(self, tenant: TenantDep, actor: ActorDep, finding_id: FromPath[str]) -> schemas.FindingDetail:
        return _detail(await findings.finding_detail(tenant, actor, finding_id))

    @post(f"{ONE}/start", guards=[ACT], status_code=HTTP_200_OK, name="api.finding_start")
    async def api_start(
        self, tenant: TenantDep, actor: ActorDep, finding_id: FromPath[str], data: JSONBody[schemas.Note]
    ) -> schemas.FindingDetail:
        return _detail(await findings.start(tenant, actor, finding_id, body_data(data)))

    @post(
        f"{ONE}/rectification",
        guards=[SUBMIT],
        status_code=HTTP_200_OK,
        name="api.finding_rectification",
        operation_class=RectificationBody,
    )
    async def api_rectification(
        self, request: Request, tenant: TenantDep, actor: ActorDep, finding_id: FromPath[str]
    ) -> schemas.FindingDetail:
        """What was done: a note and files (multipart), or a note alone as JSON {"note": …}."""
        note, files = await _rectification(request)
        return _detail(await findings.submit(tenant, actor, finding_id, note, files))

    @post(f"{ONE}/verify", guards=[RECORD], status_code=HTTP_200_OK, name="api.finding_verify")
    async def api_verify(
        self, tenant: TenantDep, actor: ActorDep, finding_id: FromPath[str], data: JSONBody[schemas.Verdict]
    ) -> schemas.FindingDetail:
        return _detail(await findings.verify(tenant, actor, finding_id, body_data(data)))

    @post(f"{ONE}/comments", guards=[ACT], status_code=HTTP_201_CREATED, name="api.finding_comment")
    async def api_comment(
        self, tenant: TenantDep, actor: ActorDep, finding_id: FromPath[str], data: JSONBody[schemas.Note]
    ) -> schemas.FindingDetail:
        return _detail(await findings.comment(tenant, actor, finding_id, body_data(data)))


ROUTES = [FindingPages, FindingApi]
