"""Raw SQL that Piccolo's auto-migrations cannot express: tenant-leading composite
indexes and unique keys (both engines) and row-level security (PostgreSQL)."""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

from server.settings import Settings

CURRENT_TENANT_FN = """
CREATE OR REPLACE FUNCTION luzhi_current_tenant() RETURNS integer
LANGUAGE sql STABLE AS $$ SELECT NULLIF(current_setting('luzhi.tenant', true), '')::integer $$
"""


def _engine():
    from server.piccolo_conf import DB

    return DB


def tenant_scoping(
    manager: MigrationManager,
    *,
    indexes: list[str],
    rls_tables: list[str],
    nullable_tenant: tuple[str, ...] = (),
) -> None:
    """Add the given CREATE [UNIQUE] INDEX statements and, on PostgreSQL, enable
    row-level security on the tenant-owned tables (a null tenant column means
    "platform row", visible only when no tenant is set)."""

    async def run() -> None:
        db = _engine()
        for statement in indexes:
            await db.run_ddl(statement)
        if not isinstance(db, PostgresEngine):
            return
        role = Settings.from_env().db_app_role
        await db.run_ddl(CURRENT_TENANT_FN)
        await db.run_ddl(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
        )
        # the owner may then SET ROLE to it without being a superuser
        await db.run_ddl(f"GRANT {role} TO current_user")
        await db.run_ddl(f"GRANT USAGE ON SCHEMA public TO {role}")
        await db.run_ddl(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        await db.run_ddl(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        await db.run_ddl(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"
        )
        await db.run_ddl(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}")
        for table in rls_tables:
            match = (
                "tenant IS NOT DISTINCT FROM luzhi_current_tenant()"
                if table in nullable_tenant
                else "tenant = luzhi_current_tenant()"
            )
            await db.run_ddl(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            await db.run_ddl(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
            await db.run_ddl(f"CREATE POLICY tenant_isolation ON {table} USING ({match}) WITH CHECK ({match})")

    manager.add_raw(run)
