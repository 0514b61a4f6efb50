"""API bodies of the expiry and review side of the register (msgspec): what is due, the
open review tasks, a year's review of an item and the review's progress by unit."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType

from server.core.pagination import PageBody


class Task(msgspec.Struct):
    """An open review task: why (expiry, source, annual), by when, and how far it has been
    escalated (0 the custodian unit, 1 the unit's principal, 2 the bureau)."""

    id: str
    kind: str
    kind_label: str
    reason: str
    due_on: date | None
    escalation: int
    escalation_label: str
    created_at: datetime


class DueItem(msgspec.Struct):
    """An item still classified whose term ends soon (days_left below 0: ended, not yet
    declassified by expiry), with its open task if any."""

    id: str
    reference: str
    public_title: str
    level: str
    level_label: str
    status: str
    unit_id: str
    unit_name: str
    responsible_name: str
    term_ends_on: date | None
    days_left: int | None
    expiry_stage: int
    last_reviewed_on: date | None
    task: Task | None


class DuePage(msgspec.Struct):
    within_days: int
    lead_days: int
    today: date
    items: list[DueItem]
    total: int
    page: int
    per_page: int
    pages: int


class TaskRow(Task):
    item_id: str
    reference: str
    public_title: str
    level: str
    level_label: str
    item_status: str
    term_ends_on: date | None
    days_left: int | None
    unit_id: str
    unit_name: str


class TaskPage(PageBody):
    items: list[TaskRow]


class ReviewCreate(msgspec.Struct, forbid_unknown_fields=True):
    """This year's review of the item: kept as it is (`keep`), with a note."""

    outcome: str | UnsetType = UNSET
    note: str | UnsetType = UNSET


class ReviewOut(msgspec.Struct):
    item_id: str
    year: int
    outcome: str
    outcome_label: str
    note: str
    reviewed_on: date
    reviewed_by: str


class UnitProgress(msgspec.Struct):
    unit_id: str
    unit_name: str
    depth: int
    items: int
    reviewed: int
    share: float


class Progress(msgspec.Struct):
    """The year's review by unit: items still classified, how many reviewed in the year."""

    year: int
    units: list[UnitProgress]
    items: int
    reviewed: int
    share: float
