from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-12-05T06:56:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant-leading indexes and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inspections", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=[
            "CREATE UNIQUE INDEX inspection_templates_tenant ON inspection_templates (tenant)",
            "CREATE INDEX inspection_rounds_tenant_starts ON inspection_rounds (tenant, starts_on)",
            "CREATE INDEX inspection_teams_tenant_round ON inspection_teams (tenant, round)",
            "CREATE UNIQUE INDEX inspection_team_members_tenant_team_user"
            " ON inspection_team_members (tenant, team, user_id)",
            "CREATE INDEX inspection_team_members_tenant_user ON inspection_team_members (tenant, user_id)",
            "CREATE UNIQUE INDEX inspections_tenant_round_unit ON inspections (tenant, round, unit)",
            "CREATE INDEX inspections_tenant_unit ON inspections (tenant, unit)",
            "CREATE INDEX inspections_tenant_team ON inspections (tenant, team)",
            "CREATE INDEX inspection_clues_tenant_inspection ON inspection_clues (tenant, inspection)",
            "CREATE UNIQUE INDEX inspection_item_results_tenant_inspection_item"
            " ON inspection_item_results (tenant, inspection, item)",
            "CREATE UNIQUE INDEX inspection_interviews_tenant_inspection_person"
            " ON inspection_interviews (tenant, inspection, person)",
            "CREATE INDEX devices_tenant_unit ON devices (tenant, unit)",
            "CREATE UNIQUE INDEX inspection_device_checks_tenant_inspection_device"
            " ON inspection_device_checks (tenant, inspection, device)",
            "CREATE INDEX inspection_findings_tenant_inspection ON inspection_findings (tenant, inspection)",
            "CREATE INDEX inspection_findings_tenant_unit_item ON inspection_findings (tenant, unit, item)",
            "CREATE INDEX inspection_findings_tenant_state ON inspection_findings (tenant, state, deadline)",
            "CREATE INDEX inspection_finding_events_tenant_finding ON inspection_finding_events (tenant, finding, at)",
            "CREATE INDEX inspection_measures_tenant_inspection ON inspection_measures (tenant, inspection)",
            "CREATE INDEX inspection_attachments_tenant_owner ON inspection_attachments (tenant, inspection, owner)",
        ],
        rls_tables=[
            "inspection_templates",
            "inspection_rounds",
            "inspection_teams",
            "inspection_team_members",
            "inspections",
            "inspection_clues",
            "inspection_item_results",
            "inspection_interviews",
            "devices",
            "inspection_device_checks",
            "inspection_findings",
            "inspection_finding_events",
            "inspection_measures",
            "inspection_attachments",
        ],
    )
    return manager
