"""API bodies of the annual assessment (msgspec): they are the OpenAPI. Values sent are
checked by the services, which name the field in a translated message; a scheme's
document is free-form JSON, checked as a whole. (The evidence upload, a multipart body
of Litestar's UploadFile, is declared by its handler.)"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

# ---------------------------------------------------------------- requests


class SchemeBody(msgspec.Struct):
    """The whole scheme document; its parts are checked together (points must add up)."""

    total: Annotated[Any, Meta(description="The scheme's total points (default 100).")] | UnsetType = UNSET
    indicators: (
        Annotated[Any, Meta(description="Rows of code, name, parent, points, method, source, guide.")] | UnsetType
    ) = UNSET
    deductions: Annotated[Any, Meta(description="Rows of code, name, points.")] | UnsetType = UNSET
    deduction_cap: Any | UnsetType = UNSET
    vetoes: Annotated[Any, Meta(description="Rows of code, name.")] | UnsetType = UNSET
    grades: Annotated[Any, Meta(description="The lowest total of excellent, good and pass.")] | UnsetType = UNSET
    top_cap: (
        Annotated[Any, Meta(description="The largest share of units graded excellent (0 to 1), or null.")] | UnsetType
    ) = UNSET


class OpenBody(msgspec.Struct, forbid_unknown_fields=True):
    cutoff: Annotated[str, Meta(description="YYYY-MM-DD in the year; default 31 December.")] | UnsetType = UNSET
    self_due: Annotated[str, Meta(description="YYYY-MM-DD; default the cut-off date.")] | UnsetType = UNSET
    scope: Annotated[str | None, Meta(description="A district's id; none: every unit.")] | UnsetType = UNSET


class SelfBody(msgspec.Struct, forbid_unknown_fields=True):
    # any JSON value: the service judges it, so a wrong one gets its 422 naming the field
    score: Any = None
    note: str = ""


class ReviewBody(msgspec.Struct, forbid_unknown_fields=True):
    # any JSON value: the service judges it, so a wrong one gets its 422 naming the field
    score: Any = None
    reason: str = ""


class AdjustmentBody(msgspec.Struct, forbid_unknown_fields=True):
    kind: Annotated[str, Meta(description="deduction or veto.")] = ""
    item: Annotated[str, Meta(description="The code of a deduction or veto item of the scheme.")] = ""
    note: str = ""


# ---------------------------------------------------------------- responses


class Scheme(msgspec.Struct):
    id: str
    year: int
    status: str
    document: dict[str, Any]
    # the document's indicators in tree order, each with its depth, area and whether it is a group
    indicators: list[dict[str, Any]]
    updated_at: datetime
    frozen_at: datetime | None


class Previous(msgspec.Struct):
    year: int
    total: float
    grade: str | None
    rank: int | None


class UnitResult(msgspec.Struct):
    unit_id: str
    unit_name: str
    unit_code: str | None
    district: str
    status: str
    score_sum: float
    deduction: float
    veto: bool
    total: float
    grade: str | None
    rank: int | None
    rank_of: int
    district_rank: int | None
    district_of: int | None
    complete: bool
    previous: Previous | None


class Assessment(msgspec.Struct):
    id: str
    year: int
    status: str
    cutoff: date
    self_due: date
    auto_as_of: date | None
    opened_at: datetime
    finalised_at: datetime | None


class Overview(Assessment):
    units: list[UnitResult]
    grades: dict[str, int]
    statuses: dict[str, int]
    ungraded: int
    average: float | None


class EvidenceFile(msgspec.Struct):
    id: str
    filename: str
    content_type: str
    size: int


class EvidenceListed(EvidenceFile):
    uploaded_at: datetime


class Indicator(msgspec.Struct):
    code: str
    name: str
    parent: str
    area: str
    depth: int
    group: bool
    points: float
    method: str | None
    method_label: str
    source: str | None
    source_label: str
    guide: str
    score: float | None
    provisional: bool
    self_score: float | None
    self_note: str
    state: str
    reason: str
    inputs: dict[str, Any] | None
    how: str
    evidence: list[EvidenceListed]


class Adjustment(msgspec.Struct):
    id: str
    kind: str
    kind_label: str
    item: str
    name: str
    points: float
    note: str
    created_by: str
    created_at: datetime
    # the inspection finding it came from: it follows the finding, and is not removed by hand
    finding_id: str | None = None


class ScoreEvent(msgspec.Struct):
    indicator: str
    kind: str
    kind_label: str
    old: float | None
    new: float | None
    note: str
    actor: str
    at: datetime


class UnitDetail(UnitResult):
    assessment: Assessment
    grade_label: str
    status_label: str
    indicators: list[Indicator]
    adjustments: list[Adjustment]
    deduction_cap: float
    # the scheme's items as its document holds them
    deduction_items: list[dict[str, Any]]
    veto_items: list[dict[str, Any]]
    events: list[ScoreEvent]
    figures_as_of: date | None
    submitted_at: datetime | None
    reviewed_at: datetime | None


class SelfScore(msgspec.Struct):
    indicator: str
    self_score: float
    note: str


class Submitted(msgspec.Struct):
    status: str


class ReviewedScore(msgspec.Struct):
    indicator: str
    score: float
    state: str


class AdjustmentAdded(msgspec.Struct):
    id: str
    kind: str
    item: str
    points: float
