"""Build test data through the services, the same code users run; a whole world at
once through the domains' bulk modules, as the demo seed builds its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server import db
from server.accounts import policy
from server.accounts import service as accounts
from server.accounts.bulk import add_users
from server.platform import service as platform
from server.units import service as units
from server.units.bulk import NewPerson, add_people, add_units, new_post
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


# the world's units: key, name, kind, parent key, extra columns
UNITS = (
    ("district_a", "甲区", "district", None, {}),
    ("district_b", "乙区", "district", None, {}),
    ("a_unit", "甲区财政局", "district_unit", "district_a", {"code": "A-01"}),
    ("b_unit", "乙区财政局", "district_unit", "district_b", {}),
    ("city", "市教育局", "municipal", None, {}),
)
# its people: key, name, unit key, position, extra columns
PEOPLE = (
    ("a_principal", "张三", "a_unit", "principal", {}),
    ("a_lead", "李四", "a_unit", "secrecy_lead", {"classified_level": "core"}),
    ("b_principal", "王五", "b_unit", "principal", {}),
    ("city_lead", "赵六", "city", "secrecy_lead", {"military_transfer": True}),
)
# its accounts: key, username, role, what the role is bound to (a unit or a person key)
USERS = (
    ("office", "office", "office_admin", {}),
    ("district", "district", "district_admin", {"scope_unit": "district_a"}),
    ("officer", "officer", "unit_officer", {"scope_unit": "a_unit"}),
    ("leader", "leader", "leader", {"person": "a_lead"}),
    *(
        (role, role.replace("_", ""), role, {})
        for role in ("inspector", "assessor", "system_admin", "security_admin", "audit_admin")
    ),
)


async def make_world(name: str = "测试市保密局") -> World:
    """Two districts, each with a unit; a municipal unit; leaders; every role. Made in
    bulk, each unit, person and account as create_unit, create_person and create_user
    (by the platform operator) return them."""
    tenant = await make_tenant(name)
    w = World(tenant)
    keys = [key for key, *_rest in UNITS]
    specs = [
        {"name": n, "kind": kind, "parent": keys.index(parent) if parent else None, **extra}
        for _key, n, kind, parent, extra in UNITS
    ]
    async with db.transaction(tenant.id):
        made = dict(zip(keys, await add_units(tenant, SYSTEM, specs), strict=True))
        today = units.today(tenant)
        people = {
            key: NewPerson(n, [new_post(made[unit]["pk"], position, today)], **extra)
            for key, n, unit, position, extra in PEOPLE
        }
        await add_people(tenant, SYSTEM, list(people.values()))
        pks = {**{k: u["pk"] for k, u in made.items()}, **{k: p.pk for k, p in people.items()}}
        bound = [(username, role, {k: pks[v] for k, v in binding.items()}) for _key, username, role, binding in USERS]
        user_ids = await add_users(tenant, SYSTEM, PASSWORD, bound)
        for key, unit in made.items():
            w.units[key] = await units.unit_detail(tenant, SYSTEM, unit["uuid"])
        for key, person in people.items():
            w.people[key] = await units.person_detail(tenant, SYSTEM, person.uuid)
        for (key, *_rest), user_id in zip(USERS, user_ids, strict=True):
            w.users[key] = await accounts.user_detail(tenant, user_id)
    return w


async def token_for(world: World, key: str) -> str:
    user = world.users[key]
    async with db.transaction(world.tenant.id):
        row = await accounts.user_by_username(world.tenant, user["username"])
        actor = accounts.actor_for(world.tenant, row)
        _info, raw = await accounts.create_token(world.tenant, actor, row["id"], {"name": "tests"})
    return raw


class Api:
    """Calls to one tenant's API as the holders of several accounts, each with a token of
    its own, from one client."""

    def __init__(self, client, world: World, tokens: dict[str, str]) -> None:
        self.client = client
        self.base = f"/api/v1/t/{world.slug}"
        self.tokens = tokens

    @classmethod
    async def of(cls, client, world: World, *keys: str) -> Api:
        return cls(client, world, {k: await token_for(world, k) for k in keys})

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.tokens[who]}

    async def get(self, who: str, path: str, **params):
        return await self.client.get(self.base + path, params=params, headers=self.headers(who))

    async def post(self, who: str, path: str, body: dict | None = None, **kwargs):
        """A JSON body, or whatever else httpx takes (files, data)."""
        if body is not None:
            kwargs["json"] = body
        return await self.client.post(self.base + path, headers=self.headers(who), **kwargs)

    async def put(self, who: str, path: str, body: dict):
        return await self.client.put(self.base + path, json=body, headers=self.headers(who))
