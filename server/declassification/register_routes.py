"""The register of classified items as pages and API: the list with its filters (and its
Excel export), one item, the form to register one and to change it."""

from __future__ import annotations

from functools import partial
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.response import Template
from litestar.status_codes import HTTP_201_CREATED

from server.declassification import access, consultations, decisions, register, schemas
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.web.deps import ActorDep, TenantDep
from server.web.forms import file_response, page_json, paging, show_again, submit_form
from server.web.guards import allow
from server.web.handlers import api_call, list_page, post_form, show_page
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
    return await list_page(
        request,
        "declassification/register_list.html",
        partial(register.list_items, tenant, actor),
        _query(request),
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

    items_page = show_page(ITEMS, _list_page, guards=[READ], name="declass.items", handler="items_page")
    item_new_page = show_page(
        f"{ITEMS}/new", _form_page, guards=[EDIT], name="declass.item_new", handler="item_new_page"
    )

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

    item_page = show_page(ONE, _item_page, guards=[READ], name="declass.item", handler="item_page")
    item_edit_page = show_page(
        f"{ONE}/edit", _form_page, guards=[EDIT], name="declass.item_edit", handler="item_edit_page"
    )
    item_update = post_form(
        f"{ONE}/edit",
        register.update_item,
        guards=[EDIT],
        name="declass.item_update",
        handler="item_update",
        then="classified-items/{result[id]}",
        again=_form_page,
        refused=_item_page,
    )


# ---------------------------------------------------------------- API


class RegisterApi(Controller):
    path = TENANT_API

    @get(ITEMS, guards=[READ], name="api.declass.items")
    async def api_items(self, request: Request, tenant: TenantDep, actor: ActorDep) -> schemas.ItemPage:
        """The items the caller sees; filters: unit (its subtree), level, status, origin,
        q (reference or public title), due_within (days), year (classified)."""
        p, n = paging(request)
        result = await register.list_items(tenant, actor, _query(request), p, n)
        return msgspec.convert(page_json(result), schemas.ItemPage)

    api_item_create = api_call(
        post,
        ITEMS,
        register.create_item,
        body=schemas.ItemWrite,
        answer=schemas.ItemDetail,
        guards=[EDIT],
        status_code=HTTP_201_CREATED,
        name="api.declass.item_create",
        handler="api_item_create",
    )
    api_item = api_call(
        get,
        ONE,
        register.get_item,
        answer=schemas.ItemDetail,
        guards=[READ],
        name="api.declass.item",
        handler="api_item",
    )
    api_item_update = api_call(
        patch,
        ONE,
        register.update_item,
        body=schemas.ItemWrite,
        answer=schemas.ItemDetail,
        guards=[EDIT],
        name="api.declass.item_update",
        handler="api_item_update",
    )


ROUTES = [RegisterPages, RegisterApi]
