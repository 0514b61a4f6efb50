"""Unit and people pages, and the same data under /api/v1. Thin: parse, call the
service, render."""

from __future__ import annotations

from functools import partial
from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.accounts import roles
from server.core.errors import Conflict
from server.units import schemas, service
from server.web import pages
from server.web.deps import ActorDep, TenantDep
from server.web.forms import FormAction, body_data, is_htmx, page_json, paging, show_again, submit_form
from server.web.guards import allow
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

READ = allow(roles.REGISTRY_READERS)
EDIT_UNITS = allow(roles.UNIT_EDITORS)
EDIT_PEOPLE = allow(roles.PEOPLE_EDITORS)
PERSON_READ = allow(roles.REGISTRY_READERS | {roles.LEADER})
Filters = NamedDependency[dict[str, str]]


def _unit_filters(
    q: FromQuery[str] = "", kind: FromQuery[str] = "", within: FromQuery[str] = "", gap: FromQuery[str] = ""
) -> dict[str, str]:
    return {"q": q, "kind": kind, "within": within, "gap": gap}


def _people_filters(
    q: FromQuery[str] = "",
    unit: FromQuery[str] = "",
    position: FromQuery[str] = "",
    level: FromQuery[str] = "",
    military: FromQuery[str] = "",
    status: FromQuery[str] = "current",
) -> dict[str, str]:
    return {"q": q, "unit": unit, "position": position, "level": level, "military": military, "status": status}


# the list's filters, the same on the page and in the API
UNIT_FILTERS = {"filters": Provide(_unit_filters, sync_to_thread=False)}
PEOPLE_FILTERS = {"filters": Provide(_people_filters, sync_to_thread=False)}


def _paging(request: Request) -> dict[str, int]:
    p, n = paging(request)
    return {"page": p, "per_page": n}


def _searched(filters: dict[str, str]) -> dict[str, str]:
    """A page's search box: the words without the spaces around them."""
    return filters | {"q": filters["q"].strip()}


async def _form(
    request: Request, tenant: TenantDep, actor: ActorDep, template: str, status: int = 200, **context: Any
) -> Template:
    """A unit or person form: every unit the actor may pick comes with it."""
    return page(request, template, status, choices=await service.unit_choices(tenant, actor), **context)


async def _save(
    request: Request, tenant: TenantDep, actor: ActorDep, path: str, action: FormAction, **context: Any
) -> Response:
    """A unit's or a person's form post: on to its page, or the form again with its messages."""
    return await submit_form(
        request,
        action,
        redirect=lambda saved: f"/t/{tenant.slug}/{path}/{saved['id']}",
        on_error=show_again(_form, request, tenant, actor, f"{path}/form.html", **context),
    )


class UnitPages(Controller):
    path = TENANT_PAGES

    @get("/units", guards=[READ], name="units.list", dependencies=UNIT_FILTERS)
    async def units_page(self, request: Request, tenant: TenantDep, actor: ActorDep, filters: Filters) -> Template:
        result = await service.list_units(tenant, actor, **_searched(filters), **_paging(request))
        template = "units/_table.html" if is_htmx(request) else "units/list.html"
        return page(request, template, result=result, **filters)

    @get("/units/new", guards=[EDIT_UNITS], name="units.new")
    async def unit_new(
        self, request: Request, tenant: TenantDep, actor: ActorDep, parent: FromQuery[str] = ""
    ) -> Template:
        return await _form(request, tenant, actor, "units/form.html", unit=None, form={"parent_id": parent})

    @post("/units", guards=[EDIT_UNITS], name="units.create")
    async def unit_create(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        return await _save(request, tenant, actor, "units", partial(service.create_unit, tenant, actor), unit=None)

    @get("/units/{unit_id:str}", guards=[READ], name="units.detail")
    async def unit_page(self, request: Request, tenant: TenantDep, actor: ActorDep, unit_id: FromPath[str]) -> Template:
        return page(request, "units/detail.html", unit=await service.unit_detail(tenant, actor, unit_id))

    @get("/units/{unit_id:str}/edit", guards=[EDIT_UNITS], name="units.edit")
    async def unit_edit(self, request: Request, tenant: TenantDep, actor: ActorDep, unit_id: FromPath[str]) -> Template:
        unit = await service.unit_detail(tenant, actor, unit_id)
        return await _form(request, tenant, actor, "units/form.html", unit=unit, form=unit)

    @post("/units/{unit_id:str}", guards=[EDIT_UNITS], name="units.update")
    async def unit_update(
        self, request: Request, tenant: TenantDep, actor: ActorDep, unit_id: FromPath[str]
    ) -> Response:
        unit = await service.unit_detail(tenant, actor, unit_id)
        update = partial(service.update_unit, tenant, actor, unit_id)
        return await _save(request, tenant, actor, "units", update, unit=unit)

    @post("/units/{unit_id:str}/delete", guards=[EDIT_UNITS], name="units.delete")
    async def unit_delete(
        self, request: Request, tenant: TenantDep, actor: ActorDep, unit_id: FromPath[str]
    ) -> Response:
        try:
            await service.delete_unit(tenant, actor, unit_id)
        except Conflict as exc:
            unit = await service.unit_detail(tenant, actor, unit_id)
            return page(request, "units/detail.html", 409, unit=unit, problem=exc.message)
        return Redirect(f"/t/{tenant.slug}/units", status_code=303)


class PeoplePages(Controller):
    path = TENANT_PAGES

    @get("/people", guards=[READ], name="people.list", dependencies=PEOPLE_FILTERS)
    async def people_page(self, request: Request, tenant: TenantDep, actor: ActorDep, filters: Filters) -> Template:
        result = await service.list_people(tenant, actor, **_searched(filters), **_paging(request))
        template = "people/_table.html" if is_htmx(request) else "people/list.html"
        choices = await service.unit_choices(tenant, actor)
        return page(request, template, result=result, **filters, choices=choices)

    @get("/people/new", guards=[EDIT_PEOPLE], name="people.new")
    async def person_new(
        self, request: Request, tenant: TenantDep, actor: ActorDep, unit: FromQuery[str] = ""
    ) -> Template:
        return await _form(request, tenant, actor, "people/form.html", person=None, form={"unit_id": unit})

    @post("/people", guards=[EDIT_PEOPLE], name="people.create")
    async def person_create(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        create = partial(service.create_person, tenant, actor)
        return await _save(request, tenant, actor, "people", create, person=None)

    @get("/people/{person_id:str}", guards=[PERSON_READ], name="people.detail")
    async def person_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, person_id: FromPath[str]
    ) -> Template:
        return await pages.person_page(request, tenant, actor, person_id)

    @get("/people/{person_id:str}/edit", guards=[EDIT_PEOPLE], name="people.edit")
    async def person_edit(
        self, request: Request, tenant: TenantDep, actor: ActorDep, person_id: FromPath[str]
    ) -> Template:
        person = await service.person_detail(tenant, actor, person_id)
        return await _form(request, tenant, actor, "people/form.html", person=person, form=person)

    @post("/people/{person_id:str}", guards=[EDIT_PEOPLE], name="people.update")
    async def person_update(
        self, request: Request, tenant: TenantDep, actor: ActorDep, person_id: FromPath[str]
    ) -> Response:
        person = await service.person_detail(tenant, actor, person_id)
        update = partial(service.update_person, tenant, actor, person_id)
        return await _save(request, tenant, actor, "people", update, person=person)

    @post("/people/{person_id:str}/posts", guards=[EDIT_PEOPLE], name="people.add_post")
    async def person_add_post(
        self, request: Request, tenant: TenantDep, actor: ActorDep, person_id: FromPath[str]
    ) -> Response:
        return await submit_form(
            request,
            partial(service.add_post, tenant, actor, person_id),
            redirect=lambda saved: f"/t/{tenant.slug}/people/{saved['id']}",
            on_error=pages.person_form_again(request, tenant, actor, person_id, "post"),
        )

    @post("/people/{person_id:str}/posts/{post_id:str}/end", guards=[EDIT_PEOPLE], name="people.end_post")
    async def person_end_post(
        self, request: Request, tenant: TenantDep, actor: ActorDep, person_id: FromPath[str], post_id: FromPath[str]
    ) -> Response:
        async def on_error(data: dict, errors: dict) -> Template:
            return await pages.person_page(request, tenant, actor, person_id, 422, end_errors={post_id: errors})

        return await submit_form(
            request,
            partial(service.end_post, tenant, actor, person_id, post_id),
            redirect=lambda saved: f"/t/{tenant.slug}/people/{saved['id']}",
            on_error=on_error,
        )

    @post("/people/{person_id:str}/delete", guards=[EDIT_PEOPLE], name="people.delete")
    async def person_delete(self, tenant: TenantDep, actor: ActorDep, person_id: FromPath[str]) -> Redirect:
        await service.delete_person(tenant, actor, person_id)
        return Redirect(f"/t/{tenant.slug}/people", status_code=303)


class UnitsApi(Controller):
    path = TENANT_API

    @get("/units", guards=[READ], name="api.units.list", dependencies=UNIT_FILTERS)
    async def api_units(
        self, request: Request, tenant: TenantDep, actor: ActorDep, filters: Filters
    ) -> schemas.UnitPage:
        result = await service.list_units(tenant, actor, **filters, **_paging(request))
        return msgspec.convert(page_json(result), schemas.UnitPage)

    @post("/units", guards=[EDIT_UNITS], status_code=HTTP_201_CREATED, name="api.units.create")
    async def api_unit_create(
        self, tenant: TenantDep, actor: ActorDep, data: JSONBody[schemas.UnitCreate]
    ) -> schemas.UnitDetail:
        return msgspec.convert(await service.create_unit(tenant, actor, body_data(data)), schemas.UnitDetail)

    @get("/units/{unit_id:str}", guards=[READ], name="api.units.detail")
    async def api_unit(self, tenant: TenantDep, actor: ActorDep, unit_id: FromPath[str]) -> schemas.UnitDetail:
        return msgspec.convert(await service.unit_detail(tenant, actor, unit_id), schemas.UnitDetail)

    @patch("/units/{unit_id:str}", guards=[EDIT_UNITS], name="api.units.update")
    async def api_unit_update(
        self, tenant: TenantDep, actor: ActorDep, unit_id: FromPath[str], data: JSONBody[schemas.UnitPatch]
    ) -> schemas.UnitDetail:
        unit = await service.update_unit(tenant, actor, unit_id, body_data(data))
        return msgspec.convert(unit, schemas.UnitDetail)

    @delete("/units/{unit_id:str}", guards=[EDIT_UNITS], status_code=HTTP_204_NO_CONTENT, name="api.units.delete")
    async def api_unit_delete(self, tenant: TenantDep, actor: ActorDep, unit_id: FromPath[str]) -> None:
        await service.delete_unit(tenant, actor, unit_id)

    @get("/units/{unit_id:str}/people", guards=[READ], name="api.units.people")
    async def api_unit_people(
        self,
        request: Request,
        tenant: TenantDep,
        actor: ActorDep,
        unit_id: FromPath[str],
        status: FromQuery[str] = "current",
    ) -> schemas.PostPage:
        result = await service.list_people(tenant, actor, unit=unit_id, status=status, **_paging(request))
        return msgspec.convert(page_json(result), schemas.PostPage)


class PeopleApi(Controller):
    path = TENANT_API

    @get("/people", guards=[READ], name="api.people.list", dependencies=PEOPLE_FILTERS)
    async def api_people(
        self, request: Request, tenant: TenantDep, actor: ActorDep, filters: Filters
    ) -> schemas.PostPage:
        result = await service.list_people(tenant, actor, **filters, **_paging(request))
        return msgspec.convert(page_json(result), schemas.PostPage)

    @post("/people", guards=[EDIT_PEOPLE], status_code=HTTP_201_CREATED, name="api.people.create")
    async def api_person_create(
        self, tenant: TenantDep, actor: ActorDep, data: JSONBody[schemas.PersonCreate]
    ) -> schemas.PersonDetail:
        return msgspec.convert(await service.create_person(tenant, actor, body_data(data)), schemas.PersonDetail)

    @get("/people/{person_id:str}", guards=[PERSON_READ], name="api.people.detail")
    async def api_person(self, tenant: TenantDep, actor: ActorDep, person_id: FromPath[str]) -> schemas.PersonDetail:
        return msgspec.convert(await service.person_detail(tenant, actor, person_id), schemas.PersonDetail)

    @patch("/people/{person_id:str}", guards=[EDIT_PEOPLE], name="api.people.update")
    async def api_person_update(
        self, tenant: TenantDep, actor: ActorDep, person_id: FromPath[str], data: JSONBody[schemas.PersonPatch]
    ) -> schemas.PersonDetail:
        person = await service.update_person(tenant, actor, person_id, body_data(data))
        return msgspec.convert(person, schemas.PersonDetail)

    @delete("/people/{person_id:str}", guards=[EDIT_PEOPLE], status_code=HTTP_204_NO_CONTENT, name="api.people.delete")
    async def api_person_delete(self, tenant: TenantDep, actor: ActorDep, person_id: FromPath[str]) -> None:
        await service.delete_person(tenant, actor, person_id)

    @post(
        "/people/{person_id:str}/posts",
        guards=[EDIT_PEOPLE],
        status_code=HTTP_201_CREATED,
        name="api.people.add_post",
    )
    async def api_person_add_post(
        self, tenant: TenantDep, actor: ActorDep, person_id: FromPath[str], data: JSONBody[schemas.PostCreate]
    ) -> schemas.PersonDetail:
        person = await service.add_post(tenant, actor, person_id, body_data(data))
        return msgspec.convert(person, schemas.PersonDetail)

    @post("/people/{person_id:str}/posts/{post_id:str}/end", guards=[EDIT_PEOPLE], name="api.people.end_post")
    async def api_person_end_post(
        self,
        tenant: TenantDep,
        actor: ActorDep,
        person_id: FromPath[str],
        post_id: FromPath[str],
        data: JSONBody[schemas.PostEnd],
    ) -> schemas.PersonDetail:
        person = await service.end_post(tenant, actor, person_id, post_id, body_data(data))
        return msgspec.convert(person, schemas.PersonDetail)


ROUTES = [UnitPages, PeoplePages, UnitsApi, PeopleApi]
