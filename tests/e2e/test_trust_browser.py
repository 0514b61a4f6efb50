"""Browser journeys of the three separated administrators."""

from __future__ import annotations

import io

import openpyxl

from tests.conftest import login
from tests.e2e.conftest import signed_in_page
from tests.factories import make_world


async def test_the_security_admin_activates_what_the_system_admin_created(server, browser, make_client, tmp_path):
    world = await make_world()
    context, page = await signed_in_page(browser, server, world.slug, "systemadmin")
    await page.goto(f"{server}/t/{world.slug}/admin/users/new")
    await page.fill("#f-username", "Wangjun")
    await page.select_option("#f-role", "inspector")
    await page.click("form[action$='/admin/users'] button")
    await page.wait_for_load_state()
    assert "安全保密管理员激活" in await page.locator(".alert.ok").inner_text()
    temporary = (await page.locator(".alert.ok .token").inner_text()).strip()
    await page.screenshot(path=str(tmp_path / "created.png"), full_page=True)
    # the system admin has no activate button: that is someone else's job
    assert await page.locator("form[action$='/activate']").count() == 0
    await context.close()

    newcomer = await make_client()
    assert (await login(newcomer, world.slug, "wangjun", temporary)).status_code == 400

    context, page = await signed_in_page(browser, server, world.slug, "securityadmin")
    await page.goto(f"{server}/t/{world.slug}/admin/users")
    row = page.locator("tr", has_text="wangjun")
    assert "待激活" in await row.inner_text()
    await row.locator("a").first.click()
    await page.wait_for_load_state()
    await page.click("form[action$='/activate'] button")
    await page.wait_for_load_state()
    assert await page.locator("form[action$='/activate']").count() == 0
    await page.screenshot(path=str(tmp_path / "activated.png"), full_page=True)
    await context.close()

    # activated, the newcomer signs in and must first choose their own password
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = await context.new_page()
    await page.goto(f"{server}/t/{world.slug}/login")
    await page.fill("#f-username", "wangjun")
    await page.fill("#f-password", temporary)
    await page.click("form[action$='/login'] button")
    await page.wait_for_load_state()
    assert page.url.endswith("/account/password")
    await page.fill("#f-current_password", temporary)
    await page.fill("#f-new_password", "Wang-Jun-Own-2026")
    await page.click("form[action$='/account/password'] button")
    await page.wait_for_load_state()
    assert page.url.endswith(f"/t/{world.slug}/")
    await context.close()


async def test_the_audit_admin_filters_and_exports_the_trail(server, browser, tmp_path):
    world = await make_world()
    context, page = await signed_in_page(browser, server, world.slug, "office")
    await page.goto(f"{server}/t/{world.slug}/units/new")
    await page.fill("#f-name", "审计演示单位")
    await page.click("form[action$='/units'] button")
    await page.wait_for_load_state()
    await context.close()

    context, page = await signed_in_page(browser, server, world.slug, "auditadmin", accept_downloads=True)
    await page.goto(f"{server}/t/{world.slug}/audit")
    await page.fill("#f-actor", "office")
    await page.click("form.filters button")
    await page.wait_for_load_state()
    rows = page.locator("table tbody tr")
    assert await rows.count() >= 1
    texts = [await rows.nth(i).inner_text() for i in range(await rows.count())]
    assert all("office" in text for text in texts)
    await page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
    async with page.expect_download() as info:
        await page.click("a[href*='/audit/export.xlsx']")
    download = await info.value
    book = openpyxl.load_workbook(io.BytesIO((await download.path()).read_bytes()))
    cells = [str(c.value) for row in book.active.iter_rows() for c in row if c.value]
    assert "office" in cells and "auditadmin" not in cells
    await context.close()
