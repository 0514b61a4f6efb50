from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-11-27T21:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sign codes: tenant-leading index and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="responsibility", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=["CREATE INDEX sign_codes_tenant_notice ON sign_codes (tenant, notice, user_id)"],
        rls_tables=["sign_codes"],
    )
    return manager
