from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Serial, Varchar
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from server import secretbox

ID = "2026-12-05T01:31:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "seal the notification secrets stored in plain text"
SECRETS = ("smtp_password", "webhook_secret")


class Tenant(Table, tablename="tenants"):
    id = Serial(primary_key=True)


class NotifySettings(Table, tablename="notify_settings"):
    """The columns this step reads, as they were when it was written."""

    id = Serial(primary_key=True)
    tenant = Integer()
    smtp_password = Varchar(length=1200)
    webhook_secret = Varchar(length=1200)


async def _act_as(tenant_id: int | None) -> None:
    await NotifySettings.raw("SELECT set_config('luzhi.tenant', {}, true)", "" if tenant_id is None else str(tenant_id))


async def seal_plain_secrets() -> None:
    """Seal every secret not sealed yet (so running it again changes nothing)."""
    postgres = isinstance(NotifySettings._meta.db, PostgresEngine)
    async with NotifySettings._meta.db.transaction():
        if postgres:
            # the policies bind the owner too (server.db.make_engine): work as each tenant
            # in turn, so an owner without BYPASSRLS can run this as well
            await NotifySettings.raw("SET LOCAL row_security = on")
        for tenant in await Tenant.select(Tenant.id):
            if postgres:
                await _act_as(tenant["id"])
            rows = await NotifySettings.select(
                NotifySettings.id, NotifySettings.tenant, NotifySettings.smtp_password, NotifySettings.webhook_secret
            ).where(NotifySettings.tenant == tenant["id"])
            for row in rows:
                sealed = {
                    field: secretbox.seal(row["tenant"], field, row[field])
                    for field in SECRETS
                    if row[field] and not secretbox.is_sealed(row[field])
                }
                if sealed:
                    await NotifySettings.update(sealed).where(NotifySettings.id == row["id"])
        if postgres:
            await _act_as(None)
            await NotifySettings.raw("SET LOCAL row_security = off")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reminders", description=DESCRIPTION)
    manager.add_raw(seal_plain_secrets)
    return manager
