"""The Q&A knowledge base as pages and API: the tenant's entries (searched, by tag, the
stale ones), the office's forms to add, change and delete one, and the public page of
the public entries, which needs no sign-in."""

from __future__ import annotations

from functools import partial
from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.core.errors import ValidationFailed
from server.declassification import qa
from server.declassification import qa_schemas as schemas
from server.web.deps import ActorDep, TenantDep
from server.web.forms import is_htmx, page_json, paging, show_again, submit_form
from server.web.guards import allow
from server.web.handlers import api_call, post_form, show_page
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

READ = allow(qa.READERS)
EDIT = allow(qa.EDITORS)
PAGES = "/declassification/qa"
ONE = "/declassification/qa/{entry_id:str}"
API_ONE = "/qa/{entry_id:str}"
FILTERS = ("q", "tag", "public", "stale")


def _query(request: Request, keys: tuple[str, ...] = FILTERS) -> dict[str, Any]:
    return {key: request.query_params.get(key) for key in keys if request.query_params.get(key) is not None}


# ---------------------------------------------------------------- pages


async def _index(request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
    query = _query(request)
    p, n = paging(request)
    errors: dict[str, str] = {}
    try:
        result, tags = await qa.list_entries(tenant, actor, query, p, n)
    except ValidationFailed as exc:
        errors = exc.errors
        result, tags = await qa.list_entries(tenant, actor, {}, p, n)
    template = "declassification/qa_results.html" if is_htmx(request) else "declassification/qa_index.html"
    return page(request, template, 422 if errors else 200, result=result, tags=tags, form=query, errors=errors)


async def _form_page(
    request: Request, tenant: TenantDep, actor: ActorDep, entry_id: str | None, status: int = 200, **extra: Any
) -> Template:
    entry = await qa.entry_detail(tenant, actor, entry_id) if entry_id else None
    if entry is not None and "form" not in extra:
        extra["form"] = {**entry, "tags": "，".join(entry["tags"])}
    return page(request, "declassification/qa_form.html", status, entry=entry, **extra)


def _to_list(tenant: TenantDep, _entry: Any = None) -> str:
    return f"/t/{tenant.slug}{PAGES}"


def _to_entry(tenant: TenantDep, entry: dict) -> str:
    return f"/t/{tenant.slug}{PAGES}/{entry['id']}"


class QAPages(Controller):
    path = TENANT_PAGES

    qa_page = show_page(PAGES, _index, guards=[READ], name="declassification.qa", handler="qa_page")

    @get(f"{PAGES}/new", guards=[EDIT], name="declassification.qa_new")
    async def qa_new(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return await _form_page(request, tenant, actor, None, form={"public": False})

    @post(PAGES, guards=[EDIT], name="declassification.qa_create")
    async def qa_create(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        return await submit_form(
            request,
            partial(qa.create_entry, tenant, actor),
            redirect=partial(_to_entry, tenant),
            on_error=show_again(_form_page, request, tenant, actor, None),
        )

    qa_entry = show_page(ONE, _form_page, guards=[READ], name="declassification.qa_entry", handler="qa_entry")
    qa_update = post_form(
        ONE,
        qa.update_entry,
        guards=[EDIT],
        name="declassification.qa_update",
        handler="qa_update",
        then="declassification/qa/{result[id]}",
        again=_form_page,
    )

    @post(f"{ONE}/delete", guards=[EDIT], name="declassification.qa_delete")
    async def qa_delete(self, tenant: TenantDep, actor: ActorDep, entry_id: FromPath[str]) -> Redirect:
        await qa.delete_entry(tenant, actor, entry_id)
        return Redirect(_to_list(tenant), status_code=303)


class PublicQAPages(Controller):
    """The tenant's public answers: anyone, signed in or not, sees the same page."""

    path = TENANT_PAGES
    opt = {"public": True}

    @get("/public/qa", name="declassification.public_qa")
    async def public_qa(self, request: Request, tenant: TenantDep) -> Template:
        query = _query(request, ("q", "tag"))
        p, n = paging(request)
        errors: dict[str, str] = {}
        try:
            result, tags = await qa.public_entries(tenant, query, p, n)
        except ValidationFailed as exc:
            errors = exc.errors
            result, tags = await qa.public_entries(tenant, {}, p, n)
        return page(
            request,
            "declassification/public_qa.html",
            422 if errors else 200,
            result=result,
            tags=tags,
            form=query,
            errors=errors,
        )


# ---------------------------------------------------------------- API


class QAApi(Controller):
    path = TENANT_API

    @get("/qa", guards=[READ], name="api.qa")
    async def api_qa(self, request: Request, tenant: TenantDep, actor: ActorDep) -> schemas.QAPage:
        """The entries: `q` (every whitespace-separated term found in the question, answer,
        tags or legal basis), `tag`, `public` and `stale` (true or false), paginated."""
        p, n = paging(request)
        result, tags = await qa.list_entries(tenant, actor, _query(request), p, n)
        return msgspec.convert({**page_json(result), "tags": tags}, schemas.QAPage)

    api_qa_create = api_call(
        post,
        "/qa",
        qa.create_entry,
        body=schemas.QAEntryWrite,
        answer=schemas.QAEntryDetail,
        guards=[EDIT],
        status_code=HTTP_201_CREATED,
        name="api.qa_create",
        handler="api_qa_create",
    )
    api_qa_entry = api_call(
        get,
        API_ONE,
        qa.entry_detail,
        answer=schemas.QAEntryDetail,
        guards=[READ],
        name="api.qa_entry",
        handler="api_qa_entry",
    )
    api_qa_update = api_call(
        patch,
        API_ONE,
        qa.update_entry,
        body=schemas.QAEntryWrite,
        answer=schemas.QAEntryDetail,
        guards=[EDIT],
        name="api.qa_update",
        handler="api_qa_update",
    )

    @delete(API_ONE, guards=[EDIT], status_code=HTTP_204_NO_CONTENT, name="api.qa_delete")
    async def api_qa_delete(self, tenant: TenantDep, actor: ActorDep, entry_id: FromPath[str]) -> None:
        await qa.delete_entry(tenant, actor, entry_id)


ROUTES = [QAPages, PublicQAPages, QAApi]
