"""Browser journey: an office admin whose bureau requires a second factor enrols an
authenticator on a phone-sized screen, then signs in again with a code."""

from __future__ import annotations

from server import db
from server.accounts import policy
from tests.conftest import PASSWORD, SYSTEM
from tests.e2e.conftest import sign_in
from tests.factories import make_world
from tests.test_twofactor import code, steady


async def test_office_admin_enrols_and_signs_in_with_a_code(server, browser, tmp_path):
    world = await make_world()
    async with db.transaction(world.tenant.id):
        await policy.update_policy(world.tenant, SYSTEM, {"totp_admins": True})
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = await context.new_page()

    # the password alone leads to the enrolment page and nowhere else
    await sign_in(page, server, world.slug, "office")
    assert page.url.endswith(f"/t/{world.slug}/account/twofactor")
    assert await page.locator("svg.qr").count() == 1
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    secret = (await page.locator("#totp-secret").inner_text()).replace(" ", "")
    await page.screenshot(path=str(tmp_path / "enrol.png"), full_page=True)

    steady()
    await page.fill("#f-code", code(secret, -1))
    await page.fill("#f-password", PASSWORD)
    await page.click("form[action$='/account/twofactor/enable'] button")
    await page.wait_for_load_state()
    assert await page.locator("#recovery-codes li").count() == 10

    await page.click("form[action$='/logout'] button")
    await page.wait_for_load_state()
    await sign_in(page, server, world.slug, "office")
    assert page.url.endswith(f"/t/{world.slug}/login/twofactor")
    await page.fill("#f-code", code(secret))
    await page.click("form[action$='/login/twofactor'] button")
    await page.wait_for_load_state()
    assert page.url.endswith(f"/t/{world.slug}/")
    # signed in for real: the restricted page is behind and the overview opens
    await page.goto(f"{server}/t/{world.slug}/units")
    assert page.url.endswith(f"/t/{world.slug}/units")
    await context.close()
