"""The team's work at a unit, as pages and API: the checklist (area by area, with
evidence), the must-interviews, clues, the team's notes, files and finalising."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from server import roles
from server.core.i18n import _
from server.inspections import checklist, fieldwork
from server.inspections import fieldwork_schemas as schemas
from server.inspections.attachments import download
from server.web.deps import ActorDep, TenantDep
from server.web.forms import body_data, file_response, read_upload, show_again, submit_form
from server.web.guards import allow
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

INSP = "/inspections/{inspection_id:str}"
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


async def _checklist_page(
    request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: str, status: int = 200, **extra: Any
) -> Template:
    row = await fieldwork.readable(tenant, actor, inspection_id)
    return page(
        request,
        "inspections/checklist.html",
        status,
        insp=row,
        tab="checklist",
        areas=await fieldwork.checklist_state(tenant, row),
        results=checklist.RESULTS,
        refusal=await fieldwork.refusal(tenant, actor, row),
        **extra,
    )


async def _interviews_page(
    request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: str, status: int = 200, **extra: Any
) -> Template:
    row = await fieldwork.readable(tenant, actor, inspection_id)
    return page(
        request,
        "inspections/interviews.html",
        status,
        insp=row,
        tab="interviews",
        data=await fieldwork.interviews(tenant, row),
        reasons=fieldwork.REASONS,
        statuses=fieldwork.INTERVIEW_STATUSES,
        refusal=await fieldwork.refusal(tenant, actor, row),
        **extra,
    )


class FieldworkPages(Controller):
    path = TENANT_PAGES

    @get(f"{INSP}/checklist", guards=[READ], name="inspections.checklist")
    async def checklist_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> Template:
        return await _checklist_page(request, tenant, actor, inspection_id)

    @post(f"{INSP}/checklist/{{area:str}}", guards=[RECORD], name="inspections.checklist_area")
    async def checklist_area(
        self, request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str], area: FromPath[str]
    ) -> Response:
        return await submit_form(
            request,
            partial(fieldwork.save_area, tenant, actor, inspection_id, area),
            redirect=lambda _row: f"/t/{tenant.slug}/inspections/{inspection_id}/checklist#area-{area}",
            on_error=show_again(_checklist_page, request, tenant, actor, inspection_id, focus=f"area-{area}"),
        )

    @post(f"{INSP}/checklist/{{item_code:str}}/evidence", guards=[RECORD], name="inspections.item_evidence")
    async def item_evidence(
        self,
        request: Request,
        tenant: TenantDep,
        actor: ActorDep,
        inspection_id: FromPath[str],
        item_code: FromPath[str],
    ) -> Response:
        async def add(data: dict[str, Any]) -> dict:
            filename, content = await _upload(data.get("file"))
            return await fieldwork.add_item_evidence(tenant, actor, inspection_id, item_code, filename, content)

        return await submit_form(
            request,
            add,
            redirect=lambda _file: f"/t/{tenant.slug}/inspections/{inspection_id}/checklist#item-{item_code}",
            on_error=show_again(_checklist_page, request, tenant, actor, inspection_id, focus=f"item-{item_code}"),
        )

    @post(f"{INSP}/team-notes", guards=[RECORD], name="inspections.team_notes")
    async def team_notes(
        self, request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> Response:
        return await submit_form(
            request,
            partial(fieldwork.update_notes, tenant, actor, inspection_id),
            redirect=lambda _notes: f"/t/{tenant.slug}/inspections/{inspection_id}/checklist#notes",
            on_error=show_again(_checklist_page, request, tenant, actor, inspection_id, focus="notes"),
        )

    @get(f"{INSP}/interviews", guards=[READ], name="inspections.interviews")
    async def interviews_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> Template:
        return await _interviews_page(request, tenant, actor, inspection_id)

    @post(f"{INSP}/interviews", guards=[RECORD], name="inspections.interview")
    async def interview_record(
        self, request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> Response:
        async def on_error(data: dict[str, Any], errors: dict[str, str]) -> Template:
            focus = f"p-{data.get('person_id', '')}"
            return await _interviews_page(
                request, tenant, actor, inspection_id, 422, form=data, errors=errors, focus=focus
            )

        return await submit_form(
            request,
            partial(fieldwork.record_interview, tenant, actor, inspection_id),
            redirect=lambda _list: f"/t/{tenant.slug}/inspections/{inspection_id}/interviews",
            on_error=on_error,
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


class FieldworkApi(Controller):
    path = TENANT_API

    @put(f"{INSP}/checklist/{{item_code:str}}", guards=[RECORD], name="api.inspections.checklist_item")
    async def api_result(
        self,
        tenant: TenantDep,
        actor: ActorDep,
        inspection_id: FromPath[str],
        item_code: FromPath[str],
        data: JSONBody[schemas.ResultBody],
    ) -> schemas.ItemState:
        saved = await fieldwork.set_result(tenant, actor, inspection_id, item_code, body_data(data))
        return msgspec.convert(saved, schemas.ItemState)

    @post(
        f"{INSP}/checklist/{{item_code:str}}/evidence",
        guards=[RECORD],
        status_code=HTTP_201_CREATED,
        name="api.inspections.item_evidence",
    )
    async def api_item_evidence(
        self,
        tenant: TenantDep,
        actor: ActorDep,
        inspection_id: FromPath[str],
        item_code: FromPath[str],
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> schemas.FileInfo:
        filename, content = await _upload(data.file)
        added = await fieldwork.add_item_evidence(tenant, actor, inspection_id, item_code, filename, content)
        return msgspec.convert(added, schemas.FileInfo)

    @get(f"{INSP}/interviews", guards=[READ], name="api.inspections.interviews")
    async def api_interviews(
        self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> schemas.Interviews:
        row = await fieldwork.readable(tenant, actor, inspection_id)
        return msgspec.convert(await fieldwork.interviews(tenant, row), schemas.Interviews)

    @post(f"{INSP}/interviews", guards=[RECORD], status_code=200, name="api.inspections.interview")
    async def api_interview(
        self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str], data: JSONBody[schemas.InterviewBody]
    ) -> schemas.Interviews:
        listed = await fieldwork.record_interview(tenant, actor, inspection_id, body_data(data))
        return msgspec.convert(listed, schemas.Interviews)

    @post(
        f"{INSP}/finalise",
        guards=[RECORD],
        status_code=200,
        name="api.inspections.finalise",
    )
    async def api_finalise(self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]) -> schemas.Finalised:
        return msgspec.convert(await fieldwork.finalise(tenant, actor, inspection_id), schemas.Finalised)

    @get(f"{INSP}/clues", guards=[RECORD], name="api.inspections.clues")
    async def api_clues(
        self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> list[schemas.ClueInfo]:
        row = await fieldwork.readable(tenant, actor, inspection_id)
        return msgspec.convert(await fieldwork.clues(tenant, actor, row), list[schemas.ClueInfo])

    @post(f"{INSP}/clues", guards=[RECORD], status_code=HTTP_201_CREATED, name="api.inspections.clue")
    async def api_clue(
        self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str], data: JSONBody[schemas.ClueBody]
    ) -> schemas.ClueInfo:
        return msgspec.convert(
            await fieldwork.add_clue(tenant, actor, inspection_id, body_data(data)), schemas.ClueInfo
        )

    @post(
        f"{INSP}/clues/{{clue_id:str}}/files",
        guards=[RECORD],
        status_code=HTTP_201_CREATED,
        name="api.inspections.clue_file",
    )
    async def api_clue_file(
        self,
        tenant: TenantDep,
        actor: ActorDep,
        inspection_id: FromPath[str],
        clue_id: FromPath[str],
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> schemas.FileInfo:
        filename, content = await _upload(data.file)
        added = await fieldwork.add_clue_file(tenant, actor, inspection_id, clue_id, filename, content)
        return msgspec.convert(added, schemas.FileInfo)

    @put(f"{INSP}/team-notes", guards=[RECORD], name="api.inspections.team_notes")
    async def api_notes(
        self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str], data: JSONBody[schemas.NotesBody]
    ) -> schemas.Notes:
        return msgspec.convert(
            await fieldwork.update_notes(tenant, actor, inspection_id, body_data(data)), schemas.Notes
        )

    @get("/inspection-files/{file_id:str}", guards=[FILES], name="api.inspections.file")
    async def api_file(self, tenant: TenantDep, actor: ActorDep, file_id: FromPath[str]) -> Response:
        filename, content_type, data = await download(tenant, actor, file_id)
        return file_response(data, content_type, filename)


ROUTES = [FieldworkPages, FieldworkApi]
