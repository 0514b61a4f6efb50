"""API request and response bodies of consultations (msgspec). The service checks the
values and names the field of a wrong one, so request fields are loosely typed here (a
date as text)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType

from server.core.pagination import PageBody


class ConsultationCreate(msgspec.Struct, forbid_unknown_fields=True):
    """What the originating unit is asked (optional) and by when (default: in 30 days, or
    the tenant's `declass_consult_days`)."""

    question: str | UnsetType = UNSET
    deadline: str | None | UnsetType = UNSET


class ConsultationAnswer(msgspec.Struct, forbid_unknown_fields=True):
    """agree | keep | change_level; the reasons (`note`) are required for keep and change_level."""

    answer: str | UnsetType = UNSET
    note: str | UnsetType = UNSET


class Consultation(msgspec.Struct):
    """A consultation as the actor sees it: the item's reference, public title, level,
    date of classification and custodian unit; `item_id` only for the custodian's side."""

    id: str
    item_id: str | None
    item_reference: str
    item_public_title: str
    item_level: str
    item_level_label: str
    item_classified_on: date
    custodian_unit_name: str
    originating_unit_id: str | None
    originating_unit_name: str
    originating_body: str
    answering: str  # the originating unit's name, or the body's
    question: str
    deadline: date
    status: str  # open | answered
    status_label: str
    answer: str  # "" | agree | keep | change_level
    answer_label: str
    note: str
    escalation: int  # 0 none, 1 up the unit tree, 2 the bureau
    escalation_label: str
    requested_by: str
    answered_by: str
    answered_at: datetime | None
    created_at: datetime
    days_open: int
    days_overdue: int
    overdue: bool
    answered_on_time: bool | None
    incoming: bool  # put to the actor's units
    outgoing: bool  # asked by the actor's units
    may_answer: bool


class ConsultationPage(PageBody):
    items: list[Consultation]
