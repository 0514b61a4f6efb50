"""The bureau's SMTP password and robot signing secret are stored sealed (AES-256-GCM, bound
to the tenant and the field), never shown back by a page, the API or the audit trail, kept
when left blank, removed only on request, and decrypted only to log in and to sign: checked
against a real SMTP server that demands the password and a real webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import logging
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from server import db, secretbox
from server.audit.tables import AuditEvent
from server.reminders import service
from server.reminders.tables import NotifySettings
from server.settings import ROOT
from tests.conftest import Mailbox, csrf, login
from tests.factories import make_world, token_for
from tests.test_reminders import actor_of, at, delivery_rows, issue, received, run, set_email, set_rules, step
from tests.test_reminders_delivery import receiver  # noqa: F401 - the real webhook receiver fixture

PASSWORD = "smtp-口令-Kx7!"
HOOK_SECRET = "hook-签名-Zq9"
SEAL_MIGRATION = ROOT / "migrations" / "reminders" / "reminders_2026_12_05t01_31_00_000000.py"


async def raw_row(world) -> dict:
    """The stored row as the table holds it, by plain SQL."""
    async with db.transaction(world.tenant.id, write=False):
        rows = await NotifySettings.raw(
            "SELECT tenant, smtp_password, webhook_secret FROM notify_settings WHERE tenant = {}", world.tenant.id
        )
    return rows[0]


async def write_raw(world, **values: str) -> None:
    async with db.transaction(world.tenant.id):
        await NotifySettings.update(values).where(NotifySettings.tenant == world.tenant.id)


async def audit_details(world) -> list[dict]:
    async with db.transaction(world.tenant.id, write=False):
        rows = (
            await AuditEvent.select(AuditEvent.detail)
            .where(AuditEvent.tenant == world.tenant.id, AuditEvent.action == "reminders.settings")
            .order_by(AuditEvent.id)
            .output(load_json=True)
        )
    return [r["detail"] for r in rows]


async def test_secrets_are_sealed_in_the_table_and_never_shown(env, client):
    world = await make_world()
    api = {"Authorization": "Bearer " + await token_for(world, "office")}
    url = f"/api/v1/t/{world.slug}/notification-settings"
    saved = await client.put(
        url,
        json={
            "smtp_host": "smtp.bureau.example",
            "smtp_user": "bureau",
            "smtp_password": PASSWORD,
            "webhook_url": "https://robot.example.org/hook",
            "webhook_secret": HOOK_SECRET,
        },
        headers=api,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["smtp_password_set"] is True and saved.json()["webhook_secret_set"] is True

    row = await raw_row(world)
    sealed = [row["smtp_password"], row["webhook_secret"]]
    for value, plain in zip(sealed, (PASSWORD, HOOK_SECRET), strict=True):
        assert value.startswith("v1:") and plain not in value and plain.encode().hex() not in value
    assert secretbox.reveal(row, "smtp_password") == PASSWORD
    assert secretbox.reveal(row, "webhook_secret") == HOOK_SECRET

    shown = await client.get(url, headers=api)
    assert shown.status_code == 200
    assert shown.json() == {
        "smtp_host": "smtp.bureau.example",
        "smtp_port": 25,
        "smtp_user": "bureau",
        "smtp_security": "none",
        "mail_from": "",
        "webhook_url": "https://robot.example.org/hook",
        "webhook_preset": "generic",
        "smtp_password_set": True,
        "webhook_secret_set": True,
    }
    await login(client, world.slug, "office")
    page = await client.get(f"/t/{world.slug}/reminders")
    assert page.status_code == 200 and "smtp.bureau.example" in page.text
    assert 'name="smtp_password_clear"' in page.text and 'name="webhook_secret_clear"' in page.text
    # and the audit trail says what changed, not to what
    [detail] = await audit_details(world)
    assert detail["secrets_changed"] == ["smtp_password", "webhook_secret"] and detail["secrets_cleared"] == []
    for text in (shown.text, saved.text, page.text, json.dumps(detail, ensure_ascii=False)):
        for secret in (PASSWORD, HOOK_SECRET, *sealed, *(s[3:20] for s in sealed)):
            assert secret not in text


async def test_a_blank_secret_keeps_the_stored_one_and_clearing_removes_it(env, client):
    world = await make_world()
    await login(client, world.slug, "office")
    form = {
        "_csrf": await csrf(client, f"/t/{world.slug}/reminders"),
        "smtp_host": "smtp.bureau.example",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_user": "bureau",
        "smtp_password": PASSWORD,
        "webhook_url": "https://robot.example.org/hook",
        "webhook_preset": "generic",
        "webhook_secret": HOOK_SECRET,
    }
    saved = await client.post(f"/t/{world.slug}/reminders/settings", data=form)
    assert saved.status_code == 303, saved.text
    first = await raw_row(world)

    # the form comes back with the fields empty: saved as it is, both secrets stay the same
    again = await client.post(
        f"/t/{world.slug}/reminders/settings",
        data={**form, "smtp_port": "2525", "smtp_password": "", "webhook_secret": ""},
    )
    assert again.status_code == 303
    kept = await raw_row(world)
    assert (kept["smtp_password"], kept["webhook_secret"]) == (first["smtp_password"], first["webhook_secret"])
    assert (await run(world, service.notify_settings))["smtp_port"] == 2525
    assert (await audit_details(world))[-1]["secrets_changed"] == []

    # a new value and "clear" at once is refused, naming the field, and nothing is written
    both = await client.post(
        f"/t/{world.slug}/reminders/settings", data={**form, "smtp_password": "other-口令", "smtp_password_clear": "1"}
    )
    assert both.status_code == 422 and 'id="smtp_password-error"' in both.text
    assert "other-口令" not in both.text and PASSWORD not in both.text
    assert await raw_row(world) == kept

    # clearing the password (the box on the page) leaves the signing secret alone
    cleared = await client.post(
        f"/t/{world.slug}/reminders/settings",
        data={**form, "smtp_password": "", "webhook_secret": "", "smtp_password_clear": "1"},
    )
    assert cleared.status_code == 303
    now = await raw_row(world)
    assert now["smtp_password"] == "" and now["webhook_secret"] == first["webhook_secret"]
    assert (await audit_details(world))[-1]["secrets_cleared"] == ["smtp_password"]
    page = await client.get(f"/t/{world.slug}/reminders")
    assert 'name="smtp_password_clear"' not in page.text and 'name="webhook_secret_clear"' in page.text

    # the API: left out keeps (other fields too), "..._clear": true clears
    api = {"Authorization": "Bearer " + await token_for(world, "office")}
    url = f"/api/v1/t/{world.slug}/notification-settings"
    kept_api = await client.put(url, json={"mail_from": "office@bureau.example"}, headers=api)
    assert kept_api.status_code == 200, kept_api.text
    assert kept_api.json()["webhook_secret_set"] is True and kept_api.json()["smtp_host"] == "smtp.bureau.example"
    assert (await raw_row(world))["webhook_secret"] == first["webhook_secret"]
    gone = await client.put(url, json={"webhook_secret_clear": True}, headers=api)
    assert gone.status_code == 200 and gone.json()["webhook_secret_set"] is False
    assert (await raw_row(world))["webhook_secret"] == ""
    refused = await client.put(url, json={"smtp_password": "x", "smtp_password_clear": True}, headers=api)
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["smtp_password"]
    unknown = await client.put(url, json={"smtp_password_shown": True}, headers=api)
    assert unknown.status_code == 400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AuthMailbox(Mailbox):
    """A real SMTP server that takes mail only after AUTH with the bureau's password."""

    def __init__(self) -> None:
        super().__init__()
        self.logins: list[tuple[str, bool]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"bureau",
            PASSWORD.encode(),
        )
        self.logins.append((auth_data.login.decode(), ok))
        return AuthResult(success=ok)


@pytest.fixture
def auth_mailbox():
    box = AuthMailbox()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=box,
        auth_required=True,
        auth_require_tls=False,  # a test server without a certificate
    )
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_mail_goes_out_through_a_server_that_demands_the_stored_password(env, auth_mailbox):
    world = await make_world()
    await set_email(world, "a_lead", "lisi@auth.example")
    await set_rules(world, notice_unsigned={"days": 7, "repeat_days": 7, "escalate_after": 0, "channels": ["mail"]})
    day = await issue(world, scope="person", person_id=world.people["a_lead"]["id"])
    own = {"smtp_host": "127.0.0.1", "smtp_port": auth_mailbox.port, "smtp_user": "bureau"}
    await run(world, service.save_settings, await actor_of(world, "office"), {**own, "smtp_password": PASSWORD})
    assert (await raw_row(world))["smtp_password"].startswith("v1:")

    now = at(day + timedelta(days=7))
    assert await step(world, env.settings, now) == (1, {"sent": 1, "retry": 0, "cancelled": 0})
    row = (await delivery_rows(world))[0]
    assert [str(m["To"]) for m in received(auth_mailbox, [row["message_id"]])] == ["lisi@auth.example"]
    assert auth_mailbox.logins == [("bureau", True)]

    # a wrong password is refused by the server: the reminder waits for a retry
    await run(world, service.save_settings, await actor_of(world, "office"), {**own, "smtp_password": "wrong"})
    later = now + timedelta(days=7)
    assert await step(world, env.settings, later) == (1, {"sent": 0, "retry": 1, "cancelled": 0})
    assert auth_mailbox.logins[-1] == ("bureau", False)
    assert (await delivery_rows(world, period="1"))[0]["status"] == "pending"


async def test_a_webhook_is_signed_with_the_decrypted_secret(env, receiver):  # noqa: F811
    world = await make_world()
    await set_rules(world, notice_unsigned={"days": 7, "repeat_days": 7, "escalate_after": 0, "channels": ["webhook"]})
    day = await issue(world, scope="person", person_id=world.people["a_lead"]["id"])
    hook = {"webhook_url": receiver.url + "/hooks", "webhook_preset": "generic", "webhook_secret": HOOK_SECRET}
    await run(world, service.save_settings, await actor_of(world, "office"), hook)
    assert HOOK_SECRET not in (await raw_row(world))["webhook_secret"]
    receiver.reply = b"ok"
    await step(world, env.settings, at(day + timedelta(days=7)))
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    signed = headers["x-luzhi-timestamp"].encode() + b"." + request["body"]
    expected = hmac.new(HOOK_SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["x-luzhi-signature"] == "sha256=" + expected
    assert (await delivery_rows(world))[0]["status"] == "sent"


async def test_a_sealed_secret_copied_to_another_tenant_or_field_does_not_decrypt(env, client, receiver, caplog):  # noqa: F811
    a, b = await make_world(), await make_world()
    await run(
        a,
        service.save_settings,
        await actor_of(a, "office"),
        {"smtp_password": PASSWORD, "webhook_secret": HOOK_SECRET},
    )
    stolen = await raw_row(a)
    await set_rules(b, notice_unsigned={"days": 7, "repeat_days": 7, "escalate_after": 0, "channels": ["webhook"]})
    day = await issue(b, scope="person", person_id=b.people["a_lead"]["id"])
    await run(
        b,
        service.save_settings,
        await actor_of(b, "office"),
        {"webhook_url": receiver.url + "/b", "webhook_secret": "b's own"},
    )
    await write_raw(b, smtp_password=stolen["smtp_password"], webhook_secret=stolen["webhook_secret"])

    with caplog.at_level(logging.WARNING, logger="luzhi.secrets"):
        api = {"Authorization": "Bearer " + await token_for(b, "office")}
        shown = await client.get(f"/api/v1/t/{b.slug}/notification-settings", headers=api)
        assert shown.status_code == 200
        assert (shown.json()["smtp_password_set"], shown.json()["webhook_secret_set"]) == (False, False)
        await login(client, b.slug, "office")
        assert (await client.get(f"/t/{b.slug}/reminders")).status_code == 200
        # B's robot hears of the reminder unsigned: A's secret signs nothing of B's
        receiver.reply = b"ok"
        await step(b, env.settings, at(day + timedelta(days=7)))
    [request] = receiver.requests
    assert "x-luzhi-signature" not in {k.lower() for k in request["headers"]}
    warned = [r.getMessage() for r in caplog.records if r.name == "luzhi.secrets"]
    assert any(f"webhook_secret of tenant {b.tenant.id} does not decrypt" in m for m in warned), warned
    assert not any(PASSWORD in m or HOOK_SECRET in m or stolen["webhook_secret"] in m for m in warned)

    # in A's own row but the other column, it does not decrypt either
    await write_raw(a, webhook_secret=stolen["smtp_password"])
    assert secretbox.reveal(await raw_row(a), "webhook_secret") is None
    assert secretbox.reveal(await raw_row(a), "smtp_password") == PASSWORD


async def test_a_plain_secret_stored_before_is_sealed_by_the_migration(env):
    world = await make_world()
    await run(
        world, service.save_settings, await actor_of(world, "office"), {"webhook_url": "https://robot.example.org/old"}
    )
    # as an installation before this release kept them
    await write_raw(world, smtp_password=PASSWORD, webhook_secret=HOOK_SECRET)
    assert (await run(world, service.notify_settings))["smtp_password"] == PASSWORD
    assert service.public_settings(await run(world, service.notify_settings))["smtp_password_set"] is False

    spec = importlib.util.spec_from_file_location("seal_secrets_migration", SEAL_MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.seal_plain_secrets in (await migration.forwards()).raw
    # as `luzhi migrate` runs it: connected as the tables' owner, every tenant's rows at once
    owner = db.make_engine(env.settings, as_owner=True)
    migration.NotifySettings._meta.db = migration.Tenant._meta.db = owner
    await migration.seal_plain_secrets()

    row = await raw_row(world)
    assert row["smtp_password"].startswith("v1:") and PASSWORD not in row["smtp_password"]
    assert row["webhook_secret"].startswith("v1:") and HOOK_SECRET not in row["webhook_secret"]
    assert (secretbox.reveal(row, "smtp_password"), secretbox.reveal(row, "webhook_secret")) == (PASSWORD, HOOK_SECRET)
    assert service.public_settings(await run(world, service.notify_settings))["smtp_password_set"] is True
    # run again, it leaves sealed values as they are
    await migration.seal_plain_secrets()
    assert await raw_row(world) == row
