"""The tenant's declassification settings: their defaults, the office's change (API and
page), the bounds (the lead time never under 90 days: 422 naming the field), nobody else
changes them, the audit event, the daily scan and the consultations reading them, two
changes at once both kept, and another tenant untouched."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from server import db
from server.accounts import service as accounts
from server.audit.tables import AuditEvent
from server.core.errors import Forbidden
from server.declassification import consultations, review
from server.declassification import settings as declass_settings
from tenants import service as tenants
from tests.conftest import csrf, login
from tests.factories import Api, make_world
from tests.helpers import post_form
from tests.test_declass_review import add_item, scan, tasks_of, today

PATH = "/declassification/settings"
LEAD, CONSULT, ESCALATE = "declass_lead_days", "declass_consult_days", "declass_consult_escalate_days"
DEFAULTS = {LEAD: 90, CONSULT: 30, ESCALATE: 14}


async def change(api: Api, body: dict, who: str = "office"):
    return await api.client.patch(api.base + PATH, json=body, headers=api.headers(who))


async def shown(api: Api, who: str = "office") -> dict:
    answer = await api.get(who, PATH)
    assert answer.status_code == 200, answer.text
    return answer.json()


def fields(answer) -> set[str]:
    return {error["field"] for error in answer.json()["errors"]}


async def events(world) -> list[dict]:
    async with db.transaction(world.tenant.id, write=False):
        return (
            await AuditEvent.select()
            .where(AuditEvent.tenant == world.tenant.id, AuditEvent.action == "declass.settings")
            .order_by(AuditEvent.id)
            .output(load_json=True)
        )


async def stored(world) -> dict:
    async with db.transaction(world.tenant.id, write=False):
        return await tenants.settings_of(world.tenant)


async def test_defaults_and_the_offices_change(client):
    world = await make_world()
    api = await Api.of(client, world, "office", "officer", "leader")
    assert await shown(api) == DEFAULTS
    assert await shown(api, "officer") == DEFAULTS  # every reader of the register sees them

    answer = await change(api, {LEAD: 120, CONSULT: "45"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {LEAD: 120, CONSULT: 45, ESCALATE: 14}
    assert await shown(api, "leader") == {LEAD: 120, CONSULT: 45, ESCALATE: 14}
    assert (await change(api, {ESCALATE: 21})).json() == {LEAD: 120, CONSULT: 45, ESCALATE: 21}
    # the tenant's other settings are kept
    settings = await stored(world)
    assert settings["training_hours"] == tenants.DEFAULT_SETTINGS["training_hours"]
    assert (settings[LEAD], settings[CONSULT], settings[ESCALATE]) == (120, 45, 21)
    async with db.transaction(world.tenant.id, write=False):
        assert await review.lead_days(world.tenant) == 120
        assert await consultations.default_days(world.tenant) == 45
        assert await consultations.escalate_days(world.tenant) == 21

    # audited: what changed, before and after, on the tenant
    found = await events(world)
    assert [(e["object_type"], e["object_id"]) for e in found] == [("tenant", str(world.tenant.uuid))] * 2
    assert found[0]["detail"] == {"changed": {LEAD: [90, 120], CONSULT: [30, 45]}}
    assert found[1]["detail"] == {"changed": {ESCALATE: [14, 21]}}


async def test_out_of_bounds_refused_naming_the_field(client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    low = await change(api, {LEAD: 89})
    assert low.status_code == 422 and fields(low) == {LEAD}
    assert "90" in low.json()["errors"][0]["message"]
    for body, named in (
        ({LEAD: 366}, {LEAD}),
        ({LEAD: "soon"}, {LEAD}),
        ({LEAD: ""}, {LEAD}),
        ({CONSULT: 0}, {CONSULT}),
        ({CONSULT: 181}, {CONSULT}),
        ({ESCALATE: -1, CONSULT: 10}, {ESCALATE}),
        ({LEAD: 60, CONSULT: 200}, {LEAD, CONSULT}),
        ({}, {"body"}),  # a change changes something
    ):
        answer = await change(api, body)
        assert answer.status_code == 422 and fields(answer) == named, (body, answer.text)
    assert (await change(api, {"declass_colour": 1})).status_code in (400, 422)
    assert await shown(api) == DEFAULTS  # nothing written, nothing audited
    assert await events(world) == []
    assert (await change(api, {LEAD: 90, CONSULT: 1, ESCALATE: 180})).status_code == 200
    assert (await change(api, {LEAD: 365, CONSULT: 180, ESCALATE: 1})).status_code == 200


async def test_only_the_office_changes_them(client):
    world = await make_world()
    api = await Api.of(client, world, "office", "officer", "leader", "district", "inspector")
    for who in ("officer", "leader", "district", "inspector"):
        assert (await change(api, {LEAD: 120}, who)).status_code == 403
    assert (await api.get("inspector", PATH)).status_code == 403  # not a reader of the register
    async with db.transaction(world.tenant.id):
        officer = accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "officer"))
        with pytest.raises(Forbidden):
            await declass_settings.update_declass_settings(world.tenant, officer, {LEAD: 120})
    assert await shown(api) == DEFAULTS
    assert await events(world) == []


async def test_the_scan_follows_the_new_lead_time_and_another_tenant_keeps_its_own(client):
    world, other = await make_world(), await make_world("另一市保密局")
    api = await Api.of(client, world, "office")
    other_api = await Api.of(client, other, "office")
    day = today(world)
    item = await add_item(world, day + timedelta(days=100))
    elsewhere = await add_item(other, day + timedelta(days=100))
    assert (await scan(world, day))["reminded"] == 0  # 100 days out, lead 90: not yet
    assert (await change(api, {LEAD: 120})).status_code == 200
    assert (await scan(world, day))["reminded"] == 1
    assert [t["kind"] for t in await tasks_of(world, item)] == ["expiry"]

    # the other tenant: still the defaults, and its item 100 days out waits
    assert await shown(other_api) == DEFAULTS
    assert (await scan(other, day))["reminded"] == 0
    assert await tasks_of(other, elsewhere) == []
    assert await events(other) == []


async def test_two_changes_at_once_both_hold(env, client, make_client):
    world = await make_world()
    api = await Api.of(client, world, "office")
    other = Api(await make_client(), world, api.tokens)
    first, second = await asyncio.gather(change(api, {LEAD: 150}), change(other, {CONSULT: 60}))
    assert (first.status_code, second.status_code) == (200, 200)
    assert await shown(api) == {LEAD: 150, CONSULT: 60, ESCALATE: 14}
    assert len(await events(world)) == 2


async def test_values_written_past_the_check_read_within_bounds(env):
    world = await make_world()
    async with db.transaction(world.tenant.id):
        merged = await tenants.update_settings(world.tenant, {LEAD: 30, CONSULT: "x", ESCALATE: 5000})
        assert merged["training_hours"] and merged[LEAD] == 30
        assert await declass_settings.declass_settings(world.tenant) == {LEAD: 90, CONSULT: 30, ESCALATE: 180}
        await tenants.update_settings(world.tenant, {LEAD: 4000})
        assert await review.lead_days(world.tenant) == 365
        with pytest.raises(ValueError):
            await tenants.update_settings(world.tenant, {'x"], "y': 1})
    assert declass_settings.check_lead_days({LEAD: "120"}) == 120


async def test_the_page_shows_them_and_the_offices_form_changes_them(client, make_client):
    world = await make_world()
    url = f"/t/{world.slug}{PATH}"
    office = await make_client("10.9.9.4")
    await login(office, world.slug, "office")
    page = await office.get(url)
    assert page.status_code == 200 and f'action="{url}"' in page.text and 'value="90"' in page.text
    token = await csrf(office, url)
    values = {LEAD: "89", CONSULT: "30", ESCALATE: "14"}
    refused = await post_form(office, url, token, **values)
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text and 'value="89"' in refused.text
    done = await post_form(office, url, token, **{**values, LEAD: "120"})
    assert done.status_code == 303 and done.headers["location"] == f"{url}?saved=1"
    page = await office.get(done.headers["location"])
    assert 'role="status"' in page.text and 'value="120"' in page.text

    officer = await make_client("10.9.9.5")
    await login(officer, world.slug, "officer")
    seen = await officer.get(url)
    assert seen.status_code == 200 and "<dd>120</dd>" in seen.text and f'action="{url}"' not in seen.text
    assert (await post_form(officer, url, await csrf(officer, url), **values)).status_code == 403
    assert (await stored(world))[LEAD] == 120
