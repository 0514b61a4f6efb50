from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from server.migration_sql import tenant_scoping

ID = "2026-12-05T01:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "chain the audit events written so far; chain indexes, row-level security, append-only triggers"

# The retention purge may delete events older than this, and nothing else may
# delete or change an event (see server.audit.service.purge).
KEEP_DAYS = 180

PG_APPEND_ONLY = f"""
CREATE OR REPLACE FUNCTION luzhi_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('luzhi.audit_purge', true) = 'on'
     AND OLD.at < now() - interval '{KEEP_DAYS} days' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$
"""
PG_TRIGGERS = [
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION luzhi_audit_append_only()",
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION luzhi_audit_append_only()",
]
# SQLite cannot read a per-transaction setting: any DELETE of an event old enough passes.
# An unreadable time counts as recent.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only (UPDATE refused)'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events "
    f"WHEN julianday(OLD.at) IS NULL OR julianday(OLD.at) >= julianday('now', '-{KEEP_DAYS} days') "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only (DELETE refused)'); END",
]


def _engine():
    from server.piccolo_conf import DB

    return DB


async def _chain_existing() -> None:
    """Give the events written before the chain their seq, prev_hash and hash (per
    tenant, in the order they were written), and their chain and day heads."""
    from zoneinfo import ZoneInfo

    from server.audit import chain

    db = _engine()

    async def q(sql: str, *args):
        return await db.run_querystring(QueryString(sql, *args))

    pg = isinstance(db, PostgresEngine)
    if pg:
        # the owner's connection refuses queries that row-level security would filter;
        # these go chain by chain, each under its tenant's setting
        await q("SELECT set_config('row_security', 'on', true)")
    zones = {r["id"]: ZoneInfo(r["timezone"]) for r in await q("SELECT id, timezone FROM tenants")}
    for tenant in [None, *zones]:
        if pg:
            await q("SELECT set_config('luzhi.tenant', {}, true)", "" if tenant is None else str(tenant))
        where = "tenant IS NULL" if tenant is None else "tenant = {}"
        params = () if tenant is None else (tenant,)
        zone = zones.get(tenant, ZoneInfo("Asia/Shanghai"))
        seq, prev, last_id, days = 0, chain.GENESIS, 0, {}
        while True:
            rows = await q(
                f"SELECT * FROM audit_events WHERE {where} AND id > {{}} ORDER BY id LIMIT 1000", *params, last_id
            )
            if not rows:
                break
            for row in rows:
                seq += 1
                event = {**row, "seq": seq, "prev_hash": prev, "object_name": ""}
                event["detail"] = chain.normal_detail(_loads(row["detail"]))
                prev = chain.digest(event)
                await q(
                    "UPDATE audit_events SET seq = {}, prev_hash = {}, hash = {}, hash_alg = {} WHERE id = {}",
                    seq,
                    event["prev_hash"],
                    prev,
                    chain.ALG,
                    row["id"],
                )
                days[chain.utc(row["at"]).astimezone(zone).date()] = (seq, prev)
                last_id = row["id"]
        if seq == 0:
            continue  # a chain without events gets its head with its first event
        key = chain.chain_key(tenant)
        await q("INSERT INTO audit_heads (chain, tenant, seq, hash) VALUES ({}, {}, {}, {})", key, tenant, seq, prev)
        for day, (day_seq, day_hash) in days.items():
            await q(
                "INSERT INTO audit_day_heads (chain, tenant, day, seq, hash) VALUES ({}, {}, {}, {}, {})",
                key,
                tenant,
                day,
                day_seq,
                day_hash,
            )
    if pg:
        await q("SELECT set_config('luzhi.tenant', '', true)")


def _loads(value):
    import json

    return json.loads(value) if isinstance(value, str) else value


async def _append_only() -> None:
    db = _engine()
    statements = [PG_APPEND_ONLY, *PG_TRIGGERS] if isinstance(db, PostgresEngine) else SQLITE_TRIGGERS
    for statement in statements:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)
    manager.add_raw(_chain_existing)
    tenant_scoping(
        manager,
        indexes=[
            # one event per position of a chain: a fork cannot be stored
            "CREATE UNIQUE INDEX audit_events_chain ON audit_events (tenant, seq)",
            "CREATE UNIQUE INDEX audit_events_platform_chain ON audit_events (seq) WHERE tenant IS NULL",
            "CREATE INDEX audit_heads_tenant ON audit_heads (tenant)",
            "CREATE UNIQUE INDEX audit_day_heads_chain_day ON audit_day_heads (chain, day)",
            "CREATE INDEX audit_day_heads_tenant_day ON audit_day_heads (tenant, day)",
        ],
        rls_tables=["audit_heads", "audit_day_heads"],
        nullable_tenant=("audit_heads", "audit_day_heads"),
    )
    manager.add_raw(_append_only)
    return manager
