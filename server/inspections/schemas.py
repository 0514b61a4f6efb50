"""API request and response bodies of rounds, teams and the checklist template (msgspec)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType

from server.inspections.devices_schemas import Measure, Sample
from server.inspections.fieldwork_schemas import Interviews, ItemState
from server.inspections.findings_schemas import FindingRow


class RoundCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    starts_on: str
    ends_on: str
    unit_ids: list[str]


class RoundRow(msgspec.Struct):
    id: str
    name: str
    starts_on: date
    ends_on: date
    status: str
    created_by: str
    created_at: datetime
    units: int
    finalised: int


class TeamCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    leader_user_id: str
    member_user_ids: list[str]


class Conflict(msgspec.Struct):
    """A unit of the team's where the member once held a post."""

    unit_name: str
    from_: date = msgspec.field(name="from")
    to: date | None = None


class Member(msgspec.Struct):
    user_id: str
    user_name: str
    role: str
    conflicts: list[Conflict]
    conflict_confirmed_by: str
    conflict_note: str


class Team(msgspec.Struct):
    id: str
    name: str
    members: list[Member]


class MemberChange(msgspec.Struct, forbid_unknown_fields=True):
    """`confirm` a member's conflict of interest: `note` says why they may stay; `replace`
    them: `replacement_user_id` names the inspector taking their place."""

    note: str | UnsetType = UNSET
    replacement_user_id: str | UnsetType = UNSET


class InspectionHead(msgspec.Struct):
    """One unit's inspection: which unit, which team, when, how far."""

    id: str
    unit_id: str
    unit_name: str
    team_id: str | None
    team_name: str | None
    status: str
    visit_on: date | None
    finalised_at: datetime | None


class RoundInspection(InspectionHead):
    """One unit's inspection as the round lists it."""

    findings: int
    open_findings: int


class ChecklistItem(msgspec.Struct):
    code: str
    area: str
    text: str
    criterion: str = ""
    basis: str = ""


class Checklist(msgspec.Struct):
    items: list[ChecklistItem]


class ChecklistEdit(msgspec.Struct, forbid_unknown_fields=True):
    """The whole template (items in the six areas R C P N M D), replacing the one before."""

    items: list[dict]


class RoundDetail(RoundRow):
    checklist: Checklist
    teams: list[Team]
    inspections: list[RoundInspection]


class Assignment(msgspec.Struct, forbid_unknown_fields=True):
    inspection_id: str
    team_id: str | None = None
    visit_on: str | None = None


class Assignments(msgspec.Struct, forbid_unknown_fields=True):
    assignments: list[Assignment]


class InspectionChange(msgspec.Struct, forbid_unknown_fields=True):
    """A unit's team and visit date (either may be left out)."""

    team_id: str | None | UnsetType = UNSET
    visit_on: str | None | UnsetType = UNSET


class Area(msgspec.Struct):
    """One of the six areas, its items and how many have a result."""

    code: str
    name: str
    assessed: int
    items: list[ItemState]


class Missing(msgspec.Struct):
    """What finalising still waits for (the coverage gate)."""

    code: str
    message: str


class InspectionDetail(InspectionHead):
    """One unit's inspection as a whole: the checklist, the must-interviews, the device
    sample and the measures, the findings, and what finalising still needs."""

    round_id: str
    round_name: str
    finalised_by: str
    checklist: list[Area]
    interviews: Interviews
    sample: Sample
    measures: list[Measure]
    findings: list[FindingRow]
    missing: list[Missing]
