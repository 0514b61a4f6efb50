from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import JSON, UUID, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
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


class Unit(Table, tablename="units", schema=None):
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


ID = "2026-12-05T07:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "device register imports: an uploaded workbook's preview until applied"


def _params(**given):
    params = {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    params.update(given)
    return params


def _fk(references, on_delete, **given):
    return _params(references=references, on_delete=on_delete, on_update=OnUpdate.cascade, target_column=None, **given)


COLUMNS = {
    ("DeviceImport", "device_imports"): [
        ("uuid", UUID, _params(default=UUID4(), unique=True)),
        ("tenant", ForeignKey, _fk(Tenant, OnDelete.restrict)),
        ("unit", ForeignKey, _fk(Unit, OnDelete.restrict)),
        ("user_id", Integer, _params(default=0)),
        ("filename", Varchar, _params(length=200, default="")),
        ("status", Varchar, _params(length=16, default="preview")),
        ("rows", JSON, _params(default="[]")),
        ("errors", JSON, _params(default="[]")),
        ("created_at", Timestamptz, _params(default=TimestamptzNow())),
        ("applied_at", Timestamptz, _params(default=None, null=True)),
    ],
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inspections", description=DESCRIPTION)
    for (class_name, tablename), columns in COLUMNS.items():
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, params in columns:
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
    return manager
