from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tenants.tables import TenantRow


class Unit(TenantRow, Table, tablename="units"):
    parent = ForeignKey(references="self", null=True, on_delete=OnDelete.restrict)
    # "/<id>/<id>/.../" from the root: subtree scopes are one prefix match
    path = Varchar(length=1000, default="")
    depth = Integer(default=0)
    name = Varchar(length=200)
    code = Varchar(length=50, null=True, default=None)
    kind = Varchar(length=32)
    sort_order = Integer(default=0)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)


class Person(TenantRow, Table, tablename="people"):
    name = Varchar(length=100)
    email = Varchar(length=254, default="")
    mobile = Varchar(length=32, default="")
    classified_level = Varchar(length=16, default="none")  # core | important | general | none
    military_transfer = Boolean(default=False)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)


class Post(TenantRow, Table, tablename="posts"):
    """A person's post in a unit over a period; never overwritten, only ended."""

    person = ForeignKey(references=Person, null=False, on_delete=OnDelete.cascade)
    unit = ForeignKey(references=Unit, null=False, on_delete=OnDelete.restrict)
    position = Varchar(length=32)
    title = Varchar(length=100, default="")
    start_date = Date()
    end_date = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
