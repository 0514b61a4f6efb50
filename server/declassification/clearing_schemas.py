"""API request and response bodies of clearing projects and the pilot's statistics
(msgspec). The service checks the values and names the field of a wrong one, so request
fields are loosely typed here (a number or a date as text too)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType

from server.core.pagination import PageBody


class ProjectCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A clearing project: its name, year (default this year) and unit (none: the whole
    bureau's, the office only; a unit officer's defaults to their unit)."""

    name: str | UnsetType = UNSET
    year: int | str | None | UnsetType = UNSET
    unit_id: str | None | UnsetType = UNSET


class EntryCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A batch of documents cleared: unit (default the item's, the project's or the
    officer's), level (top_secret | secret | confidential), the year the documents were
    made, outcome (kept | declassified | corrected), how many (1 to 1,000,000; default 1),
    an item of the register (optional), and the day (default today)."""

    unit_id: str | None | UnsetType = UNSET
    level: str | UnsetType = UNSET
    item_year: int | str | None | UnsetType = UNSET
    outcome: str | UnsetType = UNSET
    count: int | str | None | UnsetType = UNSET
    item_id: str | None | UnsetType = UNSET
    cleared_on: str | None | UnsetType = UNSET


class Figures(msgspec.Struct):
    """Documents cleared, and of them kept classified, declassified and corrected."""

    documents: int
    kept: int
    declassified: int
    corrected: int


class Project(msgspec.Struct):
    id: str
    name: str
    year: int
    unit_id: str | None
    unit_name: str
    status: str
    status_label: str
    created_by: str
    created_at: datetime
    totals: Figures


class ProjectPage(PageBody):
    items: list[Project]


class Entry(msgspec.Struct):
    unit_id: str
    unit_name: str
    level: str
    level_label: str
    item_year: int
    outcome: str
    outcome_label: str
    count: int
    item_id: str | None
    item_reference: str
    cleared_by: str
    cleared_on: date


class EntryRecorded(Entry):
    project_id: str


class EntryPage(PageBody):
    items: list[Entry]


class PersonFigures(Figures):
    cleared_by: str


class UnitFigures(Figures):
    unit_id: str
    unit_name: str


class ProjectDetail(Project):
    """A project with the batches the caller sees (a page, newest first), and who cleared
    what, by person and by unit."""

    entries: EntryPage
    by_person: list[PersonFigures]
    by_unit: list[UnitFigures]


class YearFigures(Figures):
    item_year: int


class LevelFigures(Figures):
    level: str
    level_label: str


class ClearingFigures(msgspec.Struct):
    totals: Figures
    by_item_year: list[YearFigures]
    by_unit: list[UnitFigures]
    by_level: list[LevelFigures]


class RegisterFigures(msgspec.Struct):
    """The register's decisions of the year: approved decisions by kind (a partial
    declassification counted among the declassified too) and items declassified by expiry."""

    declassified_by_decision: int
    declassified_in_part: int
    declassified_by_expiry: int
    extended: int
    level_changed: int
    corrected: int


class Statistics(msgspec.Struct):
    """The pilot's statistics of a year in the caller's scope (a unit's subtree and a
    level when asked): documents cleared in the year's batches, and the register's decisions."""

    year: int
    unit_id: str | None
    unit_name: str
    level: str
    clearing: ClearingFigures
    register: RegisterFigures
