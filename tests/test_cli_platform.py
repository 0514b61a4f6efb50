"""The `luzhi` CLI and the /platform console for operators."""

from __future__ import annotations

import subprocess
import sys

import anyio

from server import db
from server.audit.tables import AuditEvent
from server.settings import ROOT
from tests.conftest import PASSWORD, csrf, csrf_of, login, new_slug


async def luzhi(env, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    def run():
        return subprocess.run(
            [sys.executable, "-m", "server.cli", *args], env=env.env, cwd=ROOT, capture_output=True, text=True
        )

    result = await anyio.to_thread.run_sync(run)
    if check:
        assert result.returncode == 0, result.stderr
    return result


async def test_cli_creates_tenants_users_and_tokens(env, client):
    slug = new_slug()
    created = await luzhi(env, "tenant", "create", "--slug", slug, "--name", "命令行市保密局")
    assert f"created tenant {slug}" in created.stdout
    # with its three administrators, each with a temporary password shown once
    admins = {line.split()[0]: line.split() for line in created.stdout.splitlines() if line.startswith("  ")}
    assert {name: row[1] for name, row in admins.items()} == {
        "sysadmin": "system_admin",
        "secadmin": "security_admin",
        "auditor": "audit_admin",
    }
    first = await login(client, slug, "secadmin", admins["secadmin"][2])
    assert first.status_code == 303
    assert (await client.get(f"/t/{slug}/admin/users")).headers["location"] == f"/t/{slug}/account/password"
    client.cookies.clear()
    duplicate = await luzhi(env, "tenant", "create", "--slug", slug, "--name", "x", check=False)
    assert duplicate.returncode == 2 and slug in duplicate.stderr
    bad = await luzhi(env, "tenant", "create", "--slug", "Bad Slug!", "--name", "x", check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("slug:")

    await luzhi(
        env, "user", "create", "--tenant", slug, "--username", "chief", "--role", "office_admin", "--password", PASSWORD
    )
    generated = await luzhi(env, "user", "create", "--tenant", slug, "--username", "auditor2", "--role", "audit_admin")
    assert generated.stdout.strip().splitlines()[-1].startswith("password: ")
    weak = await luzhi(
        env,
        "user",
        "create",
        "--tenant",
        slug,
        "--username",
        "weak",
        "--role",
        "inspector",
        "--password",
        "12345678",
        check=False,
    )
    assert weak.returncode == 2 and weak.stderr.startswith("password:")
    unscoped = await luzhi(
        env, "user", "create", "--tenant", slug, "--username", "d", "--role", "district_admin", check=False
    )
    assert unscoped.returncode == 2 and "scope_unit_id" in unscoped.stderr

    assert (await login(client, slug, "chief")).status_code == 303

    token = (await luzhi(env, "token", "create", "--tenant", slug, "--user", "chief")).stdout.strip().splitlines()[-1]
    program = await anyio.to_thread.run_sync(lambda: None) or client
    api = await program.get(f"/api/v1/t/{slug}/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.json()["user"]["role"] == "office_admin"

    listed = await luzhi(env, "tenant", "list")
    assert slug in listed.stdout
    suspended = await luzhi(env, "tenant", "suspend", slug)
    assert f"{slug}: suspended" in suspended.stdout
    assert f"{slug:<20} suspended" in (await luzhi(env, "tenant", "list")).stdout
    await luzhi(env, "tenant", "resume", slug)


async def operator_client(env, make_client):
    name = "op" + new_slug()
    await luzhi(env, "operator", "create", "--username", name, "--password", PASSWORD)
    c = await make_client()
    page = await c.get("/platform/login")
    signed = await c.post("/platform/login", data={"_csrf": csrf_of(page.text), "username": name, "password": PASSWORD})
    assert signed.status_code == 303 and signed.headers["location"] == "/platform"
    return c


async def test_operator_creates_and_suspends_a_tenant(env, make_client, client):
    op = await operator_client(env, make_client)
    token = await csrf(op, "/platform")
    slug = new_slug()
    created = await op.post("/platform/tenants", data={"_csrf": token, "slug": slug, "name": "控制台市保密局"})
    # the three administrators' temporary passwords are shown on this answer only
    assert created.status_code == 201 and "secadmin" in created.text and "auditor" in created.text
    console = await op.get("/platform")
    assert "secadmin" not in console.text
    assert slug in console.text and "控制台市保密局" in console.text
    again = await op.post("/platform/tenants", data={"_csrf": token, "slug": slug, "name": "重复"})
    assert again.status_code == 409 and "已存在" in again.text
    empty = await op.post("/platform/tenants", data={"_csrf": token, "slug": "", "name": ""})
    assert empty.status_code == 422

    # (an inspector: the new bureau's policy asks administrators for a second factor)
    await luzhi(
        env, "user", "create", "--tenant", slug, "--username", "chief", "--role", "inspector", "--password", PASSWORD
    )
    assert (await login(client, slug, "chief")).status_code == 303
    await op.post(f"/platform/tenants/{slug}/status", data={"_csrf": token, "status": "suspended"})
    suspended = await client.get(f"/t/{slug}/units")
    assert suspended.status_code == 403 and "控制台市保密局" in suspended.text and "暂停" in suspended.text
    assert (await client.get(f"/api/v1/t/{slug}/units")).status_code == 403
    await op.post(f"/platform/tenants/{slug}/status", data={"_csrf": token, "status": "active"})
    assert (await client.get(f"/t/{slug}/units")).status_code == 200

    async with db.transaction(None):
        actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).where(AuditEvent.tenant.is_null())]
    assert {"tenant.create", "tenant.suspend", "tenant.resume"} <= set(actions)


async def test_tenant_users_cannot_use_the_platform_console(client, make_client, env):
    from tests.factories import make_world

    world = await make_world()
    await login(client, world.slug, "office")
    response = await client.get("/platform")
    assert response.status_code == 303 and response.headers["location"] == "/platform/login"
    anonymous = await make_client()
    assert (await anonymous.get("/platform")).headers["location"] == "/platform/login"


async def test_the_audit_purge_runs_as_the_owner_and_keeps_180_days(env):
    slug = new_slug()
    await luzhi(env, "tenant", "create", "--slug", slug, "--name", "清理市保密局")
    short = await luzhi(env, "audit", "purge", "--tenant", slug, "--keep-days", "30", check=False)
    assert short.returncode == 2 and "180" in short.stderr
    # nothing is old enough yet: nothing goes, and the chain still verifies
    purged = await luzhi(env, "audit", "purge", "--tenant", slug)
    assert f"tenant {slug}: 0 events older than 180 days deleted" in purged.stdout
    assert (await luzhi(env, "audit", "verify", "--tenant", slug)).returncode == 0
