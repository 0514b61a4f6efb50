"""API bodies of duties, notices, confirmations and coverage (msgspec): they are the
OpenAPI. Request values are checked by the service, which names the field in a
translated message; UNSET keys are left out of an answer, as the service leaves them out."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from server.core.pagination import PageBody

# ---------------------------------------------------------------- requests


class SignBody(msgspec.Struct, forbid_unknown_fields=True):
    """Either the password, or the one-time code mailed by .../code."""

    password: str | UnsetType = UNSET
    code: str | UnsetType = UNSET


class IssueBody(msgspec.Struct, forbid_unknown_fields=True):
    scope: str
    person_id: str | None = None
    unit_id: str | None = None
    renew: bool = False


class ConfirmationAnswer(msgspec.Struct, forbid_unknown_fields=True):
    """One duty, in the order the confirmation lists them; done left out: not answered."""

    done: bool | None = None
    note: str = ""


class ConfirmationBody(msgspec.Struct, forbid_unknown_fields=True):
    period: str
    items: list[ConfirmationAnswer]


class WaiverBody(msgspec.Struct, forbid_unknown_fields=True):
    period: str
    reason: str


# ---------------------------------------------------------------- duty catalog


class Catalog(msgspec.Struct):
    id: str
    year: int
    version: int
    status: str
    note: str
    created_at: datetime
    published_at: datetime | None


class CatalogDuty(msgspec.Struct):
    id: str
    text: str
    sort_order: int


class CatalogDetail(Catalog):
    sections: dict[str, list[CatalogDuty]]
    current: bool


# ---------------------------------------------------------------- notices


class Notice(msgspec.Struct):
    id: str
    title: str
    status: str
    position: str
    year: int
    version_label: str
    digest: str
    issued_at: datetime
    viewed_at: datetime | None
    signed_at: datetime | None
    closed_at: datetime | None
    close_reason: str
    person_id: str
    person_name: str
    unit_id: str
    unit_name: str


class Signature(msgspec.Struct):
    uuid: UUID
    signer_name: str
    signed_at: datetime
    code: str
    client_addr: str
    user_agent: str
    method: str
    notice_digest: str


class NoticeDetail(Notice):
    body_html: str
    mine: bool
    signature: Signature | None


class MyNotices(msgspec.Struct):
    to_sign: list[Notice]
    signed: list[Notice]
    closed: list[Notice]


class NoticePage(PageBody):
    items: list[Notice]


class IssueResult(msgspec.Struct):
    issued: int
    superseded: int
    skipped: int
    leaders: int


class CodeSent(msgspec.Struct):
    sent_to: str
    status: str


class Verification(msgspec.Struct):
    """Whether the code (and the PDF) match; the signature's particulars when the code is known."""

    match: bool
    reason: str
    code: str | UnsetType = UNSET
    signer_name: str | UnsetType = UNSET
    signed_at: datetime | UnsetType = UNSET
    title: str | UnsetType = UNSET
    unit_name: str | UnsetType = UNSET
    digest: str | UnsetType = UNSET
    notice_id: str | UnsetType = UNSET


# ---------------------------------------------------------------- confirmations


class ConfirmationItem(msgspec.Struct):
    duty: str
    done: bool
    note: str


class Confirmation(msgspec.Struct):
    id: str
    period: str
    late: bool
    items: list[ConfirmationItem]


class DueConfirmation(msgspec.Struct):
    period: str
    due_date: date
    overdue: bool
    duties: list[str]


class OwedPeriod(msgspec.Struct):
    period: str
    due_date: date
    overdue: bool


class ConfirmationRecord(msgspec.Struct):
    id: str
    period: str
    due_date: date
    submitted_at: datetime
    late: bool
    items: list[ConfirmationItem]


class MyConfirmations(msgspec.Struct):
    due: DueConfirmation | None
    owed: list[OwedPeriod]
    history: list[ConfirmationRecord]


class Waiver(msgspec.Struct):
    id: str
    person_id: str
    period: str
    reason: str


# ---------------------------------------------------------------- coverage


class Tally(msgspec.Struct):
    units: int
    leaders: int
    missed_confirmations: int
    counts: dict[str, int]
    rates: dict[str, float]


class GroupTally(Tally):
    id: str
    name: str


class UnitTally(Tally):
    id: str
    name: str
    group: str
    depth: int


class CoveragePeriod(msgspec.Struct):
    key: str
    due_date: date


class Coverage(msgspec.Struct):
    period: CoveragePeriod
    totals: Tally
    groups: list[GroupTally]
    units: list[UnitTally]


class MissedPeriod(msgspec.Struct):
    period: str
    due_date: date


class CoverageRow(msgspec.Struct):
    """A unit (a unit metric), or a leader's post (the others): the leader's keys are
    left out of a unit's row; period and due_date are those of one missed confirmation."""

    unit_id: str
    unit_name: str
    group: str
    person_id: str | UnsetType = UNSET
    person_name: str | UnsetType = UNSET
    position: str | UnsetType = UNSET
    notice_id: str | None | UnsetType = UNSET
    notice_status: str | None | UnsetType = UNSET
    issued_at: datetime | None | UnsetType = UNSET
    signed_at: datetime | None | UnsetType = UNSET
    missed: list[MissedPeriod] | UnsetType = UNSET
    problems: list[str] | UnsetType = UNSET
    period: str | UnsetType = UNSET
    due_date: date | UnsetType = UNSET
