from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-11-27T19:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant-leading indexes and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=["CREATE INDEX audit_events_tenant_at ON audit_events (tenant, at)"],
        rls_tables=["audit_events"],
        nullable_tenant=("audit_events",),
    )
    return manager
