from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-11-27T20:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant-leading indexes and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="responsibility", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=[
            "CREATE UNIQUE INDEX duty_catalogs_tenant_year_version ON duty_catalogs (tenant, year, version)",
            "CREATE INDEX duties_tenant_catalog ON duties (tenant, catalog, position, sort_order)",
            "CREATE INDEX duty_assignments_tenant_post ON duty_assignments (tenant, post)",
            "CREATE UNIQUE INDEX notice_templates_tenant_position_version"
            " ON notice_templates (tenant, position, version)",
            "CREATE INDEX notices_tenant_post ON notices (tenant, post, status)",
            "CREATE INDEX notices_tenant_person ON notices (tenant, person)",
            "CREATE INDEX notices_tenant_status ON notices (tenant, status, issued_at)",
            "CREATE UNIQUE INDEX signatures_tenant_code ON signatures (tenant, code)",
            "CREATE UNIQUE INDEX signatures_tenant_notice ON signatures (tenant, notice)",
            "CREATE UNIQUE INDEX confirmations_tenant_person_period ON confirmations (tenant, person, period)",
        ],
        rls_tables=[
            "duty_catalogs", "duties", "duty_assignments", "notice_templates", "notices", "signatures",
            "confirmations",
        ],
    )
    return manager
