"""Every missed duty confirmation stays listed, and counted, until it is given (late)
or waived by the office with a reason."""

from __future__ import annotations

from datetime import timedelta

from server import db
from server.assessment import sources
from server.audit.tables import AuditEvent
from server.responsibility import confirmations, coverage
from server.units import service as units
from tests.conftest import SYSTEM, csrf, login
from tests.factories import make_person, make_user, make_world, token_for


def previous(period: confirmations.Period) -> confirmations.Period:
    return confirmations.period_containing(period.start - timedelta(days=1), "quarterly")


async def leader_in_post_for_three_periods(world):
    """周一, in post since the start of the third-last ended quarter; (p1, p2, p3) oldest first."""
    today = units.today(world.tenant)
    p3 = confirmations.due_period(today, "quarterly")
    p2 = previous(p3)
    p1 = previous(p2)
    person = await make_person(world.tenant, world.units["city"], "周一", "principal", start_date=p1.start.isoformat())
    world.users["zhou"] = await make_user(world.tenant, "zhou", "leader", person_id=person["id"])
    return person, (p1, p2, p3)


async def missed_rows(world, person) -> list[str]:
    async with db.transaction(world.tenant.id):
        rows = await coverage.coverage_list(world.tenant, SYSTEM, "confirmation_overdue")
    return [r["period"] for r in rows if r["person_id"] == person["id"]]


async def test_skipped_periods_stay_listed_until_given_late_or_waived(client, make_client):
    world = await make_world()
    person, (p1, p2, p3) = await leader_in_post_for_three_periods(world)
    leader = await make_client()
    leader.headers["Authorization"] = "Bearer " + await token_for(world, "zhou")
    api = f"/api/v1/t/{world.slug}"
    # the leader confirms only the latest quarter
    owed = (await leader.get(f"{api}/me/confirmations")).json()
    assert [o["period"] for o in owed["owed"]] == [p1.key, p2.key, p3.key]
    assert owed["due"]["period"] == p1.key and owed["due"]["overdue"] is True
    items = [{"done": True}] * len(owed["due"]["duties"])
    assert (await leader.post(f"{api}/me/confirmations", json={"period": p3.key, "items": items})).status_code == 201

    # two skipped quarters look like two, not one
    assert await missed_rows(world, person) == [p1.key, p2.key]
    async with db.transaction(world.tenant.id):
        totals = (await coverage.coverage(world.tenant, SYSTEM))["totals"]
        unit_pk = await units.unit_pk(world.tenant, SYSTEM, world.units["city"]["id"])
        on_time = await sources.compute(
            world.tenant, [unit_pk], p1.start.year, units.today(world.tenant), {"confirmations_on_time"}
        )
    assert totals["counts"]["confirmation_overdue"] >= 1 and totals["missed_confirmations"] >= 2
    expected_keys = {p.key for p in sources.periods_due(p1.start.year, units.today(world.tenant), "quarterly")}
    missing = on_time["confirmations_on_time"][unit_pk]["missing"]
    assert {f"周一 ({p.key})" for p in (p1, p2) if p.key in expected_keys} <= set(missing)

    # a late confirmation for the oldest quarter
    late = await leader.post(f"{api}/me/confirmations", json={"period": p1.key, "items": items})
    assert late.status_code == 201 and late.json()["late"] is True
    assert await missed_rows(world, person) == [p2.key]

    # the office waives the other one, with a reason; nobody else may
    client.headers["Authorization"] = "Bearer " + await token_for(world, "office")
    waive = f"{api}/people/{person['id']}/confirmation-waivers"
    no_reason = await client.post(waive, json={"period": p2.key, "reason": " "})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    not_owed = await client.post(waive, json={"period": p1.key, "reason": "已补报"})
    assert not_owed.status_code == 422 and not_owed.json()["errors"][0]["field"] == "period"
    district = await make_client()
    district.headers["Authorization"] = "Bearer " + await token_for(world, "district")
    assert (await district.post(waive, json={"period": p2.key, "reason": "病假"})).status_code == 403
    waived = await client.post(waive, json={"period": p2.key, "reason": "该季度病假"})
    assert waived.status_code == 201 and waived.json()["period"] == p2.key
    assert (await client.post(waive, json={"period": p2.key, "reason": "再次"})).status_code == 422
    assert await missed_rows(world, person) == []
    assert (await leader.get(f"{api}/me/confirmations")).json()["owed"] == []
    async with db.transaction(world.tenant.id):
        event = (
            await AuditEvent.select(AuditEvent.detail)
            .where(AuditEvent.tenant == world.tenant.id, AuditEvent.action == "confirmation.waive")
            .output(load_json=True)
            .first()
        )
        on_time = await sources.compute(
            world.tenant, [unit_pk], p1.start.year, units.today(world.tenant), {"confirmations_on_time"}
        )
    assert event["detail"] == {"period": p2.key, "reason": "该季度病假"}
    assert f"周一 ({p2.key})" not in on_time["confirmations_on_time"][unit_pk]["missing"]


async def test_the_list_page_waives_with_a_reason(client):
    world = await make_world()
    person, (p1, _p2, _p3) = await leader_in_post_for_three_periods(world)
    await login(client, world.slug, "office")
    listed = await client.get(f"/t/{world.slug}/coverage/list?metric=confirmation_overdue")
    assert listed.status_code == 200 and p1.key in listed.text and "/confirmations/waive" in listed.text
    token = await csrf(client, f"/t/{world.slug}/coverage")
    url = f"/t/{world.slug}/people/{person['id']}/confirmations/waive"
    refused = await client.post(url, data={"_csrf": token, "period": p1.key, "reason": ""})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    done = await client.post(url, data={"_csrf": token, "period": p1.key, "reason": "调入前的季度"})
    assert done.status_code == 303 and done.headers["location"].endswith(f"waived={p1.key}")
    assert p1.key not in await missed_rows(world, person)
    await login(client, world.slug, "officer")
    page = await client.get(f"/t/{world.slug}/coverage/list?metric=confirmation_overdue")
    assert "/confirmations/waive" not in page.text


async def test_every_skipped_period_is_reminded_until_given_or_waived(env):
    from tests.test_reminders import at, generate, reminder_rows, run, set_rules

    world = await make_world()
    person, (p1, p2, p3) = await leader_in_post_for_three_periods(world)
    await set_rules(world.tenant, confirmation_overdue={"days": 1, "repeat_days": 7, "escalate_after": 0})
    today = units.today(world.tenant)
    # the office excused one quarter; the leader gave none of the three
    await run(world, confirmations.waive, SYSTEM, person["id"], {"period": p2.key, "reason": "病假"})
    await generate(world, env.settings, at(today))
    rows = await reminder_rows(world)
    subjects = {r["subject"] for r in rows if r["kind"] == "confirmation_overdue" and person["id"] in r["subject"]}
    late = [p for p in (p1, p3) if p.due < today]
    assert len(late) >= 1 and subjects == {f"confirmation:{person['id']}:{p.key}" for p in late}
