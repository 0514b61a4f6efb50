"""The team's work at a unit, as pages and API: the checklist (area by area, with
evidence), the must-interviews, clues, the team's notes, files and finalising."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from server import roles
from server.core.i18n import _
from server.inspections import checklist, fieldwork
from server.inspections import fieldwork_schemas as schemas
from server.inspections.attachments import download
from server.web.deps import ActorDep, TenantDep
from server.web.forms import file_response, read_upload, submit_form
from server.web.guards import allow
from server.web.handlers import api_call, named, path_ids, post_form, show_page
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

INSP = "/inspections/{inspection_id:str}"
CHECKLIST = f"{INSP}/checklist"
ITEM_EVIDENCE = f"{CHECKLIST}/{{item_code:str}}/evidence"
# who may read a unit's checklist and interviews (the service narrows it to their units)
READ = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.INSPECTOR})
# who may record on an inspection, and see its clues: the office and the unit's team
RECORD = allow({roles.OFFICE_ADMIN, roles.INSPECTOR})
# who may fetch a file (the service decides by its owner)
FILES = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.INSPECTOR, roles.UNIT_OFFICER})


class FileUpload(msgspec.Struct):
    """One file (multipart). Here, not in the schemas: it names Litestar's UploadFile.
    Left out, it is refused with the field's message (422)."""

    file: UploadFile | None = None


async def _upload(upload: Any) -> tuple[str, bytes]:
    return await read_upload(upload, _("Choose a file to upload."))


async def _optional_upload(upload: Any) -> tuple[str, bytes] | None:
    """A form's file field left empty is no file."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return await _upload(upload)


def _overview(tenant: TenantDep, inspection_id: str, anchor: str = "") -> str:
    return f"/t/{tenant.slug}/inspections/{inspection_id}" + (f"#{anchor}" if anchor else "")


# ---------------------------------------------------------------- pages


async def _tab(
    request: Request,
    tenant: TenantDep,
    actor: ActorDep,
    inspection_id: str,
    tab: str,
    parts: Callable[[dict], Awaitable[dict[str, Any]]],
    status: int,
    extra: dict[str, Any],
) -> Template:
    """One tab of an inspection (its template is named after it): the inspection, the
    `parts` of it the tab shows, and why the actor may not record on it (if so)."""
    row = await fieldwork.readable(tenant, actor, inspection_id)
    return page(
        request,
        f"inspections/{tab}.html",
        status,
        insp=row,
        tab=tab,
        **await parts(row),
        refusal=await fieldwork.refusal(tenant, actor, row),
        **extra,
    )


async def _checklist_page(
    request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: str, status: int = 200, **extra: Any
) -> Template:
    async def parts(row: dict) -> dict[str, Any]:
        return {"areas": await fieldwork.checklist_state(tenant, row), "results": checklist.RESULTS}

    return await _tab(request, tenant, actor, inspection_id, "checklist", parts, status, extra)


async def _interviews_page(
    request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: str, status: int = 200, **extra: Any
) -> Template:
    async def parts(row: dict) -> dict[str, Any]:
        data = await fieldwork.interviews(tenant, row)
        return {"data": data, "reasons": fieldwork.REASONS, "statuses": fieldwork.INTERVIEW_STATUSES}

    return await _tab(request, tenant, actor, inspection_id, "interviews", parts, status, extra)


async def _item_evidence(tenant: TenantDep, actor: ActorDep, inspection_id: str, item_code: str, data: dict) -> dict:
    filename, content = await _upload(data.get("file"))
    return await fieldwork.add_item_evidence(tenant, actor, inspection_id, item_code, filename, content)


def _checklist_form(path: str, action: Callable[..., Awaitable[Any]], name: str, at: str) -> HTTPRouteHandler:
    """A form on the checklist page: on to the page at the form (`at`, formatted with the
    path's parameters), or the page again with the form open and its messages."""
    then = f"inspections/{{inspection_id}}/checklist#{at}"
    return post_form(path, action, guards=[RECORD], name=name, then=then, again=_checklist_page, focus=at)


class FieldworkPages(Controller):
    path = TENANT_PAGES

    checklist_page = show_page(CHECKLIST, _checklist_page, guards=[READ], name="inspections.checklist")
    checklist_area = _checklist_form(
        f"{CHECKLIST}/{{area:str}}", fieldwork.save_area, "inspections.checklist_area", "area-{area}"
    )
    item_evidence = _checklist_form(ITEM_EVIDENCE, _item_evidence, "inspections.item_evidence", "item-{item_code}")
    team_notes = _checklist_form(f"{INSP}/team-notes", fieldwork.update_notes, "inspections.team_notes", "notes")
    interviews_page = show_page(f"{INSP}/interviews", _interviews_page, guards=[READ], name="inspections.interviews")
    interview_record = post_form(
        f"{INSP}/interviews",
        fieldwork.record_interview,
        guards=[RECORD],
        name="inspections.interview",
        then="inspections/{inspection_id}/interviews",
        again=_interviews_page,
        focus=lambda data: f"p-{data.get('person_id', '')}",
    )

    @post(f"{INSP}/clues", guards=[RECORD], name="inspections.clue")
    async def clue_add(
        self, request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> Response:
        # the panel lives on the overview: a wrong clue shows the error page (the form marks the text required)
        async def add(data: dict[str, Any]) -> dict:
            upload = await _optional_upload(data.get("file"))
            return await fieldwork.add_clue(tenant, actor, inspection_id, data, upload)

        return await submit_form(request, add, redirect=lambda _clue: _overview(tenant, inspection_id, "clues"))

    @post(f"{INSP}/finalise", guards=[RECORD], name="inspections.finalise")
    async def finalise(
        self, request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> Response:
        # refused, the overview's finalise panel lists what is missing
        async def refused(_problem: str) -> Redirect:
            return Redirect(_overview(tenant, inspection_id, "finalise"), status_code=303)

        return await submit_form(
            request,
            lambda _data: fieldwork.finalise(tenant, actor, inspection_id),
            redirect=lambda _done: _overview(tenant, inspection_id),
            on_refusal=refused,
        )

    @get("/inspection-files/{file_id:str}", guards=[FILES], name="inspections.file")
    async def file_download(self, tenant: TenantDep, actor: ActorDep, file_id: FromPath[str]) -> Response:
        filename, content_type, data = await download(tenant, actor, file_id)
        return file_response(data, content_type, filename)


# ---------------------------------------------------------------- API


def _file_added(path: str, add: Callable[..., Awaitable[dict]], name: str) -> HTTPRouteHandler:
    """A file (multipart) added to what the path names: `add(tenant, actor, *ids, filename, content)`."""
    ids = path_ids(path)

    async def handler(
        self,
        request: Request,
        tenant: TenantDep,
        actor: ActorDep,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> schemas.FileInfo:
        filename, content = await _upload(data.file)
        return msgspec.convert(await add(tenant, actor, *ids(request), filename, content), schemas.FileInfo)

    return named(name.replace(".", "_"), post(path, guards=[RECORD], status_code=HTTP_201_CREATED, name=name), handler)


class FieldworkApi(Controller):
    path = TENANT_API

    api_result = api_call(
        put,
        f"{CHECKLIST}/{{item_code:str}}",
        fieldwork.set_result,
        body=schemas.ResultBody,
        answer=schemas.ItemState,
        guards=[RECORD],
        name="api.inspections.checklist_item",
    )
    api_item_evidence = _file_added(ITEM_EVIDENCE, fieldwork.add_item_evidence, "api.inspections.item_evidence")

    @get(f"{INSP}/interviews", guards=[READ], name="api.inspections.interviews")
    async def api_interviews(
        self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> schemas.Interviews:
        row = await fieldwork.readable(tenant, actor, inspection_id)
        return msgspec.convert(await fieldwork.interviews(tenant, row), schemas.Interviews)

    api_interview = api_call(
        post,
        f"{INSP}/interviews",
        fieldwork.record_interview,
        body=schemas.InterviewBody,
        answer=schemas.Interviews,
        guards=[RECORD],
        status_code=200,
        name="api.inspections.interview",
    )
    api_finalise = api_call(
        post,
        f"{INSP}/finalise",
        fieldwork.finalise,
        answer=schemas.Finalised,
        guards=[RECORD],
        status_code=200,
        name="api.inspections.finalise",
    )

    @get(f"{INSP}/clues", guards=[RECORD], name="api.inspections.clues")
    async def api_clues(
        self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> list[schemas.ClueInfo]:
        row = await fieldwork.readable(tenant, actor, inspection_id)
        return msgspec.convert(await fieldwork.clues(tenant, actor, row), list[schemas.ClueInfo])

    api_clue = api_call(
        post,
        f"{INSP}/clues",
        fieldwork.add_clue,
        body=schemas.ClueBody,
        answer=schemas.ClueInfo,
        guards=[RECORD],
        status_code=HTTP_201_CREATED,
        name="api.inspections.clue",
    )
    api_clue_file = _file_added(
        f"{INSP}/clues/{{clue_id:str}}/files", fieldwork.add_clue_file, "api.inspections.clue_file"
    )
    api_notes = api_call(
        put,
        f"{INSP}/team-notes",
        fieldwork.update_notes,
        body=schemas.NotesBody,
        answer=schemas.Notes,
        guards=[RECORD],
        name="api.inspections.team_notes",
    )

    @get("/inspection-files/{file_id:str}", guards=[FILES], name="api.inspections.file")
    async def api_file(self, tenant: TenantDep, actor: ActorDep, file_id: FromPath[str]) -> Response:
        filename, content_type, data = await download(tenant, actor, file_id)
        return file_response(data, content_type, filename)


ROUTES = [FieldworkPages, FieldworkApi]
