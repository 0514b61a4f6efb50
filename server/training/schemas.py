"""API request and response bodies of training (msgspec), as the OpenAPI document shows
them. Request values are checked by the service, which names the field in a translated
message: hours and marks may come as numbers or as text."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType


class CourseCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    kind: str
    hours: float | str
    date: str
    organiser: str | UnsetType = UNSET
    pass_mark: float | str | None | UnsetType = UNSET
    unit_id: str | None | UnsetType = UNSET


class Attendance(msgspec.Struct):
    """One course a person attended."""

    course_id: str
    title: str
    date: date
    kind: str
    hours: float
    score: float | None


class YearHours(msgspec.Struct):
    year: int
    hours: float


class PersonTraining(msgspec.Struct):
    person_id: str
    name: str
    year: int
    hours: float
    required: float
    shortfall: float
    attendances: list[Attendance]
    history: list[YearHours]


class Requirements(msgspec.Struct):
    """Hours a year required of leaders and of classified personnel by level."""

    leader: float
    core: float
    important: float
    general: float


class Share(msgspec.Struct):
    total: int
    met: int
    rate: float


class ShortOfHours(msgspec.Struct):
    person_id: str
    name: str
    unit_id: str
    unit_name: str
    position: str
    leader: bool
    classified_level: str
    hours: float
    required: float
    shortfall: float


class UnitTraining(msgspec.Struct):
    year: int
    requirements: Requirements
    leaders: Share
    classified: Share
    short: list[ShortOfHours]
    people: int


class Course(msgspec.Struct):
    id: str
    title: str
    kind: str
    hours: float
    date: date
    organiser: str
    pass_mark: float | None
    unit_name: str


class CourseRow(Course):
    attendee_hours: float


class Attendee(msgspec.Struct):
    id: str
    person_id: str
    name: str
    hours: float
    score: float | None
    passed: bool | None


class CourseDetail(Course):
    attendees: list[Attendee]


class ImportRow(msgspec.Struct):
    """A good row of a workbook and what applying it would change."""

    line: int
    person_id: str
    person_name: str
    unit_name: str
    course: str
    date: str
    hours: float
    score: float | None
    status: str
    # the hours the records held; absent from previews kept before it was
    before: float | None | UnsetType = UNSET
    # what the reader assumed (a year added to a date, a staff number not used)
    note: str = ""


class ImportProblem(msgspec.Struct):
    line: int
    field: str
    message: str
    # the column as the file's own header names it
    column: str = ""


class ImportPreview(msgspec.Struct):
    id: str
    filename: str
    year: int
    status: str
    created_at: datetime
    applied_at: datetime | None
    rows: list[ImportRow]
    errors: list[ImportProblem]
    counts: dict[str, int]
    clean: bool
    # the worksheet read, and the rows skipped as totals (合计)
    sheet: str = ""
    totals: list[int] = []


class ImportApplied(msgspec.Struct):
    written: int
    courses_created: int
    unchanged: int
