"""Who sees and who acts on an inspection: the office everything, a district admin their
district's units (reading), inspectors the units of their own teams, a unit's officer
their unit's findings and measures (never clues or the team's notes)."""

from __future__ import annotations

from typing import Any

from server import roles
from server.actor import Actor
from server.core.errors import Forbidden, NotFound
from server.core.i18n import _
from server.core.rows import json_value
from server.inspections.tables import Inspection, TeamMember
from server.units import service as units
from tenants.service import TenantRef, get_owned

OFFICE = "office"  # the bureau's office: everything
DISTRICT = "district"  # a district admin over their district's units: reads
TEAM = "team"  # an inspector on the unit's team: reads and records
UNIT = "unit"  # the unit's own officer: findings, deadlines, measures; rectifications
LEADER = "leader"  # a leader of the unit (their portal, an escalated reminder): reads its findings
ALL_VIEWS = (OFFICE, DISTRICT, TEAM, UNIT, LEADER)

INSPECTION_COLUMNS = (
    *Inspection.all_columns(),
    Inspection.round.uuid.as_alias("round_uuid"),
    Inspection.round.name.as_alias("round_name"),
    Inspection.round.status.as_alias("round_status"),
    Inspection.round.starts_on.as_alias("round_starts_on"),
    Inspection.round.ends_on.as_alias("round_ends_on"),
    Inspection.round.checklist.as_alias("checklist"),
    Inspection.unit.uuid.as_alias("unit_uuid"),
    Inspection.unit.name.as_alias("unit_name"),
    Inspection.unit.path.as_alias("unit_path"),
    Inspection.team.uuid.as_alias("team_uuid"),
    Inspection.team.name.as_alias("team_name"),
)


def in_scope(actor: Actor, path: str) -> bool:
    return actor.scope_path is not None and path.startswith(actor.scope_path)


async def membership(tenant: TenantRef, team_pk: int | None, user_id: int | None) -> dict | None:
    """The actor's place on a team (its role and any conflict still to confirm), if any."""
    if team_pk is None or user_id is None:
        return None
    return (
        await TeamMember.select()
        .where(TeamMember.tenant == tenant.id, TeamMember.team == team_pk, TeamMember.user_id == user_id)
        .first()
        .output(load_json=True)
    )


def unresolved_conflict(member: dict, unit_pk: int) -> bool:
    return not member["conflict_confirmed_by"] and any(c["unit"] == unit_pk for c in member["conflicts"])


async def view_of(tenant: TenantRef, actor: Actor, row: dict) -> str:
    """How the actor may see this inspection; NotFound when not at all."""
    if actor.role == roles.OFFICE_ADMIN:
        return OFFICE
    if actor.role == roles.DISTRICT_ADMIN and in_scope(actor, row["unit_path"]):
        return DISTRICT
    if actor.role == roles.INSPECTOR and await membership(tenant, row["team"], actor.id):
        return TEAM
    if actor.role == roles.UNIT_OFFICER and in_scope(actor, row["unit_path"]):
        return UNIT
    if actor.role == roles.LEADER and await leads(tenant, actor, row["unit"]):
        return LEADER
    raise NotFound()


async def leads(tenant: TenantRef, actor: Actor, unit_pk: int) -> bool:
    """Whether the leader's own person holds a leadership post in the unit today."""
    if not actor.person_id:
        return False
    posts = await units.posts_on(
        tenant, units.today(tenant), people=[actor.person_id], units=[unit_pk], positions=units.LEADER_POSITIONS
    )
    return bool(posts)


async def inspection(tenant: TenantRef, actor: Actor, inspection_id: Any, *, allow: tuple[str, ...]) -> dict:
    """The inspection with its round, unit and team, and `view` (how the actor sees it);
    NotFound for whom it is invisible, Forbidden for a view not in `allow`."""
    owned = await get_owned(Inspection, tenant, inspection_id, Inspection.id)
    return await inspection_by_pk(tenant, actor, owned["id"], allow=allow)


async def inspection_by_pk(tenant: TenantRef, actor: Actor, pk: int, *, allow: tuple[str, ...]) -> dict:
    row = (
        await Inspection.select(*INSPECTION_COLUMNS).where(Inspection.tenant == tenant.id, Inspection.id == pk).first()
    )
    if row is None:
        raise NotFound()
    row["checklist"] = json_value(row["checklist"])
    row["view"] = await view_of(tenant, actor, row)
    if row["view"] not in allow:
        raise Forbidden()
    return row


async def recording(tenant: TenantRef, actor: Actor, inspection_id: Any) -> dict:
    """The inspection for the office or a member of its team to record on: refused once
    finalised, and to a member whose conflict of interest with the unit is not confirmed."""
    row = await inspection(tenant, actor, inspection_id, allow=(OFFICE, TEAM))
    await must_record(tenant, actor, row)
    return row


async def must_record(tenant: TenantRef, actor: Actor, row: dict) -> None:
    if row["status"] == "finalised":
        raise Forbidden(_("This inspection is finalised; nothing more can be recorded on it."))
    if row["view"] == TEAM:
        member = await membership(tenant, row["team"], actor.id)
        if member and unresolved_conflict(member, row["unit"]):
            raise Forbidden(
                _("You once held a post in this unit: the office must confirm the conflict of interest first.")
            )
