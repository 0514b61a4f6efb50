"""The demo seed and the domains' bulk modules it is built with: `luzhi demo seed` makes
the demo bureau once, its audit trail intact; the bulk writes keep the services' rules."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from server import cli, db, demo
from server.accounts import service as accounts
from server.accounts.bulk import add_users
from server.accounts.tables import User
from server.audit import service as audit
from server.demo_scale import Seeded, seed_small, small_slug
from server.responsibility import catalog as catalogs
from server.responsibility import notices
from server.responsibility.bulk import SignedPdfs, Signing, issue_notices, sign_notices, view_notices
from server.responsibility.tables import Notice, Signature
from server.settings import ROOT
from server.training.tables import Attendance
from server.units import service as units
from server.units.bulk import add_units
from server.units.tables import Person, Unit
from tenants import service as tenants
from tests.conftest import PASSWORD, SYSTEM
from tests.factories import make_tenant, make_world


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
        inspections_shown(data)
    assert 200 <= figures["units"] <= 300 and 4000 <= figures["people"] <= 5000, figures
    assert figures["users"] == 17 and min(figures.values()) > 0, figures
    assert "already present (kept)" in luzhi("demo", "seed")
    # small tenants for load tests: made once, kept when asked again
    assert "2 small tenants created, 0 already present" in luzhi("demo", "seed-small", "--count", "2")
    assert "1 small tenants created, 2 already present" in luzhi("demo", "seed-small", "--count", "3")


def inspections_shown(data: sqlite3.Connection) -> None:
    """Every unit's device register; two years ago a small round, last year the seventh
    (24 units finalised, findings in every state, two recurring, measures of each kind,
    its verified findings and overdue rectifications in last year's assessment); this
    year's under way with two teams and a few units recorded."""

    def rows(sql: str) -> list[tuple]:
        return data.execute(sql).fetchall()

    zone = rows("SELECT timezone FROM tenants WHERE slug = 'demo'")[0][0]
    today = datetime.now(ZoneInfo(zone)).date()
    assert rows("SELECT count(*) FROM units") == rows("SELECT count(DISTINCT unit) FROM devices")
    assert {kind for (kind,) in rows("SELECT DISTINCT kind FROM devices")} == {"computer", "it_device", "mailbox"}
    rounds = rows(
        "SELECT r.name, r.status, count(DISTINCT i.id), count(DISTINCT CASE WHEN i.status = 'finalised' THEN i.id END),"
        " count(DISTINCT i.team),"
        " count(DISTINCT t.id) FROM inspection_rounds r JOIN inspections i ON i.round = r.id"
        " LEFT JOIN inspection_teams t ON t.round = r.id GROUP BY r.id ORDER BY r.starts_on"
    )
    assert [r[1:] for r in rounds] == [("closed", 6, 6, 1, 1), ("closed", 24, 24, 2, 2), ("open", 12, 0, 2, 2)], rounds
    assert rounds[1][0] == f"{today.year - 1}年第七轮巡察"
    under_way = rows(
        "SELECT count(DISTINCT x.inspection) FROM inspection_item_results x JOIN inspections i ON i.id = x.inspection"
        " WHERE i.status = 'open'"
    )
    assert under_way == [(4,)]
    assert rows("SELECT count(*) FROM inspection_team_members GROUP BY team") == [(4,)] * 5
    confirmed = "SELECT count(*) FROM inspection_team_members WHERE conflicts != '[]' AND conflict_confirmed_by != ''"
    assert rows(confirmed) == [(1,)]
    assert rows("SELECT count(*), count(person) FROM users WHERE role = 'inspector'") == [(9, 4)]
    assert rows("SELECT count(*) FROM inspection_interviews WHERE waived_reason != ''")[0][0] > 0
    findings = rows("SELECT state, mode, deadline, recurring FROM inspection_findings")
    assert {f[0] for f in findings} == {"open", "rectifying", "submitted", "verified", "reopened"}
    assert {f[1] for f in findings} == {"on_spot", "deadline"}
    pending = ("open", "rectifying", "reopened")
    assert any(f[0] in pending and f[2] and date.fromisoformat(f[2]) < today for f in findings), "none overdue"
    assert any(f[0] in pending and f[2] and date.fromisoformat(f[2]) >= today for f in findings), "none to come"
    assert sum(f[3] for f in findings) == 2
    kinds = {"register_preserve", "order_delete", "order_stop_use", "transfer"}
    assert {kind for (kind,) in rows("SELECT DISTINCT kind FROM inspection_measures")} == kinds
    deductions = rows(
        "SELECT substr(a.source, 1, instr(a.source, ':') - 1), count(*) FROM assessment_adjustments a"
        " JOIN assessed_units u ON u.id = a.assessed JOIN assessments s ON s.id = u.assessment"
        f" WHERE s.year = {today.year - 1} AND a.source != '' GROUP BY 1 ORDER BY 1"  # noqa: S608 - a number
    )
    assert [d[0] for d in deductions] == ["finding", "overdue"] and min(d[1] for d in deductions) > 0, deductions


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


async def test_small_tenants_are_made_in_bulk_and_kept(env):
    assert await seed_small(2) == Seeded(2, 0)
    assert await seed_small(3) == Seeded(1, 2)
    for number in (1, 3):
        tenant = await tenants.resolve(small_slug(number))
        async with db.transaction(tenant.id):
            figures = {
                table.__name__: await table.count().where(table.tenant == tenant.id)
                for table in (Unit, Person, Notice, Signature, Attendance, User)
            }
            assert (await audit.verify(tenant.id)).ok
        assert figures["Unit"] == 5 and figures["Person"] == 20 and figures["Notice"] == 10, figures
        assert 0 < figures["Signature"] < 10 and figures["Attendance"] > 0 and figures["User"] == 0, figures


async def test_a_scaled_bureau_is_the_demo_tree_side_by_side(env):
    """At scale 2 the unit tree is the demo's, then another like it, marked (2), its
    units under its own districts and municipal units."""
    trees = []
    for scale in (1, 2):
        tenant = await make_tenant()
        async with db.transaction(tenant.id):
            trees.append(await demo._units(tenant, SYSTEM, scale))
    single, double = trees
    names = [u["name"] for u in double]
    assert names[: len(single)] == [u["name"] for u in single] and len(set(names)) == len(names)
    second = double[len(single) :]
    assert all(u["name"].endswith("（2）") for u in second) and 0.8 < len(second) / len(single) < 1.2
    assert {u["kind"] for u in second} == {u["kind"] for u in single}
    copy_of = {u["path"]: i >= len(single) for i, u in enumerate(double)}
    segment = len(units.path_segment(1))
    assert all(copy_of[u["path"][:-segment]] == copy_of[u["path"]] for u in double if u["depth"])


def test_the_seed_takes_a_scale_a_slug_and_a_name(monkeypatch, tmp_path):
    """`demo seed --scale N --slug S` hands them to the seed; plain `demo seed` is the demo."""
    calls = []

    async def seed(password: str, **options):
        calls.append(options)
        return demo.DemoAccounts(password, True, {"office": "office_admin"})

    monkeypatch.setattr(demo, "seed", seed)
    monkeypatch.setattr(cli, "_run", lambda work: asyncio.run(work()))
    for name, value in {"LUZHI_VAR_DIR": str(tmp_path), "LUZHI_DEMO_PASSWORD": PASSWORD}.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    done = runner.invoke(cli.main, ["demo", "seed", "--scale", "10", "--slug", "demo-x10", "--name", "十倍"])
    assert done.exit_code == 0 and "/t/demo-x10/login" in done.output, done.output
    assert runner.invoke(cli.main, ["demo", "seed"]).exit_code == 0
    assert calls == [
        {"slug": "demo-x10", "name": "十倍", "scale": 10, "all_pdfs": False},
        {"slug": "demo", "name": demo.NAME, "scale": 1, "all_pdfs": False},
    ]
    assert runner.invoke(cli.main, ["demo", "seed", "--scale", "0"]).exit_code == 2
