"""core.bulk.update_rows: the rows named by id take the new values of the columns given
(on PostgreSQL one statement joined to the values), the others keep theirs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server import db
from server.core.bulk import update_rows
from server.responsibility import catalog as catalogs
from server.responsibility.bulk import issue_notices
from server.responsibility.tables import Notice
from server.units import service as units
from tests.conftest import SYSTEM
from tests.factories import make_world


async def test_update_rows_sets_the_columns_of_the_rows_named(env):
    world = await make_world()
    tenant, now = world.tenant, datetime.now(UTC).replace(microsecond=0)
    async with db.transaction(tenant.id):
        posts = await units.current_leader_posts(tenant, SYSTEM)
        issued = await issue_notices(tenant, SYSTEM, await catalogs.current_catalog(tenant), [(p, now) for p in posts])
        first, second, *rest = sorted(n["id"] for n in issued.values())
        assert rest, "the world has three leaders or more"
        later = now + timedelta(hours=1)
        await update_rows(
            Notice,
            ("status", "closed_at", "superseded_by"),
            [
                ("superseded", now, second, first),
                ("viewed", None, None, second),
                ("superseded", later, second, second),  # a row given twice takes its last values
            ],
        )
        await update_rows(Notice, ("status",), [])
        rows = await Notice.select(Notice.id, Notice.status, Notice.closed_at, Notice.superseded_by).where(
            Notice.tenant == tenant.id
        )
    got = {r["id"]: (r["status"], r["closed_at"], r["superseded_by"]) for r in rows}
    assert got[first] == ("superseded", now, second)
    assert got[second] == ("superseded", later, second)
    assert all(got[pk] == ("issued", None, None) for pk in rest)
