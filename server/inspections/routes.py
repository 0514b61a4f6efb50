"""Inspection rounds pages and API: the rounds, their teams and assignments, the checklist
template, and one unit's inspection as a whole."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from server import roles
from server.core.errors import NotFound
from server.inspections import access, checklist, devices, fieldwork, findings, rounds, schemas
from server.units import service as units
from server.web.deps import ActorDep, TenantDep
from server.web.forms import body_data, show_again, submit_form
from server.web.guards import allow
from server.web.handlers import Action, api_call, post_form, show_page
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

READ = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.INSPECTOR})
OFFICE = allow(roles.OFFICE_ADMIN)
# one unit's inspection: its officer too (sent on to the findings)
VIEW = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.INSPECTOR, roles.UNIT_OFFICER})


async def _index(request: Request, tenant: TenantDep, actor: ActorDep, status: int = 200, **extra: Any) -> Template:
    choices = await units.unit_choices(tenant, actor) if actor.role == roles.OFFICE_ADMIN else []
    return page(
        request,
        "inspections/index.html",
        status,
        rounds=await rounds.list_rounds(tenant, actor),
        choices=choices,
        statuses=rounds.ROUND_STATUSES,
        **extra,
    )


async def _round_page(
    request: Request, tenant: TenantDep, actor: ActorDep, round_id: str, status: int = 200, **extra: Any
) -> Template:
    detail = await rounds.round_detail(tenant, actor, round_id)
    inspectors = await rounds.inspectors(tenant) if actor.role == roles.OFFICE_ADMIN else []
    return page(
        request,
        "inspections/round.html",
        status,
        round=detail,
        inspectors=inspectors,
        statuses=rounds.ROUND_STATUSES,
        **extra,
    )


async def _checklist_page(request: Request, tenant: TenantDep, status: int = 200, **extra: Any) -> Template:
    document = extra.pop("document", None) or await checklist.template(tenant)
    return page(
        request,
        "inspections/checklist_template.html",
        status,
        areas=checklist.AREAS,
        items=document["items"],
        **extra,
    )


async def overview(request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: str) -> Response:
    """One unit's inspection at a glance: how far each part has come, what is still missing
    for finalising, the clues (team and office only); the unit's officer goes to its findings."""
    row = await access.inspection(tenant, actor, inspection_id, allow=access.ALL_VIEWS)
    if row["view"] in (access.UNIT, access.LEADER):
        return Redirect(f"/t/{tenant.slug}/inspections/{row['uuid']}/findings", status_code=303)
    areas = await fieldwork.checklist_state(tenant, row)
    items = [i for a in areas for i in a["items"]]
    can_see_clues = row["view"] in fieldwork.CLUE_VIEWS
    return page(
        request,
        "inspections/overview.html",
        insp=row,
        tab="overview",
        assessed=sum(1 for i in items if i["result"]),
        items=len(items),
        interviews=await fieldwork.interviews(tenant, row),
        missing=await fieldwork.missing(tenant, row),
        sample=await devices.sample_state(tenant, row),
        clues=await fieldwork.clues(tenant, actor, row) if can_see_clues else [],
        can_see_clues=can_see_clues,
        can_record=await fieldwork.refusal(tenant, actor, row) is None,
    )


async def inspection_detail(tenant: TenantDep, actor: ActorDep, inspection_id: str) -> dict:
    """The whole of one unit's inspection, for the office, the district and the team."""
    row = await fieldwork.readable(tenant, actor, inspection_id)
    _insp, found = await findings.inspection_findings(tenant, actor, row["uuid"])
    return {
        "id": str(row["uuid"]),
        "round_id": str(row["round_uuid"]),
        "round_name": row["round_name"],
        "unit_id": str(row["unit_uuid"]),
        "unit_name": row["unit_name"],
        "team_id": str(row["team_uuid"]) if row["team_uuid"] else None,
        "team_name": row["team_name"],
        "status": row["status"],
        "visit_on": row["visit_on"],
        "finalised_at": row["finalised_at"],
        "finalised_by": row["finalised_by"],
        "checklist": await fieldwork.checklist_state(tenant, row),
        "interviews": await fieldwork.interviews(tenant, row),
        "sample": await devices.sample_state(tenant, row),
        "measures": await devices.measures_of(tenant, row["id"]),
        "findings": found,
        "missing": await fieldwork.missing(tenant, row),
    }


def _round_form(data: dict[str, Any]) -> dict[str, Any]:
    """The form's unit checkboxes (unit_ids, repeated) as the service's list."""
    return {**data, "unit_ids": data.get("unit_ids") or []}


def _team_form(data: dict[str, Any]) -> dict[str, Any]:
    members = [data.get(f"member_{n}", "") for n in (1, 2, 3)]
    return {**data, "member_user_ids": [m for m in members if m]}


def _assignments_form(data: dict[str, Any]) -> list[dict[str, Any]]:
    """`team:<inspection id>` and `visit:<inspection id>` fields, one pair per unit."""
    ids = [key.split(":", 1)[1] for key in data if key.startswith("team:")]
    return [
        {"inspection_id": i, "team_id": data.get(f"team:{i}", ""), "visit_on": data.get(f"visit:{i}", "")} for i in ids
    ]


def _checklist_form(data: dict[str, Any]) -> dict[str, Any]:
    """Rows `code.N`, `area.N`, `text.N`, `criterion.N`, `basis.N`; a row left wholly empty
    (the spare rows at the end) is no item."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in data.items():
        field, _, n = key.partition(".")
        if n.isdigit() and field in ("code", "area", "text", "criterion", "basis"):
            rows.setdefault(int(n), {})[field] = value
    return {"items": [rows[n] for n in sorted(rows) if any(v.strip() for v in rows[n].values())]}


ROUND = "/inspections/rounds/{round_id:str}"
API_ROUND = "/inspection-rounds/{round_id:str}"
# a flagged member: the office confirms the conflict (with why they may stay) or replaces them
MEMBER = "/inspections/rounds/{round_id:str}/teams/{team_id:str}/members/{user_id:str}/{change:str}"
MEMBER_CHANGES = {"confirm": rounds.confirm_conflict, "replace": rounds.replace_member}


def _member_change(change: str):
    if change not in MEMBER_CHANGES:
        raise NotFound()
    return MEMBER_CHANGES[change]


def _round_page_form(
    path: str, action: Action, fields: Callable[[dict[str, Any]], Any], name: str, *, at: str, which: str
) -> HTTPRouteHandler:
    """A form of the office's on a round's page, posted to the round's `path` with its fields
    in the service's shape (`fields`): on to the page `at` the part it changed, or the page
    again with the form (`which`) as sent and its messages."""
    return post_form(
        f"{ROUND}/{path}",
        action,
        fields=fields,
        guards=[OFFICE],
        name=name,
        then=f"inspections/rounds/{{round_id}}#{at}",
        again=partial(_round_page, which=which),
    )


class InspectionPages(Controller):
    path = TENANT_PAGES

    index = show_page("/inspections", _index, guards=[READ], name="inspections.index")

    @post("/inspections/rounds", guards=[OFFICE], name="inspections.round_create")
    async def round_create(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        form = await request.form()
        unit_ids = form.getall("unit_ids") if "unit_ids" in form else []

        async def create(data: dict[str, Any]) -> dict:
            return await rounds.create_round(tenant, actor, {**_round_form(data), "unit_ids": unit_ids})

        return await submit_form(
            request,
            create,
            redirect=lambda made: f"/t/{tenant.slug}/inspections/rounds/{made['id']}",
            on_error=show_again(_index, request, tenant, actor, chosen=set(unit_ids)),
        )

    round_page = show_page(ROUND, _round_page, guards=[READ], name="inspections.round")
    team_create = _round_page_form(
        "teams", rounds.add_team, _team_form, "inspections.team_create", at="teams", which="team"
    )
    assign = _round_page_form(
        "assignments", rounds.assign, _assignments_form, "inspections.assign", at="units", which="assign"
    )

    @post(MEMBER, guards=[OFFICE], name="inspections.member_change")
    async def member_change(
        self,
        request: Request,
        tenant: TenantDep,
        actor: ActorDep,
        round_id: FromPath[str],
        team_id: FromPath[str],
        user_id: FromPath[str],
        change: FromPath[str],
    ) -> Response:
        return await submit_form(
            request,
            partial(_member_change(change), tenant, actor, round_id, team_id, user_id),
            redirect=lambda _team: f"/t/{tenant.slug}/inspections/rounds/{round_id}#teams",
            on_error=show_again(_round_page, request, tenant, actor, round_id, which=f"member:{user_id}"),
        )

    @post("/inspections/rounds/{round_id:str}/close", guards=[OFFICE], name="inspections.round_close")
    async def round_close(
        self, request: Request, tenant: TenantDep, actor: ActorDep, round_id: FromPath[str]
    ) -> Response:
        async def refused(problem: str) -> Template:
            return await _round_page(request, tenant, actor, round_id, 409, problem=problem)

        return await submit_form(
            request,
            lambda _data: rounds.close_round(tenant, actor, round_id),
            redirect=lambda _detail: f"/t/{tenant.slug}/inspections/rounds/{round_id}",
            on_refusal=refused,
        )

    @get("/inspections/{inspection_id:str}", guards=[VIEW], name="inspections.overview")
    async def overview_page(
        self, request: Request, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]
    ) -> Response:
        return await overview(request, tenant, actor, inspection_id)

    @get("/inspections/checklist", guards=[OFFICE], name="inspections.checklist_template")
    async def checklist_page(self, request: Request, tenant: TenantDep) -> Template:
        return await _checklist_page(request, tenant)

    @post("/inspections/checklist", guards=[OFFICE], name="inspections.checklist_save")
    async def checklist_save(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        async def on_error(data: dict, errors: dict) -> Template:
            return await _checklist_page(request, tenant, 422, document=_checklist_form(data), errors=errors)

        return await submit_form(
            request,
            lambda data: checklist.save_template(tenant, actor, _checklist_form(data)),
            redirect=lambda _doc: f"/t/{tenant.slug}/inspections/checklist?saved=1",
            on_error=on_error,
        )


class InspectionApi(Controller):
    path = TENANT_API

    api_rounds = api_call(
        get,
        "/inspection-rounds",
        rounds.list_rounds,
        answer=list[schemas.RoundRow],
        guards=[READ],
        name="api.inspection_rounds",
    )
    api_round_create = api_call(
        post,
        "/inspection-rounds",
        rounds.create_round,
        body=schemas.RoundCreate,
        answer=schemas.RoundDetail,
        guards=[OFFICE],
        status_code=HTTP_201_CREATED,
        name="api.inspection_round_create",
    )
    api_round = api_call(
        get, API_ROUND, rounds.round_detail, answer=schemas.RoundDetail, guards=[READ], name="api.inspection_round"
    )

    @get("/inspection-rounds/{round_id:str}/inspections", guards=[READ], name="api.inspection_round_inspections")
    async def api_round_inspections(
        self, tenant: TenantDep, actor: ActorDep, round_id: FromPath[str]
    ) -> list[schemas.RoundInspection]:
        detail = await rounds.round_detail(tenant, actor, round_id)
        return msgspec.convert(detail["inspections"], list[schemas.RoundInspection])

    api_team_create = api_call(
        post,
        f"{API_ROUND}/teams",
        rounds.add_team,
        body=schemas.TeamCreate,
        answer=schemas.Team,
        guards=[OFFICE],
        status_code=HTTP_201_CREATED,
        name="api.inspection_team_create",
    )

    @put("/inspection-rounds/{round_id:str}/assignments", guards=[OFFICE], name="api.inspection_assign")
    async def api_assign(
        self, tenant: TenantDep, actor: ActorDep, round_id: FromPath[str], data: JSONBody[schemas.Assignments]
    ) -> schemas.RoundDetail:
        assignments = [body_data(a) for a in data.assignments]
        return _detail(await rounds.assign(tenant, actor, round_id, assignments))

    @post(
        f"/inspection-rounds{MEMBER.removeprefix('/inspections/rounds')}",
        guards=[OFFICE],
        name="api.inspection_member_change",
    )
    async def api_member_change(
        self,
        tenant: TenantDep,
        actor: ActorDep,
        round_id: FromPath[str],
        team_id: FromPath[str],
        user_id: FromPath[str],
        change: FromPath[str],
        data: JSONBody[schemas.MemberChange],
    ) -> schemas.Team:
        made = await _member_change(change)(tenant, actor, round_id, team_id, user_id, body_data(data))
        return _team(made)

    api_round_close = api_call(
        post,
        f"{API_ROUND}/close",
        rounds.close_round,
        answer=schemas.RoundDetail,
        guards=[OFFICE],
        name="api.inspection_round_close",
    )
    api_inspection = api_call(
        get,
        "/inspections/{inspection_id:str}",
        inspection_detail,
        answer=schemas.InspectionDetail,
        guards=[READ],
        name="api.inspection",
    )

    @get("/inspection-checklist", guards=[READ], name="api.inspection_checklist")
    async def api_checklist(self, tenant: TenantDep) -> schemas.Checklist:
        return msgspec.convert(await checklist.template(tenant), schemas.Checklist)

    api_checklist_save = api_call(
        put,
        "/inspection-checklist",
        checklist.save_template,
        body=schemas.ChecklistEdit,
        answer=schemas.Checklist,
        guards=[OFFICE],
        name="api.inspection_checklist_save",
    )


def _detail(detail: dict) -> schemas.RoundDetail:
    return msgspec.convert(detail, schemas.RoundDetail)


def _team(team: dict) -> schemas.Team:
    return msgspec.convert(team, schemas.Team)


ROUTES = [InspectionPages, InspectionApi]
