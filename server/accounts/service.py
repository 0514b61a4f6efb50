"""Accounts of a tenant: sign-in with throttling, users, API tokens."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from server import db, events, roles
from server.accounts import policy
from server.accounts.passwords import (
    generate_password,
    hash_password,
    sha256,
    verify_password,
)
from server.accounts.tables import ApiToken, LoginThrottle, User
from server.actor import Actor
from server.audit import service as audit
from server.core.chunks import chunks
from server.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.core.i18n import LOCALES, _, _l
from server.core.rows import joined, pick, public
from server.core.validation import Checker
from server.settings import Settings
from server.units import service as units
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
    "expires_in_days": _l("Valid for (days)"),
}


# ---------------------------------------------------------------- sign-in


@dataclass
class SignIn:
    user: dict | None
    refused: str | None  # the translated answer when refused
    outcome: str  # success | bad_credentials | locked | inactive


def throttle_keys(realm: str, username: str, client: str) -> list[str]:
    """One counter per account and one per client address, both within the tenant (or
    the platform): a lock in one bureau never locks anyone out of another."""
    return [f"u:{realm}:{normalise_username(username)}", f"ip:{realm}:{client}"]


def normalise_username(username: str) -> str:
    """Usernames compare case-insensitively everywhere: they are kept in lower case."""
    return username.strip().lower()


def _realm_tenant(key: str) -> int | None:
    realm = key.split(":", 2)[1]
    return int(realm) if realm.isdigit() else None


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
    if not ok or row is None or not row["active"] or row.get("pending"):
        return SignIn(row, _("Wrong username or password."), "bad_credentials")
    return SignIn(row, None, "success")


async def sign_in(tenant: TenantRef, username: str, password: str, keys: list[str]) -> SignIn:
    user = await user_by_username(tenant, username)
    return await check_credentials(user, password, keys)


# one statement per counter, so concurrent failures all count (no read-then-write race)
_NOTE_FAILURE = """
INSERT INTO login_throttle (tenant, key, failures, window_start, locked_until)
VALUES ({{}}, {{}}, 1, {ts}, CASE WHEN 1 >= {{}} THEN {ts} ELSE NULL END)
ON CONFLICT (key) DO UPDATE SET
  failures = CASE WHEN login_throttle.window_start < {ts} THEN 1 ELSE login_throttle.failures + 1 END,
  window_start = CASE WHEN login_throttle.window_start < {ts} THEN {ts} ELSE login_throttle.window_start END,
  locked_until = CASE
    WHEN (CASE WHEN login_throttle.window_start < {ts} THEN 1 ELSE login_throttle.failures + 1 END) >= {{}}
    THEN {ts} ELSE login_throttle.locked_until END
RETURNING failures, locked_until
"""


async def note_failure(keys: list[str], settings: Settings) -> bool:
    """Count a failure on every key; True when this failure locked one of them."""
    now = datetime.now(UTC)
    floor = now - timedelta(minutes=settings.login_window_minutes)
    lock = now + timedelta(minutes=settings.login_lock_minutes)
    locked = False
    # PostgreSQL cannot infer a parameter's type inside CASE; SQLite keeps timestamps as text
    sql = _NOTE_FAILURE.format(ts="CAST({} AS TIMESTAMPTZ)" if db.is_postgres() else "{}")
    for key in keys:
        # an address gets more tries than one account: an office may share one
        limit = settings.login_max_failures * (4 if key.startswith("ip:") else 1)
        rows = await LoginThrottle.raw(
            sql, _realm_tenant(key), key, now, limit, lock, floor, floor, now, floor, limit, lock
        )
        locked |= bool(rows) and rows[0]["failures"] == limit
    return locked


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
    password is right, else the translated reason (wrong, temporary, or locked after
    failures). A password an administrator set proves nothing about the person."""
    if refused := await locked_message(throttle_keys(str(tenant.id), actor.name, actor.client_addr)):
        return refused
    row = (
        await User.select(User.password_hash, User.password_temporary)
        .where(User.tenant == tenant.id, User.id == actor.id)
        .first()
    )
    if row and await verify_password(row["password_hash"], password):
        if row["password_temporary"]:
            return _("A password set by an administrator cannot sign; choose your own password first.")
        return None
    return _("The password is wrong; the notice was not signed.")


async def note_reauth_failure(
    tenant_id: int, actor: Actor, settings: Settings, action: str, object_type: str, object_id: Any
) -> None:
    """A wrong password when re-authenticating counts towards the sign-in lock like any
    other, and is audited (with the lock it causes). Runs after the refused request."""
    keys = throttle_keys(str(tenant_id), actor.name, actor.client_addr)
    locked = await note_failure(keys, settings)
    await audit.record(tenant_id, actor, action, object_type, object_id, outcome="denied", detail={"reason": "reauth"})
    if locked:
        await audit.record(tenant_id, actor, "auth.lock", "user", actor.name, outcome="denied")


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


# every signed-in request asks: one fixed statement, not a query built each time (~0.6 ms)
_ACTIVE_USER = (
    "SELECT users.*, units.path AS scope_path FROM users LEFT JOIN units ON units.id = users.scope_unit "
    "WHERE users.tenant = {} AND users.id = {} AND users.active AND NOT users.pending"
)


async def active_user(tenant: TenantRef, user_id: int) -> dict | None:
    rows = await User.raw(_ACTIVE_USER, tenant.id, user_id)
    return rows[0] if rows else None


async def active_users(tenant: TenantRef) -> list[dict]:
    """Every account not switched off (awaiting activation too): who may be told things."""
    return await User.select(
        User.id, User.username, User.display_name, User.role, User.person, User.locale, User.scope_unit
    ).where(User.tenant == tenant.id, User.active.eq(True))


async def session_actor(tenant: TenantRef, user: dict, *, client: str, agent: str) -> Actor:
    """A signed-in person, with what they must do first and when their password expires."""
    rules = await policy.security_policy(tenant)
    restricted, days_left = None, None
    expires = rules.expires(user["password_changed_at"])
    now = datetime.now(UTC)
    if user["password_temporary"] or (expires is not None and expires <= now):
        restricted = "password"
    elif rules.second_factor_required(user["role"]) and not user["totp_enabled"]:
        restricted = "totp"
    if expires is not None and restricted is None and expires - now <= timedelta(days=rules.warn_days):
        days_left = max(0, (expires - now).days)
    actor = actor_for(tenant, user, client=client, agent=agent)
    return replace(actor, restricted=restricted, password_days_left=days_left)


# ---------------------------------------------------------------- users


_USER_FIELDS = ("username", "display_name", "role", "locale", "created_at", "last_login_at")
_USER_FLAGS = ("active", "pending", "password_temporary", "totp_enabled")


def _user_public(row: dict) -> dict:
    return public(
        row,
        *_USER_FIELDS,
        **{flag: bool(row[flag]) for flag in _USER_FLAGS},
        scope_unit_id=str(row["scope_unit_uuid"]) if row.get("scope_unit_uuid") else None,
        scope_unit_name=row.get("scope_unit_name") or "",
        person_id=str(row["person_uuid"]) if row.get("person_uuid") else None,
        person_name=row.get("person_name") or "",
    )


_USER_COLUMNS = (
    User.all_columns(),
    *joined(User.scope_unit, "uuid", "name"),
    *joined(User.person, "uuid", "name"),
)


async def list_users(tenant: TenantRef, *, q: str = "", role: str = "") -> list[dict]:
    query = User.select(*_USER_COLUMNS).where(User.tenant == tenant.id)
    if q:
        query = query.where(db.contains(User.username, q) | db.contains(User.display_name, q))
    if role in roles.ROLES:
        query = query.where(User.role == role)
    return [_user_public(r) for r in await query.order_by(User.username)]


async def user_by_username(tenant: TenantRef, username: str) -> dict | None:
    return (
        await User.select(*_USER_ROW)
        .where(User.tenant == tenant.id, User.username == normalise_username(username))
        .first()
    )


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
    """Scoped roles need a unit, leaders their person record; an inspector may name theirs
    (their post history is what conflicts of interest are found in)."""
    values: dict[str, Any] = {"scope_unit": None, "person": None}
    if role in roles.SCOPED_ROLES:
        missing = _("%(field)s: no such unit.", field=check.label("scope_unit_id"))
        values["scope_unit"] = await check.found(
            "scope_unit_id", partial(units.unit_pk, tenant, actor), missing, required=True
        )
    if role in (roles.LEADER, roles.INSPECTOR):
        missing = _("%(field)s: no such person.", field=check.label("person_id"))
        values["person"] = await check.found(
            "person_id", partial(units.person_pk, tenant, actor), missing, required=role == roles.LEADER
        )
    return values


def _inside(actor: Actor) -> bool:
    """An administrator of the tenant, as opposed to the platform operator or the system."""
    return actor.kind in ("user", "token")


async def create_user(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> tuple[dict, str | None]:
    """Returns the user and, when no password was given, the generated one.

    An account made inside the tenant waits for the security admin to activate it (two
    people for every account) and its password is temporary: the person chooses their
    own at the first sign-in. The platform operator's accounts are active at once."""
    check = Checker(data, USER_LABELS)
    username = normalise_username(check.text("username", required=True, max_len=64))
    if username and not USERNAME_RE.match(username):
        check.fail("username", _("Username: 2 to 64 letters, digits or . _ @ -"))
    display_name = check.text("display_name", max_len=100)
    role = check.choice("role", roles.ROLES)
    if role and role not in roles.creatable(actor.role if _inside(actor) else None):
        check.fail("role", _("You may not create an account with this role."))
    binding = await _check_role_binding(tenant, actor, check, role) if role else {}
    password = check.text("password", max_len=200)
    generated = None
    if not password:
        password = generated = generate_password()
    elif problem := await policy.password_problem(tenant, password, username):
        check.fail("password", problem)
    if username and await User.exists().where(User.tenant == tenant.id, User.username == username):
        check.fail("username", _("This username is already taken."))
    check.done()
    user_uuid = await create_user_row(
        tenant,
        actor,
        username,
        role,
        password,
        display_name=display_name,
        pending=_inside(actor),
        temporary=_inside(actor) or generated is not None,
        **binding,
    )
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
    pending: bool = False,
    temporary: bool = False,
):
    """Insert a checked account and audit it; returns its public id."""
    async with db.atomic():
        password_hash = await hash_password(password)
        user = User(
            tenant=tenant.id,
            username=normalise_username(username),
            display_name=display_name,
            role=role,
            password_hash=password_hash,
            scope_unit=scope_unit,
            person=person,
            pending=pending,
            password_temporary=temporary,
        )
        await user.save()
        await policy.remember_password(tenant, user.id, password_hash)
        await audit.record(
            tenant.id,
            actor,
            "user.create",
            "user",
            user.uuid,
            detail={"username": user.username, "role": role, "scope_unit": scope_unit, "pending": pending},
        )
    return user.uuid


async def _managed(tenant: TenantRef, actor: Actor, user_id: Any) -> dict:
    """An account this administrator may touch at all (else 403; not in the tenant: 404)."""
    row = await get_owned(User, tenant, user_id)
    if not roles.manages(actor.role, row["role"]):
        raise Forbidden(_("Only the security administrator may change an administrator's account."))
    return row


async def update_user(tenant: TenantRef, actor: Actor, user_id: Any, data: dict[str, Any]) -> dict:
    """Change an account. Who may change what (separation of the three administrators):
    roles and scopes the security admin (the office admin among business roles); the
    active flag the system admin (the office admin for business accounts); a password
    any of them, and it is temporary. Nobody changes their own role or switches
    themselves off here."""
    row = await _managed(tenant, actor, user_id)
    own = row["id"] == actor.id
    check = Checker(data, USER_LABELS)
    check.changes(("display_name", "active", "role", "scope_unit_id", "person_id", "password"))
    values: dict[str, Any] = {}
    if check.present("display_name"):
        values["display_name"] = check.text("display_name", max_len=100)
    if check.present("active"):
        values.update(_check_active(check, actor, row, own))
    if check.present("role") or check.present("scope_unit_id") or check.present("person_id"):
        values.update(await _check_role_change(tenant, actor, check, row, own))
    if check.present("password") and check.text("password"):
        values.update(await _check_password_reset(tenant, check, row, own))
    check.done()
    changes = {
        k: [_audit_value(row.get(k)), _audit_value(v)]
        for k, v in values.items()
        if k not in {"password_hash", "password_changed_at", "password_temporary"} and row.get(k) != v
    }
    async with db.atomic():
        if values:
            await User.update(values).where(User.id == row["id"])
        if "password_hash" in values or values.get("active") is False:
            # a reset password or a disabled account ends its sessions and tokens
            await _end_access(tenant, actor, row)
        if "password_hash" in values:
            await policy.remember_password(tenant, row["id"], values["password_hash"])
            await audit.record(tenant.id, actor, "user.password_reset", "user", row["uuid"])
        if changes:
            action = "user.role" if {"role", "scope_unit", "person"} & set(changes) else "user.update"
            await audit.record(tenant.id, actor, action, "user", row["uuid"], detail={"changes": changes})
    return await user_detail(tenant, row["uuid"])


def _check_active(check: Checker, actor: Actor, row: dict, own: bool) -> dict:
    """Switching an account on or off: the system administrator's (the office admin's for
    business accounts), never one's own."""
    active = check.boolean("active", default=True)
    if active == bool(row["active"]):
        return {}
    if actor.role not in (roles.SYSTEM_ADMIN, roles.OFFICE_ADMIN):
        check.fail("active", _("Only the system administrator switches accounts on and off."))
    elif own:
        check.fail("active", _("You cannot deactivate your own account."))
    return {"active": active}


async def _check_role_change(tenant: TenantRef, actor: Actor, check: Checker, row: dict, own: bool) -> dict:
    """The role and its binding (unit scope, person) that change, if the actor may grant them."""
    role = check.choice("role", roles.ROLES) if check.present("role") else row["role"]
    binding = await _check_role_binding(tenant, actor, check, role) if role else {}
    moved = {k: v for k, v in {"role": role, **binding}.items() if v != row[k]}
    if moved and own:
        check.fail("role", _("You cannot change your own role."))
    elif moved and role not in roles.grantable(actor.role):
        check.fail("role", _("Only the security administrator grants this role, and scopes."))
    return moved


async def _check_password_reset(tenant: TenantRef, check: Checker, row: dict, own: bool) -> dict:
    """A password an administrator sets: temporary, and never their own."""
    password = check.text("password", max_len=200)
    if own:
        check.fail("password", _("Change your own password on your account page."))
    elif problem := await policy.password_problem(tenant, password, row["username"]):
        check.fail("password", problem)
    else:
        return {
            "password_hash": await hash_password(password),
            "password_changed_at": datetime.now(UTC),
            "password_temporary": True,
        }
    return {}


def _audit_value(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | str) else str(value)


async def _end_access(tenant: TenantRef, actor: Actor, row: dict) -> None:
    await events.publish(events.SESSIONS_ENDED, tenant, user_id=row["id"])
    revoked = (
        await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)})
        .where(ApiToken.tenant == tenant.id, ApiToken.user == row["id"], ApiToken.revoked_at.is_null())
        .returning(ApiToken.uuid)
    )
    if revoked:
        await audit.record_many(tenant.id, actor, "token.revoke", "token", [r["uuid"] for r in revoked])


async def pending_count(tenant: TenantRef) -> int:
    return await User.count().where(User.tenant == tenant.id, User.pending.eq(True), User.active.eq(True))


async def activate_user(tenant: TenantRef, actor: Actor, user_id: Any) -> dict:
    """The security admin's second pair of eyes on an account another administrator made."""
    row = await get_owned(User, tenant, user_id)
    if row["id"] == actor.id:
        raise Forbidden(_("You cannot activate your own account."))
    async with db.atomic():
        done = (
            await User.update({User.pending: False})
            .where(User.id == row["id"], User.pending.eq(True))
            .returning(User.id)
        )
        if not done:
            raise Conflict(_("This account is not waiting for activation."))
        await audit.record(tenant.id, actor, "user.activate", "user", row["uuid"], detail=pick(row, "username", "role"))
    return await user_detail(tenant, row["uuid"])


async def unlock_user(tenant: TenantRef, actor: Actor, user_id: Any) -> dict:
    """End a sign-in lock of the account (its counter; an address's lock runs out by itself)."""
    row = await get_owned(User, tenant, user_id)
    async with db.atomic():
        await LoginThrottle.delete().where(LoginThrottle.key == throttle_keys(str(tenant.id), row["username"], "")[0])
        await audit.record(tenant.id, actor, "user.unlock", "user", row["uuid"], detail={"username": row["username"]})
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
    if new and (problem := await policy.password_problem(tenant, new, row["username"], row["id"])):
        check.fail("new_password", problem)
    if new and current and new == current:
        check.fail("new_password", _("Choose a password other than the current one."))
    check.done()
    async with db.atomic():
        password_hash = await hash_password(new)
        await User.update(
            {
                User.password_hash: password_hash,
                User.password_changed_at: datetime.now(UTC),
                User.password_temporary: False,
            }
        ).where(User.id == row["id"])
        await policy.remember_password(tenant, row["id"], password_hash)
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


TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 366


async def create_token(tenant: TenantRef, actor: Actor, user_pk: int, data: dict[str, Any]) -> tuple[dict, str]:
    check = Checker(data, USER_LABELS)
    name = check.text("name", max_len=100)
    days = check.integer("expires_in_days", minimum=1, maximum=TOKEN_DAYS_MAX, default=TOKEN_DAYS_DEFAULT)
    check.done()
    secret = secrets.token_urlsafe(32)
    raw = f"{TOKEN_PREFIX}{secret}"
    expires = datetime.now(UTC) + timedelta(days=days)
    async with db.atomic():
        token = ApiToken(
            tenant=tenant.id, user=user_pk, name=name, prefix=raw[:10], token_hash=sha256(raw), expires_at=expires
        )
        await token.save()
        await audit.record(
            tenant.id,
            actor,
            "token.create",
            "token",
            token.uuid,
            detail={"name": name, "expires_at": expires.isoformat()},
        )
    return {"id": str(token.uuid), "name": name, "prefix": token.prefix, "expires_at": expires}, raw


async def list_tokens(tenant: TenantRef, user_pk: int) -> list[dict]:
    rows = (
        await ApiToken.select()
        .where(
            ApiToken.tenant == tenant.id,
            ApiToken.user == user_pk,
            ApiToken.revoked_at.is_null(),
            ApiToken.expires_at > datetime.now(UTC),
        )
        .order_by(ApiToken.created_at, ascending=False)
    )
    return [public(r, "name", "prefix", "created_at", "last_used_at", "expires_at") for r in rows]


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
        .where(
            ApiToken.tenant == tenant.id,
            ApiToken.token_hash == sha256(raw),
            ApiToken.revoked_at.is_null(),
            ApiToken.expires_at > datetime.now(UTC),
        )
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


async def user_keys(tenant: TenantRef, user_ids: Sequence[str]) -> dict[str, dict]:
    """Public ids to each account's row id, role, active flag and person record's public
    id (unknown ids are left out)."""
    out: dict[str, dict] = {}
    for batch in chunks([i for i in user_ids if _is_uuid(i)]):
        rows = await User.select(
            User.id, User.uuid, User.role, User.active, User.person.uuid.as_alias("person_uuid")
        ).where(User.tenant == tenant.id, User.uuid.is_in(batch))
        for r in rows:
            out[str(r["uuid"])] = {**r, "person_uuid": str(r["person_uuid"]) if r["person_uuid"] else None}
    return out


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError):
        return False
    return True
