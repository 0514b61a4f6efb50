"""API request and response bodies of the register of classified items (msgspec). The
service checks the values and names the field of a wrong one in a translated message, so
request fields are loosely typed here (a date as text, a number as text or a number)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType

from server.core.pagination import PageBody


class ItemWrite(msgspec.Struct, forbid_unknown_fields=True):
    """An item's fields: every one may be left out of a change (PATCH); a new item needs
    reference, public_title, level, classified_on, a term (term_kind and what it needs:
    term_years, term_until or term_condition) and basis. A derived item (origin "derived")
    names source_item_id (or source_reference: the reference number of an item the caller
    sees), originating_unit_id or originating_body; with a source item and
    no level or term of its own it takes the source's, and with no term and no source the
    default of its level (30 / 20 / 10 years). `title_is_secret`: the real title is
    itself secret (the register then refuses it: give a non-secret one)."""

    reference: str | UnsetType = UNSET
    public_title: str | UnsetType = UNSET
    title_is_secret: bool | str | UnsetType = UNSET
    level: str | UnsetType = UNSET
    classified_on: str | UnsetType = UNSET
    term_kind: str | None | UnsetType = UNSET
    term_years: int | str | None | UnsetType = UNSET
    term_until: str | None | UnsetType = UNSET
    term_condition: str | None | UnsetType = UNSET
    knowledge_scope: str | UnsetType = UNSET
    origin: str | UnsetType = UNSET
    source_item_id: str | None | UnsetType = UNSET
    source_reference: str | None | UnsetType = UNSET
    originating_unit_id: str | None | UnsetType = UNSET
    originating_body: str | None | UnsetType = UNSET
    custodian_unit_id: str | None | UnsetType = UNSET
    responsible_person_id: str | None | UnsetType = UNSET
    basis: str | UnsetType = UNSET
    handler: str | None | UnsetType = UNSET


class Item(msgspec.Struct):
    """An item of the register as the caller sees it, with what the server computes: the
    term's end (None for a condition), days left while classified, the status
    (active, partly_declassified, declassified, expired: 自行解密 by the term's end), the
    open review tasks."""

    id: str
    reference: str
    public_title: str
    level: str
    level_label: str
    classified_on: date
    term_kind: str
    term_years: int | None
    term_until: date | None
    term_condition: str
    term_defaulted: bool
    term_ends_on: date | None
    days_left: int | None
    knowledge_scope: str
    origin: str
    source_item_id: str | None
    source_reference: str
    originating_unit_id: str | None
    originating_unit_name: str
    originating_body: str
    custodian_unit_id: str
    unit_name: str
    responsible_person_id: str | None
    responsible_name: str
    basis: str
    handler: str
    status: str
    status_label: str
    declassified_on: date | None
    declassified_part: str
    publication: str
    last_reviewed_on: date | None
    open_tasks: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class ItemDetail(Item):
    """One item, with how the caller sees it (office, district, unit, leader) and whether
    they may change it now."""

    view: str
    may_edit: bool


class ItemPage(PageBody):
    items: list[Item]
