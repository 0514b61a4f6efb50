"""Two-factor sign-in: enrolment, the second step, replays, races, recovery codes,
throttling, switching off, the policy and the security admin's reset."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pyotp
import pytest

from server import db
from server.accounts import policy, twofactor
from server.accounts import service as accounts
from server.accounts.passwords import sha256
from server.accounts.policy import Policy
from server.accounts.tables import LoginThrottle, TotpRecoveryCode, TotpSecret, User
from server.audit.tables import AuditEvent
from server.core.errors import Forbidden
from server.web.edge import csrf_token_for
from tests.conftest import PASSWORD, SYSTEM, csrf, csrf_of, login
from tests.factories import make_world
from tests.helpers import both_pass


def steady() -> None:
    """Tests spend codes of the previous, current and next 30-second step: start with
    at least five seconds left in the step, so none slips out of the window meanwhile."""
    left = twofactor.STEP_SECONDS - time.time() % twofactor.STEP_SECONDS
    if left < 5:
        time.sleep(left + 0.1)


def code(secret: str, steps: int = 0) -> str:
    """The code of the step `steps` away from the current one."""
    return pyotp.TOTP(secret).at(time.time() + steps * twofactor.STEP_SECONDS)


async def user_row(world, username: str) -> dict:
    async with db.transaction(world.tenant.id):
        return await User.select().where(User.tenant == world.tenant.id, User.username == username).first()


async def audits(world, action: str, outcome: str | None = None) -> list[dict]:
    async with db.transaction(world.tenant.id):
        query = AuditEvent.select().where(AuditEvent.tenant == world.tenant.id, AuditEvent.action == action)
        if outcome:
            query = query.where(AuditEvent.outcome == outcome)
        return await query.order_by(AuditEvent.id)


def detail_of(event: dict) -> dict:
    detail = event["detail"]  # (JSON comes back as text on SQLite)
    return json.loads(detail) if isinstance(detail, str) else detail


async def enrol(client, world, username: str, *, sign_in: bool = True) -> tuple[str, list[str]]:
    """Sign in with the password and switch two-factor sign-in on through the page, with
    the previous step's code (so the current and next steps remain for signing in)."""
    if sign_in:
        assert (await login(client, world.slug, username)).status_code == 303
    page = await client.get(f"/t/{world.slug}/account/twofactor")
    assert page.status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    steady()
    done = await client.post(
        f"/t/{world.slug}/account/twofactor/enable",
        data={"_csrf": csrf_of(page.text), "code": code(secret, -1), "password": PASSWORD},
    )
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.text)
    assert len(codes) == twofactor.RECOVERY_CODES
    return secret, codes


async def second_step(client, slug: str, value: str):
    form = await client.get(f"/t/{slug}/login/twofactor")
    assert form.status_code == 200
    return await client.post(f"/t/{slug}/login/twofactor", data={"_csrf": csrf_of(form.text), "code": value})


async def signed_in(client, slug: str) -> bool:
    answer = await client.get(f"/t/{slug}/account/twofactor")
    return answer.status_code == 200


# ---------------------------------------------------------------- enrolment


async def test_enrolment_shows_a_qr_code_and_needs_the_password_and_a_current_code(client):
    world = await make_world()
    assert (await login(client, world.slug, "officer")).status_code == 303
    page = await client.get(f"/t/{world.slug}/account/twofactor")
    assert page.status_code == 200
    assert '<svg width="' in page.text and 'class="qr"' in page.text
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    assert len(secret) == 32
    assert "otpauth://totp/Luzhi%20%E5%B1%A5%E8%81%8C:officer%40" in page.text and "issuer=Luzhi" in page.text
    # a reload shows the same secret: the app need not be set up twice
    assert secret in (await client.get(f"/t/{world.slug}/account/twofactor")).text.replace(" ", "")
    # the secret is sealed at rest
    officer = await user_row(world, "officer")
    async with db.transaction(world.tenant.id):
        stored = await TotpSecret.select().where(TotpSecret.user == officer["id"]).first()
    assert stored["secret"].startswith("v1:") and secret not in stored["secret"]

    token = csrf_of(page.text)
    steady()
    wrong_password = await client.post(
        f"/t/{world.slug}/account/twofactor/enable",
        data={"_csrf": token, "code": code(secret), "password": "Not-The-Password-1"},
    )
    wrong_code = await client.post(
        f"/t/{world.slug}/account/twofactor/enable",
        data={"_csrf": token, "code": code(secret, 5), "password": PASSWORD},
    )
    assert wrong_password.status_code == wrong_code.status_code == 422
    assert not (await user_row(world, "officer"))["totp_enabled"]
    assert len(await audits(world, "totp.enable", "denied")) == 2

    done = await client.post(
        f"/t/{world.slug}/account/twofactor/enable",
        data={"_csrf": token, "code": code(secret), "password": PASSWORD},
    )
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.text)
    assert len(set(codes)) == 10
    assert (await user_row(world, "officer"))["totp_enabled"]
    async with db.transaction(world.tenant.id):
        hashes = {r["code_hash"] for r in await TotpRecoveryCode.select().where(TotpRecoveryCode.user == officer["id"])}
    assert hashes == {sha256(c.replace("-", "")) for c in codes}
    assert len(await audits(world, "totp.enable", "success")) == 1
    # the codes are shown once
    again = await client.get(f"/t/{world.slug}/account/twofactor")
    assert codes[0] not in again.text and "<svg" not in again.text


async def test_the_account_page_links_to_the_two_factor_settings(client):
    world = await make_world()
    await login(client, world.slug, "leader")
    page = await client.get(f"/t/{world.slug}/account")
    assert f'href="/t/{world.slug}/account/twofactor"' in page.text


# ---------------------------------------------------------------- signing in


async def test_signing_in_needs_the_code_and_a_code_is_good_once(client, make_client):
    world = await make_world()
    secret, _codes = await enrol(client, world, "office")

    browser = await make_client("10.20.0.1")
    first = await login(browser, world.slug, "office")
    assert first.status_code == 303 and first.headers["location"] == f"/t/{world.slug}/login/twofactor"
    assert browser.cookies.get("luzhi_session") is None
    assert not await signed_in(browser, world.slug)

    # an empty form is no attempt: refused, not counted
    keys = accounts.throttle_keys(str(world.tenant.id), "office", "10.20.0.1")
    assert (await second_step(browser, world.slug, " ")).status_code == 400
    async with db.transaction(world.tenant.id):
        assert await LoginThrottle.count().where(LoginThrottle.key == keys[0]) == 0

    wrong = await second_step(browser, world.slug, "000000" if code(secret) != "000000" else "111111")
    assert wrong.status_code == 400 and browser.cookies.get("luzhi_session") is None
    office = await user_row(world, "office")
    async with db.transaction(world.tenant.id):
        counter = await LoginThrottle.select().where(LoginThrottle.key == keys[0]).first()
    assert counter["failures"] == 1
    assert [detail_of(e)["reason"] for e in await audits(world, "auth.totp", "denied")] == ["missing", "code"]

    current = code(secret)
    ok = await second_step(browser, world.slug, current)
    assert ok.status_code == 303 and ok.headers["location"] == f"/t/{world.slug}/"
    assert await signed_in(browser, world.slug)
    logins = await audits(world, "auth.login", "success")
    assert logins[-1]["actor_id"] == office["id"]
    assert len(await audits(world, "auth.totp", "success")) == 1
    async with db.transaction(world.tenant.id):
        assert await LoginThrottle.count().where(LoginThrottle.key == keys[0]) == 0

    # the same code once more, from another browser: refused
    thief = await make_client("10.20.0.2")
    assert (await login(thief, world.slug, "office")).status_code == 303
    replay = await second_step(thief, world.slug, current)
    assert replay.status_code == 400 and not await signed_in(thief, world.slug)
    # the next step's code is fresh
    assert (await second_step(thief, world.slug, code(secret, 1))).status_code == 303
    # no code ever reaches the audit trail
    async with db.transaction(world.tenant.id):
        trail = json.dumps([r["detail"] for r in await AuditEvent.select().where(AuditEvent.tenant == world.tenant.id)])
    assert current not in trail and secret not in trail


async def test_the_pending_sign_in_belongs_to_its_browser_and_expires(client, make_client, env):
    world = await make_world()
    secret, _codes = await enrol(client, world, "office")
    browser = await make_client("10.21.0.1")
    await login(browser, world.slug, "office")
    pending, anon = browser.cookies.get("luzhi_2fa"), browser.cookies.get("luzhi_anon")
    assert pending and anon
    form = f"/t/{world.slug}/login/twofactor"

    async def present(cookie: str, anon_key: str):
        """A browser without a cookie jar of its own, sending exactly these cookies."""
        bare = await make_client("10.21.0.2")
        headers = {"Cookie": f"luzhi_anon={anon_key}; luzhi_2fa={cookie}"}
        shown = await bare.get(form, headers=headers)
        token = csrf_token_for(env.settings.secret_key, anon_key)
        posted = await bare.post(form, headers=headers, data={"_csrf": token, "code": code(secret)})
        return shown, posted

    # the cookie alone, in another browser, is worth nothing
    shown, posted = await present(pending, "another-browser-key")
    assert shown.status_code == 303 and shown.headers["location"] == f"/t/{world.slug}/login"
    assert posted.status_code == 400 and "luzhi_session" not in posted.headers.get("set-cookie", "")
    # nor with the target changed: the signature covers it
    shown, posted = await present(pending.rsplit(".", 1)[0] + ".Lw", anon)
    assert shown.status_code == 303 and posted.status_code == 400
    # the genuine pair works
    shown, posted = await present(pending, anon)
    assert shown.status_code == 200 and posted.status_code == 303

    # five minutes on, the signed note is worth nothing
    now = time.time()
    note = twofactor.pending_token("k", world.tenant.id, 7, "browser", now=now)
    assert twofactor.pending_user_id("k", world.tenant.id, note, "browser", now=now + 299) == 7
    assert twofactor.pending_user_id("k", world.tenant.id, note, "browser", now=now + 301) is None
    assert twofactor.pending_user_id("k", world.tenant.id + 1, note, "browser", now=now) is None
    assert twofactor.pending_user_id("k", world.tenant.id, note, "other", now=now) is None


async def test_the_sign_in_goes_where_the_visitor_was_going(client, make_client):
    world = await make_world()
    secret, _codes = await enrol(client, world, "office")
    browser = await make_client("10.22.0.1")
    page = await browser.get(f"/t/{world.slug}/login")
    first = await browser.post(
        f"/t/{world.slug}/login",
        data={
            "_csrf": csrf_of(page.text),
            "username": "office",
            "password": PASSWORD,
            "next": f"/t/{world.slug}/units",
        },
    )
    assert first.headers["location"] == f"/t/{world.slug}/login/twofactor"
    done = await second_step(browser, world.slug, code(secret))
    assert done.status_code == 303 and done.headers["location"] == f"/t/{world.slug}/units"


async def test_two_submissions_of_one_code_at_once_sign_in_once(client, make_client, env, monkeypatch):
    world = await make_world()
    secret, _codes = await enrol(client, world, "office")
    browser = await make_client("10.23.0.1")
    await login(browser, world.slug, "office")
    token = await csrf(browser, f"/t/{world.slug}/login/twofactor")
    if env.kind == "postgres":
        # both have found the secret and matched the code before either moves the step
        # (SQLite's write lock makes the second wait for the first, which is its guarantee)
        both_pass(monkeypatch, twofactor, "_secret_row")
    same = code(secret)

    async def submit():
        return await browser.post(f"/t/{world.slug}/login/twofactor", data={"_csrf": token, "code": same})

    answers = await asyncio.gather(submit(), submit())
    assert sorted(a.status_code for a in answers) == [303, 400]
    assert len(await audits(world, "auth.totp", "success")) == 1
    assert len(await audits(world, "auth.totp", "denied")) == 1


# ---------------------------------------------------------------- recovery codes


async def test_a_recovery_code_signs_in_once(client, make_client):
    world = await make_world()
    _secret, codes = await enrol(client, world, "office")
    lost_phone = await make_client("10.24.0.1")
    await login(lost_phone, world.slug, "office")
    # typed in capitals with a space instead of the dash: still the code
    used = await second_step(lost_phone, world.slug, codes[3].upper().replace("-", " "))
    assert used.status_code == 303 and await signed_in(lost_phone, world.slug)
    events = await audits(world, "totp.recovery_used")
    assert len(events) == 1 and detail_of(events[0])["left"] == 9

    again = await make_client("10.24.0.2")
    await login(again, world.slug, "office")
    assert (await second_step(again, world.slug, codes[3])).status_code == 400
    assert (await second_step(again, world.slug, codes[4])).status_code == 303


async def test_new_recovery_codes_need_a_code_and_replace_the_old_ones(client, make_client):
    world = await make_world()
    secret, old = await enrol(client, world, "office")
    token = await csrf(client, f"/t/{world.slug}/account/twofactor")
    refused = await client.post(
        f"/t/{world.slug}/account/twofactor/recovery-codes", data={"_csrf": token, "code": old[0]}
    )
    assert refused.status_code == 422
    fresh = await client.post(
        f"/t/{world.slug}/account/twofactor/recovery-codes", data={"_csrf": token, "code": code(secret)}
    )
    assert fresh.status_code == 200
    new = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", fresh.text)
    assert len(new) == 10 and not set(new) & set(old)
    assert len(await audits(world, "totp.recovery_codes", "success")) == 1
    browser = await make_client("10.25.0.1")
    await login(browser, world.slug, "office")
    assert (await second_step(browser, world.slug, old[1])).status_code == 400
    assert (await second_step(browser, world.slug, new[1])).status_code == 303


# ---------------------------------------------------------------- throttling


async def test_wrong_codes_lock_the_account_like_wrong_passwords(client, make_client, env):
    world = await make_world()
    secret, _codes = await enrol(client, world, "office")
    browser = await make_client("10.26.0.1")
    await login(browser, world.slug, "office")
    token = await csrf(browser, f"/t/{world.slug}/login/twofactor")
    wrong = "000000" if code(secret) != "000000" else "111111"
    for _ in range(env.settings.login_max_failures):
        answer = await browser.post(f"/t/{world.slug}/login/twofactor", data={"_csrf": token, "code": wrong})
        assert answer.status_code == 400
    right = await browser.post(f"/t/{world.slug}/login/twofactor", data={"_csrf": token, "code": code(secret)})
    assert right.status_code == 400 and not await signed_in(browser, world.slug)
    assert len(await audits(world, "auth.lock", "denied")) == 1
    assert len(await audits(world, "auth.totp", "denied")) == env.settings.login_max_failures + 1
    # the account is locked for the password step too, from anywhere
    elsewhere = await make_client("10.26.0.2")
    assert (await login(elsewhere, world.slug, "office")).status_code == 400


# ---------------------------------------------------------------- switching off, policy, reset


async def test_switching_off_needs_the_password_and_a_code(client, make_client):
    world = await make_world()
    secret, _codes = await enrol(client, world, "officer")
    token = await csrf(client, f"/t/{world.slug}/account/twofactor")
    url = f"/t/{world.slug}/account/twofactor/disable"
    no_password = await client.post(url, data={"_csrf": token, "code": code(secret), "password": "Wrong-Password-9"})
    no_code = await client.post(url, data={"_csrf": token, "code": "12345", "password": PASSWORD})
    assert no_password.status_code == no_code.status_code == 422
    assert (await user_row(world, "officer"))["totp_enabled"]
    assert len(await audits(world, "totp.disable", "denied")) == 2

    off = await client.post(url, data={"_csrf": token, "code": code(secret), "password": PASSWORD})
    assert off.status_code == 200
    officer = await user_row(world, "officer")
    assert not officer["totp_enabled"]
    async with db.transaction(world.tenant.id):
        assert await TotpRecoveryCode.count().where(TotpRecoveryCode.user == officer["id"]) == 0
    assert len(await audits(world, "totp.disable", "success")) == 1
    browser = await make_client("10.27.0.1")
    assert (await login(browser, world.slug, "officer")).headers["location"] == f"/t/{world.slug}/"


async def test_the_policy_makes_administrators_enrol_and_keeps_it_on(client):
    world = await make_world()
    async with db.transaction(world.tenant.id):
        await policy.update_policy(world.tenant, SYSTEM, {"totp_admins": True})
    assert (await login(client, world.slug, "office")).status_code == 303
    # nothing else until enrolled: the enrolment pages are open to the restricted account
    forced = await client.get(f"/t/{world.slug}/units")
    assert forced.status_code == 303 and forced.headers["location"] == f"/t/{world.slug}/account/twofactor"
    secret, _codes = await enrol(client, world, "office", sign_in=False)
    assert (await client.get(f"/t/{world.slug}/units")).status_code == 200

    page = await client.get(f"/t/{world.slug}/account/twofactor")
    assert f"{world.slug}/account/twofactor/disable" not in page.text
    refused = await client.post(
        f"/t/{world.slug}/account/twofactor/disable",
        data={"_csrf": csrf_of(page.text), "code": code(secret), "password": PASSWORD},
    )
    assert refused.status_code == 422 and (await user_row(world, "office"))["totp_enabled"]
    assert detail_of((await audits(world, "totp.disable", "denied"))[0])["reason"] == "required"


async def test_a_password_set_by_an_administrator_is_replaced_before_enrolling(client):
    world = await make_world()
    async with db.transaction(world.tenant.id):
        sysadmin = accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "systemadmin"))
        await accounts.update_user(world.tenant, sysadmin, world.users["officer"]["id"], {"password": "Taken-Over-123"})
    assert (await login(client, world.slug, "officer", "Taken-Over-123")).status_code == 303
    page = await client.get(f"/t/{world.slug}/account/twofactor")
    assert page.status_code == 303 and page.headers["location"] == f"/t/{world.slug}/account/password"
    officer = await user_row(world, "officer")
    async with db.transaction(world.tenant.id):
        assert await TotpSecret.count().where(TotpSecret.user == officer["id"]) == 0


def test_who_must_use_it():
    admins = Policy()
    assert all(twofactor.totp_required(admins, r) for r in ("office_admin", "district_admin", "system_admin"))
    assert all(twofactor.totp_required(admins, r) for r in ("security_admin", "audit_admin"))
    assert not any(twofactor.totp_required(admins, r) for r in ("leader", "unit_officer", "inspector", "assessor"))
    assert not twofactor.totp_required(Policy(totp_admins=False), "office_admin")
    assert twofactor.totp_required(Policy(totp_admins=False, totp_everyone=True), "leader")


async def test_the_security_admin_resets_a_lost_second_factor(client, make_client):
    world = await make_world()
    await enrol(client, world, "officer")
    officer = await user_row(world, "officer")
    async with db.transaction(world.tenant.id):
        security = accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "securityadmin"))
        office = accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "office"))
    with pytest.raises(Forbidden):
        async with db.transaction(world.tenant.id):
            await twofactor.reset_totp(world.tenant, office, officer["uuid"])
    # the security admin's button on the account's page
    admin = await make_client("10.28.0.9")
    assert (await login(admin, world.slug, security.name)).status_code == 303
    account = await admin.get(f"/t/{world.slug}/admin/users/{officer['uuid']}")
    assert "twofactor-reset" in account.text
    reset = await admin.post(
        f"/t/{world.slug}/admin/users/{officer['uuid']}/twofactor-reset", data={"_csrf": csrf_of(account.text)}
    )
    assert reset.status_code == 303
    assert not (await user_row(world, "officer"))["totp_enabled"]
    async with db.transaction(world.tenant.id):
        assert await TotpSecret.count().where(TotpSecret.user == officer["id"]) == 0
    assert len(await audits(world, "totp.reset", "success")) == 1
    # the open session ended; the password alone signs in again
    assert not await signed_in(client, world.slug)
    browser = await make_client("10.28.0.1")
    assert (await login(browser, world.slug, "officer")).headers["location"] == f"/t/{world.slug}/"
