"""Browser journeys in headless Chromium against a real server process."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.factories import make_world


async def test_office_admin_closes_a_coverage_gap(server, browser, tmp_path):
    world = await make_world()
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await sign_in(page, server, world.slug, "office")
    assert page.url.endswith(f"/t/{world.slug}/")
    await page.click(f"a[href='/t/{world.slug}/units?gap=no_secrecy_lead']")
    await page.wait_for_load_state()
    rows = page.locator("#results tbody tr")
    assert await rows.count() == 3
    await page.click("text=乙区财政局")
    await page.wait_for_load_state()
    assert await page.locator(".badge.warn").count() >= 1
    await page.click("text=添加人员")
    await page.fill("#f-name", "孙八")
    await page.select_option("#f-position", "secrecy_lead")
    await page.click("form[action$='/people'] button")
    await page.wait_for_load_state()
    assert await page.locator("h1").inner_text() == "孙八"
    await page.click("text=乙区财政局")
    await page.wait_for_load_state()
    assert "无分管保密工作领导" not in await page.locator("h1 + p").inner_text()
    await page.screenshot(path=str(tmp_path / "unit.png"), full_page=True)
    await context.close()


async def test_live_search_updates_the_list_in_place(server, browser):
    from playwright.async_api import expect

    world = await make_world()
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, server, world.slug, "office")
    await page.goto(f"{server}/t/{world.slug}/people")
    assert await page.locator("#results tbody tr").count() == 4
    await page.fill("#f-q", "赵六")
    # CSP forbids eval, so wait with Playwright's own polling rather than wait_for_function
    await expect(page.locator("#results tbody tr")).to_have_count(1)
    assert "q=" in page.url
    await context.close()


async def test_leader_portal_fits_a_phone(server, browser, tmp_path):
    world = await make_world()
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await sign_in(page, server, world.slug, "leader")
    assert page.url.endswith(f"/t/{world.slug}/me")
    text = await page.locator("main").inner_text()
    assert "李四" in text and "甲区财政局" in text
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    await page.screenshot(path=str(tmp_path / "portal.png"))
    await context.close()


async def test_leader_reads_and_signs_a_notice_on_a_phone(server, browser, tmp_path):
    from server import db
    from server.accounts import service as accounts
    from server.responsibility import notices

    world = await make_world()
    async with db.transaction(world.tenant.id):
        office = accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "office"))
        await notices.issue(world.tenant, office, {"scope": "all"})
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await sign_in(page, server, world.slug, "leader")
    await page.click("a.card.task >> nth=0")
    await page.wait_for_load_state()
    assert "组织制定本单位保密工作制度" in await page.locator("article.notice-body").inner_text()
    await page.fill("#f-password", PASSWORD)
    await page.click("form[action$='/sign'] button")
    await page.wait_for_load_state()
    code = await page.locator("dl.kv strong").inner_text()
    assert len(code) == 9 and code[4] == "-"
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=str(tmp_path / "signed.png"), full_page=True)
    await page.goto(f"{server}/t/{world.slug}/me")
    portal = await page.locator("main").inner_text()
    assert "已签署的告知书" in portal and "目前没有待办事项" not in portal  # the confirmation is still due
    await context.close()
