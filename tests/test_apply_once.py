"""Imports apply once: two applies at once, a preview made stale by another import,
a course never created twice."""

from __future__ import annotations

import asyncio
import importlib.util
import uuid
from datetime import UTC, datetime

from server import db
from server.settings import ROOT
from server.training import service as training
from server.training.tables import Attendance, Course, TrainingImport
from server.units import service as units
from tests.conftest import SYSTEM, csrf, login
from tests.factories import make_world
from tests.test_training import a_past_day, api, counts, workbook


async def preview(client, base, rows) -> dict:
    made = await client.post(f"{base}/training/imports", files={"file": ("a.xlsx", workbook(rows))})
    assert made.status_code == 201 and made.json()["clean"], made.text
    return made.json()


async def test_two_applies_at_once_write_once(client, make_client):
    world, base, other = await setup(client, make_client)
    day = a_past_day(world)
    rows = [["李四", "甲区财政局", "保密讲座", day, 2, 90], ["王五", "乙区财政局", "保密讲座", day, 2, None]]
    made = await preview(client, base, rows)
    before = await counts(world)
    url = f"{base}/training/imports/{made['id']}/apply"
    answers = await asyncio.gather(client.post(url), other.post(url))
    assert sorted(a.status_code for a in answers) == [201, 409]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["detail"]
    assert await counts(world) == (before[0] + 1, before[1] + 2)
    lead = (await client.get(f"{base}/people/{world.people['a_lead']['id']}/training")).json()
    assert lead["hours"] == 2.0


async def test_a_stale_preview_is_refused_with_what_changed_and_writes_nothing(client):
    world, base, _ = await setup(client)
    day = a_past_day(world)
    first = await preview(client, base, [["李四", "甲区财政局", "保密讲座", day, 2, None]])
    second = await preview(
        client, base, [["李四", "甲区财政局", "保密讲座", day, 3, None], ["赵六", "", "网络安全", day, 1, None]]
    )
    assert (await client.post(f"{base}/training/imports/{first['id']}/apply")).status_code == 201
    before = await counts(world)
    stale = await client.post(f"{base}/training/imports/{second['id']}/apply")
    assert stale.status_code == 409
    assert "李四" in stale.json()["detail"] and "保密讲座" in stale.json()["detail"]
    assert await counts(world) == before
    async with db.transaction(world.tenant.id):
        status = await TrainingImport.select(TrainingImport.status).where(TrainingImport.uuid == second["id"]).first()
    assert status["status"] == "preview"  # nothing applied: a fresh preview is the way on
    fresh = await preview(
        client, base, [["李四", "甲区财政局", "保密讲座", day, 3, None], ["赵六", "", "网络安全", day, 1, None]]
    )
    assert fresh["counts"] == {"update": 1, "new": 1}
    assert (await client.post(f"{base}/training/imports/{fresh['id']}/apply")).status_code == 201


async def test_two_imports_of_the_same_course_at_once_create_it_once(client, make_client):
    world, base, other = await setup(client, make_client)
    day = a_past_day(world)
    one = await preview(client, base, [["李四", "甲区财政局", "新课程", day, 2, None]])
    two = await preview(client, base, [["王五", "乙区财政局", "新课程", day, 2, None]])
    answers = await asyncio.gather(
        client.post(f"{base}/training/imports/{one['id']}/apply"),
        other.post(f"{base}/training/imports/{two['id']}/apply"),
    )
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    async with db.transaction(world.tenant.id):
        made = await Course.select(Course.id).where(Course.tenant == world.tenant.id, Course.title == "新课程")
        assert len(made) == 1
        assert await Attendance.count().where(Attendance.course == made[0]["id"]) == 2


async def test_the_same_course_cannot_be_entered_twice(client, make_client):
    world, base, other = await setup(client, make_client)
    body = {"title": "保密  法规讲座 ", "kind": "lecture", "hours": "2", "date": a_past_day(world).isoformat()}
    answers = await asyncio.gather(
        client.post(f"{base}/training/courses", json=body),
        other.post(f"{base}/training/courses", json={**body, "title": "保密 法规讲座"}),
    )
    assert sorted(a.status_code for a in answers) == [201, 422]
    refused = next(a for a in answers if a.status_code == 422)
    assert refused.json()["errors"][0]["field"] == "title"
    # another organiser, another course
    assert (await client.post(f"{base}/training/courses", json={**body, "organiser": "市委党校"})).status_code == 201
    async with db.transaction(world.tenant.id):
        made = await training.list_courses(world.tenant, SYSTEM, a_past_day(world).year)
    assert sorted((c["title"], c["organiser"]) for c in made) == [("保密 法规讲座", ""), ("保密 法规讲座", "市委党校")]


async def test_the_page_says_the_preview_is_stale(client):
    world, base, _ = await setup(client)
    day = a_past_day(world)
    first = await preview(client, base, [["李四", "甲区财政局", "保密讲座", day, 2, None]])
    second = await preview(client, base, [["李四", "甲区财政局", "保密讲座", day, 4, None]])
    await client.post(f"{base}/training/imports/{first['id']}/apply")
    del client.headers["Authorization"]
    await login(client, world.slug, "office")
    token = await csrf(client, f"/t/{world.slug}/training/import")
    page = await client.post(f"/t/{world.slug}/training/imports/{second['id']}/apply", data={"_csrf": token})
    assert page.status_code == 409
    assert 'role="alert"' in page.text and "保密讲座" in page.text
    assert f'href="/t/{world.slug}/training/import?year={day.year}&amp;fresh=1"' in page.text


async def setup(client, make_client=None):
    """A world, the office's API base, and (when asked) a second client with the same token."""
    world = await make_world()
    base = await api(client, world)
    other = None
    if make_client:
        other = await make_client()
        other.headers["Authorization"] = client.headers["Authorization"]
    return world, base, other


async def test_the_migration_merges_courses_created_twice(env, client):
    """The upgrade of a database where a double apply already happened: the copies merge
    into the first course, each person's hours counted once, and the key becomes unique."""
    spec = importlib.util.spec_from_file_location(
        "natural_key", ROOT / "migrations/training/training_2026_12_05t02_20_00_000000.py"
    )
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    owner = db.make_engine(env.settings, as_owner=True)
    migration.Tenant._meta.db = owner
    world, base, _ = await setup(client)
    day = a_past_day(world)
    course = (
        await client.post(
            f"{base}/training/courses",
            json={"title": "保密讲座", "kind": "lecture", "hours": "2", "date": day.isoformat()},
        )
    ).json()
    lead, staff = world.people["a_lead"]["id"], world.people["a_principal"]["id"]
    async with db.transaction(world.tenant.id):
        await training.add_attendance(world.tenant, SYSTEM, course["id"], {"person_id": lead})
        first = (await Course.select(Course.id).where(Course.uuid == course["id"]).first())["id"]
        people = await units.person_pks(world.tenant, [lead, staff])
    raw = migration.Tenant.raw
    async with owner.transaction():
        await raw("DROP INDEX courses_natural_key")
        copy = (
            await raw(
                "INSERT INTO courses (uuid, tenant, unit, title, kind, hours, date, organiser, pass_mark, created_at) "
                "SELECT {}, tenant, unit, title, kind, hours, date, organiser, pass_mark, created_at "
                "FROM courses WHERE id = {} RETURNING id",
                str(uuid.uuid4()) if env.kind == "sqlite" else uuid.uuid4(),
                first,
            )
        )[0]["id"]
        for person in (lead, staff):  # the lead's hours twice, the staff member's only at the copy
            await raw(
                "INSERT INTO attendances (uuid, tenant, course, person, hours, created_at) "
                "VALUES ({}, {}, {}, {}, 2, {})",
                str(uuid.uuid4()) if env.kind == "sqlite" else uuid.uuid4(),
                world.tenant.id,
                copy,
                people[person],
                datetime.now(UTC),
            )
    try:
        lead_hours = (await client.get(f"{base}/people/{lead}/training")).json()["hours"]
        assert lead_hours == 4.0  # counted twice before the upgrade
        await migration.merge_and_index()
    finally:
        async with owner.transaction():
            await raw(migration.UNIQUE)
    async with db.transaction(world.tenant.id):
        assert await Course.select(Course.id).where(Course.tenant == world.tenant.id) == [{"id": first}]
        rows = await Attendance.select(Attendance.person).where(Attendance.course == first)
        assert sorted(r["person"] for r in rows) == sorted(people.values())
    assert (await client.get(f"{base}/people/{lead}/training")).json()["hours"] == 2.0
    again = await client.post(
        f"{base}/training/courses", json={"title": "保密讲座", "kind": "lecture", "hours": "2", "date": day.isoformat()}
    )
    assert again.status_code == 422
