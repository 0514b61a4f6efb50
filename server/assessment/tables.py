from decimal import Decimal

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.units.tables import Unit
from tenants.tables import StoredFile, TenantOwned, TenantRow

SCORE = (7, 2)


class Scheme(TenantRow, Table, tablename="assessment_schemes"):
    """A year's scheme as one document (indicator tree, deductions, vetoes, grade bands):
    edited as a whole, checked as a whole, frozen when the assessment opens."""

    year = Integer()
    status = Varchar(length=16, default="draft")  # draft | frozen
    document = JSON(default="{}")
    updated_at = Timestamptz(default=TimestamptzNow())
    frozen_at = Timestamptz(null=True, default=None)


class Assessment(TenantRow, Table, tablename="assessments"):
    year = Integer()
    scheme = ForeignKey(references=Scheme, null=False, on_delete=OnDelete.restrict)
    # the district the assessment was opened for; none for the whole tenant
    scope_unit = ForeignKey(references=Unit, null=True, on_delete=OnDelete.restrict)
    status = Varchar(length=16, default="open")  # open | finalised
    cutoff = Date()
    self_due = Date()
    opened_at = Timestamptz(default=TimestamptzNow())
    opened_by = Varchar(length=100, default="")
    auto_as_of = Date(null=True, default=None)
    finalised_at = Timestamptz(null=True, default=None)
    finalised_by = Varchar(length=100, default="")


class AssessedUnit(TenantRow, Table, tablename="assessed_units"):
    """One unit in one year's assessment, with its running result (grade and rank are
    derived from all units' totals, and stored when the assessment is finalised)."""

    assessment = ForeignKey(references=Assessment, null=False, on_delete=OnDelete.cascade)
    unit = ForeignKey(references=Unit, null=False, on_delete=OnDelete.restrict)
    # the district (top unit) it was ranked in; none for municipal units
    district = ForeignKey(references=Unit, null=True, on_delete=OnDelete.restrict)
    status = Varchar(length=16, default="pending")  # pending | submitted | reviewed
    submitted_at = Timestamptz(null=True, default=None)
    reviewed_at = Timestamptz(null=True, default=None)
    score_sum = Numeric(digits=SCORE, default=Decimal(0))
    deduction = Numeric(digits=SCORE, default=Decimal(0))
    veto = Boolean(default=False)
    total = Numeric(digits=SCORE, default=Decimal(0))
    grade = Varchar(length=16, default="")
    rank = Integer(null=True, default=None)
    district_rank = Integer(null=True, default=None)


class Score(TenantRow, Table, tablename="assessment_scores"):
    """A unit's score on one leaf indicator: computed (with the inputs it came from)
    or self-assessed and reviewed."""

    assessed = ForeignKey(references=AssessedUnit, null=False, on_delete=OnDelete.cascade)
    indicator = Varchar(length=32)  # the indicator's code in the scheme
    method = Varchar(length=16)  # auto | manual
    self_score = Numeric(digits=SCORE, null=True, default=None)
    self_note = Text(default="")
    score = Numeric(digits=SCORE, null=True, default=None)
    # auto | self | accepted | changed | corrected
    state = Varchar(length=16, default="")
    reason = Text(default="")
    inputs = JSON(default="{}")
    updated_at = Timestamptz(default=TimestamptzNow())


class _OfScore(TenantRow):
    """Evidence's leading columns, ahead of the file's (see StoredFile)."""

    score = ForeignKey(references=Score, null=False, on_delete=OnDelete.cascade)


class Evidence(StoredFile, _OfScore, Table, tablename="assessment_evidence"):
    """A file attached to a score as its evidence."""


class Adjustment(TenantRow, Table, tablename="assessment_adjustments"):
    """A deduction (points off, capped by the scheme) or a veto item found against a unit."""

    assessed = ForeignKey(references=AssessedUnit, null=False, on_delete=OnDelete.cascade)
    kind = Varchar(length=16)  # deduction | veto
    item = Varchar(length=32)  # the item's code in the scheme
    points = Numeric(digits=SCORE, default=Decimal(0))
    note = Text(default="")
    # what made it when another domain did ("finding:<uuid>"): kept in step with its source
    source = Varchar(length=64, default="")
    created_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class ScoreEvent(TenantOwned, Table, tablename="assessment_score_events"):
    """How a unit's result came about: every self-score, review, adjustment and correction."""

    assessed = ForeignKey(references=AssessedUnit, null=False, on_delete=OnDelete.cascade)
    indicator = Varchar(length=32, default="")
    kind = Varchar(length=16)  # self | accepted | changed | corrected | deduction | veto | removed | auto
    old = Numeric(digits=SCORE, null=True, default=None)
    new = Numeric(digits=SCORE, null=True, default=None)
    note = Text(default="")
    actor = Varchar(length=100, default="")
    at = Timestamptz(default=TimestamptzNow())


class ReportJob(TenantRow, Table, tablename="report_jobs"):
    """A background batch of documents (all scorecards of a year) and its progress."""

    year = Integer()
    kind = Varchar(length=16, default="scorecards")
    status = Varchar(length=16, default="queued")  # queued | running | done | failed
    done = Integer(default=0)
    total = Integer(default=0)
    language = Varchar(length=8, default="zh_CN")
    error = Text(default="")
    path = Varchar(length=300, default="")
    user_id = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
