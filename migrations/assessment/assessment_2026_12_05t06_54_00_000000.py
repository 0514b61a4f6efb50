from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-12-05T06:54:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "an adjustment names the finding it came from"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="assessment", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Adjustment",
        tablename="assessment_adjustments",
        column_name="source",
        db_column_name="source",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": None,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
