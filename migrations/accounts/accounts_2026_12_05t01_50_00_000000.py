from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
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


class User(Table, tablename="users", schema=None):
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


ID = "2026-12-05T01:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "two-factor sign-in: authenticator secrets and recovery codes"


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
    ("TotpSecret", "totp_secrets"): [
        ("tenant", ForeignKey, _fk(Tenant, OnDelete.restrict)),
        ("user", ForeignKey, _fk(User, OnDelete.cascade, unique=True)),
        ("secret", Varchar, _params(length=255, default="")),
        ("last_step", Integer, _params(default=0)),
        ("created_at", Timestamptz, _params(default=TimestamptzNow())),
    ],
    ("TotpRecoveryCode", "totp_recovery_codes"): [
        ("tenant", ForeignKey, _fk(Tenant, OnDelete.restrict)),
        ("user", ForeignKey, _fk(User, OnDelete.cascade)),
        ("code_hash", Varchar, _params(length=64, default="")),
        ("used_at", Timestamptz, _params(default=None, null=True)),
        ("created_at", Timestamptz, _params(default=TimestamptzNow())),
    ],
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
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
