"""Declassification: consultations as pages and API. The custodian unit's officer asks the
originating unit about a derived item; the originating unit answers; the bureau sees the
oldest open consultations first."""

from __future__ import annotations

from functools import partial
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server import roles
from server.declassification import access, consultations
from server.declassification import consultations_schemas as schemas
from server.web.deps import ActorDep, TenantDep
from server.web.forms import page_json, paging
from server.web.guards import allow
from server.web.handlers import api_call, list_page, post_form, show_page, template_page
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


# ---------------------------------------------------------------- pages


async def _index_page(request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
    return await list_page(
        request,
        "declassification/consultation_index.html",
        partial(consultations.list_consultations, tenant, actor),
        _query(request),
        bureau=await consultations.overview(tenant, actor) if actor.role in OVERSIGHT else None,
        directions=consultations.DIRECTIONS,
        statuses=consultations.STATUSES,
    )


async def _default_days(tenant: TenantDep, _actor: ActorDep, _item_id: str) -> int:
    return await consultations.default_days(tenant)


_detail_page = template_page(
    "declassification/consultation_detail.html",
    "consultation_id",
    c=consultations.consultation,
    answers=consultations.ANSWERS,
    reasoned=consultations.REASONED,
)
# the custodian's officer asks about an item of their unit
_new_page = template_page(
    "declassification/consultation_new.html",
    "item_id",
    item=partial(access.item, allow=(access.UNIT,)),
    days=_default_days,
)


# a form about a consultation, or about an item: on to the consultation the action gives,
# or the page the form is on again with the form's messages or the refusal
THEN = "declassification/consultations/{result[id]}"


class ConsultationPages(Controller):
    path = TENANT_PAGES

    consultations_page = show_page(
        PAGES, _index_page, guards=[READ], name="declassification.consultations", handler="consultations_page"
    )
    consultation_page = show_page(
        PAGE_ONE, _detail_page, guards=[READ], name="declassification.consultation", handler="consultation_page"
    )
    consultation_answer = post_form(
        f"{PAGE_ONE}/answer",
        consultations.answer,
        guards=[ANSWER],
        name="declassification.consultation_answer",
        handler="consultation_answer",
        then=THEN,
        again=_detail_page,
        refused=_detail_page,
    )
    consultation_new = show_page(
        ITEM, _new_page, guards=[ASK], name="declassification.consultation_new", handler="consultation_new"
    )
    consultation_create = post_form(
        ITEM,
        consultations.request,
        guards=[ASK],
        name="declassification.consultation_create",
        handler="consultation_create",
        then=THEN,
        again=_new_page,
        refused=_new_page,
    )


# ---------------------------------------------------------------- API


class ConsultationApi(Controller):
    path = TENANT_API

    # asks the originating unit of a derived item (409 for an original item, or while
    # another consultation of the item is open)
    api_consultation_create = api_call(
        post,
        ITEM,
        consultations.request,
        body=schemas.ConsultationCreate,
        answer=schemas.Consultation,
        guards=[ASK],
        status_code=HTTP_201_CREATED,
        name="api.declassification.consultation_create",
        handler="api_consultation_create",
    )

    @get(LIST, guards=[READ], name="api.declassification.consultations")
    async def api_consultations(self, request: Request, tenant: TenantDep, actor: ActorDep) -> schemas.ConsultationPage:
        """Open consultations first, the oldest first; filters: direction (incoming |
        outgoing), status (open | answered), overdue."""
        p, n = paging(request)
        result = await consultations.list_consultations(tenant, actor, _query(request), p, n)
        return msgspec.convert(page_json(result), schemas.ConsultationPage)

    api_consultation = api_call(
        get,
        ONE,
        consultations.consultation,
        answer=schemas.Consultation,
        guards=[READ],
        name="api.declassification.consultation",
        handler="api_consultation",
    )
    # the originating unit's answer, once (a second: 409)
    api_consultation_answer = api_call(
        post,
        f"{ONE}/answer",
        consultations.answer,
        body=schemas.ConsultationAnswer,
        answer=schemas.Consultation,
        guards=[ANSWER],
        status_code=HTTP_200_OK,
        name="api.declassification.consultation_answer",
        handler="api_consultation_answer",
    )


ROUTES = [ConsultationPages, ConsultationApi]
