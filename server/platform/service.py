"""The platform operator's work: operators, tenants and their status."""

from __future__ import annotations

from typing import Any

from server import db
from server.accounts.passwords import hash_password, policy_problem
from server.actor import Actor
from server.assessment import service as _assessment  # noqa: F401  (its import registers the tenant defaults)
from server.audit import service as audit
from server.responsibility import catalog as _catalog  # noqa: F401  (its import registers the tenant defaults)
from server.web.errors import Conflict, ValidationFailed
from server.web.i18n import _
from tenants import service as tenants
from tenants.service import TenantRef
from tenants.tables import Operator


async def operator_by_name(username: str) -> dict | None:
    return await Operator.select().where(Operator.username == username.strip()).first()


async def create_operator(username: str, password: str) -> None:
    if problem := policy_problem(password, username):
        raise ValidationFailed({"password": problem})
    if await operator_by_name(username):
        raise Conflict(_("An operator named %(name)s already exists.", name=username))
    await Operator.insert(Operator(username=username, password_hash=await hash_password(password)))


async def create_tenant(actor: Actor, data: dict[str, Any]) -> TenantRef:
    ref = await tenants.create(data)
    # the platform's own record of it carries no tenant
    await db.set_tenant(None)
    await audit.record(None, actor, "tenant.create", "tenant", ref.uuid, detail={"slug": ref.slug})
    return ref


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
