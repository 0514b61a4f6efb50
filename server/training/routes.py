"""Training pages and API: hours by unit and person, courses, the Excel import."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from server.accounts import roles
from server.core.errors import Conflict, ValidationFailed
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.training import service
from server.units import service as units
from server.web.forms import file_response, form_data, submit_form, uploaded_file
from server.web.guards import allow
from server.web.templating import page

T = "/t/{slug:str}"
API = "/api/v1/t/{slug:str}"
READ = allow(roles.REGISTRY_READERS)
EDIT = allow({roles.OFFICE_ADMIN, roles.UNIT_OFFICER})
OFFICE = allow(roles.OFFICE_ADMIN)
PERSON_READ = allow(roles.REGISTRY_READERS | {roles.LEADER})
MAX_UPLOAD = 5_000_000


def _ctx(request: Request):
    edge = request.state.edge
    return edge.tenant, edge.actor


def _year(request: Request) -> int:
    tenant, _actor = _ctx(request)
    current = units.today(tenant).year
    try:
        year = int(request.query_params.get("year") or current)
    except ValueError:
        return current
    return year if 2000 <= year <= current + 1 else current


def _xlsx(content: bytes, name: str) -> Response:
    return file_response(content, XLSX, name)


async def _upload(request: Request) -> tuple[str, bytes]:
    filename, data = await uploaded_file(request, service.workbook_message("missing"))
    if len(data) > MAX_UPLOAD:
        raise ValidationFailed({"file": service.workbook_message("too_large")})
    return filename, data


# ---------------------------------------------------------------- pages


@get(f"{T}/training", guards=[READ], name="training.index")
async def training_page(request: Request, unit: FromQuery[str] = "") -> Template:
    tenant, actor = _ctx(request)
    year = _year(request)
    return page(
        request,
        "training/index.html",
        year=year,
        unit=unit,
        data=await service.unit_training(tenant, actor, unit or None, year),
        courses=await service.list_courses(tenant, actor, year),
        choices=await units.unit_choices(tenant, actor),
        kinds=service.KINDS,
    )


@post(f"{T}/training/requirements", guards=[OFFICE], name="training.requirements")
async def training_requirements(request: Request) -> Response:
    tenant, actor = _ctx(request)
    year = _year(request)
    data = await form_data(request)
    try:
        await service.set_requirements(tenant, actor, year, data)
    except ValidationFailed as exc:
        return page(
            request,
            "training/index.html",
            422,
            year=year,
            unit="",
            errors=exc.errors,
            data=await service.unit_training(tenant, actor, None, year),
            courses=await service.list_courses(tenant, actor, year),
            choices=await units.unit_choices(tenant, actor),
            kinds=service.KINDS,
        )
    return Redirect(f"/t/{tenant.slug}/training?year={year}", status_code=303)


@post(f"{T}/training/courses", guards=[EDIT], name="training.course_create")
async def course_create(request: Request) -> Response:
    tenant, actor = _ctx(request)

    async def on_error(data: dict, errors: dict) -> Template:
        year = _year(request)
        return page(
            request,
            "training/index.html",
            422,
            year=year,
            unit="",
            form=data,
            errors=errors,
            data=await service.unit_training(tenant, actor, None, year),
            courses=await service.list_courses(tenant, actor, year),
            choices=await units.unit_choices(tenant, actor),
            kinds=service.KINDS,
        )

    return await submit_form(
        request,
        lambda data: service.create_course(tenant, actor, data),
        redirect=lambda c: f"/t/{tenant.slug}/training/courses/{c['id']}",
        on_error=on_error,
    )


async def _course_page(request: Request, course_id: str, status: int = 200, **extra: Any) -> Template:
    tenant, actor = _ctx(request)
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


@get(f"{T}/training/courses/{{course_id:str}}", guards=[READ], name="training.course")
async def course_page(request: Request, course_id: FromPath[str]) -> Template:
    return await _course_page(request, course_id)


@post(f"{T}/training/courses/{{course_id:str}}/attendance", guards=[EDIT], name="training.attend")
async def course_attend(request: Request, course_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)

    async def on_error(data: dict, errors: dict) -> Template:
        return await _course_page(request, course_id, 422, form=data, errors=errors)

    return await submit_form(
        request,
        lambda data: service.add_attendance(tenant, actor, course_id, data),
        redirect=lambda c: f"/t/{tenant.slug}/training/courses/{c['id']}",
        on_error=on_error,
    )


@post(f"{T}/training/attendance/{{attendance_id:str}}/remove", guards=[EDIT], name="training.unattend")
async def attendance_remove(request: Request, attendance_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    course_id = await service.remove_attendance(tenant, actor, attendance_id)
    return Redirect(f"/t/{tenant.slug}/training/courses/{course_id}", status_code=303)


@get(f"{T}/training/import", guards=[EDIT], name="training.import_form")
async def import_page(request: Request) -> Template:
    return page(request, "training/import.html", year=_year(request))


@post(f"{T}/training/import", guards=[EDIT], name="training.import")
async def import_upload(request: Request) -> Response:
    tenant, actor = _ctx(request)
    year = _year(request)
    try:
        filename, data = await _upload(request)
        preview = await service.preview_import(tenant, actor, filename, data, year)
    except ValidationFailed as exc:
        return page(request, "training/import.html", 422, year=year, errors=exc.errors)
    return Redirect(f"/t/{tenant.slug}/training/imports/{preview['id']}", status_code=303)


@get(f"{T}/training/imports/{{import_id:str}}", guards=[EDIT], name="training.preview")
async def import_preview(request: Request, import_id: FromPath[str]) -> Template:
    tenant, actor = _ctx(request)
    return page(request, "training/preview.html", preview=await service.import_detail(tenant, actor, import_id))


@post(f"{T}/training/imports/{{import_id:str}}/apply", guards=[EDIT], name="training.apply")
async def import_apply(request: Request, import_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    try:
        result = await service.apply_import(tenant, actor, import_id)
    except Conflict as exc:
        return page(
            request,
            "training/preview.html",
            409,
            preview=await service.import_detail(tenant, actor, import_id),
            problem=exc.message,
        )
    query = "&".join(f"{k}={v}" for k, v in result.items())
    return Redirect(f"/t/{tenant.slug}/training/imports/{import_id}?{query}", status_code=303)


@get(f"{T}/training/template.xlsx", media_type=XLSX, guards=[EDIT], name="training.template")
async def template_download(request: Request) -> Response:
    return _xlsx(service.workbook.attendance_template(), "attendance-template.xlsx")


@get(f"{T}/training/courses.xlsx", media_type=XLSX, guards=[READ], name="training.courses_export", opt={"writes": True})
async def courses_export(request: Request) -> Response:
    tenant, actor = _ctx(request)
    year = _year(request)
    return _xlsx(await service.export_courses(tenant, actor, year), f"courses-{year}.xlsx")


@get(f"{T}/training/hours.xlsx", media_type=XLSX, guards=[READ], name="training.hours_export", opt={"writes": True})
async def hours_export(request: Request) -> Response:
    tenant, actor = _ctx(request)
    year = _year(request)
    return _xlsx(await service.export_hours(tenant, actor, year), f"training-hours-{year}.xlsx")


# ---------------------------------------------------------------- API


@get(f"{API}/people/{{person_id:str}}/training", guards=[PERSON_READ], name="api.people.training")
async def api_person_training(request: Request, person_id: FromPath[str]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.person_training(tenant, actor, person_id, _year(request))


@get(f"{API}/units/{{unit_id:str}}/training", guards=[READ], name="api.units.training")
async def api_unit_training(request: Request, unit_id: FromPath[str]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.unit_training(tenant, actor, unit_id, _year(request))


@get(f"{API}/training/courses", guards=[READ], name="api.training.courses")
async def api_courses(request: Request) -> list[dict[str, Any]]:
    tenant, actor = _ctx(request)
    return await service.list_courses(tenant, actor, _year(request))


@post(f"{API}/training/courses", guards=[EDIT], status_code=HTTP_201_CREATED, name="api.training.course_create")
async def api_course_create(request: Request, data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.create_course(tenant, actor, data)


@post(f"{API}/training/imports", guards=[EDIT], status_code=HTTP_201_CREATED, name="api.training.import")
async def api_import(
    request: Request, data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    filename, content = await _upload(request)
    return await service.preview_import(tenant, actor, filename, content, _year(request))


@post(f"{API}/training/imports/{{import_id:str}}/apply", guards=[EDIT], name="api.training.apply")
async def api_apply(request: Request, import_id: FromPath[str]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.apply_import(tenant, actor, import_id)


ROUTES = [
    training_page,
    training_requirements,
    course_create,
    course_page,
    course_attend,
    attendance_remove,
    import_page,
    import_upload,
    import_preview,
    import_apply,
    template_download,
    courses_export,
    hours_export,
    api_person_training,
    api_unit_training,
    api_courses,
    api_course_create,
    api_import,
    api_apply,
]
