"""Clearing projects and the pilot's statistics as pages and API: the projects the actor
sees, one project with its batches and who cleared what, a batch recorded, a project
closed; the statistics of a year by item year, unit and level, with the register's
decisions of the year."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, Parameter
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server import roles
from server.core.errors import ValidationFailed
from server.core.pagination import Page
from server.declassification import clearing
from server.declassification import clearing_schemas as schemas
from server.declassification.terms import LEVELS
from server.documents import charts
from server.units import service as units
from server.web.deps import ActorDep, TenantDep
from server.web.forms import body_data, paging
from server.web.guards import allow
from server.web.handlers import post_form, show_page, without_fields
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

PAGES = "/declassification/clearing"
ONE = "/declassification/clearing/{project_id:str}"
STATISTICS = "/declassification/statistics"
API = "/clearing-projects"
API_ONE = "/clearing-projects/{project_id:str}"
READ = allow(clearing.READERS)
WRITE = allow(clearing.WRITERS)
Year = Annotated[str | None, Parameter(description="the year (default this year)")]
UnitId = Annotated[str | None, Parameter(description="a unit's id: its subtree only")]
Level = Annotated[str | None, Parameter(description="top_secret | secret | confidential")]
Status = Annotated[str | None, Parameter(description="open | closed")]


def _query(request: Request, *names: str) -> dict[str, Any]:
    return {n: request.query_params[n] for n in names if request.query_params.get(n) not in (None, "")}


def _to_project(project: dict, **_params: str) -> str:
    """On to the project a form made or changed (a batch names its project)."""
    return f"declassification/clearing/{project['project_id'] if 'project_id' in project else project['id']}"


# ---------------------------------------------------------------- pages


async def _index(request: Request, tenant: TenantDep, actor: ActorDep, status: int = 200, **extra: Any) -> Template:
    query = _query(request, "year", "status")
    p, n = paging(request)
    try:
        found = await clearing.list_projects(tenant, actor, query, p, n)
    except ValidationFailed as exc:
        extra.setdefault("errors", exc.errors)
        status = 422
        found = await clearing.list_projects(tenant, actor, {}, p, n)
    return page(
        request,
        "declassification/clearing_index.html",
        status,
        result=found,
        query=query,
        statuses=clearing.STATUSES,
        choices=await units.unit_choices(tenant, actor),
        this_year=units.today(tenant).year,
        office=actor.role == roles.OFFICE_ADMIN,
        **extra,
    )


async def _project_page(
    request: Request, tenant: TenantDep, actor: ActorDep, project_id: str, status: int = 200, **extra: Any
) -> Template:
    p, n = paging(request)
    project = await clearing.project_detail(tenant, actor, project_id, p, n)
    return page(
        request,
        "declassification/clearing_project.html",
        status,
        project=project,
        entries=Page(**{k: project["entries"][k] for k in ("items", "total", "page", "per_page")}),
        levels=LEVELS,
        outcomes=clearing.OUTCOMES,
        choices=await units.unit_choices(tenant, actor),
        today=units.today(tenant),
        may_close=project["unit_id"] is not None or actor.role == roles.OFFICE_ADMIN,
        **extra,
    )


def _charts(stats: dict) -> dict[str, Any]:
    """Bars of the year's documents by outcome, and by the year they were made (with the
    share declassified under each)."""
    totals = stats["clearing"]["totals"]
    whole = totals["documents"]
    outcomes = [
        {"label": str(label), "count": totals[key], "share": totals[key] / whole if whole else None}
        for key, label in clearing.OUTCOMES.items()
    ]
    years = [
        {
            "label": str(y["item_year"]),
            "count": y["documents"],
            "share": y["declassified"] / y["documents"] if y["documents"] else None,
        }
        for y in stats["clearing"]["by_item_year"][-12:]
    ]
    return {
        "outcomes": charts.count_bars(outcomes, title=str(clearing.LABELS["outcome"])),
        "years": charts.count_bars(years, width=max(300, 48 * len(years)), title=str(clearing.LABELS["item_year"]))
        if years
        else None,
    }


async def _statistics_page(request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
    query = _query(request, "year", "unit", "level")
    errors: dict[str, str] = {}
    try:
        stats = await clearing.statistics(tenant, actor, query)
    except ValidationFailed as exc:
        errors = exc.errors
        stats = await clearing.statistics(tenant, actor, {})
    return page(
        request,
        "declassification/clearing_statistics.html",
        422 if errors else 200,
        stats=stats,
        query=query,
        errors=errors,
        levels=LEVELS,
        choices=await units.unit_choices(tenant, actor),
        charts=_charts(stats),
    )


class ClearingPages(Controller):
    path = TENANT_PAGES

    clearing_page = show_page(PAGES, _index, guards=[READ], name="declass.clearing", handler="clearing_page")
    clearing_create = post_form(
        PAGES,
        clearing.create_project,
        guards=[WRITE],
        name="declass.clearing_create",
        handler="clearing_create",
        then=_to_project,
        again=_index,
    )
    project_page = show_page(ONE, _project_page, guards=[READ], name="declass.clearing_project", handler="project_page")
    record_form = post_form(
        f"{ONE}/entries",
        clearing.record_entry,
        guards=[WRITE],
        name="declass.clearing_record",
        handler="record_form",
        then=_to_project,
        again=_project_page,
        refused=_project_page,
    )
    close_form = post_form(
        f"{ONE}/close",
        without_fields(clearing.close_project),
        guards=[WRITE],
        name="declass.clearing_close",
        handler="close_form",
        then=_to_project,
        refused=_project_page,
    )
    statistics_page = show_page(
        STATISTICS, _statistics_page, guards=[READ], name="declass.statistics", handler="statistics_page"
    )


# ---------------------------------------------------------------- API


class ClearingApi(Controller):
    path = TENANT_API

    @get(API, guards=[READ], name="api.declass.clearing_projects")
    async def api_projects(
        self, request: Request, tenant: TenantDep, actor: ActorDep, year: Year = None, status: Status = None
    ) -> schemas.ProjectPage:
        """The clearing projects the caller sees, newest year first, each with the documents
        of the batches the caller sees, by outcome."""
        p, n = paging(request)
        found = await clearing.list_projects(tenant, actor, {"year": year, "status": status}, p, n)
        body = {"items": found.items, "total": found.total, "page": found.page, "per_page": found.per_page}
        return msgspec.convert({**body, "pages": found.pages}, schemas.ProjectPage)

    @post(API, guards=[WRITE], status_code=HTTP_201_CREATED, name="api.declass.clearing_create")
    async def api_create(
        self, tenant: TenantDep, actor: ActorDep, data: JSONBody[schemas.ProjectCreate]
    ) -> schemas.ProjectDetail:
        """A clearing project: the office's for the bureau (no unit) or a unit; a district
        admin's or a unit officer's for a unit in their scope (their own by default)."""
        made = await clearing.create_project(tenant, actor, body_data(data))
        return msgspec.convert(made, schemas.ProjectDetail)

    @get(API_ONE, guards=[READ], name="api.declass.clearing_project")
    async def api_project(
        self, request: Request, tenant: TenantDep, actor: ActorDep, project_id: FromPath[str]
    ) -> schemas.ProjectDetail:
        """A project with a page of the batches the caller sees, their totals, and who
        cleared what (by person and by unit)."""
        p, n = paging(request)
        return msgspec.convert(await clearing.project_detail(tenant, actor, project_id, p, n), schemas.ProjectDetail)

    @post(f"{API_ONE}/entries", guards=[WRITE], status_code=HTTP_201_CREATED, name="api.declass.clearing_record")
    async def api_record(
        self, tenant: TenantDep, actor: ActorDep, project_id: FromPath[str], data: JSONBody[schemas.EntryCreate]
    ) -> schemas.EntryRecorded:
        """A batch of documents cleared in an open project (a closed one: 409)."""
        made = await clearing.record_entry(tenant, actor, project_id, body_data(data))
        return msgspec.convert(made, schemas.EntryRecorded)

    @post(f"{API_ONE}/close", guards=[WRITE], status_code=HTTP_200_OK, name="api.declass.clearing_close")
    async def api_close(self, tenant: TenantDep, actor: ActorDep, project_id: FromPath[str]) -> schemas.ProjectDetail:
        """No more batches (once: a second close is refused, 409). The bureau's projects
        are closed by the office."""
        return msgspec.convert(await clearing.close_project(tenant, actor, project_id), schemas.ProjectDetail)

    @get(STATISTICS, guards=[READ], name="api.declass.statistics")
    async def api_statistics(
        self, tenant: TenantDep, actor: ActorDep, year: Year = None, unit: UnitId = None, level: Level = None
    ) -> schemas.Statistics:
        """The pilot's statistics of a year in the caller's scope: documents cleared (kept,
        declassified, corrected) by the year they were made, by unit and by level, and the
        register's decisions of the year (declassified by decision or expiry, extended,
        level changed, corrected)."""
        stats = await clearing.statistics(tenant, actor, {"year": year, "unit": unit, "level": level})
        return msgspec.convert(stats, schemas.Statistics)


ROUTES = [ClearingPages, ClearingApi]
