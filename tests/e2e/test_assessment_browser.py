"""The assessment in a browser: the office opens the year, a unit's secrecy officer
self-assesses on a phone with evidence, an assessor changes a score with a reason."""

from __future__ import annotations

from tests.e2e.conftest import sign_in
from tests.factories import make_world

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
MANUAL = ("R3", "C", "P", "N", "M", "D")


async def test_self_assessment_and_review(server, browser, tmp_path):
    world = await make_world()
    slug = world.slug
    unit = world.units["a_unit"]["id"]

    office = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await office.new_page()
    await sign_in(page, server, slug, "office")
    await page.click(f"nav.main a[href='/t/{slug}/assessments']")
    await page.wait_for_load_state()
    year = page.url.rstrip("/").rsplit("/", 1)[1]
    await page.click("form[action$='/open'] button")
    await page.wait_for_load_state()
    assert await page.locator("table tbody tr").count() == 3
    await office.close()

    phone = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = await phone.new_page()
    await sign_in(page, server, slug, "officer")
    await page.goto(f"{server}/t/{slug}/assessments/{year}")
    # an officer with one unit goes straight to it
    assert page.url.endswith(f"/assessments/{year}/units/{unit}")
    too_high = page.locator("#i-R3 form[action$='/self']")
    await too_high.locator("input[name=score]").fill("12")
    await too_high.locator("button").click()
    await page.wait_for_load_state()
    assert "10" in await page.locator("#i-R3 .error").inner_text()
    for code in MANUAL:
        form = page.locator(f"#i-{code} form[action$='/self']")
        await form.locator("input[name=score]").fill("9")
        await form.locator("input[name=note]").fill("会议纪要齐全")
        await form.locator("button").click()
        await page.wait_for_load_state()
    evidence = tmp_path / "纪要.png"
    evidence.write_bytes(PNG)
    upload = page.locator("#i-R3 form[action$='/evidence']")
    await upload.locator("input[type=file]").set_input_files(str(evidence))
    await upload.locator("button").click()
    await page.wait_for_load_state()
    assert "纪要.png" in await page.locator("#i-R3 ul.evidence").inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=str(tmp_path / "self.png"), full_page=True)
    await page.click("form[action$='/submit'] button")
    await page.wait_for_load_state()
    assert await page.locator("form[action$='/self']").count() == 0  # submitted: no more edits
    await phone.close()

    desk = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await desk.new_page()
    await sign_in(page, server, slug, "assessor")
    await page.goto(f"{server}/t/{slug}/assessments/{year}/units/{unit}")
    review = page.locator("#i-C form[action$='/review']")
    await review.locator("input[name=score]").fill("6")
    await review.locator("button").click()
    await page.wait_for_load_state()
    assert await page.locator("#i-C .error").count() == 1  # a changed score needs its reason
    review = page.locator("#i-C form[action$='/review']")
    await review.locator("input[name=score]").fill("6")
    await review.locator("input[name=reason]").fill("定密台账不完整")
    await review.locator("button").click()
    await page.wait_for_load_state()
    assert "定密台账不完整" in await page.locator("#i-C").inner_text()
    assert "6 / 10" in await page.locator("#i-C h3").inner_text()
    await page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    await desk.close()
