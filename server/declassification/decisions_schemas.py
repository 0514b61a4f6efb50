"""API request and response bodies of review decisions (msgspec). The service checks the
values and names the field of a wrong one in a translated message, so request fields are
loosely typed here (a date as text, a number or a flag as text too)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType


class DecisionCreate(msgspec.Struct, forbid_unknown_fields=True):
    """declassify (`part` for a partial one, `publish` to put it on the public page),
    extend (`new_term_years` counted from the classification date, or `new_term_until`;
    `reason` required), change_level (`new_level`, and a new term when the current one
    passes the new level's ceiling), correct (`irregularity`; `new_level`, a new term)."""

    decision: str | UnsetType = UNSET
    basis: str | UnsetType = UNSET
    effective_on: str | None | UnsetType = UNSET
    part: str | UnsetType = UNSET
    new_term_years: int | str | None | UnsetType = UNSET
    new_term_until: str | None | UnsetType = UNSET
    new_level: str | UnsetType = UNSET
    irregularity: str | UnsetType = UNSET
    reason: str | UnsetType = UNSET
    publish: bool | str | UnsetType = UNSET


class Rejection(msgspec.Struct, forbid_unknown_fields=True):
    reason: str | UnsetType = UNSET


class Acknowledgement(msgspec.Struct):
    """A person in the knowledge scope told of the approved decision."""

    person_id: str
    name: str
    acknowledged_at: datetime | None


class Allowed(msgspec.Struct):
    """What the caller may do with the decision now."""

    approve: bool
    reject: bool
    acknowledge: bool


class ConsultationRef(msgspec.Struct):
    """The originator's answer a derived item's decision rests on."""

    id: str
    status: str
    answer: str  # agree | keep | change_level
    answer_label: str
    note: str


class DecisionSummary(msgspec.Struct):
    """What every view of a decision starts with (decisions.summary): it, its item and its
    kind."""

    id: str
    item_id: str
    item_reference: str
    item_title: str
    unit_name: str
    decision: str
    decision_label: str


class DecisionOut(DecisionSummary):
    basis: str
    reason: str
    effective_on: date | None
    part: str
    new_term_years: int | None
    new_term_until: date | None
    new_level: str
    new_level_label: str
    irregularity: str
    irregularity_label: str
    publish: bool
    status: str  # proposed | bureau | approved | rejected
    status_label: str
    proposed_by: str
    decided_by: str
    decided_at: datetime | None
    decided_note: str  # why it was rejected (empty otherwise)
    created_at: datetime
    acknowledged: int
    total: int
    # approved, and every person told of it has acknowledged it
    safe: bool
    acknowledgements: list[Acknowledgement]
    may: Allowed
    consultation: ConsultationRef | None


class WaitingDecision(DecisionSummary):
    status: str
    status_label: str
    proposed_by: str
    created_at: datetime


class Waiting(msgspec.Struct):
    """What waits for the caller: decisions to approve, decisions to acknowledge."""

    approvals: list[WaitingDecision]
    acknowledgements: list[WaitingDecision]
