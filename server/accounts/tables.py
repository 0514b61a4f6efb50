from piccolo.columns import JSON, UUID, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.units.tables import Person, Unit
from tenants.tables import Operator, Tenant


class User(Table, tablename="users"):
    uuid = UUID(unique=True)
    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.restrict)
    username = Varchar(length=64)
    display_name = Varchar(length=100, default="")
    password_hash = Varchar(length=255)
    role = Varchar(length=32)
    # district admins and unit officers act on this unit's subtree
    scope_unit = ForeignKey(references=Unit, null=True, on_delete=OnDelete.restrict)
    # a leader's own record
    person = ForeignKey(references=Person, null=True, on_delete=OnDelete.set_null)
    locale = Varchar(length=10, null=True, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)
    password_changed_at = Timestamptz(default=TimestamptzNow())


class ApiToken(Table, tablename="api_tokens"):
    uuid = UUID(unique=True)
    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.restrict)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    name = Varchar(length=100, default="")
    prefix = Varchar(length=16)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class WebSession(Table, tablename="web_sessions"):
    """Server-side sessions (when no Redis is configured); keyed by the id's hash."""

    key_hash = Varchar(length=64, unique=True)
    tenant = ForeignKey(references=Tenant, null=True, on_delete=OnDelete.cascade)
    user = ForeignKey(references=User, null=True, on_delete=OnDelete.cascade)
    operator = ForeignKey(references=Operator, null=True, on_delete=OnDelete.cascade)
    data = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())


class LoginThrottle(Table, tablename="login_throttle"):
    key = Varchar(length=200, unique=True)
    failures = Integer(default=0)
    window_start = Timestamptz(default=TimestamptzNow())
    locked_until = Timestamptz(null=True, default=None)
