from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import UUID, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

ID = "2026-12-05T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "confirmation waivers: a missed period excused with a reason (indexes and RLS: the next step)"


class Tenant(Table, tablename="tenants"):
    id = Serial(primary_key=True)


class Person(Table, tablename="people"):
    id = Serial(primary_key=True)


def _fk(references: type[Table]) -> dict:
    return {"references": references, "on_delete": OnDelete.restrict, "on_update": OnUpdate.cascade, "null": False}


COLUMNS = [
    ("uuid", UUID, {"default": UUID4(), "unique": True}),
    ("tenant", ForeignKey, _fk(Tenant)),
    ("person", ForeignKey, _fk(Person)),
    ("period", Varchar, {"length": 16, "default": ""}),
    ("reason", Varchar, {"length": 200, "default": ""}),
    ("waived_by", Varchar, {"length": 100, "default": ""}),
    ("waived_at", Timestamptz, {"default": TimestamptzNow()}),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="responsibility", description=DESCRIPTION)
    manager.add_table(class_name="ConfirmationWaiver", tablename="confirmation_waivers")
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="ConfirmationWaiver",
            tablename="confirmation_waivers",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
        )
    return manager
