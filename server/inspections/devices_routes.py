"""The technical check as pages and API: a unit's device register (with its Excel
import), the inspection's sample, each drawn device's result and the measures taken."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, NamedTuple
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server import roles
from server.core.errors import ValidationFailed
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.inspections import checklist, devices, devices_import
from server.inspections import devices_schemas as schemas
from server.web.deps import ActorDep, TenantDep
from server.web.forms import file_response, show_again, show_refusal, submit_form, uploaded_file
from server.web.guards import allow
from server.web.handlers import Action, api_call, post_form, show_page, template_page
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

INSP = "/inspections/{inspection_id:str}"
UNIT = "/units/{unit_id:str}/devices"
# one import of a unit's register: its preview, applied once
IMPORT = f"{UNIT}/imports/{{device_import_id:str}}"
# who may read a register: the registry's readers (the service keeps each to their scope)
READ = allow(roles.REGISTRY_READERS)
# who keeps a register: the unit's officer, the district, the office (within their scope)
KEEP = allow(devices.KEEPERS)
# who sees the technical check (the service narrows inspectors to their teams' units)
INSPECT = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.INSPECTOR})
# who draws and records: the office and the unit's team
RECORD = allow({roles.OFFICE_ADMIN, roles.INSPECTOR})
# a transfer's receipt: whoever sees the inspection's measures, the unit's officer too
RECEIPT = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.INSPECTOR, roles.UNIT_OFFICER})
MAX_UPLOAD = 5_000_000
DEVICE = "/devices/{device_id:str}"


class ImportRef(NamedTuple):
    """The import a route under IMPORT names: the unit's, and its own id."""

    unit_id: str
    import_id: str


def _import_ref(unit_id: FromPath[str], device_import_id: FromPath[str]) -> ImportRef:
    return ImportRef(unit_id, device_import_id)


# the routes under IMPORT hand their handlers the import as one value, `ref`
BY_IMPORT = {"ref": Provide(_import_ref, sync_to_thread=False)}
ImportDep = NamedDependency[ImportRef]


class RegisterUpload(msgspec.Struct):
    """A device register workbook (multipart). Here, not in the schemas: it names
    Litestar's UploadFile. Left out, it is refused with the field's message (422)."""

    file: UploadFile | None = None


async def _upload(request: Request) -> tuple[str, bytes]:
    filename, data = await uploaded_file(request, devices_import.workbook_message("missing"))
    if len(data) > MAX_UPLOAD:
        raise ValidationFailed({"file": devices_import.workbook_message("too_large")})
    return filename, data


def _register_url(tenant: TenantDep, unit_id: str, anchor: str = "") -> str:
    return f"/t/{tenant.slug}/units/{unit_id}/devices" + (f"#{anchor}" if anchor else "")


def _measure_place(measure: dict, inspection_id: str) -> str:
    """A measure taken: its device's on the technical page, or the inspection's measures."""
    anchor = f"d-{measure['device_id']}" if measure["device_id"] else "measures"
    return f"inspections/{inspection_id}/technical#{anchor}"


# ---------------------------------------------------------------- pages


_register_page = template_page(
    "inspections/devices.html", "unit_id", reg=devices.register, kinds=checklist.DEVICE_KINDS
)


async def _device_page(
    request: Request, tenant: TenantDep, actor: ActorDep, device_id: str, status: int = 200, **extra: Any
) -> Template:
    device = await devices.device_detail(tenant, actor, device_id)
    extra.setdefault("form", device)
    return page(request, "inspections/device_form.html", status, device=device, kinds=checklist.DEVICE_KINDS, **extra)


async def _preview_page(
    request: Request, tenant: TenantDep, actor: ActorDep, ref: ImportRef, status: int = 200, **extra: Any
) -> Template:
    preview = await devices_import.import_detail(tenant, actor, *ref)
    return page(
        request,
        "inspections/device_import.html",
        status,
        preview=preview,
        kinds=checklist.DEVICE_KINDS,
        labels=devices.LABELS,
        **extra,
    )


async def _technical_page(
    request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: str, status: int = 200, **extra: Any
) -> Template:
    data = await devices.technical(tenant, actor, inspection_id)
    return page(
        request,
        "inspections/technical.html",
        status,
        **data,
        tab="technical",
        kinds=checklist.DEVICE_KINDS,
        results=checklist.DEVICE_RESULTS,
        measures=checklist.MEASURES,
        labels=devices.LABELS,
        **extra,
    )


def _technical_form(
    path: str, action: Action, name: str, *, then: str | Callable[..., str], focus: Any, **options: Any
) -> HTTPRouteHandler:
    """A form on the technical page, posted to the inspection's `path`: on to the page at
    `then` (an anchor of it, or a place made as post_form makes one), or the page again
    with the form `focus` open and its messages."""
    place = then if callable(then) else f"inspections/{{inspection_id}}/technical#{then}"
    return post_form(
        f"{INSP}/{path}", action, guards=[RECORD], name=name, then=place, again=_technical_page, focus=focus, **options
    )


class DevicePages(Controller):
    path = TENANT_PAGES

    register_page = show_page(UNIT, _register_page, guards=[READ], name="devices.register")
    device_create = post_form(
        UNIT,
        devices.create_device,
        guards=[KEEP],
        name="devices.create",
        then="units/{unit_id}/devices#d-{result[id]}",
        again=_register_page,
        focus="add",
    )
    device_edit = show_page(f"{DEVICE}/edit", _device_page, guards=[KEEP], name="devices.edit")
    device_update = post_form(
        DEVICE,
        devices.update_device,
        guards=[KEEP],
        name="devices.update",
        then="units/{result[unit_id]}/devices#d-{result[id]}",
        again=_device_page,
    )

    @post("/devices/{device_id:str}/delete", guards=[KEEP], name="devices.delete")
    async def device_delete(self, tenant: TenantDep, actor: ActorDep, device_id: FromPath[str]) -> Redirect:
        unit_id = await devices.delete_device(tenant, actor, device_id)
        return Redirect(_register_url(tenant, unit_id), status_code=303)

    @post(f"{UNIT}/import", guards=[KEEP], name="devices.import")
    async def import_upload(
        self, request: Request, tenant: TenantDep, actor: ActorDep, unit_id: FromPath[str]
    ) -> Response:
        async def preview(_data: dict) -> dict:
            filename, content = await _upload(request)
            return await devices_import.preview_import(tenant, actor, unit_id, filename, content)

        return await submit_form(
            request,
            preview,
            redirect=lambda made: f"/t/{tenant.slug}/units/{unit_id}/devices/imports/{made['id']}",
            on_error=show_again(_register_page, request, tenant, actor, unit_id, focus="import"),
        )

    @get(IMPORT, guards=[KEEP], name="devices.preview", dependencies=BY_IMPORT)
    async def import_preview(self, request: Request, tenant: TenantDep, actor: ActorDep, ref: ImportDep) -> Template:
        return await _preview_page(request, tenant, actor, ref)

    @post(f"{IMPORT}/apply", guards=[KEEP], name="devices.apply", dependencies=BY_IMPORT)
    async def import_apply(self, request: Request, tenant: TenantDep, actor: ActorDep, ref: ImportDep) -> Response:
        return await submit_form(
            request,
            lambda _data: devices_import.apply_import(tenant, actor, *ref),
            redirect=lambda counts: (
                f"/t/{tenant.slug}/units/{ref.unit_id}/devices/imports/{ref.import_id}?{urlencode(counts)}"
            ),
            on_refusal=show_refusal(_preview_page, request, tenant, actor, ref),
        )

    @get("/devices/template.xlsx", media_type=XLSX, guards=[KEEP], name="devices.template")
    async def template_download(self) -> Response:
        return file_response(devices_import.template(), XLSX, "device-register-template.xlsx")

    technical_page = show_page(f"{INSP}/technical", _technical_page, guards=[INSPECT], name="inspections.technical")
    sample_draw = _technical_form(
        "sample", devices.draw, "inspections.sample", then="sample", focus="draw", refused=_technical_page
    )
    device_result = _technical_form(
        "devices/{device_id:str}",
        devices.record_device,
        "inspections.device_result",
        then="d-{device_id}",
        focus="d-{device_id}",
    )
    measure_add = _technical_form(
        "measures",
        devices.add_measure,
        "inspections.measure",
        then=_measure_place,
        # the form that failed: its device's, of its kind
        focus=lambda data: f"m-{data.get('device_id', '')}-{data.get('kind', '')}",
    )

    @get(f"{INSP}/measures/{{measure_id:str}}/receipt", guards=[RECEIPT], name="inspections.receipt")
    async def receipt_page(
        self,
        request: Request,
        tenant: TenantDep,
        actor: ActorDep,
        inspection_id: FromPath[str],
        measure_id: FromPath[str],
    ) -> Template:
        data = await devices.receipt(tenant, actor, inspection_id, measure_id)
        return page(request, "inspections/device_receipt.html", **data)


# ---------------------------------------------------------------- API


def _preview(preview: dict) -> schemas.DeviceImportPreview:
    return msgspec.convert(preview, schemas.DeviceImportPreview)


class DeviceApi(Controller):
    path = TENANT_API

    api_devices = api_call(
        get, UNIT, devices.list_devices, answer=list[schemas.Device], guards=[READ], name="api.devices"
    )
    api_device_create = api_call(
        post,
        UNIT,
        devices.create_device,
        body=schemas.DeviceCreate,
        answer=schemas.Device,
        guards=[KEEP],
        status_code=HTTP_201_CREATED,
        name="api.device_create",
    )
    api_device_update = api_call(
        patch,
        DEVICE,
        devices.update_device,
        body=schemas.DeviceUpdate,
        answer=schemas.Device,
        guards=[KEEP],
        name="api.device_update",
    )

    @delete(DEVICE, guards=[KEEP], status_code=HTTP_204_NO_CONTENT, name="api.device_delete")
    async def api_device_delete(self, tenant: TenantDep, actor: ActorDep, device_id: FromPath[str]) -> None:
        await devices.delete_device(tenant, actor, device_id)

    @post(f"{UNIT}/imports", guards=[KEEP], status_code=HTTP_201_CREATED, name="api.device_import")
    async def api_import(
        self,
        request: Request,
        tenant: TenantDep,
        actor: ActorDep,
        unit_id: FromPath[str],
        data: Annotated[RegisterUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> schemas.DeviceImportPreview:
        # `data` documents the upload; _upload reads it as the page does, with the same messages
        filename, content = await _upload(request)
        return _preview(await devices_import.preview_import(tenant, actor, unit_id, filename, content))

    @get(IMPORT, guards=[KEEP], name="api.device_import_detail", dependencies=BY_IMPORT)
    async def api_import_detail(
        self, tenant: TenantDep, actor: ActorDep, ref: ImportDep
    ) -> schemas.DeviceImportPreview:
        return _preview(await devices_import.import_detail(tenant, actor, *ref))

    @post(f"{IMPORT}/apply", guards=[KEEP], name="api.device_import_apply", dependencies=BY_IMPORT)
    async def api_apply(self, tenant: TenantDep, actor: ActorDep, ref: ImportDep) -> schemas.DeviceImportApplied:
        return msgspec.convert(await devices_import.apply_import(tenant, actor, *ref), schemas.DeviceImportApplied)

    api_sample = api_call(
        get, f"{INSP}/sample", devices.sample, answer=schemas.Sample, guards=[INSPECT], name="api.inspection_sample"
    )
    api_sample_draw = api_call(
        post,
        f"{INSP}/sample",
        devices.draw,
        body=schemas.SampleDraw,
        answer=schemas.Sample,
        guards=[RECORD],
        status_code=HTTP_201_CREATED,
        name="api.inspection_sample_draw",
    )

    @put(f"{INSP}/devices/{{device_id:str}}", guards=[RECORD], name="api.inspection_device_result")
    async def api_device_result(
        self,
        tenant: TenantDep,
        actor: ActorDep,
        inspection_id: FromPath[str],
        device_id: FromPath[str],
        data: JSONBody[schemas.DeviceResult],
    ) -> schemas.SampleDevice:
        device = await devices.record_device(tenant, actor, inspection_id, device_id, msgspec.to_builtins(data))
        return msgspec.convert(device, schemas.SampleDevice)

    @post(f"{INSP}/measures", guards=[RECORD], status_code=HTTP_201_CREATED, name="api.inspection_measure")
    async def api_measure(
        self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str], data: JSONBody[schemas.MeasureCreate]
    ) -> schemas.Measure:
        measure = await devices.add_measure(tenant, actor, inspection_id, msgspec.to_builtins(data))
        return msgspec.convert(measure, schemas.Measure)


ROUTES = [DevicePages, DeviceApi]
