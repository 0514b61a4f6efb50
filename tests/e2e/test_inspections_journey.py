"""Issue 14's journey in a browser: the office opens a round and forms a team of four; an
inspector records the unit on a tablet (every area of the checklist, the must-interviews,
a device sample, a finding with a deadline) and finalises it once nothing is missing; the
unit's officer hands in the rectification on a phone; another member of the team verifies it.

Screenshots of every page land in the test's tmp dir; each page is checked to fit its
screen (tables too, without scrolling sideways) and to offer touch targets of at least
40 px."""

from __future__ import annotations

from datetime import timedelta

from server import db
from server.accounts import service as accounts
from server.inspections import devices
from server.units import service as units
from tests.e2e.conftest import signed_in_page
from tests.e2e.test_assessment_browser import PNG
from tests.factories import make_user, make_world

# screens in the bureau: a tablet on site, the officer's phone; browsers set to Chinese
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True, "locale": "zh-CN"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
# what a finger has to hit in the page's main part, when shown (radios and checkboxes by their label)
TARGETS = (
    "main button, main .button, main select, main textarea, main summary, main nav.tabs a, main .choices label,"
    " main .actions a, main input:not([type=hidden]):not([type=radio]):not([type=checkbox])"
)
SMALL_TARGETS = f"""() => [...document.querySelectorAll({TARGETS!r})]
  .filter(e => e.getClientRects().length && e.getBoundingClientRect().height < 40)
  .map(e => e.outerHTML.slice(0, 120))"""
# tables whose columns run past their frame (to be scrolled to)
CUT_TABLES = "() => [...document.querySelectorAll('.table-wrap')].filter(e => e.scrollWidth > e.clientWidth).length"
DEVICES = (
    ("computer", "ZC-001 办公室计算机", "张三"),
    ("computer", "ZC-002 财务科计算机", "王芳"),
    ("mailbox", "caizheng@example.cn", "李四"),
)


async def _seed(world) -> None:
    """Four inspector accounts and the unit's device register, as its officer keeps it."""
    for n in range(1, 5):
        await make_user(world.tenant, f"insp{n}", "inspector", display_name=f"检查员{n}")
    async with db.transaction(world.tenant.id):
        officer = accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, "officer"))
        for kind, label, holder in DEVICES:
            data = {"kind": kind, "label": label, "holder": holder, "classified": False}
            await devices.create_device(world.tenant, officer, world.units["a_unit"]["id"], data)


async def _go(page, action) -> None:
    """Do what leaves the page (a click, a submit) and wait for the next one to load."""
    async with page.expect_navigation():
        await action


async def _looked_at(page, shots, name: str) -> None:
    """The page fits its screen's width and every control is big enough to touch; a shot of it."""
    await page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    width = page.viewport_size["width"]
    assert await page.evaluate("document.documentElement.scrollWidth") <= width, name
    assert await page.evaluate(CUT_TABLES) == 0, name
    assert await page.evaluate(SMALL_TARGETS) == [], name


async def _office_opens_the_round(browser, server, slug: str, today) -> str:
    """The office opens a round over one unit, forms the team and sets the visit; the round's URL."""
    context, page = await signed_in_page(browser, server, slug, "office")
    await page.goto(f"{server}/t/{slug}/inspections")
    await page.fill("#f-name", "第八轮巡察")
    await page.fill("#f-starts_on", (today - timedelta(days=1)).isoformat())
    await page.fill("#f-ends_on", (today + timedelta(days=30)).isoformat())
    await page.locator(".unit-picker label", has_text="甲区财政局").locator("input").check()
    await _go(page, page.click("form[action$='/inspections/rounds'] button"))
    assert "/inspections/rounds/" in page.url
    round_url = page.url
    await page.fill("#f-name", "一组")
    await page.select_option("#f-leader_user_id", label="检查员1")
    for n in (1, 2, 3):
        await page.select_option(f"#f-member_{n}", label=f"检查员{n + 1}")
    await _go(page, page.click("form[action$='/teams'] button"))
    assert await page.locator("#teams + .card li").count() == 4
    row = page.locator("#units ~ form tbody tr", has_text="甲区财政局")
    await row.locator("select").select_option(label="一组")
    await row.locator("input[type=date]").fill(today.isoformat())
    await _go(page, page.click("form[action$='/assignments'] > button"))
    row = page.locator("#units ~ form tbody tr", has_text="甲区财政局")
    assert await row.locator("select option:checked").inner_text() == "一组"
    await context.close()
    return round_url


async def _record_checklist(page, base: str, shots) -> None:
    """Every item of every area: C2 fails, the rest pass; saved area by area."""
    await _go(page, page.click(f"nav.tabs a[href='{base}/checklist']"))
    for code in ("R", "C", "P", "N", "M", "D"):
        area = page.locator(f"#area-{code}")
        for item in await area.locator("fieldset[id^=item-]").all():
            result = "fail" if await item.get_attribute("id") == "item-C2" else "pass"
            await item.locator(f".choices label:has(input[value={result}])").click()
        if code == "C":
            await area.locator("textarea[name='note.C2']").fill("抽查文件三份，其中一份未标密级")
        await _go(page, area.locator("form[action$='/checklist/" + code + "'] > button").click())
        assert await page.locator(f"#area-{code} h2 .badge.ok").count() == 1
    await _looked_at(page, shots, "2-checklist")


async def _record_interviews(page, base: str, shots) -> None:
    """The unit's principal is interviewed; its classified secrecy lead is away and waived."""
    await _go(page, page.click(f"nav.tabs a[href='{base}/interviews']"))
    assert await page.locator("section.card[id^=p-]").count() == 2
    held = page.locator("section.card[id^=p-]", has_text="张三")
    await held.locator("details:has(textarea[name=summary]) > summary").click()
    await held.locator("textarea[name=summary]").fill("了解班子履行保密责任情况，无涉密内容")
    await _go(page, held.locator("form:has(textarea[name=summary]) button").click())
    waived = page.locator("section.card[id^=p-]", has_text="李四")
    await waived.locator("details:has(input[name=waived_reason]) > summary").click()
    await waived.locator("input[name=waived_reason]").fill("外出学习，不在单位")
    await _go(page, waived.locator("form:has(input[name=waived_reason]) button").click())
    assert await page.locator(".alert.ok").count() == 1  # everyone interviewed or waived
    await _looked_at(page, shots, "3-interviews")


async def _record_technical(page, base: str, today: str, shots) -> None:
    """Two of the three devices drawn; the first clean, the second a violation stopped from use."""
    await _go(page, page.click(f"nav.tabs a[href='{base}/technical']"))
    await page.fill("#draw-size", "2")
    await _go(page, page.click("#draw button"))
    drawn = page.locator("section.card[id^=d-]")
    assert await drawn.count() == 2
    first, second = drawn.nth(0), drawn.nth(1)
    await first.locator("textarea[name=note]").fill("未发现涉密信息")
    await _go(page, first.locator("button[value=clean]").click())
    await second.locator("textarea[name=note]").fill("存有标密文件两份")
    await _go(page, second.locator("button[value=violation]").click())
    stop = page.locator("section.card[id^=d-]").nth(1).locator("details[id$='-order_stop_use']")
    await stop.locator("summary").click()
    await stop.locator("input[name=since]").fill(today)
    await _go(page, stop.locator("form button").click())
    assert await page.locator("section.card[id^=d-] .card").count() == 1  # the measure
    await _looked_at(page, shots, "4-technical")


async def _record_finding(page, base: str, deadline: str, shots) -> str:
    """A major finding on C2, to be rectified by the deadline; the finding's URL."""
    await _go(page, page.click(f"nav.tabs a[href='{base}/findings']"))
    await page.select_option("#f-item", "C2")
    await page.locator("fieldset:has(input[name=severity]) label:has(input[value=major])").click()
    await page.fill("#f-description", "一份涉密文件未标明密级和保密期限")
    await page.locator("fieldset:has(input[name=mode]) label:has(input[value=deadline])").click()
    await page.fill("#f-deadline", deadline)
    await _looked_at(page, shots, "5-finding-form")
    await _go(page, page.click("#new > button"))
    assert "/findings/" in page.url
    await _looked_at(page, shots, "6-finding")
    return page.url


async def _finalising_refused(page, base: str, shots) -> None:
    """With the technical check still to do, the overview lists it and its button is off."""
    await _go(page, page.click(f"nav.tabs a[href='{base}']"))
    gaps = page.locator("#finalise .alert.warn li")
    assert await gaps.count() == 1
    assert await page.locator("#finalise button").is_disabled()
    await _looked_at(page, shots, "1b-overview-refused")
    # sent regardless of the button, the server refuses too and comes back to the same list
    await _go(page, page.locator("#finalise form").evaluate("form => form.submit()"))
    assert page.url.endswith("#finalise")
    assert await gaps.count() == 1


async def test_an_inspection_from_round_to_verified_rectification(server, browser, tmp_path):
    world = await make_world()
    slug = world.slug
    await _seed(world)
    today = units.today(world.tenant)
    round_url = await _office_opens_the_round(browser, server, slug, today)

    tablet, page = await signed_in_page(browser, server, slug, "insp1", **TABLET)
    await _go(page, page.click(f"nav.main a[href='/t/{slug}/inspections']"))
    await _go(page, page.click(f"a[href='{round_url.removeprefix(server)}']"))
    await _looked_at(page, tmp_path, "0-round")
    await _go(page, page.click("#units ~ form a:has-text('甲区财政局')"))
    base = page.url.removeprefix(server)
    assert await page.locator("#finalise .alert.warn li").count() == 8  # six areas, interviews, sample
    await _looked_at(page, tmp_path, "1-overview")
    await _record_checklist(page, base, tmp_path)
    await _record_interviews(page, base, tmp_path)
    await _finalising_refused(page, base, tmp_path)
    await _record_technical(page, base, today.isoformat(), tmp_path)
    finding_url = await _record_finding(page, base, (today + timedelta(days=14)).isoformat(), tmp_path)
    await page.goto(server + base)
    assert await page.locator("#finalise .alert.warn").count() == 0
    await _go(page, page.click("#finalise button"))
    assert await page.locator("#finalise .badge.ok").count() == 1
    await _looked_at(page, tmp_path, "7-finalised")
    await tablet.close()

    phone, page = await signed_in_page(browser, server, slug, "officer", **PHONE)
    await _go(page, page.click(f"nav.main a[href='/t/{slug}/findings']"))
    await _looked_at(page, tmp_path, "8-officer-findings")
    await _go(page, page.click(f"a[href='{finding_url.removeprefix(server)}']"))
    await page.fill("#f-rect-note", "已补标密级和保密期限，并组织全员学习定密规定")
    photo = tmp_path / "整改照片.png"
    photo.write_bytes(PNG)
    await page.set_input_files("#f-rect-files", str(photo))
    await _looked_at(page, tmp_path, "9-rectification-form")
    await _go(page, page.click("#rectification > button"))
    assert "整改照片.png" in await page.locator("ul.evidence").inner_text()
    assert await page.locator("#rectification").count() == 0
    await _looked_at(page, tmp_path, "10-submitted")
    await phone.close()

    tablet, page = await signed_in_page(browser, server, slug, "insp2", **TABLET)
    await page.goto(finding_url)
    await page.fill("#f-verdict-note", "现场核对整改材料，属实")
    await _go(page, page.click("#verify button[value='1']"))
    assert await page.locator("h1 + p .badge.ok").count() == 1  # verified (it may still be reopened)
    assert await page.locator("#verify button[value='1']").count() == 0
    await _looked_at(page, tmp_path, "11-verified")
    await _go(page, page.click("p.crumbs a:nth-of-type(2)"))
    assert await page.locator("table .badge.ok").count() == 1  # the finding: verified
    await _looked_at(page, tmp_path, "12-unit-findings")
    await tablet.close()
