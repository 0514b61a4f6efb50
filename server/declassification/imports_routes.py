"""The register's Excel import as pages and API: upload a workbook, see every row checked
(the items it would add, each bad row's problems), apply it once; and the template."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template
from litestar.status_codes import HTTP_201_CREATED

from server.core.errors import ValidationFailed
from server.declassification import imports, terms
from server.declassification import imports_schemas as schemas
from server.declassification.imports_workbook import LABELS
from server.documents import workbooks
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.web.deps import ActorDep, TenantDep
from server.web.forms import file_response, submit_form, uploaded_file
from server.web.guards import allow
from server.web.handlers import post_form, show_page, template_page, without_fields
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

IMPORTS = "/classified-items/imports"
# one import: its preview, applied once
IMPORT = f"{IMPORTS}/{{classified_import_id:str}}"
# who imports: the office, a unit's officer (the service keeps each to their scope and uploads)
IMPORT_GUARD = allow(imports.IMPORTERS)


class ItemsUpload(msgspec.Struct):
    """A register workbook (multipart). Here, not in the schemas: it names Litestar's
    UploadFile. Left out, it is refused with the field's message (422)."""

    file: UploadFile | None = None


async def _upload(request: Request) -> tuple[str, bytes]:
    filename, data = await uploaded_file(request, workbooks.upload_message("missing"))
    if len(data) > imports.MAX_UPLOAD:
        raise ValidationFailed({"file": workbooks.upload_message("too_large")})
    return filename, data


_preview_page = template_page(
    "declassification/import_preview.html",
    "classified_import_id",
    preview=imports.import_detail,
    labels=LABELS,
    levels=terms.LEVELS,
)


def _applied(counts: dict, classified_import_id: str) -> str:
    """The preview again, saying what the import added."""
    return f"classified-items/imports/{classified_import_id}?{urlencode(counts)}"


class ItemImportPages(Controller):
    path = TENANT_PAGES

    @get(IMPORTS, guards=[IMPORT_GUARD], name="declass.import_form")
    async def import_page(self, request: Request, actor: ActorDep) -> Template:
        imports.must_import(actor)
        return page(request, "declassification/import_upload.html", columns=imports.columns())

    @post(IMPORTS, guards=[IMPORT_GUARD], name="declass.import")
    async def import_upload(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        async def preview(_data: dict) -> dict:
            filename, content = await _upload(request)
            return await imports.preview_import(tenant, actor, filename, content)

        async def on_error(_data: dict, errors: dict) -> Template:
            return page(request, "declassification/import_upload.html", 422, columns=imports.columns(), errors=errors)

        return await submit_form(
            request,
            preview,
            redirect=lambda made: f"/t/{tenant.slug}{IMPORTS}/{made['id']}",
            on_error=on_error,
        )

    @get(f"{IMPORTS}/template.xlsx", media_type=XLSX, guards=[IMPORT_GUARD], name="declass.import_template")
    async def template_download(self) -> Response:
        return file_response(imports.template(), XLSX, "classified-items-template.xlsx")

    import_preview = show_page(
        IMPORT, _preview_page, guards=[IMPORT_GUARD], name="declass.import_preview", handler="import_preview"
    )
    import_apply = post_form(
        f"{IMPORT}/apply",
        without_fields(imports.apply_import),
        guards=[IMPORT_GUARD],
        name="declass.import_apply",
        handler="import_apply",
        then=_applied,
        refused=_preview_page,
    )


def _preview(preview: dict) -> schemas.ItemImportPreview:
    return msgspec.convert(preview, schemas.ItemImportPreview)


class ItemImportApi(Controller):
    path = TENANT_API

    @post(IMPORTS, guards=[IMPORT_GUARD], status_code=HTTP_201_CREATED, name="api.declass.import")
    async def api_import(
        self,
        request: Request,
        tenant: TenantDep,
        actor: ActorDep,
        data: Annotated[ItemsUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> schemas.ItemImportPreview:
        # `data` documents the upload; _upload reads it as the page does, with the same messages
        filename, content = await _upload(request)
        return _preview(await imports.preview_import(tenant, actor, filename, content))

    @get(IMPORT, guards=[IMPORT_GUARD], name="api.declass.import_detail")
    async def api_import_detail(
        self, tenant: TenantDep, actor: ActorDep, classified_import_id: FromPath[str]
    ) -> schemas.ItemImportPreview:
        return _preview(await imports.import_detail(tenant, actor, classified_import_id))

    @post(f"{IMPORT}/apply", guards=[IMPORT_GUARD], name="api.declass.import_apply")
    async def api_apply(
        self, tenant: TenantDep, actor: ActorDep, classified_import_id: FromPath[str]
    ) -> schemas.ItemImportApplied:
        applied = await imports.apply_import(tenant, actor, classified_import_id)
        return msgspec.convert(applied, schemas.ItemImportApplied)


ROUTES = [ItemImportPages, ItemImportApi]
