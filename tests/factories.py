"""Build test data through the services, the same code users run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server import db
from server.accounts import policy
from server.accounts import service as accounts
from server.platform import service as platform
from server.units import service as units
from tenants.service import TenantRef
from tests.conftest import PASSWORD, SYSTEM, new_slug


@dataclass
class World:
    """A tenant with a small unit tree, people and one account per role."""

    tenant: TenantRef
    units: dict[str, dict] = field(default_factory=dict)
    people: dict[str, dict] = field(default_factory=dict)
    users: dict[str, dict] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.tenant.slug


async def make_tenant(name: str = "测试市保密局", *, second_factor: bool = False) -> TenantRef:
    """A new bureau; like the demo, administrators sign in without a second factor
    unless the test asks for the default policy (the two-factor tests do)."""
    async with db.transaction(None):
        tenant = await platform.create_tenant(SYSTEM, {"slug": new_slug(), "name": name})
    if not second_factor:
        async with db.transaction(tenant.id):
            await policy.update_policy(tenant, SYSTEM, {"totp_admins": False})
    return tenant


async def make_unit(tenant: TenantRef, name: str, kind: str = "municipal", parent: dict | None = None, **extra: Any):
    async with db.transaction(tenant.id):
        return await units.create_unit(
            tenant, SYSTEM, {"name": name, "kind": kind, "parent_id": parent["id"] if parent else None, **extra}
        )


async def make_person(tenant: TenantRef, unit: dict, name: str, position: str, **extra: Any) -> dict:
    async with db.transaction(tenant.id):
        return await units.create_person(
            tenant, SYSTEM, {"name": name, "unit_id": unit["id"], "position": position, **extra}
        )


async def make_user(tenant: TenantRef, username: str, role: str, **binding: Any) -> dict:
    async with db.transaction(tenant.id):
        user, _generated = await accounts.create_user(
            tenant, SYSTEM, {"username": username, "role": role, "password": PASSWORD, **binding}
        )
    return user


async def make_world(name: str = "测试市保密局") -> World:
    """Two districts, each with a unit; a municipal unit; leaders; every role."""
    tenant = await make_tenant(name)
    w = World(tenant)
    w.units["district_a"] = await make_unit(tenant, "甲区", "district")
    w.units["district_b"] = await make_unit(tenant, "乙区", "district")
    w.units["a_unit"] = await make_unit(tenant, "甲区财政局", "district_unit", w.units["district_a"], code="A-01")
    w.units["b_unit"] = await make_unit(tenant, "乙区财政局", "district_unit", w.units["district_b"])
    w.units["city"] = await make_unit(tenant, "市教育局", "municipal")
    w.people["a_principal"] = await make_person(tenant, w.units["a_unit"], "张三", "principal")
    w.people["a_lead"] = await make_person(tenant, w.units["a_unit"], "李四", "secrecy_lead", classified_level="core")
    w.people["b_principal"] = await make_person(tenant, w.units["b_unit"], "王五", "principal")
    w.people["city_lead"] = await make_person(tenant, w.units["city"], "赵六", "secrecy_lead", military_transfer=True)
    w.users["office"] = await make_user(tenant, "office", "office_admin")
    w.users["district"] = await make_user(
        tenant, "district", "district_admin", scope_unit_id=w.units["district_a"]["id"]
    )
    w.users["officer"] = await make_user(tenant, "officer", "unit_officer", scope_unit_id=w.units["a_unit"]["id"])
    w.users["leader"] = await make_user(tenant, "leader", "leader", person_id=w.people["a_lead"]["id"])
    for role in ("inspector", "assessor", "system_admin", "security_admin", "audit_admin"):
        w.users[role] = await make_user(tenant, role.replace("_", ""), role)
    return w


async def token_for(world: World, key: str) -> str:
    user = world.users[key]
    async with db.transaction(world.tenant.id):
        row = await accounts.user_by_username(world.tenant, user["username"])
        actor = accounts.actor_for(world.tenant, row)
        _info, raw = await accounts.create_token(world.tenant, actor, row["id"], {"name": "tests"})
    return raw
