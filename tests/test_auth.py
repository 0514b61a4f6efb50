"""Sign-in, sessions, CSRF, throttling, tokens, security headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server import db
from server.accounts.tables import WebSession
from server.audit.tables import AuditEvent
from server.web.sessions import RedisSessionStore
from tests.conftest import PASSWORD, csrf, csrf_of, login
from tests.factories import make_world, token_for


def session_cookie(client) -> str | None:
    return client.cookies.get("luzhi_session")


async def test_sign_in_rotates_the_session_and_sign_out_ends_it(client, make_client):
    world = await make_world()
    page = await client.get(f"/t/{world.slug}/login")
    assert page.status_code == 200 and session_cookie(client) is None
    anon_token = csrf_of(page.text)

    response = await login(client, world.slug, "office")
    assert response.status_code == 303 and response.headers["location"] == f"/t/{world.slug}/"
    first = session_cookie(client)
    assert first
    # the CSRF token is bound to the session: the pre-login one no longer works
    assert await csrf(client, f"/t/{world.slug}/account") != anon_token

    await login(client, world.slug, "office")
    second = session_cookie(client)
    assert second and second != first

    replay = await make_client()
    old = await replay.get(f"/t/{world.slug}/units", headers={"Cookie": f"luzhi_session={first}"})
    assert old.status_code == 303 and "/login" in old.headers["location"]

    token = await csrf(client, f"/t/{world.slug}/account")
    out = await client.post(f"/t/{world.slug}/logout", data={"_csrf": token})
    assert out.status_code == 303
    after = await replay.get(f"/t/{world.slug}/units", headers={"Cookie": f"luzhi_session={second}"})
    assert after.status_code == 303 and after.headers["location"].startswith(f"/t/{world.slug}/login")


async def test_unknown_user_and_wrong_password_get_the_same_answer(client):
    world = await make_world()
    wrong = await login(client, world.slug, "office", "not-the-password")
    unknown = await login(client, world.slug, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 400
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text
    assert session_cookie(client) is None


async def test_repeated_failures_lock_the_account_and_are_audited(client, make_client):
    world = await make_world()
    for _ in range(5):
        assert (await login(client, world.slug, "officer", "wrong-password-1")).status_code == 400
    locked = await login(client, world.slug, "officer", PASSWORD)
    assert locked.status_code == 400 and "登录失败次数过多" in locked.text
    # another account from another address is not affected
    other = await make_client("10.7.7.7")
    assert (await login(other, world.slug, "office")).status_code == 303
    async with db.transaction(world.tenant.id):
        denied = await AuditEvent.count().where(
            AuditEvent.tenant == world.tenant.id, AuditEvent.action == "auth.login", AuditEvent.outcome == "denied"
        )
    assert denied == 6


async def test_csrf_is_required_on_every_state_change(client):
    world = await make_world()
    await login(client, world.slug, "office")
    body = {"name": "新单位", "kind": "municipal"}
    missing = await client.post(f"/t/{world.slug}/units", data=body)
    assert missing.status_code == 403
    forged = await client.post(f"/t/{world.slug}/units", data={**body, "_csrf": "f" * 64})
    assert forged.status_code == 403
    api = await client.post(f"/api/v1/t/{world.slug}/units", json=body)
    assert api.status_code == 403
    token = await csrf(client, f"/t/{world.slug}/units")
    ok = await client.post(f"/api/v1/t/{world.slug}/units", json=body, headers={"X-CSRF-Token": token})
    assert ok.status_code == 201


async def test_sessions_expire_when_idle_and_absolutely(client, env):
    world = await make_world()
    await login(client, world.slug, "office")
    assert (await client.get(f"/t/{world.slug}/units")).status_code == 200

    async def age(column, minutes: int) -> None:
        async with db.transaction(world.tenant.id):
            await WebSession.update({column: datetime.now(UTC) - timedelta(minutes=minutes)}).where(
                WebSession.user.is_not_null()
            )

    await age(WebSession.last_seen_at, env.settings.session_idle_minutes + 1)
    assert (await client.get(f"/t/{world.slug}/units")).status_code == 303

    await login(client, world.slug, "office")
    await age(WebSession.created_at, env.settings.session_absolute_hours * 60 + 1)
    assert (await client.get(f"/t/{world.slug}/units")).status_code == 303


async def test_cookies_and_security_headers(client):
    world = await make_world()
    response = await login(client, world.slug, "office")
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "luzhi_session" in v)
    for flag in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    page = await client.get(f"/t/{world.slug}/units")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"


async def test_anonymous_visitors_are_sent_to_sign_in_and_the_api_answers_401(client):
    world = await make_world()
    page = await client.get(f"/t/{world.slug}/people")
    assert page.status_code == 303
    assert page.headers["location"] == f"/t/{world.slug}/login?next=/t/{world.slug}/people"
    api = await client.get(f"/api/v1/t/{world.slug}/units")
    assert api.status_code == 401 and api.json()["detail"]


async def test_a_stranger_gets_the_same_404_as_a_missing_tenant(client):
    world_a = await make_world()
    world_b = await make_world()
    await login(client, world_b.slug, "office")
    foreign = await client.get(f"/t/{world_a.slug}/units")
    missing = await client.get("/t/no-such-bureau/units")
    assert foreign.status_code == missing.status_code == 404
    api = await client.get(f"/api/v1/t/{world_a.slug}/units")
    assert api.status_code == 404


async def test_api_tokens_authenticate_with_the_users_roles_and_can_be_revoked(client):
    world = await make_world()
    token = await token_for(world, "office")
    headers = {"Authorization": f"Bearer {token}"}
    listed = await client.get(f"/api/v1/t/{world.slug}/units", headers=headers)
    assert listed.status_code == 200 and listed.json()["total"] == 5
    # bearer requests need no CSRF token
    created = await client.post(
        f"/api/v1/t/{world.slug}/units", json={"name": "令牌单位", "kind": "other"}, headers=headers
    )
    assert created.status_code == 201

    leader_headers = {"Authorization": f"Bearer {await token_for(world, 'leader')}"}
    assert (await client.get(f"/api/v1/t/{world.slug}/units", headers=leader_headers)).status_code == 403

    tokens = (await client.get(f"/api/v1/t/{world.slug}/tokens", headers=headers)).json()
    revoked = await client.delete(f"/api/v1/t/{world.slug}/tokens/{tokens[0]['id']}", headers=headers)
    assert revoked.status_code == 204
    assert (await client.get(f"/api/v1/t/{world.slug}/units", headers=headers)).status_code == 401


async def test_the_account_page_creates_and_revokes_tokens(client, make_client):
    world = await make_world()
    await login(client, world.slug, "officer")
    token = await csrf(client, f"/t/{world.slug}/account")
    page = await client.post(f"/t/{world.slug}/account/tokens", data={"_csrf": token, "name": "报表脚本"})
    assert page.status_code == 200 and "报表脚本" in page.text
    raw = page.text.split('<p class="token">', 1)[1].split("<", 1)[0]
    assert raw.startswith("lz_")
    program = await make_client()
    me = await program.get(f"/api/v1/t/{world.slug}/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200 and me.json()["user"]["username"] == "officer"


async def test_password_change_checks_the_policy_and_ends_other_sessions(client, make_client):
    world = await make_world()
    other = await make_client()
    await login(other, world.slug, "office")
    await login(client, world.slug, "office")
    token = await csrf(client, f"/t/{world.slug}/account")
    weak = await client.post(
        f"/t/{world.slug}/account/password",
        data={"_csrf": token, "current_password": PASSWORD, "new_password": "Password1234"},
    )
    assert weak.status_code == 422 and "过于常见" in weak.text
    plain = await client.post(
        f"/t/{world.slug}/account/password",
        data={"_csrf": token, "current_password": PASSWORD, "new_password": "zhangsan1234"},
    )
    assert plain.status_code == 422 and "三类" in plain.text
    short = await client.post(
        f"/t/{world.slug}/account/password", data={"_csrf": token, "current_password": PASSWORD, "new_password": "x1"}
    )
    assert short.status_code == 422
    changed = await client.post(
        f"/t/{world.slug}/account/password",
        data={"_csrf": token, "current_password": PASSWORD, "new_password": "Another-Strong-77"},
    )
    assert changed.status_code == 200
    assert (await client.get(f"/t/{world.slug}/units")).status_code == 200
    assert (await other.get(f"/t/{world.slug}/units")).status_code == 303
    assert (await login(other, world.slug, "office", "Another-Strong-77")).status_code == 303


async def test_redis_session_store_round_trip(env, redis_url):
    store = RedisSessionStore(env.settings.__class__(**{**env.settings.__dict__, "redis_url": redis_url}))
    session = await store.create(tenant_id=1, user_id=42)
    loaded = await store.fetch(session.key)
    assert loaded is not None and loaded.user_id == 42 and loaded.tenant_id == 1
    await store.delete_for_user(42)
    assert await store.fetch(session.key) is None
    assert await store.fetch("not-a-session") is None
    await store.redis.aclose()


async def test_the_scheduled_purge_removes_expired_sessions_and_stale_counters(client, env):
    from server.accounts.tables import LoginThrottle
    from server.scheduler import purge_sign_in_state

    world = await make_world()
    await login(client, world.slug, "office")
    await login(client, world.slug, "nobody", "wrong-password-9")
    long_ago = datetime.now(UTC) - timedelta(days=2)
    # sessions and counters are the tenant's rows: row-level security shows them with it set
    async with db.transaction(world.tenant.id):
        await WebSession.update({WebSession.last_seen_at: long_ago}).where(WebSession.user.is_not_null())
        await LoginThrottle.update({LoginThrottle.window_start: long_ago}).where(LoginThrottle.key.like("%nobody%"))
        fresh = await WebSession.count()
    await purge_sign_in_state(env.settings)
    async with db.transaction(world.tenant.id):
        assert await WebSession.count().where(WebSession.last_seen_at < long_ago + timedelta(minutes=1)) == 0
        assert await LoginThrottle.count().where(LoginThrottle.key.like("%nobody%")) == 0
        assert await WebSession.count() < fresh


async def test_nul_characters_in_a_sign_in_are_just_a_wrong_password(client):
    world = await make_world()
    response = await login(client, world.slug, "off\x00ice", "x\x00y")
    assert response.status_code == 400
