"""The register of classified items as pages and API: the list with its filters (and its
Excel export), one item, the form to register one and to change it."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.response import Template
from litestar.status_codes import HTTP_201_CREATED

from server.core.errors import ValidationFailed
from server.declassification import access, consultations, decisions, register, schemas
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.web.deps import ActorDep, TenantDep
from server.web.forms import body_data, file_response, page_json, paging, show_again, show_refusal, submit_form
from server.web.guards import allow
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

ITEMS = "/classified-items"
ONE = ITEMS + "/{item_id:str}"
READ = allow(access.READERS)
EDIT = allow(register.WRITERS)
FILTERS = ("unit", "level", "status", "origin", "q", "due_within", "year")
# the export is recorded in the audit trail: SQLite takes the write lock up front
WRITES = {"writes": True}
DUE_SOON = 90  # the list's quick filter: terms ending within this many days


def _query(request: Request) -> dict[str, Any]:
    return {k: request.query_params.get(k) for k in FILTERS if request.query_params.get(k) not in (None, "")}


def _item_url(tenant: TenantDep, item: dict) -> str:
    return f"/t/{tenant.slug}{ITEMS}/{item['id']}"


# ---------------------------------------------------------------- pages


async def _list_page(request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
    query = _query(request)
    p, n = paging(request)
    errors: dict[str, str] = {}
    try:
        result = await register.list_items(tenant, actor, query, p, n)
    except ValidationFailed as exc:
        errors = exc.errors
        result = await register.list_items(tenant, actor, {}, p, n)
    return page(
        request,
        "declassification/register_list.html",
        422 if errors else 200,
        result=result,
        form=query,
        errors=errors,
        choices=await register.form_choices(tenant, actor),
        writer=actor.role in register.WRITERS,
        due_soon=DUE_SOON,
    )


async def _form_page(
    request: Request,
    tenant: TenantDep,
    actor: ActorDep,
    item_id: str | None = None,
    status: int = 200,
    **extra: Any,
) -> Template:
    """The form for a new item, or for changing one (filled with it unless shown again)."""
    item = await register.get_item(tenant, actor, item_id) if item_id else None
    extra.setdefault("form", {**item, "source_reference": item["source_reference"]} if item else {"origin": "original"})
    return page(
        request,
        "declassification/register_form.html",
        status,
        item=item,
        choices=await register.form_choices(tenant, actor),
        **extra,
    )


async def _item_page(
    request: Request, tenant: TenantDep, actor: ActorDep, item_id: str, status: int = 200, **extra: Any
) -> Template:
    """The item with its decisions and its consultations of the originator."""
    item = await register.get_item(tenant, actor, item_id)
    return page(
        request,
        "declassification/register_item.html",
        status,
        item=item,
        decisions=await decisions.item_decisions(tenant, actor, item),
        consultations=await consultations.item_consultations(tenant, actor, item),
        panels=["declassification/decision_panel.html", "declassification/consultation_panel.html"],
        **extra,
    )


class RegisterPages(Controller):
    path = TENANT_PAGES

    @get(ITEMS, guards=[READ], name="declass.items")
    async def items_page(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return await _list_page(request, tenant, actor)

    @get(f"{ITEMS}/new", guards=[EDIT], name="declass.item_new")
    async def item_new_page(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return await _form_page(request, tenant, actor)

    @post(ITEMS, guards=[EDIT], name="declass.item_create")
    async def item_create(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        async def create(data: dict) -> dict:
            return await register.create_item(tenant, actor, data)

        return await submit_form(
            request,
            create,
            redirect=lambda item: _item_url(tenant, item),
            on_error=show_again(_form_page, request, tenant, actor, None),
        )

    @get(f"{ITEMS}/export.xlsx", media_type=XLSX, guards=[READ], name="declass.items_export", opt=WRITES)
    async def items_export(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        content = await register.export_items(tenant, actor, _query(request))
        return file_response(content, XLSX, "classified-items.xlsx")

    @get(ONE, guards=[READ], name="declass.item")
    async def item_page(self, request: Request, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str]) -> Template:
        return await _item_page(request, tenant, actor, item_id)

    @get(f"{ONE}/edit", guards=[EDIT], name="declass.item_edit")
    async def item_edit_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str]
    ) -> Template:
        return await _form_page(request, tenant, actor, item_id)

    @post(f"{ONE}/edit", guards=[EDIT], name="declass.item_update")
    async def item_update(
        self, request: Request, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str]
    ) -> Response:
        async def change(data: dict) -> dict:
            return await register.update_item(tenant, actor, item_id, data)

        return await submit_form(
            request,
            change,
            redirect=lambda item: _item_url(tenant, item),
            on_error=show_again(_form_page, request, tenant, actor, item_id),
            on_refusal=show_refusal(_item_page, request, tenant, actor, item_id),
        )


# ---------------------------------------------------------------- API


def _detail(item: dict) -> schemas.ItemDetail:
    return msgspec.convert(item, schemas.ItemDetail)


class RegisterApi(Controller):
    path = TENANT_API

    @get(ITEMS, guards=[READ], name="api.declass.items")
    async def api_items(self, request: Request, tenant: TenantDep, actor: ActorDep) -> schemas.ItemPage:
        """The items the caller sees; filters: unit (its subtree), level, status, origin,
        q (reference or public title), due_within (days), year (classified)."""
        p, n = paging(request)
        result = await register.list_items(tenant, actor, _query(request), p, n)
        return msgspec.convert(page_json(result), schemas.ItemPage)

    @post(ITEMS, guards=[EDIT], status_code=HTTP_201_CREATED, name="api.declass.item_create")
    async def api_item_create(
        self, tenant: TenantDep, actor: ActorDep, data: JSONBody[schemas.ItemWrite]
    ) -> schemas.ItemDetail:
        return _detail(await register.create_item(tenant, actor, body_data(data)))

    @get(ONE, guards=[READ], name="api.declass.item")
    async def api_item(self, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str]) -> schemas.ItemDetail:
        return _detail(await register.get_item(tenant, actor, item_id))

    @patch(ONE, guards=[EDIT], name="api.declass.item_update")
    async def api_item_update(
        self, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str], data: JSONBody[schemas.ItemWrite]
    ) -> schemas.ItemDetail:
        return _detail(await register.update_item(tenant, actor, item_id, body_data(data)))


ROUTES = [RegisterPages, RegisterApi]
