from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-12-05T01:51:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "two-factor tables: tenant-leading indexes and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=[
            'CREATE INDEX totp_secrets_tenant_user ON totp_secrets (tenant, "user")',
            'CREATE INDEX totp_recovery_codes_tenant_user ON totp_recovery_codes (tenant, "user", code_hash)',
        ],
        rls_tables=["totp_secrets", "totp_recovery_codes"],
    )
    return manager
