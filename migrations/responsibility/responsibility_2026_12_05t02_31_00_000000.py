from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-12-05T02:31:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "confirmation waivers: one per leader and period, row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="responsibility", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=[
            "CREATE UNIQUE INDEX confirmation_waivers_tenant_person_period "
            "ON confirmation_waivers (tenant, person, period)"
        ],
        rls_tables=["confirmation_waivers"],
    )
    return manager
