"""Declassification's expiry and review side as pages and API: the items whose term ends
soon (`/classified-items/due`, a static path Litestar matches before
`/classified-items/{item_id}`), the actor's open review tasks, an item's review of the
year, and the year's review progress by unit."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, Parameter
from litestar.response import Template
from litestar.status_codes import HTTP_201_CREATED

from server import roles
from server.core.errors import ValidationFailed
from server.declassification import access, review
from server.declassification import review_schemas as schemas
from server.units import service as units
from server.web.deps import ActorDep, TenantDep
from server.web.forms import body_data, page_json, paging
from server.web.guards import allow
from server.web.handlers import list_page, post_form, show_page
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

DUE = "/classified-items/due"
TASKS = "/declassification/tasks"
PROGRESS = "/declassification/review-progress"
REVIEWS = "/classified-items/{item_id:str}/reviews"
READ = allow(access.READERS)
REVIEW = allow({roles.OFFICE_ADMIN, roles.UNIT_OFFICER})
WithinDays = Annotated[
    str | None,
    Parameter(description="items whose term ends within this many days (1 to 3650; default the lead time)"),
]
Year = Annotated[str | None, Parameter(description="the review's year (default this year)")]


def _query(request: Request, *names: str) -> dict[str, Any]:
    return {n: request.query_params[n] for n in names if request.query_params.get(n) not in (None, "")}


# ---------------------------------------------------------------- pages


async def _due_page(request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
    return await list_page(
        request,
        "declassification/review_due.html",
        partial(review.due_items, tenant, actor),
        _query(request, "within_days"),
    )


async def _progress_page(
    request: Request, tenant: TenantDep, actor: ActorDep, status: int = 200, **extra: Any
) -> Template:
    query = _query(request, "year")
    try:
        progress = await review.review_progress(tenant, actor, query)
    except ValidationFailed as exc:
        extra.setdefault("errors", exc.errors)
        status = 422
        progress = await review.review_progress(tenant, actor, {})
    left = None
    if actor.role in (roles.OFFICE_ADMIN, roles.UNIT_OFFICER):
        p, n = paging(request)
        left = await review.unreviewed(tenant, actor, progress["year"], p, n)
    return page(
        request,
        "declassification/review_progress.html",
        status,
        progress=progress,
        left=left,
        reviewing=progress["year"] == units.today(tenant).year,
        **extra,
    )


def _reviewed(done: dict, **_params: str) -> str:
    """The year's review progress, of the year the review was recorded in."""
    return f"declassification/review-progress?year={done['year']}"


class ReviewPages(Controller):
    path = TENANT_PAGES

    due_page = show_page(DUE, _due_page, guards=[READ], name="declass.due", handler="due_page")

    @get(TASKS, guards=[READ], name="declass.tasks")
    async def tasks_page(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        p, n = paging(request)
        found = await review.open_review_tasks(tenant, actor, p, n)
        return page(request, "declassification/review_tasks.html", result=found)

    progress_page = show_page(
        PROGRESS, _progress_page, guards=[READ], name="declass.review_progress", handler="progress_page"
    )
    review_form = post_form(
        REVIEWS,
        review.record_review,
        guards=[REVIEW],
        name="declass.review",
        handler="review_form",
        then=_reviewed,
        again=_progress_page,
        refused=_progress_page,
        # a review keeps the item unless the form says otherwise
        fields=lambda data: {"outcome": "keep", **data},
    )


# ---------------------------------------------------------------- API


class ReviewApi(Controller):
    path = TENANT_API

    @get(DUE, guards=[READ], name="api.declass.due")
    async def api_due(
        self, request: Request, tenant: TenantDep, actor: ActorDep, within_days: WithinDays = None
    ) -> schemas.DuePage:
        """Items in the caller's scope still classified whose term ends within `within_days`
        (an end already passed and not yet declassified by expiry included), soonest first."""
        p, n = paging(request)
        found = await review.due_items(tenant, actor, {"within_days": within_days}, p, n)
        body = {k: found[k] for k in ("within_days", "lead_days", "today")} | page_json(found["page"])
        return msgspec.convert(body, schemas.DuePage)

    @get(TASKS, guards=[READ], name="api.declass.tasks")
    async def api_tasks(self, request: Request, tenant: TenantDep, actor: ActorDep) -> schemas.TaskPage:
        """The caller's open review tasks, the most escalated first: an officer's units', a
        leader's escalated ones of the units they lead, a district's, or (the office) all."""
        p, n = paging(request)
        return msgspec.convert(page_json(await review.open_review_tasks(tenant, actor, p, n)), schemas.TaskPage)

    @get(PROGRESS, guards=[READ], name="api.declass.review_progress")
    async def api_progress(self, tenant: TenantDep, actor: ActorDep, year: Year = None) -> schemas.Progress:
        return msgspec.convert(await review.review_progress(tenant, actor, {"year": year}), schemas.Progress)

    @post(REVIEWS, guards=[REVIEW], status_code=HTTP_201_CREATED, name="api.declass.review")
    async def api_review(
        self, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str], data: JSONBody[schemas.ReviewCreate]
    ) -> schemas.ReviewOut:
        """This year's review of the item: once per item and year (a second is refused, 409)."""
        return msgspec.convert(await review.record_review(tenant, actor, item_id, body_data(data)), schemas.ReviewOut)


ROUTES = [ReviewPages, ReviewApi]
