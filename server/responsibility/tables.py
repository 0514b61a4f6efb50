from piccolo.columns import JSON, Bytea, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.units.tables import Person, Post, Unit
from tenants.tables import TenantOwned, TenantRow


class DutyCatalog(TenantRow, Table, tablename="duty_catalogs"):
    """One version of the tenant's duty catalog for a year; published ones never change."""

    year = Integer()
    version = Integer()
    status = Varchar(length=16, default="draft")  # draft | published
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)


class Duty(TenantRow, Table, tablename="duties"):
    catalog = ForeignKey(references=DutyCatalog, null=False, on_delete=OnDelete.cascade)
    # principal | secrecy_lead | business_lead | every_leader
    position = Varchar(length=32)
    sort_order = Integer(default=0)
    text = Text()


class DutyAssignment(TenantRow, Table, tablename="duty_assignments"):
    """A duty written for one leader's post (e.g. the lines a business lead oversees)."""

    post = ForeignKey(references=Post, null=False, on_delete=OnDelete.cascade)
    text = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    removed_at = Timestamptz(null=True, default=None)


class NoticeTemplate(TenantRow, Table, tablename="notice_templates"):
    """A version of the notice text for one position (Jinja, sandboxed); new edits add versions."""

    position = Varchar(length=32)
    version = Integer()
    title = Varchar(length=200)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class Notice(TenantRow, Table, tablename="notices"):
    """A responsibility notice as issued: its text is rendered once and frozen."""

    person = ForeignKey(references=Person, null=False, on_delete=OnDelete.restrict)
    post = ForeignKey(references=Post, null=False, on_delete=OnDelete.restrict)
    unit = ForeignKey(references=Unit, null=False, on_delete=OnDelete.restrict)
    position = Varchar(length=32)
    catalog = ForeignKey(references=DutyCatalog, null=False, on_delete=OnDelete.restrict)
    template = ForeignKey(references=NoticeTemplate, null=False, on_delete=OnDelete.restrict)
    year = Integer()
    version_label = Varchar(length=100)
    title = Varchar(length=200)
    body_html = Text()
    digest = Varchar(length=64)
    # issued | viewed | signed | superseded | withdrawn
    status = Varchar(length=16, default="issued")
    issued_at = Timestamptz(default=TimestamptzNow())
    issued_by = Varchar(length=100, default="")
    viewed_at = Timestamptz(null=True, default=None)
    signed_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    close_reason = Varchar(length=200, default="")
    superseded_by = ForeignKey(references="self", null=True, on_delete=OnDelete.set_null)


class Signature(TenantRow, Table, tablename="signatures"):
    notice = ForeignKey(references=Notice, null=False, on_delete=OnDelete.restrict)
    person = ForeignKey(references=Person, null=False, on_delete=OnDelete.restrict)
    user_id = Integer()
    signer_name = Varchar(length=100)
    signed_at = Timestamptz(default=TimestamptzNow())
    client_addr = Varchar(length=64, default="")
    user_agent = Varchar(length=200, default="")
    method = Varchar(length=16)  # password | email_code
    notice_digest = Varchar(length=64)
    code = Varchar(length=16)
    pdf = Bytea(null=True, default=None)
    pdf_digest = Varchar(length=64, default="")


class Confirmation(TenantRow, Table, tablename="confirmations"):
    """A leader's periodic statement, duty by duty, of what was done."""

    person = ForeignKey(references=Person, null=False, on_delete=OnDelete.restrict)
    period = Varchar(length=16)  # e.g. 2026-Q3
    period_start = Date()
    period_end = Date()
    due_date = Date()
    submitted_at = Timestamptz(default=TimestamptzNow())
    items = JSON(default="[]")  # [{"duty": text, "done": bool, "note": text}]


class SignCode(TenantOwned, Table, tablename="sign_codes"):
    """A one-time code mailed to a leader to sign one notice without their password."""

    notice = ForeignKey(references=Notice, null=False, on_delete=OnDelete.cascade)
    user_id = Integer()
    code_hash = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class ConfirmationWaiver(TenantRow, Table, tablename="confirmation_waivers"):
    """A confirmation period a leader is excused from, with the office's reason: it is
    no longer listed as missed, nor counted in coverage or the assessment."""

    person = ForeignKey(references=Person, null=False, on_delete=OnDelete.restrict)
    period = Varchar(length=16)
    reason = Varchar(length=200)
    waived_by = Varchar(length=100, default="")
    waived_at = Timestamptz(default=TimestamptzNow())
