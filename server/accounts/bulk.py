"""Accounts in bulk: what accounts.create_user does for many accounts at once (the
demo's, a test world's). No user input here: the callers pass valid accounts, and a
wrong one is a programming error (ValueError), not a message."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from server import roles
from server.accounts import passwords
from server.accounts import service as accounts
from server.accounts.tables import PasswordHistory, User
from server.actor import Actor
from server.audit import bulk as audit
from server.core.bulk import insert_new, insert_rows, new_row
from tenants.service import TenantRef


def _binding(username: str, role: str, binding: dict[str, int]) -> dict[str, int | None]:
    """The unit a scoped role covers, the person record a leader is: as create_user asks."""
    if not accounts.USERNAME_RE.match(username) or role not in roles.ROLES:
        raise ValueError(f"not an account: {username!r} as {role!r}")
    if (role in roles.SCOPED_ROLES) != ("scope_unit" in binding) or (role == roles.LEADER) != ("person" in binding):
        raise ValueError(f"{username}: {role} is bound to {sorted(binding) or 'nothing'}")
    return {"scope_unit": binding.get("scope_unit"), "person": binding.get("person")}


async def add_users(
    tenant: TenantRef, actor: Actor, password: str, specs: Sequence[tuple[str, str, dict[str, int]]]
) -> list[Any]:
    """accounts.create_user_row for each (username, role, binding: {scope_unit} or
    {person} as the role needs), active at once as the platform operator's accounts are,
    all with one password as their own: its hashes (each with its own salt) made at once
    in threads. Returns the accounts' public ids."""
    rows = [
        new_row(tenant=tenant.id, username=accounts.normalise_username(name), role=role, **_binding(name, role, bound))
        for name, role, bound in specs
    ]
    hashes = await asyncio.gather(*(passwords.hash_password(password) for _ in rows))
    for row, password_hash in zip(rows, hashes, strict=True):
        row["password_hash"] = password_hash
    await insert_new(User, rows)
    # a new account's history holds its one password: nothing to forget yet
    await insert_rows(
        PasswordHistory, [{"tenant": tenant.id, "user": r["id"], "password_hash": r["password_hash"]} for r in rows]
    )
    await audit.record_each(
        tenant.id,
        "user.create",
        "user",
        [(actor, r["uuid"], {**{k: r[k] for k in ("username", "role", "scope_unit")}, "pending": False}) for r in rows],
    )
    return [r["uuid"] for r in rows]
