"""Review decisions as pages and API: the form to propose one on an item, a decision's page
(approve or reject it, acknowledge it, who has acknowledged), and what waits for the actor."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server import roles
from server.declassification import access, decisions, decisions_waiting, terms
from server.declassification import decisions_schemas as schemas
from server.declassification.decisions_checks import IRREGULARITIES, KINDS
from server.web.deps import ActorDep, TenantDep
from server.web.forms import body_data
from server.web.guards import allow
from server.web.handlers import Action, post_form, show_page, template_page, without_fields
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

DECISIONS = "/classified-items/{item_id:str}/decisions"
ONE = DECISIONS + "/{decision_id:str}"
APPROVALS = "/declassification/approvals"
# readers of the register (the service narrows it to the items they see; the item's
# responsible person and the people told of a decision see its decisions too)
READ = allow(access.READERS)
PROPOSE = allow({roles.OFFICE_ADMIN, roles.UNIT_OFFICER})


# ---------------------------------------------------------------- pages


_new_page = template_page(
    "declassification/decision_new.html",
    "item_id",
    item=decisions.new_decision_context,
    kinds=KINDS,
    levels=terms.LEVELS,
    irregularities=IRREGULARITIES,
)
_decision_page = template_page(
    "declassification/decision_detail.html", "item_id", "decision_id", d=decisions.decision_detail
)
# a form's decision, on to its page
THEN = "classified-items/{item_id}/decisions/{result[id]}"


def _form(form: str, call: Action) -> HTTPRouteHandler:
    """A form on the decision's page (approve, reject, acknowledge): one service call, then
    the page again; with the form's messages (422) or why it was refused (409)."""
    return post_form(
        f"{ONE}/{form}",
        call,
        guards=[READ],
        name=f"declassification.decision_{form}",
        handler=f"decision_{form}",
        then=THEN,
        again=_decision_page,
        refused=_decision_page,
        focus=form,
    )


class DecisionPages(Controller):
    path = TENANT_PAGES

    decision_new_page = show_page(
        f"{DECISIONS}/new",
        _new_page,
        guards=[PROPOSE],
        name="declassification.decision_new",
        handler="decision_new_page",
    )
    decision_propose = post_form(
        DECISIONS,
        decisions.propose,
        guards=[PROPOSE],
        name="declassification.decision_propose",
        handler="decision_propose",
        then=THEN,
        again=_new_page,
        refused=_new_page,
    )
    decision_page = show_page(
        ONE, _decision_page, guards=[READ], name="declassification.decision", handler="decision_page"
    )
    decision_approve = _form("approve", without_fields(decisions.approve))
    decision_reject = _form("reject", decisions.reject)
    decision_acknowledge = _form("acknowledge", without_fields(decisions.acknowledge))

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
