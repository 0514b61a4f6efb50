"""Accounts of a tenant: sign-in with throttling, users, API tokens."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from server import db
from server.accounts import roles
from server.accounts.passwords import (
    generate_password,
    hash_password,
    policy_problem,
    sha256,
    verify_password,
)
from server.accounts.tables import ApiToken, LoginThrottle, User, WebSession
from server.actor import Actor
from server.audit import service as audit
from server.settings import Settings
from server.units import service as units
from server.web.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.web.i18n import LOCALES, _, _l
from server.web.validation import Checker
from tenants.service import TenantRef, get_owned

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
TOKEN_PREFIX = "lz_"
USER_LABELS = {
    "username": _l("Username"),
    "display_name": _l("Display name"),
    "role": _l("Role"),
    "scope_unit_id": _l("Unit scope"),
    "person_id": _l("Person"),
    "password": _l("Password"),
    "new_password": _l("New password"),
    "current_password": _l("Current password"),
    "active": _l("Active"),
    "locale": _l("Language"),
    "name": _l("Name"),
}


# ---------------------------------------------------------------- sign-in


@dataclass
class SignIn:
    user: dict | None
    refused: str | None  # the translated answer when refused
    outcome: str  # success | bad_credentials | locked | inactive


def throttle_keys(realm: str, username: str, client: str) -> list[str]:
    """One counter per account (within its tenant or the platform) and one per address."""
    return [f"u:{realm}:{username.strip().lower()}", f"ip:{client}"]


async def locked_message(keys: list[str]) -> str | None:
    now = datetime.now(UTC)
    rows = await LoginThrottle.select(LoginThrottle.locked_until).where(
        LoginThrottle.key.is_in(keys), LoginThrottle.locked_until > now
    )
    locked = max((r["locked_until"] for r in rows), default=None)
    if locked is None:
        return None
    minutes = max(1, int((locked - now).total_seconds() // 60) + 1)
    return _("Too many failed sign-ins. Try again in %(n)d minutes.", n=minutes)


async def check_credentials(row: dict | None, password: str, keys: list[str]) -> SignIn:
    """Unknown user and wrong password get the same answer, after the same work."""
    if refused := await locked_message(keys):
        return SignIn(None, refused, "locked")
    ok = await verify_password(row["password_hash"] if row else None, password)
    if not ok or row is None or not row["active"]:
        return SignIn(row, _("Wrong username or password."), "bad_credentials")
    return SignIn(row, None, "success")


async def sign_in(tenant: TenantRef, username: str, password: str, keys: list[str]) -> SignIn:
    user = await User.select(*_USER_ROW).where(User.tenant == tenant.id, User.username == username.strip()).first()
    return await check_credentials(user, password, keys)


async def note_failure(keys: list[str], settings: Settings) -> None:
    now = datetime.now(UTC)
    window = timedelta(minutes=settings.login_window_minutes)
    for key in keys:
        # an address gets more tries than one account: an office may share one
        limit = settings.login_max_failures * (4 if key.startswith("ip:") else 1)
        row = await LoginThrottle.select().where(LoginThrottle.key == key).first()
        if row is None:
            await LoginThrottle.insert(LoginThrottle(key=key, failures=1, window_start=now))
            continue
        failures = 1 if now - row["window_start"] > window else row["failures"] + 1
        start = now if failures == 1 else row["window_start"]
        locked = now + timedelta(minutes=settings.login_lock_minutes) if failures >= limit else None
        await LoginThrottle.update(
            {
                LoginThrottle.failures: failures,
                LoginThrottle.window_start: start,
                LoginThrottle.locked_until: locked,
            }
        ).where(LoginThrottle.key == key)


async def purge_throttle(now: datetime, settings: Settings) -> int:
    """Counters whose window has passed and whose lock, if any, is over."""
    window_start = now - timedelta(minutes=settings.login_window_minutes)
    rows = (
        await LoginThrottle.delete()
        .where(
            (LoginThrottle.window_start < window_start)
            & (LoginThrottle.locked_until.is_null() | (LoginThrottle.locked_until < now))
        )
        .returning(LoginThrottle.id)
    )
    return len(rows)


async def note_success(keys: list[str]) -> None:
    await LoginThrottle.delete().where(LoginThrottle.key == keys[0])


async def reauthenticate(tenant: TenantRef, actor: Actor, password: str) -> str | None:
    """A signed-in user proves it is them again (e.g. before signing): None when the
    password is right, else the translated reason (wrong, or locked after failures)."""
    if refused := await locked_message(throttle_keys(str(tenant.id), actor.name, actor.client_addr)):
        return refused
    row = await User.select(User.password_hash).where(User.tenant == tenant.id, User.id == actor.id).first()
    if row and await verify_password(row["password_hash"], password):
        return None
    return _("The password is wrong; the notice was not signed.")


async def note_login(user: dict) -> None:
    await User.update({User.last_login_at: datetime.now(UTC)}).where(User.id == user["id"])


# a user row with the path of their scope unit, so that building the actor needs no query
_USER_ROW = (User.all_columns(), User.scope_unit.path.as_alias("scope_path"))


def actor_for(tenant: TenantRef, user: dict, *, kind: str = "user", client: str = "", agent: str = "") -> Actor:
    scope_path = None
    if user["role"] in roles.SCOPED_ROLES:
        # a scoped account whose unit vanished sees nothing rather than everything
        scope_path = user["scope_path"] or "/nothing/"
    return Actor(
        kind=kind,
        id=user["id"],
        name=user["username"],
        role=user["role"],
        tenant_id=tenant.id,
        scope_unit_id=user["scope_unit"],
        scope_path=scope_path,
        person_id=user["person"],
        client_addr=client,
        user_agent=agent[:200],
    )


async def active_user(tenant: TenantRef, user_id: int) -> dict | None:
    return (
        await User.select(*_USER_ROW).where(User.tenant == tenant.id, User.id == user_id, User.active.eq(True)).first()
    )


# ---------------------------------------------------------------- users


def _user_public(row: dict) -> dict:
    return {
        "id": str(row["uuid"]),
        "username": row["username"],
        "display_name": row["display_name"],
        "role": row["role"],
        "active": bool(row["active"]),
        "locale": row["locale"],
        "scope_unit_id": str(row["scope_unit_uuid"]) if row.get("scope_unit_uuid") else None,
        "scope_unit_name": row.get("scope_unit_name") or "",
        "person_id": str(row["person_uuid"]) if row.get("person_uuid") else None,
        "person_name": row.get("person_name") or "",
        "created_at": row["created_at"],
        "last_login_at": row["last_login_at"],
    }


_USER_COLUMNS = (
    User.all_columns(),
    User.scope_unit.uuid.as_alias("scope_unit_uuid"),
    User.scope_unit.name.as_alias("scope_unit_name"),
    User.person.uuid.as_alias("person_uuid"),
    User.person.name.as_alias("person_name"),
)


async def list_users(tenant: TenantRef, *, q: str = "", role: str = "") -> list[dict]:
    query = User.select(*_USER_COLUMNS).where(User.tenant == tenant.id)
    if q:
        query = query.where(db.contains(User.username, q) | db.contains(User.display_name, q))
    if role in roles.ROLES:
        query = query.where(User.role == role)
    return [_user_public(r) for r in await query.order_by(User.username)]


async def user_by_username(tenant: TenantRef, username: str) -> dict | None:
    return await User.select(*_USER_ROW).where(User.tenant == tenant.id, User.username == username).first()


async def own_user(tenant: TenantRef, actor: Actor) -> dict:
    full = await User.select(*_USER_COLUMNS).where(User.tenant == tenant.id, User.id == actor.id).first()
    if full is None:
        raise NotFound()
    return _user_public(full)


async def user_detail(tenant: TenantRef, user_id: Any) -> dict:
    row = await get_owned(User, tenant, user_id)
    full = await User.select(*_USER_COLUMNS).where(User.id == row["id"]).first()
    return _user_public(full)


async def _check_role_binding(tenant: TenantRef, actor: Actor, check: Checker, role: str) -> dict[str, Any]:
    """Scoped roles need a unit, leaders their person record."""
    values: dict[str, Any] = {"scope_unit": None, "person": None}
    if role in roles.SCOPED_ROLES:
        unit_uuid = check.uuid("scope_unit_id", required=True)
        if unit_uuid:
            try:
                values["scope_unit"] = await units.unit_pk(tenant, actor, unit_uuid)
            except NotFound:
                check.fail("scope_unit_id", _("%(field)s: no such unit.", field=check.label("scope_unit_id")))
    if role == roles.LEADER:
        person_uuid = check.uuid("person_id", required=True)
        if person_uuid:
            try:
                values["person"] = await units.person_pk(tenant, actor, person_uuid)
            except NotFound:
                check.fail("person_id", _("%(field)s: no such person.", field=check.label("person_id")))
    return values


async def create_user(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> tuple[dict, str | None]:
    """Returns the user and, when no password was given, the generated one."""
    check = Checker(data, USER_LABELS)
    username = check.text("username", required=True, max_len=64)
    if username and not USERNAME_RE.match(username):
        check.fail("username", _("Username: 2 to 64 letters, digits or . _ @ -"))
    display_name = check.text("display_name", max_len=100)
    role = check.choice("role", roles.ROLES)
    _check_grant(check, actor, role)
    binding = await _check_role_binding(tenant, actor, check, role) if role else {}
    password = check.text("password", max_len=200)
    generated = None
    if not password:
        password = generated = generate_password()
    elif problem := policy_problem(password, username):
        check.fail("password", problem)
    if username and await User.exists().where(User.tenant == tenant.id, User.username == username):
        check.fail("username", _("This username is already taken."))
    check.done()
    user_uuid = await create_user_row(tenant, actor, username, role, password, display_name=display_name, **binding)
    return await user_detail(tenant, user_uuid), generated


async def create_user_row(
    tenant: TenantRef,
    actor: Actor,
    username: str,
    role: str,
    password: str,
    *,
    display_name: str = "",
    scope_unit: int | None = None,
    person: int | None = None,
):
    """Insert a checked account and audit it; returns its public id."""
    async with db.atomic():
        user = User(
            tenant=tenant.id,
            username=username,
            display_name=display_name,
            role=role,
            password_hash=await hash_password(password),
            scope_unit=scope_unit,
            person=person,
        )
        await user.save()
        await audit.record(
            tenant.id, actor, "user.create", "user", user.uuid, detail={"username": username, "role": role}
        )
    return user.uuid


def _check_grant(check: Checker, actor: Actor, role: str, own: bool = False) -> None:
    if own:
        check.fail("role", _("You cannot change your own role."))
    elif role and role not in roles.grantable(actor.role):
        check.fail("role", _("Only the office admin may give this role."))


async def update_user(tenant: TenantRef, actor: Actor, user_id: Any, data: dict[str, Any]) -> dict:
    row = await get_owned(User, tenant, user_id)
    check = Checker(data, USER_LABELS)
    values: dict[str, Any] = {}
    if check.present("display_name"):
        values["display_name"] = check.text("display_name", max_len=100)
    if check.present("active"):
        values["active"] = check.boolean("active", default=True)
        if row["id"] == actor.id and not values["active"]:
            check.fail("active", _("You cannot deactivate your own account."))
    role = row["role"]
    if row["role"] not in roles.grantable(actor.role):
        raise Forbidden(_("Only the office admin may change an administrator's account."))
    if check.present("role"):
        role = check.choice("role", roles.ROLES)
        _check_grant(check, actor, role, own=row["id"] == actor.id and role != row["role"])
        values["role"] = role
    if check.present("role") or check.present("scope_unit_id") or check.present("person_id"):
        if role:
            values.update(await _check_role_binding(tenant, actor, check, role))
    if check.present("password") and check.text("password"):
        password = check.text("password", max_len=200)
        if problem := policy_problem(password, row["username"]):
            check.fail("password", problem)
        else:
            values["password_hash"] = await hash_password(password)
            values["password_changed_at"] = datetime.now(UTC)
    check.done()
    async with db.atomic():
        if values:
            await User.update(values).where(User.id == row["id"])
        if "password_hash" in values or values.get("active") is False:
            # a reset password or a disabled account ends the sessions already open
            await WebSession.delete().where(WebSession.user == row["id"])
        changed = sorted(k for k in values if k not in {"password_hash", "password_changed_at"})
        if "password_hash" in values:
            changed.append("password")
        await audit.record(tenant.id, actor, "user.update", "user", row["uuid"], detail={"fields": changed})
    return await user_detail(tenant, row["uuid"])


async def change_password(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> None:
    row = await User.select().where(User.tenant == tenant.id, User.id == actor.id).first()
    if row is None:
        raise NotFound()
    if refused := await locked_message(throttle_keys(str(tenant.id), row["username"], actor.client_addr)):
        raise ValidationFailed({"current_password": refused})
    check = Checker(data, USER_LABELS)
    current = check.text("current_password", required=True, max_len=200)
    new = check.text("new_password", required=True, max_len=200)
    if current and not await verify_password(row["password_hash"], current):
        check.fail("current_password", _("The current password is wrong."))
    if new and (problem := policy_problem(new, row["username"])):
        check.fail("new_password", problem)
    check.done()
    async with db.atomic():
        await User.update(
            {User.password_hash: await hash_password(new), User.password_changed_at: datetime.now(UTC)}
        ).where(User.id == row["id"])
        await audit.record(tenant.id, actor, "user.password", "user", row["uuid"])


async def set_locale(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> str:
    check = Checker(data, USER_LABELS)
    locale = check.choice("locale", {code: code for code in LOCALES})
    check.done()
    async with db.atomic():
        await User.update({User.locale: locale}).where(User.tenant == tenant.id, User.id == actor.id)
        await audit.record(tenant.id, actor, "user.locale", "user", actor.id, detail={"locale": locale})
    return locale


# ---------------------------------------------------------------- API tokens


async def create_token(tenant: TenantRef, actor: Actor, user_pk: int, data: dict[str, Any]) -> tuple[dict, str]:
    check = Checker(data, USER_LABELS)
    name = check.text("name", max_len=100)
    check.done()
    secret = secrets.token_urlsafe(32)
    raw = f"{TOKEN_PREFIX}{secret}"
    async with db.atomic():
        token = ApiToken(tenant=tenant.id, user=user_pk, name=name, prefix=raw[:10], token_hash=sha256(raw))
        await token.save()
        await audit.record(tenant.id, actor, "token.create", "token", token.uuid, detail={"name": name})
    return {"id": str(token.uuid), "name": name, "prefix": token.prefix}, raw


async def list_tokens(tenant: TenantRef, user_pk: int) -> list[dict]:
    rows = (
        await ApiToken.select()
        .where(ApiToken.tenant == tenant.id, ApiToken.user == user_pk, ApiToken.revoked_at.is_null())
        .order_by(ApiToken.created_at, ascending=False)
    )
    return [
        {
            "id": str(r["uuid"]),
            "name": r["name"],
            "prefix": r["prefix"],
            "created_at": r["created_at"],
            "last_used_at": r["last_used_at"],
        }
        for r in rows
    ]


async def revoke_token(tenant: TenantRef, actor: Actor, token_id: Any) -> None:
    row = await get_owned(ApiToken, tenant, token_id)
    if row["user"] != actor.id:
        raise NotFound()
    if row["revoked_at"] is not None:
        raise Conflict(_("This token was already revoked."))
    async with db.atomic():
        await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)}).where(ApiToken.id == row["id"])
        await audit.record(tenant.id, actor, "token.revoke", "token", row["uuid"])


async def token_user(tenant: TenantRef, raw: str) -> tuple[dict, dict] | None:
    """The live token and its active user, within this tenant only."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        await ApiToken.select()
        .where(ApiToken.tenant == tenant.id, ApiToken.token_hash == sha256(raw), ApiToken.revoked_at.is_null())
        .first()
    )
    if token is None:
        return None
    user = await active_user(tenant, token["user"])
    return (token, user) if user else None


async def touch_token(token: dict) -> None:
    now = datetime.now(UTC)
    if token["last_used_at"] is None or now - token["last_used_at"] > timedelta(minutes=5):
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == token["id"])
