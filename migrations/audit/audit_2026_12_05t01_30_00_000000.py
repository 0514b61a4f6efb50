from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import BigInt, Date, ForeignKey, Integer, Serial, Varchar
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Tenant(Table, tablename="tenants", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


ID = "2026-12-05T01:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "hash chain of the audit trail: event columns, chain heads, day heads"


def _params(**overrides):
    return {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **overrides,
    }


TENANT = _params(
    references=Tenant, on_delete=OnDelete.restrict, on_update=OnUpdate.cascade, target_column=None, null=True
)


def _column(manager, class_name, tablename, name, column_class, params):
    manager.add_column(
        table_class_name=class_name,
        tablename=tablename,
        column_name=name,
        db_column_name=name,
        column_class_name=column_class.__name__,
        column_class=column_class,
        params=params,
        schema=None,
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    events = ("AuditEvent", "audit_events")
    _column(manager, *events, "object_name", Varchar, _params(length=200, default=""))
    _column(manager, *events, "seq", BigInt, _params(default=0))
    _column(manager, *events, "prev_hash", Varchar, _params(length=64, default=""))
    _column(manager, *events, "hash", Varchar, _params(length=64, default=""))
    _column(manager, *events, "hash_alg", Varchar, _params(length=16, default="sm3"))

    heads = ("AuditHead", "audit_heads")
    manager.add_table(class_name=heads[0], tablename=heads[1], schema=None, columns=None)
    _column(manager, *heads, "chain", Integer, _params(default=0, unique=True))
    _column(manager, *heads, "tenant", ForeignKey, TENANT)
    _column(manager, *heads, "seq", BigInt, _params(default=0))
    _column(manager, *heads, "hash", Varchar, _params(length=64, default=""))

    days = ("AuditDayHead", "audit_day_heads")
    manager.add_table(class_name=days[0], tablename=days[1], schema=None, columns=None)
    _column(manager, *days, "chain", Integer, _params(default=0))
    _column(manager, *days, "tenant", ForeignKey, TENANT)
    _column(manager, *days, "day", Date, _params(default=DateNow()))
    _column(manager, *days, "seq", BigInt, _params(default=0))
    _column(manager, *days, "hash", Varchar, _params(length=64, default=""))

    return manager
