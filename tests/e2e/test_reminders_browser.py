"""A reminder in the leader's inbox, on a phone, leads straight to the notice to sign."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx

from server import db
from server.accounts import service as accounts
from server.reminders import dispatch, service
from server.responsibility import notices
from tests.e2e.conftest import sign_in
from tests.factories import make_world


async def test_leader_follows_a_reminder_from_the_inbox_to_the_notice(server, browser, env, tmp_path):
    from playwright.async_api import expect

    world = await make_world()
    async with db.transaction(world.tenant.id):
        office = accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "office"))
        await notices.issue(world.tenant, office, {"scope": "person", "person_id": world.people["a_lead"]["id"]})
    # eight days later, mid-morning in the bureau's zone: the "unsigned after 7 days" rule fires
    zone = ZoneInfo(world.tenant.timezone)
    later = datetime.combine(datetime.now(zone).date() + timedelta(days=8), time(10), zone).astimezone(UTC)
    await service.generate_once(world.tenant, env.settings, later)
    async with httpx.AsyncClient() as client:
        await dispatch.dispatch_tenant(world.tenant, env.settings, later, client)

    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await sign_in(page, server, world.slug, "leader")
    await expect(page.locator("a.inbox-link .badge")).to_be_visible()
    await page.click("a.inbox-link")
    await page.wait_for_load_state()
    # the notice, and whatever else falls due that day (training hours near the year's end)
    unread = await page.locator("ul.messages li.unread").count()
    await expect(page.locator("a.inbox-link .badge")).to_have_text(str(unread))
    message = page.locator("ul.messages li.unread", has_text="责任告知书待签署：李四")
    await expect(message).to_have_count(1)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=str(tmp_path / "inbox.png"), full_page=True)
    await message.locator("button.message-title").click()
    await page.wait_for_load_state()
    assert f"/t/{world.slug}/notices/" in page.url
    await page.goto(f"{server}/t/{world.slug}/inbox")
    await expect(page.locator("ul.messages li.unread")).to_have_count(unread - 1)
    assert "责任告知书待签署：李四" in await page.locator("ul.messages").inner_text()
    await context.close()
