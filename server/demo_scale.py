"""Many small tenants for load tests (`luzhi demo seed-small`): bureaus `small-0001`,
`small-0002`... each with a handful of units and people, its leaders' notices (most
read and signed) and a course's attendance, built through the domains' bulk modules
as the demo is. They have no accounts (`luzhi user create` adds one); the seed signs
their records. Deterministic per number, so figures are comparable."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from server import db, roles
from server.actor import Actor
from server.demo import DISTRICT_UNITS, DISTRICTS, MUNICIPAL, analyze, mobile_number, person_name
from server.platform import service as platform
from server.responsibility import catalog as catalogs
from server.responsibility.bulk import SignedPdfs, Signing, issue_notices, sign_notices, view_notices
from server.training import service as training
from server.training.bulk import import_attendance
from server.units import service as units
from server.units.bulk import NewPerson, add_people, add_units, new_post
from tenants import service as tenants
from tenants.service import TenantRef

SEED = Actor.system("demo seed")
# the units of each: a district with two of its units, two municipal ones
UNITS = (
    (DISTRICTS[0], "district", None),
    (DISTRICTS[0] + DISTRICT_UNITS[0].removeprefix("区"), "district_unit", 0),
    (DISTRICTS[0] + DISTRICT_UNITS[3].removeprefix("区"), "district_unit", 0),
    (MUNICIPAL[0], "municipal", None),
    (MUNICIPAL[1], "municipal", None),
)
# the posts of each unit: position, title
POSTS = (("principal", "局长"), ("secrecy_lead", "副局长"), ("secrecy_officer", "保密办主任"), ("staff", "科员"))


def small_slug(number: int) -> str:
    return f"small-{number:04d}"


@dataclass
class Seeded:
    created: int
    kept: int


async def seed_small(count: int, progress: Callable[[int], None] | None = None) -> Seeded:
    """Provision small-0001 .. small-COUNT, each in a transaction of its own, keeping
    those already present; `progress` hears the number of each one done."""
    present = {row["slug"] for row in await tenants.list_tenants()}
    done = Seeded(0, 0)
    for number in range(1, count + 1):
        if small_slug(number) in present:
            done.kept += 1
        else:
            await _small(number)
            done.created += 1
        if progress:
            progress(number)
    if done.created:
        await analyze()
    return done


async def _small(number: int) -> None:
    rng = random.Random(number)
    now = datetime.now(UTC)
    async with db.transaction(None):
        tenant = await platform.create_tenant(SEED, {"slug": small_slug(number), "name": f"示例{number:04d}县保密局"})
        await db.set_tenant(tenant.id)
        today = units.today(tenant)
        made = await add_units(
            tenant,
            SEED,
            [
                {"name": name, "kind": kind, "parent": parent, "code": f"S{i + 1:02d}", "sort_order": i}
                for i, (name, kind, parent) in enumerate(UNITS)
            ],
        )
        people = [
            NewPerson(
                name=person_name(rng),
                mobile=mobile_number(rng),
                classified_level=rng.choice(("core", "important", "general")),
                posts=[new_post(unit["pk"], position, today - timedelta(days=rng.randint(60, 2000)), title=title)],
            )
            for unit in made
            for position, title in POSTS
        ]
        await add_people(tenant, SEED, people)
        await _notices(tenant, people, now, rng)
        await _training(tenant, made, people, today, rng)


async def _notices(tenant: TenantRef, people: list[NewPerson], now: datetime, rng: random.Random) -> None:
    """This year's notice to every leader, issued weeks ago; four in five read and signed."""
    posts = await units.current_leader_posts(tenant, SEED)
    # weeks ago, this year
    issued_at = max(now - timedelta(days=rng.randint(20, 60)), datetime(now.year, 1, 1, 2, tzinfo=UTC))
    issued = await issue_notices(tenant, SEED, await catalogs.current_catalog(tenant), [(p, issued_at) for p in posts])
    name_of = {p.pk: p.name for p in people}
    views, signings = [], []
    for notice in issued.values():
        if rng.random() < 0.8:
            leader = Actor(
                kind="user",
                name=name_of[notice["person"]],
                role=roles.LEADER,
                tenant_id=tenant.id,
                person_id=notice["person"],
            )
            viewed = issued_at + timedelta(days=rng.randint(0, 5), minutes=rng.randint(5, 300))
            views.append((leader, notice, min(viewed, now)))
            signings.append(Signing(leader, notice, min(viewed + timedelta(minutes=rng.randint(1, 90)), now)))
    await view_notices(tenant, views)
    await sign_notices(tenant, signings, SignedPdfs(set()))  # PDFs rendered on first download


async def _training(
    tenant: TenantRef, made: list[dict], people: list[NewPerson], today: date, rng: random.Random
) -> None:
    """A lecture this year, its sheet imported: most people have its hours."""
    held = max(date(today.year, 1, 1), today - timedelta(days=rng.randint(10, 90)))
    course = await training.create_course(
        tenant, SEED, {"title": "保密法律法规专题讲座", "kind": "lecture", "hours": 3, "date": held.isoformat()}
    )
    names = {u["pk"]: u["name"] for u in made}
    sheet = [
        {"pk": p.pk, "uuid": p.uuid, "name": p.name, "unit_name": names[p.posts[0]["unit"]], "score": None}
        for p in people
        if rng.random() < 0.75
    ]
    imported = datetime.combine(held + timedelta(days=1), time(2), UTC)  # the next morning in Beijing
    await import_attendance(tenant, SEED, course, sheet, min(imported, datetime.now(UTC)))
