"""The dashboards' summaries kept in memory (server.audit.summaries) are exactly what
the data says: after random sequences of writes through the services, each one read as
a page reads it (a read-only transaction, from memory where it can) equals the same
summary computed from scratch. A write that left no audit event would leave a summary
stale, and this would see it."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

from server import db
from server.actor import Actor
from server.assessment import cycle, reviews
from server.assessment import results as assessments
from server.audit import summaries
from server.core.errors import LuzhiError
from server.responsibility import confirmations, coverage, notices
from server.responsibility.tables import Notice
from server.training import service as training
from server.units import service as units
from tenants.service import settings_of
from tests.conftest import PASSWORD
from tests.factories import make_world
from tests.test_assessment import actor_of, run
from tests.test_training import a_past_day, workbook


async def read(world, fn, *args, **kwargs):
    """A summary as a page reads it: in a read-only transaction of the tenant."""
    tx = db.Transaction(world.tenant.id, write=False)
    await tx.begin()
    try:
        return await fn(world.tenant, *args, **kwargs)
    finally:
        await tx.end(commit=True)


def summaries_of(year: int) -> list[tuple[str, object, tuple]]:
    """Every kept summary a dashboard reads, with its arguments after (tenant, actor)."""
    return [
        ("coverage", coverage.coverage, ()),
        ("coverage snapshot", coverage.snapshot, ()),
        ("training", training.unit_training, (None, year)),
        ("courses", training.list_courses, (year,)),
        ("unit choices", units.unit_choices, ()),
        ("registry", units.registry_summary, ()),
        ("assessment home", assessments.home_summary, ()),
        ("assessment overview", assessments.overview, (year,)),
    ]


async def compare_all(world, readers: dict[str, Actor], year: int, step: str) -> int:
    """Each summary for each reader, kept and fresh; the number of kept reads that were
    answered from memory (the second read of each)."""
    for name, fn, args in summaries_of(year):
        for who, actor in readers.items():
            kept = await refused_alike(read(world, fn, actor, *args))
            with summaries.fresh():
                recomputed = await refused_alike(read(world, fn, actor, *args))
            assert kept == recomputed, f"{name} · {who} differs from a fresh computation after {step}"
    return len(summaries_of(year)) * len(readers)


async def refused_alike(call):
    """A summary, or the refusal it answers with (no assessment that year): kept and
    fresh must refuse alike."""
    try:
        return await call
    except LuzhiError as exc:
        return ("refused", type(exc).__name__)


class Writes:
    """The writes a bureau makes, each through its service, picked at random."""

    def __init__(self, world, office: Actor, leader: Actor, rng: random.Random, year: int) -> None:
        self.world, self.office, self.leader, self.rng, self.year = world, office, leader, rng, year
        self.courses: list[str] = []

    async def issue(self) -> None:
        await run(self.world, notices.issue, self.office, {"scope": "all"})

    async def sign(self) -> None:
        mine = (await run(self.world, notices.my_notices, self.leader))["to_sign"]
        if mine:
            await run(self.world, notices.sign, self.leader, mine[0]["id"], {"password": PASSWORD})

    async def confirm(self) -> None:
        owed = await run(self.world, confirmations.pending, self.leader)
        if owed:
            await run(self.world, confirmations.submit, self.leader, owed["period"].key, {"all_done": "1"})

    async def new_person(self) -> None:
        unit = self.rng.choice(list(self.world.units.values()))
        position = self.rng.choice(["principal", "secrecy_lead", "member", "staff"])
        await run(
            self.world,
            units.create_person,
            self.office,
            {"name": f"新人{self.rng.randrange(10_000)}", "unit_id": unit["id"], "position": position},
        )

    async def post_change(self) -> None:
        person = self.rng.choice(list(self.world.people.values()))
        unit = self.rng.choice(list(self.world.units.values()))
        await run(self.world, units.add_post, self.office, person["id"], {"unit_id": unit["id"], "position": "member"})

    async def course(self) -> None:
        day = a_past_day(self.world).isoformat()
        data = {"title": f"保密培训{len(self.courses)}", "kind": "lecture", "hours": "2", "date": day}
        self.courses.append((await run(self.world, training.create_course, self.office, data))["id"])

    async def attend(self) -> None:
        if not self.courses:
            await self.course()
        person = self.rng.choice(list(self.world.people.values()))
        course = self.rng.choice(self.courses)
        try:
            await run(self.world, training.add_attendance, self.office, course, {"person_id": person["id"]})
        except LuzhiError:  # already attended: refused, nothing written
            pass

    async def import_hours(self) -> None:
        person = self.rng.choice(list(self.world.people.values()))
        day = a_past_day(self.world).isoformat()
        sheet = workbook([[person["name"], person["posts"][0]["unit_name"], "保密法规讲座", day, 3, "合格"]])
        preview = await run(self.world, training.preview_import, self.office, "hours.xlsx", sheet, self.year)
        if not preview.get("errors"):
            await run(self.world, training.apply_import, self.office, preview["id"])

    async def open_year(self) -> None:
        try:
            await run(self.world, cycle.open_assessment, self.office, self.year, {"cutoff": f"{self.year}-12-31"})
        except LuzhiError:  # already open
            pass

    async def review(self) -> None:
        assessor = await actor_of(self.world, self.world.users["assessor"]["username"])
        unit = self.rng.choice([self.world.units["a_unit"], self.world.units["b_unit"], self.world.units["city"]])
        try:
            await run(self.world, reviews.review, assessor, self.year, unit["id"], "R3", {})
        except LuzhiError:  # no open year, or nothing to review: refused, nothing written
            pass

    def all(self) -> list:
        return [
            self.issue,
            self.sign,
            self.confirm,
            self.new_person,
            self.post_change,
            self.course,
            self.attend,
            self.import_hours,
            self.open_year,
            self.review,
        ]


@pytest.mark.parametrize("seed", [1, 2])
async def test_kept_summaries_equal_fresh_ones_after_random_writes(client, seed):
    summaries.forget()
    world = await make_world()
    office = await actor_of(world, "office")
    district = await actor_of(world, "district")
    leader = await actor_of(world, "leader")
    year = units.today(world.tenant).year
    readers = {"office": office, "district": district}
    rng = random.Random(seed)
    writes = Writes(world, office, leader, rng, year)
    await compare_all(world, readers, year, "nothing")
    for step in range(14):
        write = rng.choice(writes.all())
        await write()
        await compare_all(world, readers, year, f"step {step}: {write.__name__}")


async def test_a_summary_is_computed_once_until_the_data_changes(client):
    summaries.forget()
    world = await make_world()
    office = await actor_of(world, "office")
    computed = []
    original = coverage.snapshot.__wrapped__

    async def counted(*args, **kwargs):
        computed.append(1)
        return await original(*args, **kwargs)

    kept = summaries.kept("test.coverage")(counted)
    first = await read(world, kept, office)
    again = await read(world, kept, office)
    assert again is first and len(computed) == 1
    # a write anywhere in the tenant (an audit event) makes it compute again
    await run(world, notices.issue, office, {"scope": "all"})
    after = await read(world, kept, office)
    assert len(computed) == 2 and after != first
    # inside a writing transaction nothing is kept or served from memory
    await run(world, kept, office)
    assert len(computed) == 3


async def test_a_summary_holds_only_until_the_moment_it_names(client, monkeypatch):
    summaries.forget()
    world = await make_world()
    office = await actor_of(world, "office")
    moment = datetime.now(UTC) + timedelta(hours=1)
    computed = []

    async def expiring(tenant, actor):
        computed.append(1)
        summaries.valid_until(moment)
        return len(computed)

    kept = summaries.kept("test.expiring")(expiring)
    assert await read(world, kept, office) == 1
    assert await read(world, kept, office) == 1
    later = moment + timedelta(seconds=1)
    monkeypatch.setattr(summaries, "now", lambda: later)
    assert await read(world, kept, office) == 2


async def test_coverage_says_when_a_notice_turns_overdue(client):
    """An issued notice turns "unsigned too long" after the tenant's sign days: the
    coverage snapshot holds until that moment, not until the next write."""
    summaries.forget()
    world = await make_world()
    office = await actor_of(world, "office")
    await run(world, notices.issue, office, {"scope": "all"})
    with summaries.collecting() as bounds:
        await run(world, coverage.snapshot, office)
    async with db.transaction(world.tenant.id):
        issued = await Notice.select(Notice.issued_at).where(Notice.tenant == world.tenant.id)
    settings = await run(world, lambda tenant: settings_of(tenant))
    first_due = min(n["issued_at"] for n in issued) + timedelta(days=int(settings["notice_sign_days"]))
    assert issued and min(bounds) == first_due


async def test_readers_at_once_share_one_computation(client):
    """Many readers of a dashboard just after a change: one computes, the others wait for
    it; a computation that fails leaves each waiter to compute (and fail) on its own."""
    summaries.forget()
    world = await make_world()
    office = await actor_of(world, "office")
    computed = []

    async def slow(tenant, actor):
        computed.append(1)
        await asyncio.sleep(0.3)
        return len(computed)

    kept = summaries.kept("test.slow")(slow)
    assert await asyncio.gather(*(read(world, kept, office) for _ in range(3))) == [1, 1, 1]
    assert len(computed) == 1

    failing = []

    async def broken(tenant, actor):
        failing.append(1)
        await asyncio.sleep(0.1)
        raise ValueError("no figures")

    kept_broken = summaries.kept("test.broken")(broken)
    outcomes = await asyncio.gather(*(read(world, kept_broken, office) for _ in range(2)), return_exceptions=True)
    assert all(isinstance(o, ValueError) for o in outcomes) and len(failing) == 2
