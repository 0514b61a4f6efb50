"""Two-factor sign-in: RFC 6238 time-based codes (what authenticator apps make: SHA-1,
six digits, 30-second steps) and single-use recovery codes.

A code is good once: each user keeps the last time step accepted, and a code counts
only when one conditional UPDATE moves that step forward, so two submissions of the
same code cannot both pass. Recovery codes are spent the same way. The secret is
sealed at rest (server.secretbox).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyotp
import segno

from server import db, events, roles, secretbox
from server.accounts.passwords import sha256, verify_password
from server.accounts.policy import Policy, security_policy
from server.accounts.tables import TotpRecoveryCode, TotpSecret, User
from server.actor import Actor
from server.audit import service as audit
from server.core.errors import Forbidden, NotFound, ValidationFailed
from server.core.i18n import _, _l
from server.core.validation import Checker
from tenants.service import TenantRef, get_owned

ISSUER = "Luzhi 履职"
STEP_SECONDS = 30
# a code of the step before or after the current one is accepted too (clock drift)
VALID_WINDOW = 1
RECOVERY_CODES = 10
# no 0/o, 1/l/i: codes are read off paper
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
PENDING_SECONDS = 300
SECRET_FIELD = "secret"
LABELS = {"code": _l("Code"), "password": _l("Password")}


class Refused(ValidationFailed):
    """A refused two-factor step. `reason` goes into the audit trail; `counts` says whether
    it is a failed attempt for the sign-in throttle (a wrong password or code is, a lock or
    a missing field is not)."""

    def __init__(self, errors: dict[str, str], reason: str, *, counts: bool = False) -> None:
        super().__init__(errors)
        self.reason = reason
        self.counts = counts


def totp_required(policy: Policy, role: str | None) -> bool:
    """Whether the tenant's policy makes this role sign in with a second factor."""
    return policy.second_factor_required(role)


# ---------------------------------------------------------------- codes


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code this is, within the accepted window, or None."""
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _clean(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _is_totp(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


def _recovery_hash(code: str) -> str:
    return sha256(_clean(code))


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def grouped(secret: str) -> str:
    """The secret as people type it: groups of four."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(uri: str) -> str:
    """An inline SVG QR code of the provisioning URI (no image file, no PIL)."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, svgclass="qr", title=_("QR code"))


# ---------------------------------------------------------------- the pending sign-in


def _pending_mac(secret_key: str, tenant_id: int, user_id: int, expires: int, binding: str) -> str:
    message = f"totp-pending:{tenant_id}:{user_id}:{expires}:{binding}"
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def pending_token(secret_key: str, tenant_id: int, user_id: int, binding: str, now: float | None = None) -> str:
    """A signed, short-lived note that a browser gave this user's password; `binding` holds
    a value only that browser's cookies yield (its CSRF token) and whatever else the token
    must stand for."""
    expires = int((now if now is not None else time.time()) + PENDING_SECONDS)
    return f"{user_id}.{expires}.{_pending_mac(secret_key, tenant_id, user_id, expires, binding)}"


def pending_user_id(secret_key: str, tenant_id: int, token: str, binding: str, now: float | None = None) -> int | None:
    """The user of a valid, unexpired pending token for this tenant and binding, else None."""
    try:
        user_part, expires_part, mac = token.split(".")
        user_id, expires = int(user_part), int(expires_part)
    except ValueError:
        return None
    if expires < (now if now is not None else time.time()):
        return None
    if not hmac.compare_digest(mac, _pending_mac(secret_key, tenant_id, user_id, expires, binding)):
        return None
    return user_id


# ---------------------------------------------------------------- reading


@dataclass
class Status:
    enabled: bool
    required: bool
    recovery_left: int = 0
    # while enrolling: what the authenticator app needs
    secret: str = ""
    uri: str = ""
    qr: str = ""


async def _user_row(tenant: TenantRef, user_id: int) -> dict:
    row = (
        await User.select(User.id, User.uuid, User.username, User.role, User.password_hash, User.totp_enabled)
        .where(User.tenant == tenant.id, User.id == user_id)
        .first()
    )
    if row is None:
        raise NotFound()
    return row


async def _secret_row(tenant: TenantRef, user_id: int) -> dict | None:
    return await TotpSecret.select().where(TotpSecret.tenant == tenant.id, TotpSecret.user == user_id).first()


async def _recovery_left(tenant: TenantRef, user_id: int) -> int:
    return await TotpRecoveryCode.count().where(
        TotpRecoveryCode.tenant == tenant.id, TotpRecoveryCode.user == user_id, TotpRecoveryCode.used_at.is_null()
    )


async def status(tenant: TenantRef, actor: Actor) -> Status:
    """The account's two-factor state; while it is off, the secret to enrol with (made on
    first view, then kept, so a reload shows the same QR code)."""
    user = await _user_row(tenant, actor.id)
    required = totp_required(await security_policy(tenant), user["role"])
    if user["totp_enabled"]:
        return Status(True, required, await _recovery_left(tenant, actor.id))
    row = await _secret_row(tenant, actor.id)
    secret = secretbox.reveal(row, SECRET_FIELD) if row else None
    if secret is None:
        secret = pyotp.random_base32()
        sealed = secretbox.seal(tenant.id, SECRET_FIELD, secret)
        if row is None:
            await TotpSecret.insert(TotpSecret(tenant=tenant.id, user=actor.id, secret=sealed))
        else:  # sealed under a key that is gone: start over
            await TotpSecret.update({TotpSecret.secret: sealed, TotpSecret.last_step: 0}).where(
                TotpSecret.id == row["id"]
            )
    uri = pyotp.TOTP(secret).provisioning_uri(name=f"{user['username']}@{tenant.slug}", issuer_name=ISSUER)
    return Status(False, required, secret=grouped(secret), uri=uri, qr=qr_svg(uri))


# ---------------------------------------------------------------- checks


def _read(data: dict[str, Any], *fields: str) -> list[str]:
    """The given fields, each required."""
    check = Checker(data, LABELS)
    values = [check.text(field, required=True, max_len=200) for field in fields]
    if check.errors:
        raise Refused(check.errors, "missing")
    return values


async def _check_password(user: dict, password: str) -> None:
    if not await verify_password(user["password_hash"], password):
        raise Refused({"password": _("The password is wrong.")}, "password", counts=True)


async def _spend_totp(tenant: TenantRef, user_id: int, code: str) -> bool:
    """Accept a current code once: the step only moves forward, in one statement."""
    row = await _secret_row(tenant, user_id)
    secret = secretbox.reveal(row, SECRET_FIELD) if row else None
    step = _matching_step(secret, code, time.time()) if secret else None
    if step is None:
        return False
    moved = (
        await TotpSecret.update({TotpSecret.last_step: step})
        .where(TotpSecret.id == row["id"], TotpSecret.last_step < step)
        .returning(TotpSecret.id)
    )
    return bool(moved)


async def _spend_recovery(tenant: TenantRef, user_id: int, code: str) -> bool:
    spent = (
        await TotpRecoveryCode.update({TotpRecoveryCode.used_at: datetime.now(UTC)})
        .where(
            TotpRecoveryCode.tenant == tenant.id,
            TotpRecoveryCode.user == user_id,
            TotpRecoveryCode.code_hash == _recovery_hash(code),
            TotpRecoveryCode.used_at.is_null(),
        )
        .returning(TotpRecoveryCode.id)
    )
    return bool(spent)


def _wrong_code() -> Refused:
    return Refused({"code": _("The code is wrong or was already used.")}, "code", counts=True)


async def _check_code(tenant: TenantRef, user_id: int, raw: str, *, recovery: bool) -> str:
    """Spend a current authenticator code (or, when allowed, a recovery code): "totp" or "recovery"."""
    code = _clean(raw)
    if _is_totp(code):
        if await _spend_totp(tenant, user_id, code):
            return "totp"
    elif recovery and await _spend_recovery(tenant, user_id, code):
        return "recovery"
    raise _wrong_code()


async def _store_recovery_codes(tenant: TenantRef, user_id: int) -> list[str]:
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    await TotpRecoveryCode.delete().where(TotpRecoveryCode.tenant == tenant.id, TotpRecoveryCode.user == user_id)
    await TotpRecoveryCode.insert(
        *[TotpRecoveryCode(tenant=tenant.id, user=user_id, code_hash=_recovery_hash(c)) for c in codes]
    )
    return codes


# ---------------------------------------------------------------- changes


async def enable(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> list[str]:
    """Switch two-factor sign-in on with the pending secret, proven by a current code and
    the password; returns the recovery codes (shown once, stored hashed)."""
    user = await _user_row(tenant, actor.id)
    if user["totp_enabled"]:
        raise Refused({"code": _("Two-factor sign-in is already on.")}, "already_on")
    password, raw = _read(data, "password", "code")
    await _check_password(user, password)
    code = _clean(raw)
    if not _is_totp(code):
        raise Refused({"code": _("Code: enter the six digits your app shows.")}, "code", counts=True)
    if not await _spend_totp(tenant, actor.id, code):
        raise _wrong_code()
    async with db.atomic():
        # one switch, once: a second enrolment racing this one finds it on
        switched = (
            await User.update({User.totp_enabled: True})
            .where(User.tenant == tenant.id, User.id == actor.id, User.totp_enabled.eq(False))
            .returning(User.id)
        )
        if not switched:
            raise Refused({"code": _("Two-factor sign-in is already on.")}, "already_on")
        codes = await _store_recovery_codes(tenant, actor.id)
        await audit.record(tenant.id, actor, "totp.enable", "user", user["uuid"])
    return codes


async def regenerate_recovery_codes(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> list[str]:
    """New recovery codes for a current authenticator code; the old ones stop working."""
    user = await _user_row(tenant, actor.id)
    if not user["totp_enabled"]:
        raise Refused({"code": _("Two-factor sign-in is off.")}, "off")
    (code,) = _read(data, "code")
    await _check_code(tenant, actor.id, code, recovery=False)
    async with db.atomic():
        codes = await _store_recovery_codes(tenant, actor.id)
        await audit.record(tenant.id, actor, "totp.recovery_codes", "user", user["uuid"])
    return codes


async def _switch_off(tenant: TenantRef, user_id: int) -> None:
    await TotpSecret.delete().where(TotpSecret.tenant == tenant.id, TotpSecret.user == user_id)
    await TotpRecoveryCode.delete().where(TotpRecoveryCode.tenant == tenant.id, TotpRecoveryCode.user == user_id)
    await User.update({User.totp_enabled: False}).where(User.tenant == tenant.id, User.id == user_id)


async def disable(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> None:
    """Switch it off with the password and a code (a recovery code will do: the phone may
    be lost); not while the tenant's policy requires it for this account."""
    user = await _user_row(tenant, actor.id)
    if not user["totp_enabled"]:
        raise Refused({"code": _("Two-factor sign-in is off.")}, "off")
    if totp_required(await security_policy(tenant), user["role"]):
        message = _("Your bureau's policy requires two-factor sign-in for your account.")
        raise Refused({"code": message}, "required")
    password, code = _read(data, "password", "code")
    await _check_password(user, password)
    await _check_code(tenant, actor.id, code, recovery=True)
    async with db.atomic():
        await _switch_off(tenant, actor.id)
        await audit.record(tenant.id, actor, "totp.disable", "user", user["uuid"])


async def second_step(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> str:
    """The sign-in's second step for the user `actor` stands for: "totp" or "recovery".
    The success is audited here; refusals by the caller, after the request rolls back."""
    user = await _user_row(tenant, actor.id)
    if not user["totp_enabled"]:
        raise NotFound()
    (code,) = _read(data, "code")
    used = await _check_code(tenant, actor.id, code, recovery=True)
    if used == "recovery":
        left = await _recovery_left(tenant, actor.id)
        await audit.record(tenant.id, actor, "totp.recovery_used", "user", user["uuid"], detail={"left": left})
    await audit.record(tenant.id, actor, "auth.totp", "user", user["uuid"], detail={"method": used})
    return used


async def reset_totp(tenant: TenantRef, actor: Actor, user_id: Any) -> None:
    """The security administrator's reset for a user who lost phone and recovery codes:
    the secret and codes go, the user enrols again (when required, before anything else);
    their open sessions end."""
    if actor.kind != "system" and actor.role != roles.SECURITY_ADMIN:
        raise Forbidden()
    row = await get_owned(User, tenant, user_id)
    async with db.atomic():
        await _switch_off(tenant, row["id"])
        await events.publish(events.SESSIONS_ENDED, tenant, user_id=row["id"])
        await audit.record(tenant.id, actor, "totp.reset", "user", row["uuid"], detail={"username": row["username"]})
