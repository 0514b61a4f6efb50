"""argon2id hashing (off the event loop) and the password policy."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.core.i18n import _
from server.settings import ROOT, Settings

MIN_LENGTH = 10
_DUMMY_PASSWORD = "luzhi-dummy-password"


def _hasher_for(time_cost: int, memory_kib: int) -> tuple[PasswordHasher, str]:
    """argon2id at this cost, and a hash it made: verified when the user does not exist,
    so both answers take as long."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    return hasher, hasher.hash(_DUMMY_PASSWORD)


# the settings' default cost until configure() is given the app's
_hasher, _DUMMY_HASH = _hasher_for(Settings.argon2_time_cost, Settings.argon2_memory_kib)


def configure(settings: Settings) -> None:
    """Hash at the cost the settings ask for (the app and the CLI call it at start)."""
    global _hasher, _DUMMY_HASH
    if (_hasher.time_cost, _hasher.memory_cost) != (settings.argon2_time_cost, settings.argon2_memory_kib):
        _hasher, _DUMMY_HASH = _hasher_for(settings.argon2_time_cost, settings.argon2_memory_kib)


@cache
def _common() -> frozenset[str]:
    path = ROOT / "server" / "accounts" / "common_passwords.txt"
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip())


def common_password(password: str) -> bool:
    return password.lower() in _common() or len(set(password)) <= 2


def _classes(password: str) -> int:
    """How many of lower-case, capitals, digits and other characters the password mixes."""
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def policy_problem(password: str, username: str = "", min_length: int = MIN_LENGTH) -> str | None:
    """A translated reason the password is refused, or None (a tenant's history rule
    comes on top: accounts.policy.password_problem)."""
    if len(password) < min_length:
        return _("The password must have at least %(n)d characters.", n=min_length)
    if _classes(password) < 3:
        return _("The password must mix three of: lower-case letters, capitals, digits and other characters.")
    if username and len(username) >= 3 and username.lower() in password.lower():
        return _("The password must not contain the username.")
    if common_password(password):
        return _("This password is too common; choose another.")
    return None


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)


def generate_password() -> str:
    while True:  # a random draw may miss a character class: draw again
        password = secrets.token_urlsafe(12)
        if policy_problem(password) is None:
            return password


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
