from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-11-27T22:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant-leading indexes and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="assessment", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=[
            "CREATE UNIQUE INDEX assessment_schemes_tenant_year ON assessment_schemes (tenant, year)",
            "CREATE UNIQUE INDEX assessments_tenant_year ON assessments (tenant, year)",
            "CREATE UNIQUE INDEX assessed_units_tenant_assessment_unit ON assessed_units (tenant, assessment, unit)",
            "CREATE INDEX assessed_units_tenant_unit ON assessed_units (tenant, unit)",
            "CREATE UNIQUE INDEX assessment_scores_tenant_assessed_indicator"
            " ON assessment_scores (tenant, assessed, indicator)",
            "CREATE INDEX assessment_evidence_tenant_score ON assessment_evidence (tenant, score)",
            "CREATE INDEX assessment_adjustments_tenant_assessed ON assessment_adjustments (tenant, assessed)",
            "CREATE INDEX assessment_score_events_tenant_assessed ON assessment_score_events (tenant, assessed, at)",
            "CREATE INDEX report_jobs_tenant ON report_jobs (tenant, created_at)",
        ],
        rls_tables=[
            "assessment_schemes",
            "assessments",
            "assessed_units",
            "assessment_scores",
            "assessment_evidence",
            "assessment_adjustments",
            "assessment_score_events",
            "report_jobs",
        ],
    )
    return manager
