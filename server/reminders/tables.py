from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import User
from server.units.tables import Person, Unit
from tenants.tables import TenantOwned, TenantRow


class ReminderRule(TenantOwned, Table, tablename="reminder_rules"):
    """One kind of reminder as the tenant runs it: when, how often, escalation, channels,
    quiet hours and its message templates (empty: the built-in text)."""

    kind = Varchar(length=32)
    enabled = Boolean(default=True)
    days = Integer(default=7)
    repeat_days = Integer(default=0)
    escalate_after = Integer(default=0)
    channels = JSON(default='["mail", "inbox"]')
    quiet_start = Varchar(length=5, default="")
    quiet_end = Varchar(length=5, default="")
    # {"zh_CN": {"subject": ..., "body": ...}, "en": {...}}
    templates = JSON(default="{}")
    updated_at = Timestamptz(default=TimestamptzNow())


class NotifySettings(TenantOwned, Table, tablename="notify_settings"):
    """The tenant's own mail server (else the global LUZHI_SMTP_*) and group-robot webhook."""

    smtp_host = Varchar(length=200, default="")
    smtp_port = Integer(default=25)
    smtp_user = Varchar(length=200, default="")
    # secrets are sealed (server.secretbox): a 200-character secret takes up to 1107
    smtp_password = Varchar(length=1200, default="")
    smtp_security = Varchar(length=16, default="none")  # none | starttls | tls
    mail_from = Varchar(length=254, default="")
    webhook_url = Varchar(length=1000, default="")
    webhook_preset = Varchar(length=16, default="generic")  # generic | wecom | dingtalk
    webhook_secret = Varchar(length=1200, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class NotifyPreference(TenantOwned, Table, tablename="notify_preferences"):
    """The channels a user wants, within what the tenant's rules allow."""

    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    channels = JSON(default='["mail", "inbox"]')
    # for accounts without a person record (office staff)
    email = Varchar(length=254, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class ReminderRun(TenantOwned, Table, tablename="reminder_runs"):
    """A tenant's reminders generated for a local day: the unique key lets one scheduler do it."""

    day = Date()
    started_at = Timestamptz(default=TimestamptzNow())
    created = Integer(default=0)


class Reminder(TenantRow, Table, tablename="reminders"):
    """One reminder of one rule to one recipient about one thing in one period (the unique key)."""

    kind = Varchar(length=32)
    subject = Varchar(length=100)  # what must be done, e.g. "notice:<uuid>"
    period = Varchar(length=40)  # which reminder about it, e.g. "2026-Q3/2"
    recipient = Varchar(length=24)  # "p<person pk>" or "u<user pk>"
    level = Integer(default=0)  # 0 the person, 1 the unit's principal and officer, 2 the office
    person = ForeignKey(references=Person, null=True, on_delete=OnDelete.set_null)
    unit = ForeignKey(references=Unit, null=True, on_delete=OnDelete.set_null)
    day = Date()
    created_at = Timestamptz(default=TimestamptzNow())


class Delivery(TenantRow, Table, tablename="deliveries"):
    """A reminder sent through one channel: the outbox row the scheduler claims.
    `next_at` is when it is due (or its claim lapses); null once settled."""

    reminder = ForeignKey(references=Reminder, null=False, on_delete=OnDelete.cascade)
    channel = Varchar(length=16)  # mail | inbox | webhook
    user = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    recipient_name = Varchar(length=100, default="")
    address = Varchar(length=254, default="")
    locale = Varchar(length=10, default="zh_CN")
    title = Varchar(length=300)
    body = Text()
    link = Varchar(length=500, default="")
    message_id = Varchar(length=200, default="")
    # pending | sending | sent | failed | cancelled
    status = Varchar(length=16, default="pending")
    attempts = Integer(default=0)
    next_at = Timestamptz(null=True, default=None)
    last_error = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    read_at = Timestamptz(null=True, default=None)
