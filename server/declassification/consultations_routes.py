"""Declassification: consultations as pages and API. The custodian unit's officer asks the
originating unit about a derived item; the originating unit answers; the bureau sees the
oldest open consultations first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server import roles
from server.core.errors import ValidationFailed
from server.declassification import access, consultations
from server.declassification import consultations_schemas as schemas
from server.web.deps import ActorDep, TenantDep
from server.web.forms import body_data, page_json, paging, show_again, show_refusal, submit_form
from server.web.guards import allow
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

ITEM = "/classified-items/{item_id:str}/consultations"
LIST = "/consultations"
ONE = "/consultations/{consultation_id:str}"
PAGES = "/declassification/consultations"
PAGE_ONE = "/declassification/consultations/{consultation_id:str}"
# who sees consultations (the service narrows it to their units' side)
READ = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.UNIT_OFFICER, roles.LEADER})
# the custodian unit's officer asks
ASK = allow({roles.UNIT_OFFICER})
# the originating unit's officer or leader answers (a body's answer: the custodian's officer records it)
ANSWER = allow({roles.UNIT_OFFICER, roles.LEADER})
FILTERS = ("direction", "status", "overdue")
OVERSIGHT = (roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN)


def _query(request: Request) -> dict[str, Any]:
    return {k: request.query_params.get(k) for k in FILTERS if request.query_params.get(k) not in (None, "")}


def _url(tenant: TenantDep, found: dict) -> str:
    return f"/t/{tenant.slug}{PAGES}/{found['id']}"


# ---------------------------------------------------------------- pages


async def _index_page(request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
    query = _query(request)
    p, n = paging(request)
    errors: dict[str, str] = {}
    try:
        result = await consultations.list_consultations(tenant, actor, query, p, n)
    except ValidationFailed as exc:
        errors = exc.errors
        result = await consultations.list_consultations(tenant, actor, {}, p, n)
    bureau = await consultations.overview(tenant, actor) if actor.role in OVERSIGHT else None
    return page(
        request,
        "declassification/consultation_index.html",
        422 if errors else 200,
        result=result,
        bureau=bureau,
        form=query,
        errors=errors,
        directions=consultations.DIRECTIONS,
        statuses=consultations.STATUSES,
    )


async def _detail_page(
    request: Request, tenant: TenantDep, actor: ActorDep, consultation_id: str, status: int = 200, **extra: Any
) -> Template:
    return page(
        request,
        "declassification/consultation_detail.html",
        status,
        c=await consultations.consultation(tenant, actor, consultation_id),
        answers=consultations.ANSWERS,
        reasoned=consultations.REASONED,
        **extra,
    )


async def _new_page(
    request: Request, tenant: TenantDep, actor: ActorDep, item_id: str, status: int = 200, **extra: Any
) -> Template:
    item = await access.item(tenant, actor, item_id, allow=(access.UNIT,))
    return page(
        request,
        "declassification/consultation_new.html",
        status,
        item=item,
        days=await consultations.default_days(tenant),
        **extra,
    )


async def _submit(
    request: Request,
    tenant: TenantDep,
    actor: ActorDep,
    action: Callable[[dict], Awaitable[dict]],
    show: Callable[..., Awaitable[Template]],
    target: str,
) -> Response:
    """A form about `target` (a consultation, or an item): on to the consultation the
    action gives, or `show(request, tenant, actor, target)` again with the form's messages
    or the refusal."""
    return await submit_form(
        request,
        action,
        redirect=partial(_url, tenant),
        on_error=show_again(show, request, tenant, actor, target),
        on_refusal=show_refusal(show, request, tenant, actor, target),
    )


class ConsultationPages(Controller):
    path = TENANT_PAGES

    @get(PAGES, guards=[READ], name="declassification.consultations")
    async def consultations_page(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return await _index_page(request, tenant, actor)

    @get(PAGE_ONE, guards=[READ], name="declassification.consultation")
    async def consultation_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, consultation_id: FromPath[str]
    ) -> Template:
        return await _detail_page(request, tenant, actor, consultation_id)

    @post(f"{PAGE_ONE}/answer", guards=[ANSWER], name="declassification.consultation_answer")
    async def consultation_answer(
        self, request: Request, tenant: TenantDep, actor: ActorDep, consultation_id: FromPath[str]
    ) -> Response:
        return await _submit(
            request,
            tenant,
            actor,
            lambda data: consultations.answer(tenant, actor, consultation_id, data),
            _detail_page,
            consultation_id,
        )

    @get(ITEM, guards=[ASK], name="declassification.consultation_new")
    async def consultation_new(
        self, request: Request, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str]
    ) -> Template:
        return await _new_page(request, tenant, actor, item_id)

    @post(ITEM, guards=[ASK], name="declassification.consultation_create")
    async def consultation_create(
        self, request: Request, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str]
    ) -> Response:
        return await _submit(
            request, tenant, actor, lambda data: consultations.request(tenant, actor, item_id, data), _new_page, item_id
        )


# ---------------------------------------------------------------- API


def _one(found: dict) -> schemas.Consultation:
    return msgspec.convert(found, schemas.Consultation)


class ConsultationApi(Controller):
    path = TENANT_API

    @post(ITEM, guards=[ASK], status_code=HTTP_201_CREATED, name="api.declassification.consultation_create")
    async def api_consultation_create(
        self, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str], data: JSONBody[schemas.ConsultationCreate]
    ) -> schemas.Consultation:
        """Ask the originating unit of a derived item (409 for an original item, or while
        another consultation of the item is open)."""
        return _one(await consultations.request(tenant, actor, item_id, body_data(data)))

    @get(LIST, guards=[READ], name="api.declassification.consultations")
    async def api_consultations(self, request: Request, tenant: TenantDep, actor: ActorDep) -> schemas.ConsultationPage:
        """Open consultations first, the oldest first; filters: direction (incoming |
        outgoing), status (open | answered), overdue."""
        p, n = paging(request)
        result = await consultations.list_consultations(tenant, actor, _query(request), p, n)
        return msgspec.convert(page_json(result), schemas.ConsultationPage)

    @get(ONE, guards=[READ], name="api.declassification.consultation")
    async def api_consultation(
        self, tenant: TenantDep, actor: ActorDep, consultation_id: FromPath[str]
    ) -> schemas.Consultation:
        return _one(await consultations.consultation(tenant, actor, consultation_id))

    @post(f"{ONE}/answer", guards=[ANSWER], status_code=HTTP_200_OK, name="api.declassification.consultation_answer")
    async def api_consultation_answer(
        self,
        tenant: TenantDep,
        actor: ActorDep,
        consultation_id: FromPath[str],
        data: JSONBody[schemas.ConsultationAnswer],
    ) -> schemas.Consultation:
        """The originating unit's answer, once (a second: 409)."""
        return _one(await consultations.answer(tenant, actor, consultation_id, body_data(data)))


ROUTES = [ConsultationPages, ConsultationApi]
