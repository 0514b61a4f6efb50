"""Review decisions as pages and API: the form to propose one on an item, a decision's page
(approve or reject it, acknowledge it, who has acknowledged), and what waits for the actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server import roles
from server.declassification import access, decisions, decisions_waiting, terms
from server.declassification import decisions_schemas as schemas
from server.declassification.decisions_checks import IRREGULARITIES, KINDS
from server.web.deps import ActorDep, TenantDep
from server.web.forms import body_data, show_again, show_refusal, submit_form
from server.web.guards import allow
from server.web.registry import named
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

DECISIONS = "/classified-items/{item_id:str}/decisions"
ONE = DECISIONS + "/{decision_id:str}"
APPROVALS = "/declassification/approvals"
# readers of the register (the service narrows it to the items they see; the item's
# responsible person and the people told of a decision see its decisions too)
READ = allow(access.READERS)
PROPOSE = allow({roles.OFFICE_ADMIN, roles.UNIT_OFFICER})


def _decision_url(tenant: TenantDep, item_id: str, decision: dict) -> str:
    return f"/t/{tenant.slug}/classified-items/{item_id}/decisions/{decision['id']}"


# ---------------------------------------------------------------- pages


async def _new_page(
    request: Request, tenant: TenantDep, actor: ActorDep, item_id: str, status: int = 200, **extra: Any
) -> Template:
    item = await decisions.new_decision_context(tenant, actor, item_id)
    return page(
        request,
        "declassification/decision_new.html",
        status,
        item=item,
        kinds=KINDS,
        levels=terms.LEVELS,
        irregularities=IRREGULARITIES,
        **extra,
    )


async def _decision_page(
    request: Request,
    tenant: TenantDep,
    actor: ActorDep,
    item_id: str,
    decision_id: str,
    status: int = 200,
    **extra: Any,
) -> Template:
    return page(
        request,
        "declassification/decision_detail.html",
        status,
        d=await decisions.decision_detail(tenant, actor, item_id, decision_id),
        **extra,
    )


def _form(form: str, call: Callable[..., Awaitable[dict]]) -> HTTPRouteHandler:
    """A form on the decision's page (approve, reject, acknowledge): one service call, then
    the page again; with the form's messages (422) or why it was refused (409)."""

    async def handler(
        self, request: Request, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str], decision_id: FromPath[str]
    ) -> Response:
        async def action(data: dict) -> dict:
            return await call(tenant, actor, item_id, decision_id, data)

        return await submit_form(
            request,
            action,
            redirect=partial(_decision_url, tenant, item_id),
            on_error=show_again(_decision_page, request, tenant, actor, item_id, decision_id, focus=form),
            on_refusal=show_refusal(_decision_page, request, tenant, actor, item_id, decision_id),
        )

    return post(f"{ONE}/{form}", guards=[READ], name=f"declassification.decision_{form}")(
        named(handler, f"decision_{form}")
    )


async def _approve(tenant, actor, item_id, decision_id, _data: dict) -> dict:
    return await decisions.approve(tenant, actor, item_id, decision_id)


async def _acknowledge(tenant, actor, item_id, decision_id, _data: dict) -> dict:
    return await decisions.acknowledge(tenant, actor, item_id, decision_id)


class DecisionPages(Controller):
    path = TENANT_PAGES

    @get(f"{DECISIONS}/new", guards=[PROPOSE], name="declassification.decision_new")
    async def decision_new_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str]
    ) -> Template:
        return await _new_page(request, tenant, actor, item_id)

    @post(DECISIONS, guards=[PROPOSE], name="declassification.decision_propose")
    async def decision_propose(
        self, request: Request, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str]
    ) -> Response:
        async def propose(data: dict) -> dict:
            return await decisions.propose(tenant, actor, item_id, data)

        return await submit_form(
            request,
            propose,
            redirect=partial(_decision_url, tenant, item_id),
            on_error=show_again(_new_page, request, tenant, actor, item_id),
            on_refusal=show_refusal(_new_page, request, tenant, actor, item_id),
        )

    @get(ONE, guards=[READ], name="declassification.decision")
    async def decision_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str], decision_id: FromPath[str]
    ) -> Template:
        return await _decision_page(request, tenant, actor, item_id, decision_id)

    decision_approve = _form("approve", _approve)
    decision_reject = _form("reject", decisions.reject)
    decision_acknowledge = _form("acknowledge", _acknowledge)

    @get(APPROVALS, guards=[READ], name="declassification.approvals")
    async def approvals_page(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return page(
            request, "declassification/decision_approvals.html", **await decisions_waiting.waiting(tenant, actor)
        )


# ---------------------------------------------------------------- API


def _out(found: dict) -> schemas.DecisionOut:
    return msgspec.convert(found, schemas.DecisionOut)


class DecisionApi(Controller):
    path = TENANT_API

    @get(DECISIONS, guards=[READ], name="api.declassification.decisions")
    async def api_decisions(
        self, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str]
    ) -> list[schemas.DecisionOut]:
        return msgspec.convert(await decisions.list_decisions(tenant, actor, item_id), list[schemas.DecisionOut])

    @post(DECISIONS, guards=[PROPOSE], status_code=HTTP_201_CREATED, name="api.declassification.decision_propose")
    async def api_propose(
        self, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str], data: JSONBody[schemas.DecisionCreate]
    ) -> schemas.DecisionOut:
        return _out(await decisions.propose(tenant, actor, item_id, body_data(data)))

    @get(ONE, guards=[READ], name="api.declassification.decision")
    async def api_decision(
        self, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str], decision_id: FromPath[str]
    ) -> schemas.DecisionOut:
        return _out(await decisions.decision_detail(tenant, actor, item_id, decision_id))

    @post(f"{ONE}/approve", guards=[READ], status_code=HTTP_200_OK, name="api.declassification.decision_approve")
    async def api_approve(
        self, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str], decision_id: FromPath[str]
    ) -> schemas.DecisionOut:
        return _out(await decisions.approve(tenant, actor, item_id, decision_id))

    @post(f"{ONE}/reject", guards=[READ], status_code=HTTP_200_OK, name="api.declassification.decision_reject")
    async def api_reject(
        self,
        tenant: TenantDep,
        actor: ActorDep,
        item_id: FromPath[str],
        decision_id: FromPath[str],
        data: JSONBody[schemas.Rejection],
    ) -> schemas.DecisionOut:
        return _out(await decisions.reject(tenant, actor, item_id, decision_id, body_data(data)))

    @post(
        f"{ONE}/acknowledge", guards=[READ], status_code=HTTP_200_OK, name="api.declassification.decision_acknowledge"
    )
    async def api_acknowledge(
        self, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str], decision_id: FromPath[str]
    ) -> schemas.DecisionOut:
        return _out(await decisions.acknowledge(tenant, actor, item_id, decision_id))

    @get(APPROVALS, guards=[READ], name="api.declassification.approvals")
    async def api_approvals(self, tenant: TenantDep, actor: ActorDep) -> schemas.Waiting:
        return msgspec.convert(await decisions_waiting.waiting(tenant, actor), schemas.Waiting)


ROUTES = [DecisionPages, DecisionApi]
