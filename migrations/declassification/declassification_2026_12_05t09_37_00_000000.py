from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-12-05T09:37:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant-leading indexes and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="declassification", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=[
            "CREATE INDEX classified_items_tenant_unit ON classified_items (tenant, custodian_unit)",
            # the daily scan reads what ends soon among what is still classified: its cost follows the due
            "CREATE INDEX classified_items_tenant_due ON classified_items (tenant, status, term_ends_on)",
            "CREATE INDEX classified_items_tenant_source ON classified_items (tenant, source_item)",
            "CREATE INDEX classified_items_tenant_reference ON classified_items (tenant, reference)",
            # a reference names one item of its custodian unit: two imports at once cannot both add it
            "CREATE UNIQUE INDEX classified_items_tenant_unit_reference"
            " ON classified_items (tenant, custodian_unit, reference)",
            "CREATE INDEX classified_item_imports_tenant_user ON classified_item_imports (tenant, user_id)",
            "CREATE INDEX classified_review_tasks_tenant_item ON classified_review_tasks (tenant, item, kind)",
            "CREATE INDEX classified_review_tasks_tenant_unit ON classified_review_tasks (tenant, unit, status)",
            "CREATE UNIQUE INDEX classified_reviews_tenant_item_year ON classified_reviews (tenant, item, year)",
            "CREATE INDEX classified_decisions_tenant_item ON classified_decisions (tenant, item, status)",
            "CREATE UNIQUE INDEX classified_acknowledgements_tenant_decision_person"
            " ON classified_acknowledgements (tenant, decision, person)",
            "CREATE INDEX classified_consultations_tenant_item ON classified_consultations (tenant, item)",
            # one open consultation per item, behind the service's lock on the item
            "CREATE UNIQUE INDEX classified_consultations_tenant_item_open"
            " ON classified_consultations (tenant, item) WHERE status = 'open'",
            "CREATE INDEX classified_consultations_tenant_open"
            " ON classified_consultations (tenant, status, created_at)",
            "CREATE INDEX classified_consultations_tenant_origin"
            " ON classified_consultations (tenant, originating_unit, status)",
            # the public page's order (and its deep pages), the feed's and the office's, the unit filter
            "CREATE INDEX declassified_publications_tenant_date"
            " ON declassified_publications (tenant, declassified_on, id)",
            "CREATE INDEX declassified_publications_tenant_published"
            " ON declassified_publications (tenant, published_at, id)",
            "CREATE INDEX declassified_publications_tenant_unit ON declassified_publications (tenant, unit_name)",
            "CREATE UNIQUE INDEX declassified_publications_tenant_item ON declassified_publications (tenant, item)",
            "CREATE INDEX declassification_qa_tenant_public ON declassification_qa (tenant, public)",
            "CREATE INDEX clearing_projects_tenant_year ON clearing_projects (tenant, year)",
            "CREATE INDEX clearing_entries_tenant_project ON clearing_entries (tenant, project)",
        ],
        rls_tables=[
            "classified_items",
            "classified_item_imports",
            "classified_review_tasks",
            "classified_reviews",
            "classified_decisions",
            "classified_acknowledgements",
            "classified_consultations",
            "declassified_publications",
            "declassification_qa",
            "clearing_projects",
            "clearing_entries",
        ],
    )
    return manager
