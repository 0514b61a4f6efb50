"""The demo seed and the domains' bulk modules it is built with: `luzhi demo seed` makes
the demo bureau once, its audit trail intact; the bulk writes keep the services' rules."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from server import db
from server.accounts import service as accounts
from server.accounts.bulk import add_users
from server.audit import service as audit
from server.responsibility import catalog as catalogs
from server.responsibility import notices
from server.responsibility.bulk import SignedPdfs, Signing, issue_notices, sign_notices, view_notices
from server.responsibility.tables import Signature
from server.settings import ROOT
from server.units import service as units
from server.units.bulk import add_units
from tests.conftest import PASSWORD, SYSTEM
from tests.factories import make_world


def test_the_demo_is_seeded_once_with_its_trail_intact(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LUZHI_")}
    environment |= {
        "LUZHI_VAR_DIR": str(tmp_path),
        "LUZHI_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "LUZHI_SECRET_KEY": "test-secret-key",
        "LUZHI_DEMO_PASSWORD": PASSWORD,
    }

    def luzhi(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", *args], env=environment, cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    luzhi("migrate")
    assert "demo tenant created" in luzhi("demo", "seed")
    assert "chain intact" in luzhi("audit", "verify", "--tenant", "demo")
    with sqlite3.connect(tmp_path / "demo.sqlite3") as data:
        figures = {
            table: data.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - our own names
            for table in ("units", "people", "users", "notices", "signatures", "confirmations", "attendances")
        }
    assert 200 <= figures["units"] <= 300 and 4000 <= figures["people"] <= 5000, figures
    assert figures["users"] == 9 and min(figures.values()) > 0, figures
    assert "already present (kept)" in luzhi("demo", "seed")


async def test_bulk_writes_keep_the_services_rules(env):
    world = await make_world()
    tenant, now = world.tenant, datetime.now(UTC)
    async with db.transaction(tenant.id):
        posts = await units.current_leader_posts(tenant, SYSTEM)
        issued = await issue_notices(tenant, SYSTEM, await catalogs.current_catalog(tenant), [(p, now) for p in posts])
        leader = accounts.actor_for(tenant, await accounts.user_by_username(tenant, "leader"))
    own = next(n for n in issued.values() if n["person"] == leader.person_id)
    others = next(n for n in issued.values() if n["person"] != leader.person_id)
    with pytest.raises(ValueError, match="cannot be viewed"):
        async with db.transaction(tenant.id):
            await view_notices(tenant, [(leader, others, now)])
    async with db.transaction(tenant.id):
        await view_notices(tenant, [(leader, own, now)])
        pdfs = SignedPdfs({leader.person_id})
        await sign_notices(tenant, [Signing(leader, own, now)], pdfs)
        await pdfs.store()
    with pytest.raises(ValueError, match="cannot be signed"):
        async with db.transaction(tenant.id):
            await sign_notices(tenant, [Signing(leader, own, now)], SignedPdfs())
    async with db.transaction(tenant.id):
        assert (await notices.notice_detail(tenant, leader, own["uuid"]))["status"] == "signed"
        stored = await Signature.select(Signature.pdf).where(Signature.notice == own["id"])
        assert len(stored) == 1 and bytes(stored[0]["pdf"]).startswith(b"%PDF")
        # a child before its parent, an account without the unit its role is bound to
        with pytest.raises(ValueError):
            await add_units(
                tenant, SYSTEM, [{"name": "子", "kind": "subunit", "parent": 1}, {"name": "父", "kind": "municipal"}]
            )
        with pytest.raises(ValueError):
            await add_users(tenant, SYSTEM, PASSWORD, [("d2", "district_admin", {})])
        assert (await audit.verify(tenant.id)).ok
