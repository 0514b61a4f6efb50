"""Two tenants of the same shape, built once per database for the whole isolation package."""

from __future__ import annotations

import uuid

import pytest

from server import db
from server.accounts import service as accounts
from server.units import service as units
from tests.factories import World, make_person, make_unit, make_user, make_world, token_for
from tests.isolation.support import Pair, ids_of


async def _office_token_id(world: World) -> str:
    """A second API token of the office admin, for the token_id parameter; listed
    back through the service, as the account page lists it."""
    raw = await token_for(world, "office")
    async with db.transaction(world.tenant.id):
        user = await accounts.user_by_username(world.tenant, world.users["office"]["username"])
        listed = await accounts.list_tokens(world.tenant, user["id"])
    (token,) = [t for t in listed if raw.startswith(t["prefix"])]
    return token["id"]


@pytest.fixture(scope="package")
async def pair(env) -> Pair:
    tag = uuid.uuid4().hex[:8]
    a = await make_world(f"甲方市保密局-{tag}")
    b = await make_world(f"乙方市保密局-{tag}")
    # rows only A has, with names found nowhere else: they must never reach B
    a_unit = await make_unit(a.tenant, f"甲方独有单位-{tag}", "district_unit", a.units["district_a"], code=f"JF-{tag}")
    a_person = await make_person(
        a.tenant, a_unit, f"甲方独有人员-{tag}", "secrecy_lead", email=f"jiafang-{tag}@example.com"
    )
    a_user = await make_user(
        a.tenant, f"jiafang{tag}", "unit_officer", scope_unit_id=a_unit["id"], display_name=f"甲方独有账号-{tag}"
    )
    # B's counterparts: the positive control that the same pages do show such rows
    b_unit = await make_unit(b.tenant, f"乙方独有单位-{tag}", "district_unit", b.units["district_a"], code=f"YF-{tag}")
    b_person = await make_person(b.tenant, b_unit, f"乙方独有人员-{tag}", "secrecy_lead")
    a_ids = ids_of(a, await _office_token_id(a))
    b_ids = ids_of(b, await _office_token_id(b))
    b_token = await token_for(b, "office")
    return Pair(
        a=a,
        b=b,
        a_ids=a_ids,
        b_ids=b_ids,
        b_token=b_token,
        a_only=[
            a_unit["name"],
            f"JF-{tag}",
            a_person["name"],
            f"jiafang-{tag}@example.com",
            a_user["username"],
            a_user["display_name"],
        ],
        tag=tag,
        today=units.today(a.tenant),
        extra={"a_unit": a_unit, "a_person": a_person, "b_unit": b_unit, "b_person": b_person},
    )
