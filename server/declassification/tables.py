from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.units.tables import Person, Unit
from tenants.tables import TenantOwned, TenantRow


class ClassifiedItem(TenantRow, Table, tablename="classified_items"):
    """One classified matter of a unit, by its metadata alone: the register never holds
    the secret itself (a title may be secret; the register keeps a non-secret one)."""

    reference = Varchar(length=100)
    public_title = Varchar(length=200)
    level = Varchar(length=16)  # top_secret | secret | confidential
    classified_on = Date()
    term_kind = Varchar(length=16)  # years | date | condition
    term_years = Integer(null=True, default=None)
    term_until = Date(null=True, default=None)
    term_condition = Text(default="")
    # a derived item with no marked term: years by level (30 / 20 / 10), said so on its page
    term_defaulted = Boolean(default=False)
    # computed from the term; None for a condition (reviewed yearly, never expires by date)
    term_ends_on = Date(null=True, default=None)
    knowledge_scope = Text(default="")
    origin = Varchar(length=16, default="original")  # original | derived
    source_item = ForeignKey(references="self", null=True, on_delete=OnDelete.set_null)
    originating_unit = ForeignKey(references=Unit, null=True, on_delete=OnDelete.restrict)
    originating_body = Varchar(length=200, default="")  # a body outside the tenant, in words
    custodian_unit = ForeignKey(references=Unit, null=False, on_delete=OnDelete.restrict)
    responsible_person = ForeignKey(references=Person, null=True, on_delete=OnDelete.set_null)
    handler = Varchar(length=100, default="")
    basis = Text(default="")  # the item of the secrecy-matters scope it falls under
    # active | partly_declassified | declassified | expired (自行解密: the term passed with no decision)
    status = Varchar(length=24, default="active")
    declassified_on = Date(null=True, default=None)
    declassified_part = Text(default="")
    # whether a declassified item goes on the public page: "" (not decided yet) | published | withheld
    publication = Varchar(length=16, default="")
    # how far the expiry scan has gone: 0 none, 1 review task (lead time), 2 escalated at 60 days,
    # 3 escalated at expiry; raised by one conditional UPDATE so each stage happens once
    expiry_stage = Integer(default=0)
    last_reviewed_on = Date(null=True, default=None)
    created_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ItemImport(TenantRow, Table, tablename="classified_item_imports"):
    """An uploaded register workbook: its checked rows wait here until applied."""

    user_id = Integer()
    filename = Varchar(length=200, default="")
    status = Varchar(length=16, default="preview")  # preview | applied
    rows = JSON(default="[]")
    errors = JSON(default="[]")  # [{"line": n, "field": key, "message": text}]
    created_at = Timestamptz(default=TimestamptzNow())
    applied_at = Timestamptz(null=True, default=None)


class ReviewTask(TenantRow, Table, tablename="classified_review_tasks"):
    """Something to decide about an item: its term ends soon (expiry), its source changed
    (source), or the year's review (annual)."""

    item = ForeignKey(references=ClassifiedItem, null=False, on_delete=OnDelete.cascade)
    unit = ForeignKey(references=Unit, null=False, on_delete=OnDelete.restrict)
    kind = Varchar(length=16)  # expiry | source | annual
    reason = Text(default="")
    due_on = Date(null=True, default=None)
    status = Varchar(length=16, default="open")  # open | done
    escalation = Integer(default=0)  # 0 the unit, 1 the unit's principal, 2 the bureau
    created_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)


class Review(TenantOwned, Table, tablename="classified_reviews"):
    """An item looked at in a year's review (kept as it is, or a decision proposed)."""

    item = ForeignKey(references=ClassifiedItem, null=False, on_delete=OnDelete.cascade)
    year = Integer()
    outcome = Varchar(length=16)  # keep | decision
    note = Text(default="")
    reviewed_on = Date()
    reviewed_by = Varchar(length=100, default="")


class Decision(TenantRow, Table, tablename="classified_decisions"):
    item = ForeignKey(references=ClassifiedItem, null=False, on_delete=OnDelete.cascade)
    decision = Varchar(length=16)  # declassify | extend | change_level | correct
    basis = Text(default="")
    reason = Text(default="")
    effective_on = Date(null=True, default=None)
    part = Text(default="")  # a partial declassification: what part
    new_term_years = Integer(null=True, default=None)
    new_term_until = Date(null=True, default=None)
    new_level = Varchar(length=16, default="")
    irregularity = Varchar(length=32, default="")  # a correction's kind
    publish = Boolean(default=False)
    # proposed | approved | rejected; an extension past the scope table: bureau (waits for the bureau)
    status = Varchar(length=16, default="proposed")
    proposed_by_id = Integer()
    proposed_by = Varchar(length=100, default="")
    approved_by_id = Integer(null=True, default=None)
    approved_by = Varchar(length=100, default="")
    approved_at = Timestamptz(null=True, default=None)
    # what the decider said: why a rejected decision was turned down
    decided_note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Acknowledgement(TenantOwned, Table, tablename="classified_acknowledgements"):
    """A person in the knowledge scope told of an approved decision, and whether they
    have acknowledged it."""

    decision = ForeignKey(references=Decision, null=False, on_delete=OnDelete.cascade)
    person = ForeignKey(references=Person, null=False, on_delete=OnDelete.cascade)
    acknowledged_at = Timestamptz(null=True, default=None)


class Consultation(TenantRow, Table, tablename="classified_consultations"):
    """A derived item's question to its originating unit, with a deadline."""

    item = ForeignKey(references=ClassifiedItem, null=False, on_delete=OnDelete.cascade)
    originating_unit = ForeignKey(references=Unit, null=True, on_delete=OnDelete.restrict)
    originating_body = Varchar(length=200, default="")
    question = Text(default="")
    deadline = Date()
    status = Varchar(length=16, default="open")  # open | answered
    answer = Varchar(length=16, default="")  # agree | keep | change_level
    note = Text(default="")
    escalation = Integer(default=0)  # 0 none, 1 up the unit tree, 2 the bureau
    requested_by = Varchar(length=100, default="")
    answered_by = Varchar(length=100, default="")
    answered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Publication(TenantRow, Table, tablename="declassified_publications"):
    """What the public page shows of a declassified item: copies of the publishable fields
    only, so the public side never reads the register."""

    item = ForeignKey(references=ClassifiedItem, null=False, on_delete=OnDelete.cascade)
    reference = Varchar(length=100)
    public_title = Varchar(length=200)
    unit_name = Varchar(length=200)
    unit = ForeignKey(references=Unit, null=False, on_delete=OnDelete.restrict)
    level = Varchar(length=16)
    declassified_on = Date()
    what = Text(default="")  # the whole item, or the part declassified
    published_at = Timestamptz(default=TimestamptzNow())
    published_by = Varchar(length=100, default="")
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawn_reason = Text(default="")


class QAEntry(TenantRow, Table, tablename="declassification_qa"):
    question = Text()
    answer = Text()  # Markdown, sanitised when shown
    tags = JSON(default="[]")
    legal_basis = Text(default="")
    public = Boolean(default=False)
    review_on = Date(null=True, default=None)  # after it the answer is flagged stale
    updated_by = Varchar(length=100, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class ClearingProject(TenantRow, Table, tablename="clearing_projects"):
    """An archive clearing batch: items looked at, and who cleared what."""

    name = Varchar(length=200)
    unit = ForeignKey(references=Unit, null=True, on_delete=OnDelete.restrict)
    year = Integer()
    status = Varchar(length=16, default="open")  # open | closed
    created_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class ClearingEntry(TenantOwned, Table, tablename="clearing_entries"):
    project = ForeignKey(references=ClearingProject, null=False, on_delete=OnDelete.cascade)
    item = ForeignKey(references=ClassifiedItem, null=True, on_delete=OnDelete.set_null)
    unit = ForeignKey(references=Unit, null=False, on_delete=OnDelete.restrict)
    level = Varchar(length=16)
    item_year = Integer()  # the year the cleared document was made
    outcome = Varchar(length=16)  # kept | declassified | corrected
    # documents of one unit, level, year and outcome cleared together (an archive's batch)
    count = Integer(default=1)
    cleared_by = Varchar(length=100, default="")
    cleared_on = Date()
