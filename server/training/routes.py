"""Training pages and API: hours by unit and person, courses, the Excel import."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import Guard

from server import roles
from server.core.errors import ValidationFailed
from server.core.validation import Checker
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.training import schemas, service
from server.units import service as units
from server.web.deps import ActorDep, TenantDep
from server.web.forms import file_response, show_again, submit_form, uploaded_file
from server.web.guards import allow
from server.web.handlers import Action, api_call, named, path_ids, post_form, show_page, template_page, without_fields
from server.web.kept import KEPT
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

READ = allow(roles.REGISTRY_READERS)
EDIT = allow({roles.OFFICE_ADMIN, roles.UNIT_OFFICER})
OFFICE = allow(roles.OFFICE_ADMIN)
PERSON_READ = allow(roles.REGISTRY_READERS | {roles.LEADER})
WRITES = {"writes": True}
COURSE = "/training/courses/{course_id:str}"
PERSON = "/people/{person_id:str}"
MAX_UPLOAD = 5_000_000


class ImportUpload(msgspec.Struct):
    """An attendance workbook (multipart). Here, not in schemas.py: it names Litestar's
    UploadFile. Left out, it is refused with the field's message (422)."""

    file: UploadFile | None = None


def _year(request: Request, tenant: TenantDep) -> int:
    """?year=, or this year when it is missing or not a year the records can hold."""
    current = units.today(tenant).year
    try:
        year = int(request.query_params.get("year") or current)
    except ValueError:
        return current
    return year if 2000 <= year <= current + 1 else current


def _export_year(request: Request, tenant: TenantDep) -> int:
    """?year= (this year when missing) for a download: a wrong one is refused (422, on
    "year"), not taken for this year, since a file does not say which year it holds."""
    current = units.today(tenant).year
    check = Checker({"year": request.query_params.get("year")}, service.LABELS)
    year = check.integer("year", default=current, minimum=2000, maximum=current + 1)
    check.done()
    return year


async def _attendance_file(request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
    """The year's attendance (?year=, ?unit= as the training page reads them) as an
    attendance workbook to correct and import again."""
    year = _export_year(request, tenant)
    content = await service.export_attendance(tenant, actor, year, request.query_params.get("unit") or "")
    name = service.workbook.EXPORT_NAME.format(year=year)
    return file_response(content, XLSX, name, fallback=f"attendance-{year}.xlsx")


async def _upload(request: Request) -> tuple[str, bytes]:
    filename, data = await uploaded_file(request, service.workbook_message("missing"))
    if len(data) > MAX_UPLOAD:
        raise ValidationFailed({"file": service.workbook_message("too_large")})
    return filename, data


async def _index(
    request: Request, tenant: TenantDep, actor: ActorDep, year: int, status: int = 200, unit: str = "", **extra: Any
) -> Template:
    """The training overview of a year (a unit's subtree, or the actor's whole scope)."""
    return page(
        request,
        "training/index.html",
        status,
        year=year,
        unit=unit,
        data=await service.unit_training(tenant, actor, unit or None, year),
        courses=await service.list_courses(tenant, actor, year),
        choices=await units.unit_choices(tenant, actor),
        kinds=service.KINDS,
        **extra,
    )


async def _course_page(
    request: Request, tenant: TenantDep, actor: ActorDep, course_id: str, status: int = 200, **extra: Any
) -> Template:
    people = await units.list_people(tenant, actor, per_page=1_000_000)
    return page(
        request,
        "training/course.html",
        status,
        course=await service.course_detail(tenant, actor, course_id),
        people=people.items,
        kinds=service.KINDS,
        **extra,
    )


_preview_page = template_page("training/preview.html", "import_id", preview=service.import_detail)


class TrainingPages(Controller):
    path = TENANT_PAGES

    @get("/training", guards=[READ], name="training.index", opt=KEPT)
    async def training_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, unit: FromQuery[str] = ""
    ) -> Template:
        return await _index(request, tenant, actor, _year(request, tenant), unit=unit)

    @post("/training/requirements", guards=[OFFICE], name="training.requirements")
    async def training_requirements(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        year = _year(request, tenant)

        async def on_error(_data: dict, errors: dict) -> Template:
            return await _index(request, tenant, actor, year, 422, errors=errors)

        return await submit_form(
            request,
            partial(service.set_requirements, tenant, actor, year),
            redirect=lambda _saved: f"/t/{tenant.slug}/training?year={year}",
            on_error=on_error,
        )

    @post("/training/courses", guards=[EDIT], name="training.course_create")
    async def course_create(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        return await submit_form(
            request,
            partial(service.create_course, tenant, actor),
            redirect=lambda course: f"/t/{tenant.slug}/training/courses/{course['id']}",
            on_error=show_again(_index, request, tenant, actor, _year(request, tenant)),
        )

    course_page = show_page(COURSE, _course_page, guards=[READ], name="training.course")
    course_attend = post_form(
        f"{COURSE}/attendance",
        service.add_attendance,
        guards=[EDIT],
        name="training.attend",
        then="training/courses/{result[id]}",
        again=_course_page,
    )

    @post("/training/attendance/{attendance_id:str}/remove", guards=[EDIT], name="training.unattend")
    async def attendance_remove(self, tenant: TenantDep, actor: ActorDep, attendance_id: FromPath[str]) -> Redirect:
        course_id = await service.remove_attendance(tenant, actor, attendance_id)
        return Redirect(f"/t/{tenant.slug}/training/courses/{course_id}", status_code=303)

    @get("/training/import", guards=[EDIT], name="training.import_form")
    async def import_page(self, request: Request, tenant: TenantDep) -> Template:
        return page(request, "training/import.html", year=_year(request, tenant))

    @post("/training/import", guards=[EDIT], name="training.import")
    async def import_upload(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        year = _year(request, tenant)

        async def preview(_data: dict) -> dict:
            filename, content = await _upload(request)
            return await service.preview_import(tenant, actor, filename, content, year)

        async def on_error(_data: dict, errors: dict) -> Template:
            return page(request, "training/import.html", 422, year=year, errors=errors)

        return await submit_form(
            request,
            preview,
            redirect=lambda made: f"/t/{tenant.slug}/training/imports/{made['id']}",
            on_error=on_error,
        )

    import_preview = show_page(
        "/training/imports/{import_id:str}", _preview_page, guards=[EDIT], name="training.preview"
    )

    import_apply = post_form(
        "/training/imports/{import_id:str}/apply",
        without_fields(service.apply_import),
        guards=[EDIT],
        name="training.apply",
        handler="import_apply",
        then=lambda counts, import_id: f"training/imports/{import_id}?{urlencode(counts)}",
        refused=_preview_page,
    )

    @get("/training/template.xlsx", media_type=XLSX, guards=[EDIT], name="training.template")
    async def template_download(self) -> Response:
        return file_response(service.workbook.attendance_template(), XLSX, "attendance-template.xlsx")

    @get("/training/courses.xlsx", media_type=XLSX, guards=[READ], name="training.courses_export", opt=WRITES)
    async def courses_export(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        year = _year(request, tenant)
        return file_response(await service.export_courses(tenant, actor, year), XLSX, f"courses-{year}.xlsx")

    @get("/training/attendance.xlsx", media_type=XLSX, guards=[READ], name="training.attendance_export", opt=WRITES)
    async def attendance_export(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        return await _attendance_file(request, tenant, actor)

    @get("/training/hours.xlsx", media_type=XLSX, guards=[READ], name="training.hours_export", opt=WRITES)
    async def hours_export(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        year = _year(request, tenant)
        return file_response(await service.export_hours(tenant, actor, year), XLSX, f"training-hours-{year}.xlsx")


def _of_year(handler: str, path: str, call: Action, answer: Any, guard: Guard) -> HTTPRouteHandler:
    """An API read of one year's training (?year=, as `_year` reads it), `call(tenant,
    actor, *ids, year)`, answered as `answer`; named after the path ("api.units.training")."""
    ids = path_ids(path)

    async def read(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Any:
        return msgspec.convert(await call(tenant, actor, *ids(request), _year(request, tenant)), answer)

    read.__annotations__["return"] = answer
    name = "api." + ".".join(part for part in path.split("/") if part and "{" not in part)
    return named(handler, get(path, guards=[guard], name=name), read)


class TrainingApi(Controller):
    path = TENANT_API

    api_person_training = _of_year(
        "api_person_training", f"{PERSON}/training", service.person_training, schemas.PersonTraining, PERSON_READ
    )
    api_unit_training = _of_year(
        "api_unit_training", "/units/{unit_id:str}/training", service.unit_training, schemas.UnitTraining, READ
    )
    api_courses = _of_year("api_courses", "/training/courses", service.list_courses, list[schemas.CourseRow], READ)

    @get("/training/attendance.xlsx", media_type=XLSX, guards=[READ], name="api.training.attendance_export", opt=WRITES)
    async def api_attendance_export(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        return await _attendance_file(request, tenant, actor)

    api_course_create = api_call(
        post,
        "/training/courses",
        service.create_course,
        body=schemas.CourseCreate,
        answer=schemas.CourseDetail,
        guards=[EDIT],
        status_code=HTTP_201_CREATED,
        name="api.training.course_create",
    )

    @post("/training/imports", guards=[EDIT], status_code=HTTP_201_CREATED, name="api.training.import")
    async def api_import(
        self,
        request: Request,
        tenant: TenantDep,
        actor: ActorDep,
        data: Annotated[ImportUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> schemas.ImportPreview:
        # `data` documents the upload; _upload reads it as the page does, with the same messages
        filename, content = await _upload(request)
        preview = await service.preview_import(tenant, actor, filename, content, _year(request, tenant))
        return msgspec.convert(preview, schemas.ImportPreview)

    api_apply = api_call(
        post,
        "/training/imports/{import_id:str}/apply",
        service.apply_import,
        answer=schemas.ImportApplied,
        guards=[EDIT],
        name="api.training.apply",
    )


ROUTES = [TrainingPages, TrainingApi]
