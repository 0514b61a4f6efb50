"""A world with a round under way: five inspector accounts (four on team 一组, one spare),
a round over three units, the first two of them assigned to the team with visit dates;
and one whose team has a member who once held a post in the first unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from server import db
from server.actor import Actor
from server.inspections import rounds
from server.units import service as units
from tests.factories import World, make_person, make_user, make_world

OFFICE = Actor(kind="user", name="office", role="office_admin")


@dataclass
class InspectionWorld:
    world: World
    round: dict
    team: dict
    # unit key ("a_unit", "city", "b_unit") → the inspection of it
    inspections: dict[str, dict] = field(default_factory=dict)

    @property
    def tenant(self):
        return self.world.tenant

    @property
    def slug(self) -> str:
        return self.world.slug


async def run(world: World, fn, *args, **kwargs):
    async with db.transaction(world.tenant.id):
        return await fn(world.tenant, *args, **kwargs)


async def make_inspection_world(world: World | None = None) -> InspectionWorld:
    world = world or await make_world()
    for n in range(1, 6):
        world.users[f"insp{n}"] = await make_user(world.tenant, f"insp{n}", "inspector", display_name=f"检查员{n}")
    today = units.today(world.tenant)
    keys = ("a_unit", "city", "b_unit")
    made = await run(
        world,
        rounds.create_round,
        OFFICE,
        {
            "name": "第七轮巡察",
            "starts_on": (today - timedelta(days=10)).isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(),
            "unit_ids": [world.units[k]["id"] for k in keys],
        },
    )
    team = await run(
        world,
        rounds.add_team,
        OFFICE,
        made["id"],
        {
            "name": "一组",
            "leader_user_id": world.users["insp1"]["id"],
            "member_user_ids": [world.users[f"insp{n}"]["id"] for n in (2, 3, 4)],
        },
    )
    by_unit = {i["unit_id"]: i for i in made["inspections"]}
    assignments = [
        {"inspection_id": by_unit[world.units[k]["id"]]["id"], "team_id": team["id"], "visit_on": today.isoformat()}
        for k in keys[:2]
    ]
    detail = await run(world, rounds.assign, OFFICE, made["id"], assignments)
    by_unit = {i["unit_id"]: i for i in detail["inspections"]}
    return InspectionWorld(world, detail, team, {k: by_unit[world.units[k]["id"]] for k in keys})


async def make_conflicted_world() -> tuple[InspectionWorld, dict]:
    """The inspection world with insp4 replaced by insp6, whose person held a post in
    a_unit (甲区财政局) until 2023: a conflict of interest the office has not yet
    confirmed. Also the round's team as the replacement left it."""
    world = await make_world()
    former = await make_person(
        world.tenant, world.units["a_unit"], "钱七", "staff", start_date="2020-01-01", end_date="2023-06-30"
    )
    world.users["insp6"] = await make_user(world.tenant, "insp6", "inspector", person_id=former["id"])
    iw = await make_inspection_world(world)
    team = await run(
        world,
        rounds.replace_member,
        OFFICE,
        iw.round["id"],
        iw.team["id"],
        world.users["insp4"]["id"],
        {"replacement_user_id": world.users["insp6"]["id"]},
    )
    return iw, team


async def confirm_conflict(iw: InspectionWorld, note: str = "离开该单位已三年，经研究同意参加") -> dict:
    """The office confirms insp6's conflict of interest; the team as it is then."""
    user_id = iw.world.users["insp6"]["id"]
    return await run(iw.world, rounds.confirm_conflict, OFFICE, iw.round["id"], iw.team["id"], user_id, {"note": note})
