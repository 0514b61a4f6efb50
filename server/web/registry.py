"""A registry's JSON API: its list (filtered, a page at a time), and one of its records
created, read, changed and deleted, each one call of its service answered in its schema;
and its form pages: a new record's form, a record's form, each posted. The units and the
people are two such registries.

Annotations are evaluated here, not postponed: the handlers are made for a registry, and
Litestar reads their bodies and answers (the OpenAPI document with them) from the types
their annotations hold."""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any, NamedTuple

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, QueryParameter
from litestar.response import Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from litestar.types import Guard

from server.web.deps import ActorDep, Filters, TenantDep
from server.web.forms import FormAction, body_data, page_json, paging, show_again, submit_form
from server.web.urls import TENANT_API, TENANT_PAGES

Call = Callable[..., Awaitable[Any]]
# shows a registry's form: (request, tenant, actor, template, status=200, **context)
FormPage = Callable[..., Awaitable[Template]]


class Calls(NamedTuple):
    """The service's functions; each takes the tenant and the actor first."""

    list: Call  # (**filters, page=, per_page=) -> Page
    create: Call  # (data)
    detail: Call  # (record id)
    update: Call  # (record id, data)
    delete: Call  # (record id)


class Bodies(NamedTuple):
    page: type  # the list's answer
    create: type  # the body that creates a record
    patch: type  # the body that changes one (UNSET: left as it is)
    detail: type  # a record, as reading, creating and changing it answer


class Guards(NamedTuple):
    read: Guard
    edit: Guard
    read_one: "Guard | None" = None  # one record may be readable by more than the list


class Registry(NamedTuple):
    plural: str  # "units": the path, the route names (api.units.list) and the list's handler
    singular: str  # "unit": the record's id in the path (unit_id) and the other handlers' names
    calls: Calls
    bodies: Bodies
    guards: Guards
    filters: dict[str, Provide]  # {"filters": the list's query} (the pages' list takes the same)

    @property
    def record(self) -> str:
        """The path of one record, relative to the tenant."""
        return f"/{self.plural}/{{{self.singular}_id:str}}"

    def record_id(self, request: Request) -> str:
        return request.path_params[f"{self.singular}_id"]


def named(handler: Callable, name: str) -> Callable:
    """The handler under its name: Litestar names the operation (its OpenAPI id) after it."""
    handler.__name__ = handler.__qualname__ = name
    return handler


def controller(name: str, path: str, handlers: list[HTTPRouteHandler]) -> type[Controller]:
    """A controller of made handlers, each under its handler's name; subclass it for more."""
    return type(name, (Controller,), {"path": path, **{h.handler_name: h for h in handlers}})


def registry_api(r: Registry) -> type[Controller]:
    """The registry's API controller."""
    page, create_body, patch_body, detail = r.bodies

    async def listed(self, request: Request, tenant: TenantDep, actor: ActorDep, filters: Filters) -> page:
        p, n = paging(request)
        return msgspec.convert(page_json(await r.calls.list(tenant, actor, **filters, page=p, per_page=n)), page)

    async def created(self, tenant: TenantDep, actor: ActorDep, data: JSONBody[create_body]) -> detail:
        return msgspec.convert(await r.calls.create(tenant, actor, body_data(data)), detail)

    async def shown(self, request: Request, tenant: TenantDep, actor: ActorDep) -> detail:
        return msgspec.convert(await r.calls.detail(tenant, actor, r.record_id(request)), detail)

    async def changed(self, request: Request, tenant: TenantDep, actor: ActorDep, data: JSONBody[patch_body]) -> detail:
        return msgspec.convert(await r.calls.update(tenant, actor, r.record_id(request), body_data(data)), detail)

    async def deleted(self, request: Request, tenant: TenantDep, actor: ActorDep) -> None:
        await r.calls.delete(tenant, actor, r.record_id(request))

    read, edit = [r.guards.read], [r.guards.edit]
    api, one = f"api.{r.plural}", f"api_{r.singular}"
    handlers: list[HTTPRouteHandler] = [
        get(f"/{r.plural}", guards=read, name=f"{api}.list", dependencies=r.filters)(named(listed, f"api_{r.plural}")),
        post(f"/{r.plural}", guards=edit, status_code=HTTP_201_CREATED, name=f"{api}.create")(
            named(created, f"{one}_create")
        ),
        get(r.record, guards=[r.guards.read_one or r.guards.read], name=f"{api}.detail")(named(shown, one)),
        patch(r.record, guards=edit, name=f"{api}.update")(named(changed, f"{one}_update")),
        delete(r.record, guards=edit, status_code=HTTP_204_NO_CONTENT, name=f"{api}.delete")(
            named(deleted, f"{one}_delete")
        ),
    ]
    return controller(f"{r.singular.title()}RegistryApi", TENANT_API, handlers)


def registry_forms(r: Registry, show_form: FormPage, *, prefill: tuple[str, str]) -> type[Controller]:
    """The registry's form pages: a new record's form (`prefill`: the query's field that
    says where the record goes, and the form's field it fills), a record's form, each posted
    on to the record's page or shown again with its messages. `show_form` adds whatever else
    the registry's forms need."""
    template, (query, field) = f"{r.plural}/form.html", prefill

    async def save(request: Request, tenant: TenantDep, actor: ActorDep, action: FormAction, record: Any) -> Response:
        return await submit_form(
            request,
            action,
            redirect=lambda saved: f"/t/{tenant.slug}/{r.plural}/{saved['id']}",
            on_error=show_again(show_form, request, tenant, actor, template, **{r.singular: record}),
        )

    # the query's field named as `prefill` says, documented under that name
    where_query = Annotated[str, QueryParameter(name=query)]

    async def new(self, request: Request, tenant: TenantDep, actor: ActorDep, where: where_query = "") -> Template:
        return await show_form(request, tenant, actor, template, **{r.singular: None}, form={field: where})

    async def create(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        return await save(request, tenant, actor, partial(r.calls.create, tenant, actor), None)

    async def edit(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        record = await r.calls.detail(tenant, actor, r.record_id(request))
        return await show_form(request, tenant, actor, template, **{r.singular: record}, form=record)

    async def update(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        record_id = r.record_id(request)
        record = await r.calls.detail(tenant, actor, record_id)
        return await save(request, tenant, actor, partial(r.calls.update, tenant, actor, record_id), record)

    guards = [r.guards.edit]
    handlers = [
        get(f"/{r.plural}/new", guards=guards, name=f"{r.plural}.new")(named(new, f"{r.singular}_new")),
        post(f"/{r.plural}", guards=guards, name=f"{r.plural}.create")(named(create, f"{r.singular}_create")),
        get(f"{r.record}/edit", guards=guards, name=f"{r.plural}.edit")(named(edit, f"{r.singular}_edit")),
        post(r.record, guards=guards, name=f"{r.plural}.update")(named(update, f"{r.singular}_update")),
    ]
    return controller(f"{r.singular.title()}RegistryForms", TENANT_PAGES, handlers)
