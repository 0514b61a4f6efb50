"""API bodies of the register's Excel import (msgspec): a preview (the item each good row
would add, every bad row's problems) and what applying it wrote."""

from __future__ import annotations

from datetime import date, datetime

import msgspec


class ItemImportRow(msgspec.Struct):
    """A good row of the workbook: the item applying it adds (status: new)."""

    line: int
    status: str
    reference: str
    public_title: str
    level: str  # top_secret | secret | confidential
    classified_on: date
    term_kind: str  # years | date | condition
    term_years: int | None
    term_until: date | None
    term_condition: str
    term_defaulted: bool
    term_ends_on: date | None
    knowledge_scope: str
    origin: str  # original | derived
    source_item_id: str | None
    source_reference: str
    originating_unit_id: str | None
    originating_unit_name: str
    originating_body: str
    custodian_unit_id: str
    custodian_unit_name: str
    responsible_person_id: str | None
    responsible_name: str
    handler: str
    basis: str


class ItemImportProblem(msgspec.Struct):
    """Why a row cannot be written: its line in the sheet, the column (a key of the
    workbook's columns) and the message."""

    line: int
    field: str
    message: str


class ItemImportPreview(msgspec.Struct):
    id: str
    filename: str
    status: str  # preview | applied
    created_at: datetime
    applied_at: datetime | None
    rows: list[ItemImportRow]
    errors: list[ItemImportProblem]
    counts: dict[str, int]
    clean: bool


class ItemImportApplied(msgspec.Struct):
    added: int
