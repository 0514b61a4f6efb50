from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Serial
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-12-05T02:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a course's natural key: merge the courses created twice, then make the key unique"


def same(c: str) -> str:
    """Course k is the same course as c: tenant, unit (none for the office's), date, title, organiser."""
    return (
        f"k.tenant = {c}.tenant AND COALESCE(k.unit, 0) = COALESCE({c}.unit, 0) AND k.date = {c}.date "
        f"AND k.title = {c}.title AND k.organiser = {c}.organiser"
    )


# an attendance at a later copy, when an earlier copy already has this person: the
# hours were counted twice
DROP_DOUBLES = f"""
DELETE FROM attendances WHERE tenant = {{tenant}} AND EXISTS (
    SELECT 1 FROM courses c JOIN courses k ON {same("c")} AND k.id < c.id
    JOIN attendances a ON a.course = k.id AND a.person = attendances.person
    WHERE c.id = attendances.course)
"""
MOVE_TO_FIRST = f"""
UPDATE attendances SET course = (
    SELECT MIN(k.id) FROM courses c JOIN courses k ON {same("c")} WHERE c.id = attendances.course)
WHERE tenant = {{tenant}}
"""
DROP_COPIES = f"""
DELETE FROM courses WHERE tenant = {{tenant}} AND EXISTS (
    SELECT 1 FROM courses k WHERE k.id < courses.id AND {same("courses")})
"""
UNIQUE = (
    "CREATE UNIQUE INDEX IF NOT EXISTS courses_natural_key "
    "ON courses (tenant, date, title, organiser, COALESCE(unit, 0))"
)


class Tenant(Table, tablename="tenants"):
    id = Serial(primary_key=True)


async def merge_and_index() -> None:
    postgres = isinstance(Tenant._meta.db, PostgresEngine)
    async with Tenant._meta.db.transaction():
        if postgres:
            # the policies bind the owner too: work as each tenant in turn
            await Tenant.raw("SET LOCAL row_security = on")
        for tenant in await Tenant.select(Tenant.id):
            if postgres:
                await Tenant.raw("SELECT set_config('luzhi.tenant', {}, true)", str(tenant["id"]))
            for statement in (DROP_DOUBLES, MOVE_TO_FIRST, DROP_COPIES):
                await Tenant.raw(statement.format(tenant=int(tenant["id"])))
        if postgres:
            await Tenant.raw("SELECT set_config('luzhi.tenant', '', true)")
            await Tenant.raw("SET LOCAL row_security = off")
        await Tenant.raw(UNIQUE)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="training", description=DESCRIPTION)
    manager.add_raw(merge_and_index)
    return manager
