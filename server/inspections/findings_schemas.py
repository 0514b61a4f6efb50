"""API request and response bodies of findings and their rectification (msgspec). The
service checks the values and names the field of a wrong one in a translated message,
so request fields are loosely typed here (a date as text, a flag as text or a boolean)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType

from server.core.pagination import PageBody
from server.inspections.fieldwork_schemas import FileInfo


class FindingCreate(msgspec.Struct, forbid_unknown_fields=True):
    """From a checklist item (its area and basis come with it) or a device of the unit
    (give the area); `on_spot` needs a note of what was done, `deadline` a deadline."""

    severity: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    mode: str | UnsetType = UNSET
    item: str | UnsetType = UNSET
    device_id: str | None | UnsetType = UNSET
    area: str | UnsetType = UNSET
    basis: str | UnsetType = UNSET
    deadline: str | None | UnsetType = UNSET
    note: str | UnsetType = UNSET
    leak: bool | str | UnsetType = UNSET


class Note(msgspec.Struct, forbid_unknown_fields=True):
    """A comment, what was done (a rectification), or why the rectification starts."""

    note: str | UnsetType = UNSET


class Verdict(msgspec.Struct, forbid_unknown_fields=True):
    """Accepted: verified. Not accepted: reopened, and the note says why."""

    accepted: bool | str | UnsetType = UNSET
    note: str | UnsetType = UNSET


class Deduction(msgspec.Struct):
    """What the finding costs its unit in the year's assessment (`applied`), or why the
    assessment cannot hold it (`problem`: the scheme has no such item)."""

    kind: str  # deduction | veto
    item: str
    name: str
    points: float
    year: int
    applied: bool
    problem: str
    link: str  # the unit's assessment page


class FindingRow(msgspec.Struct):
    id: str
    inspection_id: str
    round_id: str
    round_name: str
    unit_id: str
    unit_name: str
    item: str
    area: str
    area_label: str
    device_id: str | None
    device_label: str
    severity: str
    severity_label: str
    description: str
    basis: str
    mode: str
    mode_label: str
    deadline: date | None
    responsible_id: str | None
    responsible_name: str
    state: str
    state_label: str
    leak: bool
    recurring: bool
    overdue: bool
    recorded_by: str
    created_at: datetime
    submitted_at: datetime | None
    verified_at: datetime | None
    verified_by: str
    deductions: list[Deduction]


class FindingPage(PageBody):
    items: list[FindingRow]


class FindingEvent(msgspec.Struct):
    """One entry of the history: recorded, rectifying, submitted, verified, reopened,
    overdue, or a comment."""

    kind: str
    kind_label: str
    note: str
    actor: str
    at: datetime


class Allowed(msgspec.Struct):
    """What the caller may do with the finding now."""

    start: bool
    submit: bool
    verify: bool
    reopen: bool
    comment: bool


class FindingDetail(FindingRow):
    item_text: str
    events: list[FindingEvent]
    evidence: list[FileInfo]
    rectification_files: list[FileInfo]
    may: Allowed
