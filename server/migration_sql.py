"""Raw SQL that Piccolo's auto-migrations cannot express: tenant-leading composite
indexes and unique keys (both engines), row-level security and the application's
database role (PostgreSQL)."""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

CURRENT_TENANT_FN = """
CREATE OR REPLACE FUNCTION luzhi_current_tenant() RETURNS integer
LANGUAGE sql STABLE AS $$ SELECT NULLIF(current_setting('luzhi.tenant', true), '')::integer $$
"""

TENANT_MATCH = "tenant = luzhi_current_tenant()"
# a null tenant column means "platform row", visible only when no tenant is set
NULLABLE_TENANT_MATCH = "tenant IS NOT DISTINCT FROM luzhi_current_tenant()"
# a session is also visible, whatever its tenant, to the transaction that names the
# hash of its key (the session store does, for the key of the caller's own cookie)
WEB_SESSION_MATCH = f"{NULLABLE_TENANT_MATCH} OR key_hash = NULLIF(current_setting('luzhi.session', true), '')"

# the only table the application may not change: what happened stays as recorded
APPEND_ONLY = {"audit_events": "SELECT, INSERT"}
# Piccolo's record of applied migrations: the owner's business only
OWNER_ONLY = {"migration"}


def _engine():
    from server.piccolo_conf import DB

    return DB


async def protect(db, table: str, match: str) -> None:
    """Row-level security on `table` with one policy, applied to its owner too."""
    await db.run_ddl(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    await db.run_ddl(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    await db.run_ddl(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    await db.run_ddl(f"CREATE POLICY tenant_isolation ON {table} USING ({match}) WITH CHECK ({match})")


def tenant_scoping(
    manager: MigrationManager,
    *,
    indexes: list[str],
    rls_tables: list[str],
    nullable_tenant: tuple[str, ...] = (),
    policies: dict[str, str] | None = None,
) -> None:
    """Add the given CREATE [UNIQUE] INDEX statements and, on PostgreSQL, row-level
    security on the tenant-owned tables: `nullable_tenant` ones hold platform rows too,
    `policies` gives a table a condition of its own. The application role and its
    grants are set up after all migrations (server.migrate.setup_app_role)."""

    async def run() -> None:
        db = _engine()
        for statement in indexes:
            await db.run_ddl(statement)
        if not isinstance(db, PostgresEngine):
            return
        await db.run_ddl(CURRENT_TENANT_FN)
        for table in rls_tables:
            default = NULLABLE_TENANT_MATCH if table in nullable_tenant else TENANT_MATCH
            await protect(db, table, (policies or {}).get(table, default))

    manager.add_raw(run)


# Run by `luzhi migrate` after every app's migrations, in one transaction: the role the
# application logs in as, and exactly the rights it has (revoked, then granted again,
# so a rerun also takes back what an older version granted). Its inputs are settings
# of the transaction (luzhi.app_role, luzhi.owner_only, luzhi.append_only).
APP_ROLE_SQL = """
DO $$
DECLARE
    app text := current_setting('luzhi.app_role');
    t record;
BEGIN
    IF app = current_user THEN
        RAISE EXCEPTION 'LUZHI_DB_APP_ROLE (%) must not be the role that owns the tables', app;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app) THEN
        BEGIN
            EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', app);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another database of the cluster was migrated at the same moment
        END;
    END IF;
    -- older versions made it NOLOGIN and switched to it with SET ROLE
    IF EXISTS (
        SELECT 1 FROM pg_roles WHERE rolname = app
        AND (NOT rolcanlogin OR rolsuper OR rolbypassrls OR rolcreatedb OR rolcreaterole)
    ) THEN
        EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', app);
    END IF;
    -- every table with a tenant column: row-level security, forced, and a policy
    FOR t IN
        SELECT c.table_name FROM information_schema.columns c
        JOIN information_schema.tables s ON s.table_schema = c.table_schema AND s.table_name = c.table_name
        WHERE c.table_schema = 'public' AND c.column_name = 'tenant' AND s.table_type = 'BASE TABLE'
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = 'public' AND tablename = t.table_name) THEN
            RAISE EXCEPTION 'table % has a tenant column but no row-level security policy '
                '(see server/migration_sql.py tenant_scoping)', t.table_name;
        END IF;
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t.table_name);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t.table_name);
    END LOOP;
    -- (only when missing: the owner of the tables need not own the database or the schema)
    IF NOT has_database_privilege(app, current_database(), 'CONNECT') THEN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), app);
    END IF;
    IF NOT has_schema_privilege(app, 'public', 'USAGE') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app);
    END IF;
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', app);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', app);
    -- (older versions granted through default privileges; now only this step grants)
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM %I', app);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM %I', app);
    FOR t IN
        SELECT c.relname AS name, c.relkind AS kind FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'S')
        AND NOT c.relname = ANY(current_setting('luzhi.owner_only')::text[])
    LOOP
        IF t.kind = 'S' THEN
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %I TO %I', t.name, app);
        ELSE
            EXECUTE format(
                'GRANT %s ON TABLE %I TO %I',
                COALESCE(current_setting('luzhi.append_only')::jsonb ->> t.name::text,
                         'SELECT, INSERT, UPDATE, DELETE'),
                t.name, app
            );
        END IF;
    END LOOP;
END $$
"""
