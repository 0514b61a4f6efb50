"""The platform operator's work: operators, tenants and their status."""

from __future__ import annotations

from typing import Any

from server import db, roles
from server.accounts import service as accounts
from server.accounts.passwords import generate_password, hash_password, policy_problem
from server.actor import Actor
from server.assessment import cycle as _assessment  # noqa: F401  (its import registers the tenant defaults)
from server.audit import service as audit
from server.core.errors import Conflict, ValidationFailed
from server.core.i18n import _
from server.responsibility import catalog as _catalog  # noqa: F401  (its import registers the tenant defaults)
from tenants import service as tenants
from tenants.service import TenantRef


async def operator_by_name(username: str) -> dict | None:
    return await tenants.operator_by_name(accounts.normalise_username(username))


async def create_operator(username: str, password: str) -> None:
    if problem := policy_problem(password, username):
        raise ValidationFailed({"password": problem})
    if await operator_by_name(username):
        raise Conflict(_("An operator named %(name)s already exists.", name=username))
    await tenants.create_operator(accounts.normalise_username(username), await hash_password(password))


async def create_tenant(actor: Actor, data: dict[str, Any]) -> TenantRef:
    ref = await tenants.create(data)
    # the platform's own record of it carries no tenant
    await db.set_tenant(None)
    await audit.record(None, actor, "tenant.create", "tenant", ref.uuid, detail={"slug": ref.slug})
    return ref


# the three separated administrators every new bureau starts with
ADMINISTRATORS = {"sysadmin": roles.SYSTEM_ADMIN, "secadmin": roles.SECURITY_ADMIN, "auditor": roles.AUDIT_ADMIN}


async def create_tenant_with_administrators(actor: Actor, data: dict[str, Any]) -> tuple[TenantRef, dict[str, str]]:
    """A new bureau and its three administrators, each with a temporary password that
    the caller shows once (username -> password)."""
    ref = await create_tenant(actor, data)
    await db.set_tenant(ref.id)
    passwords = {}
    for username, role in ADMINISTRATORS.items():
        passwords[username] = generate_password()
        await accounts.create_user_row(ref, actor, username, role, passwords[username], temporary=True)
    await db.set_tenant(None)
    return ref, passwords


async def set_tenant_status(actor: Actor, slug: str, status: str) -> TenantRef:
    ref = await tenants.set_status(slug, status)
    await audit.record(
        None,
        actor,
        f"tenant.{'suspend' if status == 'suspended' else 'resume'}",
        "tenant",
        ref.uuid,
        detail={"slug": slug},
    )
    return ref
