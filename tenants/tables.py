from piccolo.columns import JSON, UUID, Boolean, Bytea, ForeignKey, Integer, Timestamptz, Varchar
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


class StoredFile:
    """Column mixin: an uploaded file kept in the row (its name, media type, size, SHA-256
    digest and bytes) and who uploaded it when. Its columns come after the columns of every
    class listed after it, so a table whose own columns lead (the row the file belongs to)
    puts them in a mixin of its own: `class Evidence(StoredFile, _OfScore, Table)`."""

    filename = Varchar(length=200)
    content_type = Varchar(length=64)
    size = Integer()
    digest = Varchar(length=64)
    data = Bytea()
    uploaded_by = Varchar(length=100, default="")
    uploaded_at = Timestamptz(default=TimestamptzNow())


class Operator(Table, tablename="operators"):
    """A platform operator: runs the deployment, belongs to no tenant."""

    username = Varchar(length=64, unique=True)
    password_hash = Varchar(length=255)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
