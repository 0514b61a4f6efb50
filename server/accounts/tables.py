from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.units.tables import Person, Unit
from tenants.tables import Operator, Tenant, TenantOwned, TenantRow


class User(TenantRow, Table, tablename="users"):
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
    # made by the system admin, waiting for the security admin to activate it (two people per account)
    pending = Boolean(default=False)
    # set by an administrator: good for nothing but choosing one's own password
    password_temporary = Boolean(default=False)
    totp_enabled = Boolean(default=False)


class ApiToken(TenantRow, Table, tablename="api_tokens"):
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    name = Varchar(length=100, default="")
    prefix = Varchar(length=16)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)


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
    """Failure counters; a key names its tenant (or the platform) and an account or address."""

    tenant = ForeignKey(references=Tenant, null=True, on_delete=OnDelete.cascade)
    key = Varchar(length=200, unique=True)
    failures = Integer(default=0)
    window_start = Timestamptz(default=TimestamptzNow())
    locked_until = Timestamptz(null=True, default=None)


class PasswordHistory(TenantOwned, Table, tablename="password_history"):
    """Hashes of a user's earlier passwords, so the last few are not chosen again."""

    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    password_hash = Varchar(length=255)
    created_at = Timestamptz(default=TimestamptzNow())


class SecurityPolicy(Table, tablename="security_policies"):
    """The tenant's password and sign-in policy, kept by the security admin (no row: defaults)."""

    tenant = ForeignKey(references=Tenant, null=False, unique=True, on_delete=OnDelete.cascade)
    min_length = Integer(default=10)
    max_age_days = Integer(default=180)  # 0: passwords never expire
    warn_days = Integer(default=14)
    history = Integer(default=5)
    totp_admins = Boolean(default=True)
    totp_everyone = Boolean(default=False)
    updated_at = Timestamptz(default=TimestamptzNow())


class TotpSecret(TenantOwned, Table, tablename="totp_secrets"):
    """A user's authenticator secret: pending until confirmed with a code (users.totp_enabled),
    then the one that sign-ins check. last_step is the last accepted RFC 6238 time step, so a
    code is good once."""

    user = ForeignKey(references=User, null=False, unique=True, on_delete=OnDelete.cascade)
    secret = Varchar(length=255)  # sealed by server.secretbox
    last_step = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class TotpRecoveryCode(TenantOwned, Table, tablename="totp_recovery_codes"):
    """Single-use codes for a lost phone, stored as the SHA-256 of the normalised code."""

    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    code_hash = Varchar(length=64)
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
