"""Unit and people pages, and the same data under /api/v1. Thin: parse, call the
service, render."""

from __future__ import annotations

from functools import partial
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from server import roles
from server.core.errors import Conflict
from server.units import schemas, service
from server.web import pages
from server.web.deps import ActorDep, Filters, TenantDep
from server.web.forms import is_htmx, page_json, paging, submit_form
from server.web.guards import allow
from server.web.handlers import api_call, post_form, show_page
from server.web.kept import KEPT
from server.web.registry import Bodies, Calls, Guards, Registry, registry_api, registry_forms
from server.web.templating import page

READ = allow(roles.REGISTRY_READERS)
EDIT_UNITS = allow(roles.UNIT_EDITORS)
EDIT_PEOPLE = allow(roles.PEOPLE_EDITORS)
PERSON_READ = allow(roles.REGISTRY_READERS | {roles.LEADER})
PERSON = "/people/{person_id:str}"
END_POST = f"{PERSON}/posts/{{post_id:str}}/end"


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
# the two registries: the same calls over their own services, bodies and guards
UNITS = Registry(
    "units",
    "unit",
    Calls(service.list_units, service.create_unit, service.unit_detail, service.update_unit, service.delete_unit),
    Bodies(schemas.UnitPage, schemas.UnitCreate, schemas.UnitPatch, schemas.UnitDetail),
    Guards(READ, EDIT_UNITS),
    UNIT_FILTERS,
)
PEOPLE = Registry(
    "people",
    "person",
    Calls(
        service.list_people, service.create_person, service.person_detail, service.update_person, service.delete_person
    ),
    Bodies(schemas.PostPage, schemas.PersonCreate, schemas.PersonPatch, schemas.PersonDetail),
    Guards(READ, EDIT_PEOPLE, read_one=PERSON_READ),
    PEOPLE_FILTERS,
)


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


# a new unit goes under ?parent=, a new person into ?unit=
class UnitPages(registry_forms(UNITS, _form, prefill=("parent", "parent_id"))):
    @get("/units", guards=[READ], name="units.list", dependencies=UNIT_FILTERS, opt=KEPT)
    async def units_page(self, request: Request, tenant: TenantDep, actor: ActorDep, filters: Filters) -> Template:
        result = await service.list_units(tenant, actor, **_searched(filters), **_paging(request))
        template = "units/_table.html" if is_htmx(request) else "units/list.html"
        return page(request, template, result=result, **filters)

    @get("/units/{unit_id:str}", guards=[READ], name="units.detail")
    async def unit_page(self, request: Request, tenant: TenantDep, actor: ActorDep, unit_id: FromPath[str]) -> Template:
        return page(request, "units/detail.html", unit=await service.unit_detail(tenant, actor, unit_id))

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


class PeoplePages(registry_forms(PEOPLE, _form, prefill=("unit", "unit_id"))):
    @get("/people", guards=[READ], name="people.list", dependencies=PEOPLE_FILTERS, opt=KEPT)
    async def people_page(self, request: Request, tenant: TenantDep, actor: ActorDep, filters: Filters) -> Template:
        result = await service.list_people(tenant, actor, **_searched(filters), **_paging(request))
        template = "people/_table.html" if is_htmx(request) else "people/list.html"
        choices = await service.unit_choices(tenant, actor)
        return page(request, template, result=result, **filters, choices=choices)

    person_page = show_page(PERSON, pages.person_page, guards=[PERSON_READ], name="people.detail")
    person_add_post = post_form(
        f"{PERSON}/posts",
        service.add_post,
        guards=[EDIT_PEOPLE],
        name="people.add_post",
        then="people/{result[id]}",
        again=pages.person_form("post"),
    )

    @post(END_POST, guards=[EDIT_PEOPLE], name="people.end_post")
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


class UnitsApi(registry_api(UNITS)):
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


class PeopleApi(registry_api(PEOPLE)):
    api_person_add_post = api_call(
        post,
        f"{PERSON}/posts",
        service.add_post,
        body=schemas.PostCreate,
        answer=schemas.PersonDetail,
        guards=[EDIT_PEOPLE],
        status_code=HTTP_201_CREATED,
        name="api.people.add_post",
    )
    api_person_end_post = api_call(
        post,
        END_POST,
        service.end_post,
        body=schemas.PostEnd,
        answer=schemas.PersonDetail,
        guards=[EDIT_PEOPLE],
        name="api.people.end_post",
    )


ROUTES = [UnitPages, PeoplePages, UnitsApi, PeopleApi]
