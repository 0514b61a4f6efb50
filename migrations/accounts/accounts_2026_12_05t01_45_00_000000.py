from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import WEB_SESSION_MATCH, tenant_scoping

ID = "2026-12-05T01:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "row-level security of web sessions"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    # (luzhi migrate forces row-level security on every table with a tenant column)
    tenant_scoping(manager, indexes=[], rls_tables=["web_sessions"], policies={"web_sessions": WEB_SESSION_MATCH})
    return manager
