from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-12-05T06:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "adjustments found by their source"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="assessment", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=["CREATE INDEX assessment_adjustments_tenant_source ON assessment_adjustments (tenant, source)"],
        rls_tables=[],
    )
    return manager
