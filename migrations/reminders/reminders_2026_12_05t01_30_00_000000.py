from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-12-05T01:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "room for sealed notification secrets (server.secretbox)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reminders", description=DESCRIPTION)
    for column in ("smtp_password", "webhook_secret"):
        manager.alter_column(
            table_class_name="NotifySettings",
            tablename="notify_settings",
            column_name=column,
            db_column_name=column,
            params={"length": 1200},
            old_params={"length": 200},
            column_class=Varchar,
            old_column_class=Varchar,
            schema=None,
        )
    return manager
