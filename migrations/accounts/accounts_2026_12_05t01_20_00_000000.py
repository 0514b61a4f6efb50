from datetime import UTC, datetime, timedelta

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-12-05T01:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant-leading indexes and row-level security of the new account tables; usernames in lower case"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=[
            # usernames compare case-insensitively everywhere: stored in lower case
            "UPDATE users SET username = lower(username)",
            "UPDATE operators SET username = lower(username)",
            'CREATE INDEX password_history_tenant_user ON password_history (tenant, "user", created_at)',
            "CREATE INDEX login_throttle_tenant ON login_throttle (tenant)",
        ],
        rls_tables=["password_history", "security_policies", "login_throttle"],
        nullable_tenant=("login_throttle",),
    )

    async def expire_old_tokens() -> None:
        # tokens made before expiry existed get the default term from now on
        from server.accounts.tables import ApiToken

        term = datetime.now(UTC) + timedelta(days=90)
        await ApiToken.update({ApiToken.expires_at: term}).where(ApiToken.expires_at.is_null())

    manager.add_raw(expire_old_tokens)
    return manager
