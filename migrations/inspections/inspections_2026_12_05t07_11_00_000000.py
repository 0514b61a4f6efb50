from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-12-05T07:11:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "device imports: tenant-leading index and row-level security; a live device's label unique per unit and kind"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inspections", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=[
            "CREATE INDEX device_imports_tenant_unit ON device_imports (tenant, unit, created_at)",
            # the register's natural key: an import matches rows to devices by it, and two
            # imports at once cannot both add the same device
            "CREATE UNIQUE INDEX devices_tenant_unit_kind_label ON devices (tenant, unit, kind, label)"
            " WHERE deleted_at IS NULL",
        ],
        rls_tables=["device_imports"],
    )
    return manager
