"""Issue 15's journey in a browser: a unit's officer imports two items of its register from
Excel; the day's expiry scan opens a review task for the one whose term ends within the
lead time; the officer proposes to declassify and publish it; the unit's principal
approves on a phone; the item then shows on the tenant's public page, read with no
session at all, with its public fields only.

Screenshots of every page land in the test's tmp dir; each page is checked to fit its
screen (tables too) and to offer touch targets of at least 40 px."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from openpyxl import Workbook

from server import db
from server.declassification import review
from server.units import service as units
from tests.e2e.conftest import signed_in_page
from tests.e2e.test_inspections_journey import PHONE, _go, _looked_at
from tests.factories import make_user, make_world

DESK = {"locale": "zh-CN"}
# the item whose term ends within the lead time, and one ending years later
SOON = "CZ-2025-017"
LATER = "CZ-2025-018"
SOON_TITLE = "甲区财政局年度预算编制说明"
# what the register holds and the public side must never show
SCOPE = "局党组成员及预算科长（知悉范围甲）"
BASIS = "财政工作国家秘密范围的规定第七条（定密依据乙）"
DECISION_BASIS = "预算已向社会公开，不再需要保密"


def _workbook(today) -> bytes:
    """Two items as a unit's officer types them, its own unit left blank."""
    book = Workbook()
    sheet = book.active
    sheet.append(["编号", "名称（非涉密）", "密级", "定密日期", "保密期限", "知悉范围", "定密方式", "定密依据"])
    sheet.append(
        [SOON, SOON_TITLE, "秘密", today - timedelta(days=3 * 365), today + timedelta(days=80), SCOPE, "原始", BASIS]
    )
    sheet.append(
        [
            LATER,
            "甲区财政局内部审计工作方案",
            "机密",
            today - timedelta(days=365),
            "10年",
            "局领导班子",
            "原始",
            "财政工作国家秘密范围的规定第三条",
        ]
    )
    out = BytesIO()
    book.save(out)
    return out.getvalue()


async def _officer_imports(browser, server, slug: str, today, shots) -> None:
    """From the hub to the register, to the import page; the file checked, then applied."""
    context, page = await signed_in_page(browser, server, slug, "officer", **DESK)
    await _go(page, page.click(f"nav.main a[href='/t/{slug}/declassification']"))
    await _looked_at(page, shots, "1-hub")
    await _go(page, page.click(f"main ul.links a[href='/t/{slug}/classified-items']"))
    assert await page.locator("tbody a[href*='/classified-items/']").count() == 0
    await _looked_at(page, shots, "2-register-empty")
    await _go(page, page.click(f"main a[href='/t/{slug}/classified-items/imports']"))
    await _looked_at(page, shots, "3-import")
    book = shots / "定密事项.xlsx"
    book.write_bytes(_workbook(today))
    await page.set_input_files("#f-file", str(book))
    await _go(page, page.click("form[action$='/classified-items/imports'] button"))
    assert "/classified-items/imports/" in page.url
    rows = page.locator("main table").last.locator("tbody tr")
    assert await rows.count() == 2
    assert SOON in await rows.nth(0).inner_text()
    await _looked_at(page, shots, "4-preview")
    await _go(page, page.click("form[action$='/apply'] button"))
    assert "added=2" in page.url
    assert await page.locator(".alert.ok").count() == 1
    await _looked_at(page, shots, "5-applied")
    await _go(page, page.click(".alert.ok a"))
    assert await page.locator("tbody a[href*='/classified-items/']").count() == 2
    await _looked_at(page, shots, "6-register")
    await context.close()


async def _officer_proposes(browser, server, slug: str, shots) -> None:
    """The review task of the item ending soon (and none of the other), its item, the
    proposal to declassify it whole and publish it."""
    context, page = await signed_in_page(browser, server, slug, "officer", **DESK)
    await page.goto(f"{server}/t/{slug}/declassification")
    await _go(page, page.click(f"a.stat[href='/t/{slug}/declassification/tasks']"))
    tasks = page.locator("main table tbody tr")
    assert await tasks.count() == 1
    assert SOON in await tasks.inner_text()
    await _looked_at(page, shots, "7-tasks")
    await _go(page, tasks.locator("a", has_text=SOON).click())
    assert await page.locator("h1").inner_text() == SOON
    assert SCOPE in await page.locator("main").inner_text()  # the unit sees its own register in full
    await _looked_at(page, shots, "8-item")
    await _go(page, page.click("#decisions a.button"))
    assert page.url.endswith("/decisions/new")
    await page.select_option("#f-decision", "declassify")
    await page.fill("#f-basis", DECISION_BASIS)
    await page.locator("input[name=publish]").check()
    await _looked_at(page, shots, "9-propose")
    await _go(page, page.click("#propose > button"))
    assert "/decisions/" in page.url and not page.url.endswith("/new")
    assert await page.locator("#approve").count() == 0  # the proposer does not approve
    await _looked_at(page, shots, "10-proposed")
    await context.close()


async def _principal_approves(browser, server, slug: str, shots) -> None:
    """On a phone: the hub's tile of what waits, the decision, approved."""
    context, page = await signed_in_page(browser, server, slug, "principal", **PHONE)
    await _go(page, page.click(f"nav.main a[href='/t/{slug}/declassification']"))
    tile = page.locator(f"a.stat[href='/t/{slug}/declassification/approvals']")
    assert await tile.locator(".n").inner_text() == "1"
    await _looked_at(page, shots, "11-principal-hub")
    await _go(page, tile.click())
    await _looked_at(page, shots, "12-approvals")
    await _go(page, page.locator("main table").first.locator("a", has_text=SOON).click())
    assert DECISION_BASIS in await page.locator("main").inner_text()
    await _looked_at(page, shots, "13-decision")
    await _go(page, page.click("#approve button"))
    assert await page.locator("h1 + p .badge.ok").count() >= 1  # approved
    assert await page.locator("#approve").count() == 0
    await _looked_at(page, shots, "14-approved")
    await context.close()


async def _public_reads(browser, server, slug: str, today, shots) -> None:
    """No account, no cookie: the public page and its JSON list the item with its public
    fields alone; the item still classified is not there."""
    context = await browser.new_context(**PHONE)
    assert await context.cookies() == []
    page = await context.new_page()
    await page.goto(f"{server}/t/{slug}/public/declassified")
    assert page.url == f"{server}/t/{slug}/public/declassified"  # not sent to sign in
    assert await page.locator("header a[href$='/logout'], nav.main").count() == 0
    row = page.locator("main table tbody tr")
    assert await row.count() == 1
    assert SOON in await row.inner_text() and SOON_TITLE in await row.inner_text()
    html = await page.content()
    for hidden in (LATER, SCOPE, BASIS, DECISION_BASIS):
        assert hidden not in html, hidden
    await _looked_at(page, shots, "15-public")
    answer = await context.request.get(f"{server}/t/{slug}/public/declassified.json")
    assert answer.ok
    body = await answer.json()
    assert body["total"] == 1
    (entry,) = body["items"]
    assert entry["reference"] == SOON and entry["public_title"] == SOON_TITLE
    assert entry["unit"] == "甲区财政局" and entry["declassified_on"] == today.isoformat()
    assert not entry["withdrawn"]
    text = await answer.text()
    for hidden in (LATER, SCOPE, BASIS, DECISION_BASIS):
        assert hidden not in text, hidden
    await context.close()


async def test_an_item_from_import_to_the_public_page(server, browser, tmp_path):
    world = await make_world()
    slug = world.slug
    await make_user(world.tenant, "principal", "leader", person_id=world.people["a_principal"]["id"])
    today = units.today(world.tenant)

    await _officer_imports(browser, server, slug, today, tmp_path)
    async with db.transaction(world.tenant.id):  # the scheduler's daily scan
        found = await review.scan(world.tenant, units.today(world.tenant))
    assert found["reminded"] == 1
    await _officer_proposes(browser, server, slug, tmp_path)
    await _principal_approves(browser, server, slug, tmp_path)
    # the day of the approval, which may be the next one when the journey crosses midnight
    await _public_reads(browser, server, slug, units.today(world.tenant), tmp_path)
