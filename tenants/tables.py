from piccolo.columns import JSON, UUID, Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class PublicId:
    """Column mixin: the id a row is known by outside the database (URLs, API, exports)."""

    uuid = UUID(unique=True)


class Tenant(PublicId, Table, tablename="tenants"):
    """One bureau. Not tenant-owned itself: the edge resolves it from the URL."""

    slug = Varchar(length=63, unique=True)
    name = Varchar(length=200)
    status = Varchar(length=16, default="active")  # active | suspended
    timezone = Varchar(length=64, default="Asia/Shanghai")
    default_locale = Varchar(length=10, default="zh_CN")
    settings = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    suspended_at = Timestamptz(null=True, default=None)


class TenantOwned:
    """Column mixin for a table whose rows belong to one tenant."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.restrict)


# Piccolo collects columns base class first (reversed MRO), so PublicId goes last
# here to keep uuid ahead of tenant.
class TenantRow(TenantOwned, PublicId):
    """The columns every tenant-owned table starts with: its public id and its tenant."""


class Operator(Table, tablename="operators"):
    """A platform operator: runs the deployment, belongs to no tenant."""

    username = Varchar(length=64, unique=True)
    password_hash = Varchar(length=255)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
