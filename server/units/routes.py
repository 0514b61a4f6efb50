"""Unit and people pages, and the same data under /api/v1. Thin: parse, call the
service, render."""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.accounts import roles
from server.core.errors import Conflict
from server.core.pagination import page_args
from server.units import service
from server.units.schemas import PersonCreate, PersonPatch, PostCreate, PostEnd, UnitCreate, UnitPatch
from server.web import pages
from server.web.forms import body_data, is_htmx, page_json, submit_form
from server.web.guards import allow
from server.web.templating import page

READ = allow(roles.REGISTRY_READERS)
EDIT_UNITS = allow(roles.UNIT_EDITORS)
EDIT_PEOPLE = allow(roles.PEOPLE_EDITORS)
PERSON_READ = allow(roles.REGISTRY_READERS | {roles.LEADER})

T = "/t/{slug:str}"
API = "/api/v1/t/{slug:str}"


def _ctx(request: Request):
    edge = request.state.edge
    return edge.tenant, edge.actor


# ---------------------------------------------------------------- unit pages


@get(f"{T}/units", guards=[READ], name="units.list")
async def units_page(
    request: Request,
    q: FromQuery[str] = "",
    kind: FromQuery[str] = "",
    within: FromQuery[str] = "",
    gap: FromQuery[str] = "",
) -> Template:
    tenant, actor = _ctx(request)
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    result = await service.list_units(tenant, actor, q=q.strip(), kind=kind, within=within, gap=gap, page=p, per_page=n)
    template = "units/_table.html" if is_htmx(request) else "units/list.html"
    return page(request, template, result=result, q=q, kind=kind, within=within, gap=gap)


async def _form(request: Request, template: str, status: int = 200, **context: Any) -> Template:
    """A unit or person form: every unit the actor may pick comes with it."""
    tenant, actor = _ctx(request)
    return page(request, template, status, choices=await service.unit_choices(tenant, actor), **context)


def _resubmit(request: Request, template: str, **context: Any):
    async def on_error(data: dict, errors: dict) -> Template:
        return await _form(request, template, 422, form=data, errors=errors, **context)

    return on_error


@get(f"{T}/units/new", guards=[EDIT_UNITS], name="units.new")
async def unit_new(request: Request, parent: FromQuery[str] = "") -> Template:
    return await _form(request, "units/form.html", unit=None, form={"parent_id": parent})


@post(f"{T}/units", guards=[EDIT_UNITS], name="units.create")
async def unit_create(request: Request) -> Any:
    tenant, actor = _ctx(request)
    return await submit_form(
        request,
        lambda data: service.create_unit(tenant, actor, data),
        redirect=lambda unit: f"/t/{tenant.slug}/units/{unit['id']}",
        on_error=_resubmit(request, "units/form.html", unit=None),
    )


@get(f"{T}/units/{{unit_id:str}}", guards=[READ], name="units.detail")
async def unit_page(request: Request, unit_id: FromPath[str]) -> Template:
    tenant, actor = _ctx(request)
    return page(request, "units/detail.html", unit=await service.unit_detail(tenant, actor, unit_id))


@get(f"{T}/units/{{unit_id:str}}/edit", guards=[EDIT_UNITS], name="units.edit")
async def unit_edit(request: Request, unit_id: FromPath[str]) -> Template:
    tenant, actor = _ctx(request)
    unit = await service.unit_detail(tenant, actor, unit_id)
    return await _form(request, "units/form.html", unit=unit, form=unit)


@post(f"{T}/units/{{unit_id:str}}", guards=[EDIT_UNITS], name="units.update")
async def unit_update(request: Request, unit_id: FromPath[str]) -> Any:
    tenant, actor = _ctx(request)
    return await submit_form(
        request,
        lambda data: service.update_unit(tenant, actor, unit_id, data),
        redirect=lambda unit: f"/t/{tenant.slug}/units/{unit['id']}",
        on_error=_resubmit(request, "units/form.html", unit=await service.unit_detail(tenant, actor, unit_id)),
    )


@post(f"{T}/units/{{unit_id:str}}/delete", guards=[EDIT_UNITS], name="units.delete")
async def unit_delete(request: Request, unit_id: FromPath[str]) -> Any:
    tenant, actor = _ctx(request)
    try:
        await service.delete_unit(tenant, actor, unit_id)
    except Conflict as exc:
        unit = await service.unit_detail(tenant, actor, unit_id)
        return page(request, "units/detail.html", 409, unit=unit, problem=exc.message)
    return Redirect(f"/t/{tenant.slug}/units", status_code=303)


# ---------------------------------------------------------------- people pages


@get(f"{T}/people", guards=[READ], name="people.list")
async def people_page(
    request: Request,
    q: FromQuery[str] = "",
    unit: FromQuery[str] = "",
    position: FromQuery[str] = "",
    level: FromQuery[str] = "",
    military: FromQuery[str] = "",
    status: FromQuery[str] = "current",
) -> Template:
    tenant, actor = _ctx(request)
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    result = await service.list_people(
        tenant,
        actor,
        q=q.strip(),
        unit=unit,
        position=position,
        level=level,
        military=military,
        status=status,
        page=p,
        per_page=n,
    )
    template = "people/_table.html" if is_htmx(request) else "people/list.html"
    return page(
        request,
        template,
        result=result,
        q=q,
        unit=unit,
        position=position,
        level=level,
        military=military,
        status=status,
        choices=await service.unit_choices(tenant, actor),
    )


@get(f"{T}/people/new", guards=[EDIT_PEOPLE], name="people.new")
async def person_new(request: Request, unit: FromQuery[str] = "") -> Template:
    return await _form(request, "people/form.html", person=None, form={"unit_id": unit})


@post(f"{T}/people", guards=[EDIT_PEOPLE], name="people.create")
async def person_create(request: Request) -> Any:
    tenant, actor = _ctx(request)
    return await submit_form(
        request,
        lambda data: service.create_person(tenant, actor, data),
        redirect=lambda person: f"/t/{tenant.slug}/people/{person['id']}",
        on_error=_resubmit(request, "people/form.html", person=None),
    )


@get(f"{T}/people/{{person_id:str}}", guards=[PERSON_READ], name="people.detail")
async def person_page(request: Request, person_id: FromPath[str]) -> Template:
    tenant, actor = _ctx(request)
    return await pages.person_page(request, tenant, actor, person_id)


@get(f"{T}/people/{{person_id:str}}/edit", guards=[EDIT_PEOPLE], name="people.edit")
async def person_edit(request: Request, person_id: FromPath[str]) -> Template:
    tenant, actor = _ctx(request)
    person = await service.person_detail(tenant, actor, person_id)
    return await _form(request, "people/form.html", person=person, form=person)


@post(f"{T}/people/{{person_id:str}}", guards=[EDIT_PEOPLE], name="people.update")
async def person_update(request: Request, person_id: FromPath[str]) -> Any:
    tenant, actor = _ctx(request)
    return await submit_form(
        request,
        lambda data: service.update_person(tenant, actor, person_id, data),
        redirect=lambda person: f"/t/{tenant.slug}/people/{person['id']}",
        on_error=_resubmit(request, "people/form.html", person=await service.person_detail(tenant, actor, person_id)),
    )


@post(f"{T}/people/{{person_id:str}}/posts", guards=[EDIT_PEOPLE], name="people.add_post")
async def person_add_post(request: Request, person_id: FromPath[str]) -> Any:
    tenant, actor = _ctx(request)

    async def on_error(data: dict, errors: dict) -> Template:
        return await pages.person_page(request, tenant, actor, person_id, 422, post_form=data, post_errors=errors)

    return await submit_form(
        request,
        lambda data: service.add_post(tenant, actor, person_id, data),
        redirect=lambda person: f"/t/{tenant.slug}/people/{person['id']}",
        on_error=on_error,
    )


@post(f"{T}/people/{{person_id:str}}/posts/{{post_id:str}}/end", guards=[EDIT_PEOPLE], name="people.end_post")
async def person_end_post(request: Request, person_id: FromPath[str], post_id: FromPath[str]) -> Any:
    tenant, actor = _ctx(request)

    async def on_error(data: dict, errors: dict) -> Template:
        return await pages.person_page(request, tenant, actor, person_id, 422, end_errors={post_id: errors})

    return await submit_form(
        request,
        lambda data: service.end_post(tenant, actor, person_id, post_id, data),
        redirect=lambda person: f"/t/{tenant.slug}/people/{person['id']}",
        on_error=on_error,
    )


@post(f"{T}/people/{{person_id:str}}/delete", guards=[EDIT_PEOPLE], name="people.delete")
async def person_delete(request: Request, person_id: FromPath[str]) -> Any:
    tenant, actor = _ctx(request)
    await service.delete_person(tenant, actor, person_id)
    return Redirect(f"/t/{tenant.slug}/people", status_code=303)


# ---------------------------------------------------------------- API


@get(f"{API}/units", guards=[READ], name="api.units.list")
async def api_units(
    request: Request,
    q: FromQuery[str] = "",
    kind: FromQuery[str] = "",
    within: FromQuery[str] = "",
    gap: FromQuery[str] = "",
) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    return page_json(
        await service.list_units(tenant, actor, q=q, kind=kind, within=within, gap=gap, page=p, per_page=n)
    )


@post(f"{API}/units", guards=[EDIT_UNITS], status_code=HTTP_201_CREATED, name="api.units.create")
async def api_unit_create(request: Request, data: JSONBody[UnitCreate]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.create_unit(tenant, actor, body_data(data))


@get(f"{API}/units/{{unit_id:str}}", guards=[READ], name="api.units.detail")
async def api_unit(request: Request, unit_id: FromPath[str]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.unit_detail(tenant, actor, unit_id)


@patch(f"{API}/units/{{unit_id:str}}", guards=[EDIT_UNITS], name="api.units.update")
async def api_unit_update(request: Request, unit_id: FromPath[str], data: JSONBody[UnitPatch]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.update_unit(tenant, actor, unit_id, body_data(data))


@delete(
    f"{API}/units/{{unit_id:str}}",
    guards=[EDIT_UNITS],
    status_code=HTTP_204_NO_CONTENT,
    name="api.units.delete",
)
async def api_unit_delete(request: Request, unit_id: FromPath[str]) -> None:
    tenant, actor = _ctx(request)
    await service.delete_unit(tenant, actor, unit_id)


@get(f"{API}/units/{{unit_id:str}}/people", guards=[READ], name="api.units.people")
async def api_unit_people(
    request: Request, unit_id: FromPath[str], status: FromQuery[str] = "current"
) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    return page_json(await service.list_people(tenant, actor, unit=unit_id, status=status, page=p, per_page=n))


@get(f"{API}/people", guards=[READ], name="api.people.list")
async def api_people(
    request: Request,
    q: FromQuery[str] = "",
    unit: FromQuery[str] = "",
    position: FromQuery[str] = "",
    level: FromQuery[str] = "",
    military: FromQuery[str] = "",
    status: FromQuery[str] = "current",
) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    return page_json(
        await service.list_people(
            tenant,
            actor,
            q=q,
            unit=unit,
            position=position,
            level=level,
            military=military,
            status=status,
            page=p,
            per_page=n,
        )
    )


@post(f"{API}/people", guards=[EDIT_PEOPLE], status_code=HTTP_201_CREATED, name="api.people.create")
async def api_person_create(request: Request, data: JSONBody[PersonCreate]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.create_person(tenant, actor, body_data(data))


@get(f"{API}/people/{{person_id:str}}", guards=[PERSON_READ], name="api.people.detail")
async def api_person(request: Request, person_id: FromPath[str]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.person_detail(tenant, actor, person_id)


@patch(f"{API}/people/{{person_id:str}}", guards=[EDIT_PEOPLE], name="api.people.update")
async def api_person_update(request: Request, person_id: FromPath[str], data: JSONBody[PersonPatch]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.update_person(tenant, actor, person_id, body_data(data))


@delete(
    f"{API}/people/{{person_id:str}}",
    guards=[EDIT_PEOPLE],
    status_code=HTTP_204_NO_CONTENT,
    name="api.people.delete",
)
async def api_person_delete(request: Request, person_id: FromPath[str]) -> None:
    tenant, actor = _ctx(request)
    await service.delete_person(tenant, actor, person_id)


@post(
    f"{API}/people/{{person_id:str}}/posts",
    guards=[EDIT_PEOPLE],
    status_code=HTTP_201_CREATED,
    name="api.people.add_post",
)
async def api_person_add_post(request: Request, person_id: FromPath[str], data: JSONBody[PostCreate]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.add_post(tenant, actor, person_id, body_data(data))


@post(
    f"{API}/people/{{person_id:str}}/posts/{{post_id:str}}/end",
    guards=[EDIT_PEOPLE],
    name="api.people.end_post",
)
async def api_person_end_post(
    request: Request, person_id: FromPath[str], post_id: FromPath[str], data: JSONBody[PostEnd]
) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.end_post(tenant, actor, person_id, post_id, body_data(data))


ROUTES = [
    units_page,
    unit_new,
    unit_create,
    unit_page,
    unit_edit,
    unit_update,
    unit_delete,
    people_page,
    person_new,
    person_create,
    person_page,
    person_edit,
    person_update,
    person_add_post,
    person_end_post,
    person_delete,
    api_units,
    api_unit_create,
    api_unit,
    api_unit_update,
    api_unit_delete,
    api_unit_people,
    api_people,
    api_person_create,
    api_person,
    api_person_update,
    api_person_delete,
    api_person_add_post,
    api_person_end_post,
]
