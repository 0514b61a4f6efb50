"""API bodies of the team's work at a unit: checklist results, the must-interviews,
clues, files, the team's notes and finalising (msgspec). Values are checked by the
service, which names the field in a translated message: dates come as text."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType


class ResultBody(msgspec.Struct, forbid_unknown_fields=True):
    """pass | partial | fail | na, and a note."""

    result: str
    note: str | UnsetType = UNSET


class InterviewBody(msgspec.Struct, forbid_unknown_fields=True):
    """Held: {person_id, held_on, summary, interviewer?}; or waived: {person_id, waived_reason}."""

    person_id: str
    held_on: str | UnsetType = UNSET
    summary: str | UnsetType = UNSET
    interviewer: str | UnsetType = UNSET
    waived_reason: str | UnsetType = UNSET


class ClueBody(msgspec.Struct, forbid_unknown_fields=True):
    text: str


class NotesBody(msgspec.Struct, forbid_unknown_fields=True):
    team_notes: str


class FileInfo(msgspec.Struct):
    """A file kept on a clue, an item, a finding, a rectification or a measure."""

    id: str
    filename: str
    content_type: str
    size: int
    digest: str
    uploaded_by: str
    uploaded_at: datetime


class ItemState(msgspec.Struct):
    """A checklist item of the round and what the team recorded on it."""

    code: str
    area: str
    text: str
    criterion: str
    basis: str
    result: str | None
    note: str
    updated_by: str
    updated_at: datetime | None
    evidence: list[FileInfo]


class Interviewee(msgspec.Struct):
    person_id: str
    name: str
    positions: list[str]
    classified_level: str
    military_transfer: bool
    # leadership | classified | military_transfer
    reasons: list[str]
    # held | waived | missing
    status: str
    held_on: date | None
    interviewer: str
    summary: str
    waived_reason: str
    recorded_by: str
    recorded_at: datetime | None


class Interviews(msgspec.Struct):
    """The must-interview list as of `day` (the visit, or today before one is set)."""

    day: date
    people: list[Interviewee]
    held: int
    waived: int
    total: int
    # (held + waived) / total; 1.0 when nobody is on the list
    coverage: float
    missing: list[str]


class ClueInfo(msgspec.Struct):
    id: str
    text: str
    created_by: str
    created_at: datetime
    files: list[FileInfo]


class Notes(msgspec.Struct):
    team_notes: str


class Finalised(msgspec.Struct):
    id: str
    status: str
    finalised_at: datetime
    finalised_by: str
