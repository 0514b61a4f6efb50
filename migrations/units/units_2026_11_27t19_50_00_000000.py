from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-11-27T19:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant-leading indexes and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="units", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=[
            "CREATE INDEX units_tenant_path ON units (tenant, path)",
            "CREATE INDEX units_tenant_parent ON units (tenant, parent)",
            "CREATE UNIQUE INDEX units_tenant_code ON units (tenant, code)",
            "CREATE INDEX people_tenant_name ON people (tenant, name)",
            "CREATE INDEX posts_tenant_unit ON posts (tenant, unit, position, start_date, end_date)",
            "CREATE INDEX posts_tenant_person ON posts (tenant, person)",
        ],
        rls_tables=["units", "people", "posts"],
    )
    return manager
