"""Rounds and teams: the office opens a round over chosen units (its checklist frozen),
forms teams of four inspector accounts, assigns units and visit dates; a member whose
post history includes one of the team's units is flagged until the office confirms the
conflict or replaces the member."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from piccolo.query.functions.aggregate import Count

from server import db, roles
from server.accounts import service as accounts
from server.actor import Actor
from server.audit import service as audit
from server.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.core.i18n import _, _l
from server.core.rows import joined, json_value, public
from server.core.validation import Checker
from server.inspections import checklist
from server.inspections.tables import Finding, Inspection, Round, Team, TeamMember
from server.units import service as units
from tenants.service import TenantRef, get_owned

TEAM_SIZE = 4  # a leader and three members
LABELS = {
    "name": _l("Name"),
    "starts_on": _l("Starts on"),
    "ends_on": _l("Ends on"),
    "unit_ids": _l("Units inspected"),
    "leader_user_id": _l("Team leader"),
    "member_user_ids": _l("Team members"),
    "team_id": _l("Team"),
    "visit_on": _l("Visit date"),
    "note": _l("Note"),
    "user_id": _l("Inspector"),
    "replacement_user_id": _l("Replacement"),
}
ROUND_STATUSES = {"open": _l("Open"), "closed": _l("Closed")}
MAX_UNITS = 500


def _must_manage(actor: Actor) -> None:
    if actor.role != roles.OFFICE_ADMIN:
        raise Forbidden()


async def _round_row(tenant: TenantRef, actor: Actor, round_id: Any) -> dict:
    row = await get_owned(Round, tenant, round_id)
    row["checklist"] = json_value(row["checklist"])
    if actor.role == roles.OFFICE_ADMIN:
        return row
    if row["id"] in await visible_round_pks(tenant, actor):
        return row
    raise NotFound()


async def visible_round_pks(tenant: TenantRef, actor: Actor) -> set[int]:
    """The rounds a district admin (units in their district) or an inspector (on a team)
    may see; every round for the office."""
    if actor.role == roles.OFFICE_ADMIN:
        return {r["id"] for r in await Round.select(Round.id).where(Round.tenant == tenant.id)}
    if actor.role == roles.DISTRICT_ADMIN and actor.scope_path:
        rows = await Inspection.select(Inspection.round).where(
            Inspection.tenant == tenant.id, Inspection.unit.path.like(actor.scope_path + "%")
        )
        return {r["round"] for r in rows}
    if actor.role == roles.INSPECTOR:
        rows = await TeamMember.select(TeamMember.team.round.as_alias("round")).where(
            TeamMember.tenant == tenant.id, TeamMember.user_id == actor.id
        )
        return {r["round"] for r in rows}
    return set()


# ---------------------------------------------------------------- rounds


async def _check_units(tenant: TenantRef, actor: Actor, check: Checker) -> list[int]:
    raw = check.data.get("unit_ids")
    if not isinstance(raw, list) or not raw:
        check.fail("unit_ids", _("%(field)s is required.", field=check.label("unit_ids")))
        return []
    if len(raw) > MAX_UNITS:
        check.fail("unit_ids", _("At most %(max)d units in a round.", max=MAX_UNITS))
        return []
    known = {u["id"]: u["pk"] for u in await units.units_in_scope(tenant, actor)}
    wanted = [str(u).strip().lower() for u in raw]
    missing = [u for u in wanted if u not in known]
    if missing:
        check.fail("unit_ids", _("%(field)s: no such unit.", field=check.label("unit_ids")))
        return []
    return list(dict.fromkeys(known[u] for u in wanted))


async def create_round(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict:
    """A round over the chosen units, one inspection each, with the checklist as it is today."""
    _must_manage(actor)
    check = Checker(data, LABELS)
    name = check.text("name", required=True, max_len=200)
    starts_on = check.date("starts_on", required=True)
    ends_on = check.date("ends_on", required=True)
    if starts_on and ends_on and ends_on < starts_on:
        check.fail("ends_on", _("%(field)s must not be before the start.", field=check.label("ends_on")))
    unit_pks = await _check_units(tenant, actor, check)
    check.done()
    document = await checklist.template(tenant)
    async with db.atomic():
        row = Round(tenant=tenant.id, name=name, starts_on=starts_on, ends_on=ends_on, checklist=document)
        row.created_by = actor.name
        await row.save()
        await Inspection.insert(*[Inspection(tenant=tenant.id, round=row.id, unit=pk) for pk in unit_pks])
        detail = {"name": name, "units": len(unit_pks), "items": len(document["items"])}
        await audit.record(tenant.id, actor, "inspection.round_create", "inspection_round", row.uuid, detail=detail)
    return await round_detail(tenant, actor, row.uuid)


async def list_rounds(tenant: TenantRef, actor: Actor) -> list[dict]:
    pks = await visible_round_pks(tenant, actor)
    if not pks:
        return []
    rows = (
        await Round.select()
        .where(Round.tenant == tenant.id, Round.id.is_in(list(pks)))
        .order_by(Round.starts_on, ascending=False)
    )
    counts = defaultdict(dict)
    for c in (
        await Inspection.select(Inspection.round, Inspection.status, Count(Inspection.id).as_alias("n"))
        .where(Inspection.tenant == tenant.id, Inspection.round.is_in(list(pks)), *_inspection_scope(tenant, actor))
        .group_by(Inspection.round, Inspection.status)
    ):
        counts[c["round"]][c["status"]] = c["n"]
    return [_round_public(r, counts[r["id"]]) for r in rows]


def _inspection_scope(tenant: TenantRef, actor: Actor) -> list:
    """The inspections of a round the actor sees: a district admin's district's units, an
    inspector's teams' units, every unit for the office."""
    if actor.role == roles.DISTRICT_ADMIN:
        return [Inspection.unit.path.like((actor.scope_path or "") + "%")]
    if actor.role == roles.INSPECTOR:
        teams = TeamMember.select(TeamMember.team).where(TeamMember.tenant == tenant.id, TeamMember.user_id == actor.id)
        return [Inspection.team.is_in(teams)]
    return []


def _round_public(row: dict, counts: dict[str, int]) -> dict:
    return public(
        row,
        "name",
        "starts_on",
        "ends_on",
        "status",
        "created_by",
        "created_at",
        units=sum(counts.values()),
        finalised=counts.get("finalised", 0),
    )


async def round_detail(tenant: TenantRef, actor: Actor, round_id: Any) -> dict:
    """The round with its teams (members, conflicts) and its units' inspections."""
    row = await _round_row(tenant, actor, round_id)
    inspections = await round_inspections(tenant, actor, row["id"])
    counts: dict[str, int] = defaultdict(int)
    for i in inspections:
        counts[i["status"]] += 1
    return {
        **_round_public(row, counts),
        "checklist": row["checklist"],
        "teams": await _teams(tenant, row["id"]),
        "inspections": inspections,
    }


async def round_inspections(tenant: TenantRef, actor: Actor, round_pk: int) -> list[dict]:
    """One inspection per unit (what the actor may see of the round), with its team and
    how many findings it has and how many are still open."""
    rows = (
        await Inspection.select(
            Inspection.id,
            Inspection.uuid,
            Inspection.status,
            Inspection.visit_on,
            Inspection.finalised_at,
            *joined(Inspection.unit, "uuid", "name", "path"),
            Inspection.team,
            *joined(Inspection.team, "uuid", "name"),
        )
        .where(Inspection.tenant == tenant.id, Inspection.round == round_pk, *_inspection_scope(tenant, actor))
        .order_by(Inspection.unit.path)
    )
    findings: dict[int, dict[str, int]] = defaultdict(lambda: {"findings": 0, "open_findings": 0})
    if rows:
        for f in (
            await Finding.select(Finding.inspection, Finding.state, Count(Finding.id).as_alias("n"))
            .where(Finding.tenant == tenant.id, Finding.inspection.is_in([r["id"] for r in rows]))
            .group_by(Finding.inspection, Finding.state)
        ):
            findings[f["inspection"]]["findings"] += f["n"]
            if f["state"] != "verified":
                findings[f["inspection"]]["open_findings"] += f["n"]
    return [
        public(
            r,
            "status",
            "visit_on",
            "finalised_at",
            "unit_name",
            "team_name",
            unit_id=str(r["unit_uuid"]),
            team_id=str(r["team_uuid"]) if r["team_uuid"] else None,
            **findings[r["id"]],
        )
        for r in rows
    ]


async def close_round(tenant: TenantRef, actor: Actor, round_id: Any) -> dict:
    """Closed once every unit's inspection is finalised; a conditional update, so two
    clicks close it once."""
    _must_manage(actor)
    row = await _round_row(tenant, actor, round_id)
    left = await Inspection.count().where(
        Inspection.tenant == tenant.id, Inspection.round == row["id"], Inspection.status != "finalised"
    )
    if left:
        raise Conflict(_("%(count)d units are not finalised yet.", count=left))
    async with db.atomic():
        closed = (
            await Round.update({Round.status: "closed", Round.closed_at: datetime.now(UTC)})
            .where(Round.id == row["id"], Round.status == "open")
            .returning(Round.id)
        )
        if not closed:
            raise Conflict(_("This round is already closed."))
        await audit.record(tenant.id, actor, "inspection.round_close", "inspection_round", row["uuid"])
    return await round_detail(tenant, actor, row["uuid"])


# ---------------------------------------------------------------- teams


async def _teams(tenant: TenantRef, round_pk: int) -> list[dict]:
    teams = await Team.select().where(Team.tenant == tenant.id, Team.round == round_pk).order_by(Team.id)
    members: dict[int, list[dict]] = defaultdict(list)
    if teams:
        for m in (
            await TeamMember.select()
            .where(TeamMember.tenant == tenant.id, TeamMember.team.is_in([t["id"] for t in teams]))
            .order_by(TeamMember.id)
            .output(load_json=True)
        ):
            members[m["team"]].append(_member_public(m))
    return [public(t, "name", members=members[t["id"]]) for t in teams]


def _member_public(m: dict) -> dict:
    return {
        "user_id": str(m["user_uuid"]) if m.get("user_uuid") else "",
        "user_name": m["user_name"],
        "role": m["role"],
        "conflicts": [{"unit_name": c["unit_name"], "from": c["from"], "to": c["to"]} for c in m["conflicts"]],
        "conflict_confirmed_by": m["conflict_confirmed_by"],
        "conflict_note": m["conflict_note"],
    }


async def inspectors(tenant: TenantRef) -> list[dict]:
    """Active inspector accounts, to choose team members from."""
    return [u for u in await accounts.list_users(tenant, role=roles.INSPECTOR) if u["active"]]


async def _check_people(tenant: TenantRef, check: Checker) -> list[dict]:
    """The leader and the three members: four distinct active inspector accounts."""
    by_id = {u["id"]: u for u in await inspectors(tenant)}
    leader_id = check.text("leader_user_id", required=True, max_len=64).lower()
    raw = check.data.get("member_user_ids")
    member_ids = [str(m).strip().lower() for m in raw] if isinstance(raw, list) else []
    if leader_id and leader_id not in by_id:
        check.fail(
            "leader_user_id", _("%(field)s must be an active inspector account.", field=check.label("leader_user_id"))
        )
    if len(member_ids) != TEAM_SIZE - 1:
        check.fail("member_user_ids", _("A team is a leader and three members."))
    elif any(m not in by_id for m in member_ids):
        check.fail(
            "member_user_ids", _("%(field)s must be active inspector accounts.", field=check.label("member_user_ids"))
        )
    elif len({leader_id, *member_ids}) != TEAM_SIZE:
        check.fail("member_user_ids", _("Each person can be on the team once."))
    if check.errors:
        return []
    return [{**by_id[leader_id], "role": "leader"}] + [{**by_id[m], "role": "member"} for m in member_ids]


async def add_team(tenant: TenantRef, actor: Actor, round_id: Any, data: dict[str, Any]) -> dict:
    _must_manage(actor)
    row = await _round_row(tenant, actor, round_id)
    _must_be_open(row)
    check = Checker(data, LABELS)
    name = check.text("name", required=True, max_len=100)
    people = await _check_people(tenant, check)
    check.done()
    keys = await accounts.user_keys(tenant, [p["id"] for p in people])
    async with db.atomic():
        team = Team(tenant=tenant.id, round=row["id"], name=name)
        await team.save()
        await TeamMember.insert(*[_member_row(tenant, team.id, p, keys[p["id"]]) for p in people])
        await refresh_conflicts(tenant, team.id)
        names = [_user_label(p) for p in people]
        detail = {"name": name, "members": names}
        await audit.record(tenant.id, actor, "inspection.team_create", "inspection_team", team.uuid, detail=detail)
    return next(t for t in await _teams(tenant, row["id"]) if t["id"] == str(team.uuid))


def _member_row(tenant: TenantRef, team_pk: int, user: dict, key: dict) -> TeamMember:
    return TeamMember(
        tenant=tenant.id,
        team=team_pk,
        user_id=key["id"],
        user_uuid=user["id"],
        user_name=_user_label(user),
        role=user["role"],
    )


def _user_label(user: dict) -> str:
    return user["display_name"] or user["username"]


def _must_be_open(round_row: dict) -> None:
    if round_row["status"] != "open":
        raise Conflict(_("This round is closed."))


async def refresh_conflicts(tenant: TenantRef, team_pk: int) -> None:
    """Flag each member whose post history (through the person record of their account)
    includes a unit the team inspects; a flag already confirmed stays confirmed only while
    the units it named are all the conflicts there are."""
    units_of_team = {
        str(r["unit_uuid"]): r
        for r in await Inspection.select(Inspection.unit, *joined(Inspection.unit, "uuid", "name")).where(
            Inspection.tenant == tenant.id, Inspection.team == team_pk
        )
    }
    members = (
        await TeamMember.select()
        .where(TeamMember.tenant == tenant.id, TeamMember.team == team_pk)
        .output(load_json=True)
    )
    keys = await accounts.user_keys(tenant, [m["user_uuid"] for m in members])
    for m in members:
        person = (keys.get(m["user_uuid"]) or {}).get("person_uuid")
        posts = (await units.person_detail(tenant, Actor.system(), person))["posts"] if person else []
        conflicts = [
            {
                "unit": units_of_team[p["unit_id"]]["unit"],
                "unit_name": p["unit_name"],
                "from": p["start_date"].isoformat(),
                "to": p["end_date"].isoformat() if p["end_date"] else None,
            }
            for p in posts
            if p["unit_id"] in units_of_team
        ]
        if conflicts == m["conflicts"]:
            continue
        values = {TeamMember.conflicts: conflicts}
        if {c["unit"] for c in conflicts} - {c["unit"] for c in m["conflicts"]}:
            # a new unit to answer for: the earlier confirmation did not cover it
            values |= {TeamMember.conflict_confirmed_by: "", TeamMember.conflict_note: ""}
        await TeamMember.update(values).where(TeamMember.id == m["id"])


async def _member(tenant: TenantRef, round_row: dict, team_id: Any, user_id: Any) -> tuple[dict, dict]:
    team = await get_owned(Team, tenant, team_id)
    if team["round"] != round_row["id"]:
        raise NotFound()
    member = (
        await TeamMember.select()
        .where(
            TeamMember.tenant == tenant.id, TeamMember.team == team["id"], TeamMember.user_uuid == str(user_id).lower()
        )
        .first()
    )
    if member is None:
        raise NotFound()
    return team, member


async def confirm_conflict(
    tenant: TenantRef, actor: Actor, round_id: Any, team_id: Any, user_id: Any, data: dict[str, Any]
) -> dict:
    """The office keeps a flagged member on the team, saying why."""
    _must_manage(actor)
    row = await _round_row(tenant, actor, round_id)
    team, member = await _member(tenant, row, team_id, user_id)
    check = Checker(data, LABELS)
    note = check.text("note", required=True, max_len=1000)
    check.done()
    if not member["conflicts"]:
        raise Conflict(_("This member has no conflict of interest to confirm."))
    async with db.atomic():
        await TeamMember.update({TeamMember.conflict_confirmed_by: actor.name, TeamMember.conflict_note: note}).where(
            TeamMember.id == member["id"]
        )
        detail = {"member": member["user_name"], "note": note}
        await audit.record(
            tenant.id, actor, "inspection.conflict_confirm", "inspection_team", team["uuid"], detail=detail
        )
    return next(t for t in await _teams(tenant, row["id"]) if t["id"] == str(team["uuid"]))


async def replace_member(
    tenant: TenantRef, actor: Actor, round_id: Any, team_id: Any, user_id: Any, data: dict[str, Any]
) -> dict:
    """Another inspector takes the member's place (and role) on the team."""
    _must_manage(actor)
    row = await _round_row(tenant, actor, round_id)
    _must_be_open(row)
    team, member = await _member(tenant, row, team_id, user_id)
    check = Checker(data, LABELS)
    new_id = check.text("replacement_user_id", required=True, max_len=64).lower()
    by_id = {u["id"]: u for u in await inspectors(tenant)}
    taken = {
        m["user_uuid"]
        for m in await TeamMember.select(TeamMember.user_uuid).where(
            TeamMember.tenant == tenant.id, TeamMember.team == team["id"]
        )
    }
    if new_id and new_id not in by_id:
        check.fail(
            "replacement_user_id",
            _("%(field)s must be an active inspector account.", field=check.label("replacement_user_id")),
        )
    elif new_id in taken:
        check.fail("replacement_user_id", _("Each person can be on the team once."))
    check.done()
    user = {**by_id[new_id], "role": member["role"]}
    keys = await accounts.user_keys(tenant, [new_id])
    async with db.atomic():
        await TeamMember.delete().where(TeamMember.id == member["id"])
        await TeamMember.insert(_member_row(tenant, team["id"], user, keys[new_id]))
        await refresh_conflicts(tenant, team["id"])
        detail = {"out": member["user_name"], "in": _user_label(user)}
        await audit.record(
            tenant.id, actor, "inspection.member_replace", "inspection_team", team["uuid"], detail=detail
        )
    return next(t for t in await _teams(tenant, row["id"]) if t["id"] == str(team["uuid"]))


# ---------------------------------------------------------------- assignments


async def assign(tenant: TenantRef, actor: Actor, round_id: Any, assignments: list[dict[str, Any]]) -> dict:
    """Each unit's team and visit date, all or nothing: [{inspection_id, team_id, visit_on}]
    (an empty team_id takes the unit off any team)."""
    _must_manage(actor)
    row = await _round_row(tenant, actor, round_id)
    _must_be_open(row)
    teams = {
        str(t["uuid"]): t["id"]
        for t in await Team.select(Team.id, Team.uuid).where(Team.tenant == tenant.id, Team.round == row["id"])
    }
    inspections = {
        str(i["uuid"]): i
        for i in await Inspection.select().where(Inspection.tenant == tenant.id, Inspection.round == row["id"])
    }
    errors: dict[str, str] = {}
    changes: list[tuple[dict, int | None, Any]] = []
    for n, raw in enumerate(assignments):
        check = Checker(raw if isinstance(raw, dict) else {}, LABELS)
        inspection = inspections.get(str(check.data.get("inspection_id", "")).lower())
        team_id = check.text("team_id", max_len=64).lower()
        visit_on = check.date("visit_on")
        if inspection is None:
            check.fail("inspection_id", _("%(field)s: no such unit.", field=str(LABELS["unit_ids"])))
        elif team_id and team_id not in teams:
            check.fail("team_id", _("%(field)s: no such team.", field=check.label("team_id")))
        elif visit_on and not row["starts_on"] <= visit_on <= row["ends_on"]:
            check.fail("visit_on", _("%(field)s must fall within the round.", field=check.label("visit_on")))
        elif inspection["status"] == "finalised":
            check.fail("team_id", _("This inspection is finalised; nothing more can be recorded on it."))
        errors |= {f"assignments.{n}.{k}": v for k, v in check.errors.items()}
        if not check.errors:
            changes.append((inspection, teams[team_id] if team_id else None, visit_on))
    if errors:
        raise ValidationFailed(errors)
    touched = {c[1] for c in changes} | {c[0]["team"] for c in changes}
    async with db.atomic():
        for inspection, team_pk, visit_on in changes:
            await Inspection.update({Inspection.team: team_pk, Inspection.visit_on: visit_on}).where(
                Inspection.id == inspection["id"]
            )
        for team_pk in touched - {None}:
            await refresh_conflicts(tenant, team_pk)
        detail = {"assignments": len(changes)}
        await audit.record(tenant.id, actor, "inspection.assign", "inspection_round", row["uuid"], detail=detail)
    return await round_detail(tenant, actor, row["uuid"])
