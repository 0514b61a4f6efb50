from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.migration_sql import tenant_scoping

ID = "2026-11-28T00:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reminder keys, the outbox's due index and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reminders", description=DESCRIPTION)
    tenant_scoping(
        manager,
        indexes=[
            "CREATE UNIQUE INDEX reminder_rules_tenant_kind ON reminder_rules (tenant, kind)",
            "CREATE UNIQUE INDEX notify_settings_tenant ON notify_settings (tenant)",
            'CREATE UNIQUE INDEX notify_preferences_tenant_user ON notify_preferences (tenant, "user")',
            "CREATE UNIQUE INDEX reminder_runs_tenant_day ON reminder_runs (tenant, day)",
            # one reminder per rule, subject, period and recipient: generation is idempotent
            "CREATE UNIQUE INDEX reminders_key ON reminders (tenant, kind, subject, period, recipient)",
            # a tick reads only what is due: the settled majority is not in this index
            "CREATE INDEX deliveries_due ON deliveries (tenant, next_at) WHERE next_at IS NOT NULL",
            "CREATE INDEX deliveries_tenant_created ON deliveries (tenant, created_at)",
            'CREATE INDEX deliveries_inbox ON deliveries (tenant, "user", channel, status)',
            "CREATE INDEX deliveries_reminder ON deliveries (reminder)",
        ],
        rls_tables=[
            "reminder_rules",
            "notify_settings",
            "notify_preferences",
            "reminder_runs",
            "reminders",
            "deliveries",
        ],
    )
    return manager
