from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-11-27T21:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant-leading indexes and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="training", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=[
            "CREATE UNIQUE INDEX training_requirements_tenant_year ON training_requirements (tenant, year)",
            "CREATE INDEX courses_tenant_date ON courses (tenant, date)",
            "CREATE UNIQUE INDEX attendances_tenant_course_person ON attendances (tenant, course, person)",
            "CREATE INDEX attendances_tenant_person ON attendances (tenant, person)",
            "CREATE INDEX training_imports_tenant ON training_imports (tenant, created_at)",
        ],
        rls_tables=["training_requirements", "courses", "attendances", "training_imports"],
    )
    return manager
