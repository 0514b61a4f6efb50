from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-11-27T19:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant-leading indexes and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=[
            "CREATE UNIQUE INDEX users_tenant_username ON users (tenant, username)",
            "CREATE INDEX api_tokens_tenant_user ON api_tokens (tenant, \"user\")",
        ],
        rls_tables=["users", "api_tokens"],
    )
    return manager
