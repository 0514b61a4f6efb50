"""API bodies of the publication of declassified items: the office's decisions and
withdrawals, and the public JSON list (whose entry keys are the public whitelist)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType

from server.core.pagination import PageBody


class PublicationDecision(msgspec.Struct, forbid_unknown_fields=True):
    """Publish a declassified item (with what was declassified; empty: the part a partial
    declassification named, or the whole item) or withhold it (a reason is required)."""

    publish: bool | str | UnsetType = UNSET
    what: str | UnsetType = UNSET
    reason: str | UnsetType = UNSET


class Withdrawal(msgspec.Struct, forbid_unknown_fields=True):
    reason: str | UnsetType = UNSET


class Entry(msgspec.Struct):
    """A published entry as the office sees it."""

    id: str
    reference: str
    public_title: str
    unit: str
    level: str
    declassified_on: date
    what: str
    published_at: datetime
    published_by: str
    withdrawn: bool
    withdrawn_on: date | None
    withdrawn_reason: str


class EntryPage(PageBody):
    items: list[Entry]


class DecisionResult(msgspec.Struct):
    item_id: str
    publication: str  # published | withheld
    entry: Entry | None


class WaitingItem(msgspec.Struct):
    """A declassified item waiting for the office's publication decision."""

    id: str
    reference: str
    public_title: str
    level: str
    status: str  # declassified | partly_declassified | expired (自行解密)
    by_expiry: bool
    unit: str
    declassified_on: date | None
    part: str


class WaitingPage(PageBody):
    items: list[WaitingItem]


class PublicEntry(msgspec.Struct):
    """An entry of the public page: these keys and no others (tested)."""

    id: str
    reference: str
    public_title: str
    unit: str
    declassified_on: date
    what: str  # empty: the whole item
    withdrawn: bool
    withdrawn_on: date | None
    withdrawn_reason: str


class PublicPage(PageBody):
    items: list[PublicEntry]
    next: str | None
