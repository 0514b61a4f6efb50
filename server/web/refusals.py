"""A refused sign-in step (a tenant's password or second factor, the platform's
password): it counts towards the lock and is audited, although the request itself
rolls back. Shared by the tenants' and the platform's sign-in pages."""

from __future__ import annotations

from typing import Any

from server.accounts import service as accounts
from server.actor import Actor
from server.audit import service as audit
from server.web.edge import Edge


def anonymous(edge: Edge, username: str) -> Actor:
    """Who tries to sign in as `username`, before anyone has been recognised."""
    return Actor(kind="anonymous", name=username, client_addr=edge.client, user_agent=edge.agent)


def remember_refusal(
    edge: Edge, keys: list[str], actor: Actor, action: str, object_id: Any, *, reason: str, counts: bool
) -> None:
    """Audit the refusal and, when `counts` (a wrong password or code), count it on
    `keys`; the failure that locks the account is audited too. Written after the
    request, in a transaction of its own."""
    tenant_id = edge.tenant.id if edge.tenant else None

    async def write() -> None:
        locked = counts and await accounts.note_failure(keys, edge.settings)
        await audit.record(tenant_id, actor, action, "user", object_id, outcome="denied", detail={"reason": reason})
        if locked:
            await audit.record(tenant_id, actor, "auth.lock", "user", actor.name, outcome="denied")

    edge.after.append(write)


def refused_sign_in(edge: Edge, keys: list[str], username: str, result: accounts.SignIn) -> None:
    """A refused password: a lock already in force is audited, not counted again."""
    reason = result.outcome
    remember_refusal(
        edge, keys, anonymous(edge, username), "auth.login", username, reason=reason, counts=reason != "locked"
    )
