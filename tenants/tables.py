from piccolo.columns import JSON, UUID, Boolean, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Tenant(Table, tablename="tenants"):
    """One bureau. Not tenant-owned itself: the edge resolves it from the URL."""

    uuid = UUID(unique=True)
    slug = Varchar(length=63, unique=True)
    name = Varchar(length=200)
    status = Varchar(length=16, default="active")  # active | suspended
    timezone = Varchar(length=64, default="Asia/Shanghai")
    default_locale = Varchar(length=10, default="zh_CN")
    settings = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    suspended_at = Timestamptz(null=True, default=None)


class Operator(Table, tablename="operators"):
    """A platform operator: runs the deployment, belongs to no tenant."""

    username = Varchar(length=64, unique=True)
    password_hash = Varchar(length=255)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
