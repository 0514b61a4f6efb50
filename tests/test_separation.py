"""The three separated administrators, temporary passwords, the password policy, API
token lifetimes, and sign-in throttling that holds under concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from server import db
from server.accounts import service as accounts
from server.accounts.tables import ApiToken, LoginThrottle, User
from server.audit.tables import AuditEvent
from server.responsibility import notices
from server.web.edge import client_address
from tests.conftest import PASSWORD, SYSTEM, csrf, login
from tests.factories import make_world, token_for

NEW_PASSWORD = "Own-Choice-2026"


async def signed_in(make_client, world, key, address="10.9.9.9"):
    c = await make_client(address)
    assert (await login(c, world.slug, world.users[key]["username"])).status_code == 303
    return c


async def api_headers(c, world) -> dict:
    return {"X-CSRF-Token": await csrf(c, f"/t/{world.slug}/account")}


async def audit_rows(world, action: str, **where) -> list[dict]:
    async with db.transaction(world.tenant.id, write=False):
        query = AuditEvent.select().where(AuditEvent.tenant == world.tenant.id, AuditEvent.action == action)
        for column, value in where.items():
            query = query.where(getattr(AuditEvent, column) == value)
        return await query.output(load_json=True)


async def issue_to_leader(world) -> str:
    async with db.transaction(world.tenant.id):
        office = accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "office"))
        await notices.issue(world.tenant, office, {"scope": "all"})
        mine = await notices.my_notices(
            world.tenant,
            accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "leader")),
        )
    return mine["to_sign"][0]["id"]


# ---------------------------------------------------------------- nobody acts as someone else


async def test_a_password_an_administrator_sets_cannot_sign_anything(make_client):
    """Found: the system admin reset the leader's password, signed in as the leader and
    signed the leader's notice."""
    world = await make_world()
    notice_id = await issue_to_leader(world)
    leader_token = await token_for(world, "leader")
    sysadmin = await signed_in(make_client, world, "system_admin")
    h = await api_headers(sysadmin, world)
    users = f"/api/v1/t/{world.slug}/users"
    reset = await sysadmin.patch(
        f"{users}/{world.users['leader']['id']}", json={"password": "Taken-Over-123"}, headers=h
    )
    assert reset.status_code == 200 and reset.json()["password_temporary"] is True
    # the leader's API token died with the reset
    api = await (await make_client()).get(
        f"/api/v1/t/{world.slug}/me", headers={"Authorization": f"Bearer {leader_token}"}
    )
    assert api.status_code == 401

    intruder = await make_client("10.6.6.6")
    assert (await login(intruder, world.slug, "leader", "Taken-Over-123")).status_code == 303
    # the account can do nothing but choose its own password
    portal = await intruder.get(f"/t/{world.slug}/me")
    assert portal.status_code == 303 and portal.headers["location"] == f"/t/{world.slug}/account/password"
    token = await csrf(intruder, f"/t/{world.slug}/account/password")
    sign = await intruder.post(
        f"/t/{world.slug}/notices/{notice_id}/sign", data={"_csrf": token, "password": "Taken-Over-123"}
    )
    assert sign.status_code == 303 and sign.headers["location"].endswith("/account/password")
    api_sign = await intruder.post(
        f"/api/v1/t/{world.slug}/me/notices/{notice_id}/sign",
        json={"password": "Taken-Over-123"},
        headers={"X-CSRF-Token": token},
    )
    assert api_sign.status_code == 403
    # and re-authentication itself refuses a temporary password whatever the route
    async with db.transaction(world.tenant.id):
        leader = accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "leader"))
        assert "管理员设置的密码" in (await accounts.reauthenticate(world.tenant, leader, "Taken-Over-123") or "")
        detail = await notices.notice_detail(world.tenant, leader, notice_id)
    assert detail["status"] != "signed"
    assert [e["outcome"] for e in await audit_rows(world, "user.password_reset")] == ["success"]


async def test_the_forced_change_frees_the_account_and_the_policy_applies(make_client):
    world = await make_world()
    sysadmin = await signed_in(make_client, world, "system_admin")
    h = await api_headers(sysadmin, world)
    await sysadmin.patch(
        f"/api/v1/t/{world.slug}/users/{world.users['officer']['id']}", json={"password": "Temporary-Pass-1"}, headers=h
    )
    officer = await make_client()
    assert (await login(officer, world.slug, "officer", "Temporary-Pass-1")).status_code == 303
    form = await officer.get(f"/t/{world.slug}/account/password")
    assert form.status_code == 200 and "units" not in form.text.split("<main>")[0]
    token = await csrf(officer, f"/t/{world.slug}/account/password")

    async def choose(new: str):
        return await officer.post(
            f"/t/{world.slug}/account/password",
            data={"_csrf": token, "current_password": "Temporary-Pass-1", "new_password": new},
        )

    for weak in ("abcdefghij", "zhangsan1234", "Officer-Pass-1", "Password1234", PASSWORD):
        assert (await choose(weak)).status_code == 422, weak  # classes, username, common, history
    done = await choose(NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == f"/t/{world.slug}/"
    assert (await officer.get(f"/t/{world.slug}/units")).status_code == 200


async def test_passwords_expire_after_the_policy_age_and_warn_before(make_client):
    world = await make_world()
    async with db.transaction(world.tenant.id):
        await User.update({User.password_changed_at: datetime.now(UTC) - timedelta(days=170)}).where(
            User.tenant == world.tenant.id, User.username == "officer"
        )
        await User.update({User.password_changed_at: datetime.now(UTC) - timedelta(days=181)}).where(
            User.tenant == world.tenant.id, User.username == "inspector"
        )
    officer = await signed_in(make_client, world, "officer")
    page = await officer.get(f"/t/{world.slug}/units")
    assert page.status_code == 200 and "密码将在" in page.text
    inspector = await signed_in(make_client, world, "inspector")
    assert (await inspector.get(f"/t/{world.slug}/units")).headers["location"].endswith("/account/password")


# ---------------------------------------------------------------- the three administrators


async def test_two_people_for_every_account(make_client):
    world = await make_world()
    sysadmin = await signed_in(make_client, world, "system_admin")
    h = await api_headers(sysadmin, world)
    users = f"/api/v1/t/{world.slug}/users"
    made = await sysadmin.post(users, json={"username": "NewClerk", "role": "inspector"}, headers=h)
    assert made.status_code == 201
    clerk = made.json()
    assert clerk["username"] == "newclerk" and clerk["pending"] and clerk["password_temporary"]
    stranger = await make_client()
    # pending: it cannot sign in yet (usernames compare case-insensitively)
    assert (await login(stranger, world.slug, "NEWCLERK", clerk["generated_password"])).status_code == 400
    # the system admin cannot approve its own creation
    assert (await sysadmin.post(f"{users}/{clerk['id']}/activate", headers=h)).status_code == 403
    secadmin = await signed_in(make_client, world, "security_admin")
    sh = await api_headers(secadmin, world)
    activated = await secadmin.post(f"{users}/{clerk['id']}/activate", headers=sh)
    assert activated.status_code == 200 and not activated.json()["pending"]
    assert (await secadmin.post(f"{users}/{clerk['id']}/activate", headers=sh)).status_code == 409
    assert (await login(stranger, world.slug, "NewClerk", clerk["generated_password"])).status_code == 303
    events = await audit_rows(world, "user.activate")
    assert [e["actor_name"] for e in events] == ["securityadmin"]


async def test_the_security_admin_grants_roles_and_the_trail_names_them(make_client):
    world = await make_world()
    secadmin = await signed_in(make_client, world, "security_admin")
    h = await api_headers(secadmin, world)
    users = f"/api/v1/t/{world.slug}/users"
    inspector = world.users["inspector"]["id"]
    granted = await secadmin.patch(
        f"{users}/{inspector}",
        json={"role": "district_admin", "scope_unit_id": world.units["district_b"]["id"]},
        headers=h,
    )
    assert granted.status_code == 200 and granted.json()["scope_unit_name"] == "乙区"
    (event,) = await audit_rows(world, "user.role")
    assert event["detail"]["changes"]["role"] == ["inspector", "district_admin"]
    assert event["detail"]["changes"]["scope_unit"][0] is None and event["detail"]["changes"]["scope_unit"][1]
    me = next(u for u in (await secadmin.get(users)).json() if u["username"] == "securityadmin")
    own = await secadmin.patch(f"{users}/{me['id']}", json={"role": "audit_admin"}, headers=h)
    assert own.status_code == 422
    # it switches no account off (the system admin's job) and sees no business data
    off = await secadmin.patch(f"{users}/{inspector}", json={"active": False}, headers=h)
    assert off.status_code == 422 and off.json()["errors"][0]["field"] == "active"
    for path in ("/units", "/people", "/audit", "/coverage", "/notices"):
        assert (await secadmin.get(f"/api/v1/t/{world.slug}{path}")).status_code == 403, path


async def test_the_office_admin_manages_business_roles_only(make_client):
    """Found: the office admin read the trail, created audit admins and switched the auditor off."""
    world = await make_world()
    office = await signed_in(make_client, world, "office")
    h = await api_headers(office, world)
    users = f"/api/v1/t/{world.slug}/users"
    assert (await office.get(f"/api/v1/t/{world.slug}/audit")).status_code == 403
    auditor = await office.post(users, json={"username": "auditor2", "role": "audit_admin"}, headers=h)
    assert auditor.status_code == 422 and auditor.json()["errors"][0]["field"] == "role"
    off = await office.patch(f"{users}/{world.users['audit_admin']['id']}", json={"active": False}, headers=h)
    assert off.status_code == 403
    clerk = await office.post(users, json={"username": "clerk", "role": "inspector"}, headers=h)
    assert clerk.status_code == 201 and clerk.json()["pending"]
    # the audit admin reads the trail, and nothing else
    auditor_client = await signed_in(make_client, world, "audit_admin")
    assert (await auditor_client.get(f"/api/v1/t/{world.slug}/audit")).status_code == 200
    for path in ("/users", "/units", "/security-policy"):
        assert (await auditor_client.get(f"/api/v1/t/{world.slug}{path}")).status_code == 403, path


async def test_the_security_admin_unlocks_and_sets_the_policy(make_client):
    world = await make_world()
    victim = await make_client("10.4.4.4")
    for _ in range(5):
        await login(victim, world.slug, "officer", "wrong-password-1")
    assert (await login(victim, world.slug, "officer")).status_code == 400
    secadmin = await signed_in(make_client, world, "security_admin")
    h = await api_headers(secadmin, world)
    assert (
        await secadmin.post(f"/api/v1/t/{world.slug}/users/{world.users['officer']['id']}/unlock", headers=h)
    ).status_code == 200
    assert (await login(await make_client("10.4.4.5"), world.slug, "officer")).status_code == 303
    policy = f"/api/v1/t/{world.slug}/security-policy"
    assert (await secadmin.put(policy, json={"min_length": 6}, headers=h)).status_code == 422
    saved = await secadmin.put(policy, json={"min_length": 14, "totp_everyone": True}, headers=h)
    assert saved.status_code == 200 and saved.json()["min_length"] == 14 and saved.json()["totp_everyone"]
    (event,) = await audit_rows(world, "policy.update", actor_name="securityadmin")
    assert event["detail"]["changed"]["min_length"] == [10, 14]
    office = await signed_in(make_client, world, "office")
    assert (await office.get(policy)).status_code == 403


# ---------------------------------------------------------------- tokens


async def test_tokens_expire_and_die_with_a_reset_or_a_deactivation(make_client):
    world = await make_world()
    office = await signed_in(make_client, world, "office")
    h = await api_headers(office, world)
    tokens = f"/api/v1/t/{world.slug}/tokens"
    too_long = await office.post(tokens, json={"name": "x", "expires_in_days": 400}, headers=h)
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "expires_in_days"
    made = await office.post(tokens, json={"name": "report"}, headers=h)
    expires = datetime.fromisoformat(made.json()["expires_at"])
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)
    raw = made.json()["token"]
    program = await make_client()
    auth = {"Authorization": f"Bearer {raw}"}
    assert (await program.get(f"/api/v1/t/{world.slug}/me", headers=auth)).status_code == 200
    assert (await office.get(tokens)).json()[0]["last_used_at"] is not None
    async with db.transaction(world.tenant.id):
        await ApiToken.update({ApiToken.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
            ApiToken.tenant == world.tenant.id, ApiToken.name == "report"
        )
    assert (await program.get(f"/api/v1/t/{world.slug}/me", headers=auth)).status_code == 401

    officer_token = await token_for(world, "officer")
    sysadmin = await signed_in(make_client, world, "system_admin")
    sh = await api_headers(sysadmin, world)
    off = await sysadmin.patch(
        f"/api/v1/t/{world.slug}/users/{world.users['officer']['id']}", json={"active": False}, headers=sh
    )
    assert off.status_code == 200
    officer_auth = {"Authorization": f"Bearer {officer_token}"}
    assert (await program.get(f"/api/v1/t/{world.slug}/me", headers=officer_auth)).status_code == 401
    assert await audit_rows(world, "token.revoke")


# ---------------------------------------------------------------- throttling


async def test_concurrent_wrong_passwords_all_count_and_are_all_audited(make_client):
    """Found: 12 concurrent wrong passwords on PostgreSQL left the counter at 2 and lost refusals."""
    world = await make_world()
    clients = [await make_client(f"10.3.0.{i}") for i in range(12)]
    answers = await asyncio.gather(
        *(login(c, world.slug, "officer", f"wrong-{i}-password") for i, c in enumerate(clients))
    )
    assert all(a.status_code == 400 for a in answers)
    refusals = await audit_rows(world, "auth.login", outcome="denied")
    assert len(refusals) == 12
    async with db.transaction(world.tenant.id, write=False):
        counter = await LoginThrottle.select().where(LoginThrottle.key == f"u:{world.tenant.id}:officer").first()
    # (the requests that arrive after the lock are refused without counting further)
    assert counter["failures"] >= 5 and counter["locked_until"] is not None
    assert await audit_rows(world, "auth.lock")
    # the right password no longer gets in
    assert (await login(await make_client("10.3.1.1"), world.slug, "officer")).status_code == 400


async def test_an_address_lock_stays_within_its_tenant_and_forwarded_headers_change_nothing(make_client):
    """Found: a per-address lock applied across tenants, and any client's X-Forwarded-For bypassed it."""
    first, second = await make_world(), await make_world()
    attacker = await make_client("10.7.7.7")
    for i in range(20):  # different accounts, one address: the address locks
        attacker.headers["X-Forwarded-For"] = f"192.0.2.{i}"
        await login(attacker, first.slug, f"guess{i}", "wrong-password-1")
    attacker.headers["X-Forwarded-For"] = "192.0.2.200"
    assert (await login(attacker, first.slug, "office")).status_code == 400
    refusals = await audit_rows(first, "auth.login", outcome="denied")
    assert {e["client_addr"] for e in refusals} == {"10.7.7.7"}
    # the same address may still sign in to another bureau
    assert (await login(attacker, second.slug, "office")).status_code == 303


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("10.0.0.5", "1.2.3.4", (), "10.0.0.5"),
        ("10.0.0.5", "1.2.3.4", ("127.0.0.1",), "10.0.0.5"),
        ("127.0.0.1", "1.2.3.4", ("127.0.0.1",), "1.2.3.4"),
        ("127.0.0.1", "6.6.6.6, 1.2.3.4", ("127.0.0.1",), "1.2.3.4"),
        ("10.1.0.2", "6.6.6.6, 1.2.3.4, 10.1.0.9", ("10.1.0.0/16",), "1.2.3.4"),
    ],
)
def test_the_client_address_believes_trusted_proxies_only(peer, forwarded, proxies, expected):
    scope = {"client": (peer, 1234), "headers": [(b"x-forwarded-for", forwarded.encode())]}
    assert client_address(scope, proxies) == expected


async def test_failed_reauthentication_at_signing_is_audited_and_locks(make_client):
    """Found: failed signing re-authentications and the lock they cause left no audit row."""
    world = await make_world()
    notice_id = await issue_to_leader(world)
    leader = await signed_in(make_client, world, "leader")
    token = await csrf(leader, f"/t/{world.slug}/me")
    for _ in range(5):
        wrong = await leader.post(
            f"/t/{world.slug}/notices/{notice_id}/sign", data={"_csrf": token, "password": "nope-nope"}
        )
        assert wrong.status_code == 422
    refusals = await audit_rows(world, "notice.sign", outcome="denied")
    assert len(refusals) == 5 and refusals[0]["object_id"] == notice_id
    assert len(await audit_rows(world, "auth.lock")) == 1
    locked = await leader.post(f"/t/{world.slug}/notices/{notice_id}/sign", data={"_csrf": token, "password": PASSWORD})
    assert locked.status_code == 422


async def test_usernames_compare_case_insensitively(make_client):
    world = await make_world()
    assert (await login(await make_client(), world.slug, "OFFICE")).status_code == 303
    async with db.transaction(world.tenant.id):
        with pytest.raises(Exception):  # noqa: B017 - the checker's ValidationFailed
            await accounts.create_user(world.tenant, SYSTEM, {"username": "Office", "role": "inspector"})


# ---------------------------------------------------------------- a complete trail


async def test_self_scores_and_exports_of_personal_data_leave_audit_rows(make_client):
    """Found: self-assessment scores left no audit row; exports were not recorded."""
    from server.assessment import cycle, reviews
    from server.units import service as units

    world = await make_world()
    year = units.today(world.tenant).year
    async with db.transaction(world.tenant.id):
        office = accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "office"))
        officer = accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "officer"))
        await cycle.open_assessment(world.tenant, office, year, {"cutoff": f"{year}-12-31"})
    for value in (8, 9):
        async with db.transaction(world.tenant.id):
            await reviews.self_assess(world.tenant, officer, year, world.units["a_unit"]["id"], "R3", {"score": value})
    scores = await audit_rows(world, "assessment.self_score")
    assert [(e["detail"]["old"], e["detail"]["new"]) for e in scores] == [(None, 8.0), (8.0, 9.0)]
    assert {e["actor_name"] for e in scores} == {"officer"}

    c = await signed_in(make_client, world, "office")
    t = f"/t/{world.slug}"
    for path, action in (
        ("/training/hours.xlsx", "export.training_hours"),
        ("/training/courses.xlsx", "export.courses"),
        ("/coverage.xlsx", "export.coverage"),
        ("/outbox.xlsx", "export.outbox"),
        (f"/assessments/{year}/scores.xlsx", "export.scores"),
    ):
        assert (await c.get(t + path)).status_code == 200, path
        assert [e["actor_name"] for e in await audit_rows(world, action)] == ["office"], action


async def test_the_system_admin_keeps_the_mail_server_and_sees_no_business_data(make_client):
    world = await make_world()
    sysadmin = await signed_in(make_client, world, "system_admin")
    t = f"/t/{world.slug}"
    page = await sysadmin.get(f"{t}/admin/notifications")
    assert page.status_code == 200 and "邮件服务器" in page.text
    form = {
        "_csrf": await csrf(sysadmin, f"{t}/admin/notifications"),
        "smtp_host": "smtp.bureau.example",
        "smtp_port": "25",
    }
    form |= {"smtp_security": "none", "webhook_preset": "generic"}
    saved = await sysadmin.post(f"{t}/reminders/settings", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == f"{t}/admin/notifications"
    shown = await sysadmin.get(f"/api/v1/t/{world.slug}/notification-settings")
    assert shown.status_code == 200 and shown.json()["smtp_host"] == "smtp.bureau.example"
    for path in ("/reminders", "/outbox", "/units", "/people", "/coverage", "/training", "/assessments", "/audit"):
        assert (await sysadmin.get(t + path)).status_code == 403, path
    leader = await signed_in(make_client, world, "leader")
    assert (await leader.get(f"/api/v1/t/{world.slug}/notification-settings")).status_code == 403


async def test_a_session_older_than_the_password_is_over_in_any_store(make_client):
    """Sessions kept in Redis are not deleted by a reset: the edge ends them by their age."""
    world = await make_world()
    officer = await signed_in(make_client, world, "officer")
    assert (await officer.get(f"/t/{world.slug}/units")).status_code == 200
    async with db.transaction(world.tenant.id):
        # what an administrator's reset does to the account, without touching the session's row
        await User.update({User.password_changed_at: datetime.now(UTC)}).where(
            User.tenant == world.tenant.id, User.username == "officer"
        )
    gone = await officer.get(f"/t/{world.slug}/units")
    assert gone.status_code == 303 and "/login" in gone.headers["location"]
    again = await signed_in(make_client, world, "officer")
    assert (await again.get(f"/t/{world.slug}/units")).status_code == 200


async def test_two_first_saves_of_the_policy_at_once_keep_one_row(env):
    from server.accounts import policy
    from server.accounts.tables import SecurityPolicy
    from tests.factories import make_tenant

    tenant = await make_tenant(second_factor=True)  # no policy row yet

    async def save(length: int) -> None:
        async with db.transaction(tenant.id):
            await policy.update_policy(tenant, SYSTEM, {"min_length": length})

    await asyncio.gather(save(12), save(14))
    async with db.transaction(tenant.id, write=False):
        rows = await SecurityPolicy.select(SecurityPolicy.min_length).where(SecurityPolicy.tenant == tenant.id)
    assert len(rows) == 1 and rows[0]["min_length"] in (12, 14)
