"""Small rough edges of the pages a clerk meets: attributes, download names, buttons, labels."""

from __future__ import annotations

from urllib.parse import quote

from server import db
from server.assessment import cycle
from server.core.i18n import translations
from server.responsibility import notices
from server.responsibility.tables import Notice
from server.settings import ROOT
from server.units import service as units
from tests.conftest import SYSTEM, login
from tests.factories import make_unit, make_world


async def run(world, fn, *args, **kwargs):
    """One service call in its own transaction, as one request would run it."""
    async with db.transaction(world.tenant.id):
        return await fn(world.tenant, *args, **kwargs)


async def test_the_scheme_editor_takes_decimal_points(client):
    world = await make_world()
    year = units.today(world.tenant).year
    if await run(world, cycle.scheme_detail, year) is None:
        await run(world, cycle.create_scheme, SYSTEM, year)
    await login(client, world.slug, "office")
    page = await client.get(f"/t/{world.slug}/assessments/{year}/scheme")
    assert page.status_code == 200
    assert 'name="indicators.0.points" type="number"' in page.text
    assert 'step="0.01" min="0"' in page.text
    assert 'step="\\"' not in page.text and "step=&#34;" not in page.text and "&#34;0.01" not in page.text


async def test_the_notice_pdf_is_named_by_title_person_and_year(client):
    world = await make_world()
    person = world.people["a_lead"]
    await run(world, notices.issue, SYSTEM, {"scope": "person", "person_id": person["id"]})
    async with db.transaction(world.tenant.id):
        notice = await Notice.select(Notice.uuid, Notice.year).where(Notice.person.uuid == person["id"]).first()
    await login(client, world.slug, "office")
    pdf = await client.get(f"/t/{world.slug}/notices/{notice['uuid']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    name = f"保密工作责任告知书-李四-{notice['year']}.pdf"
    assert pdf.headers["content-disposition"] == f"inline; filename=\"notice.pdf\"; filename*=UTF-8''{quote(name)}"


async def test_a_unit_page_offers_deleting_only_when_the_unit_can_be_deleted(client):
    world = await make_world()
    empty = await make_unit(world.tenant, "市教育局办公室", "subunit", parent=world.units["city"])
    await login(client, world.slug, "office")
    t = f"/t/{world.slug}/units"

    page = (await client.get(f"{t}/{empty['id']}")).text
    assert f'action="{t}/{empty["id"]}/delete"' in page and "删除此单位" in page
    assert "不能删除" not in page and "cannot be deleted" not in page

    with_people = (await client.get(f"{t}/{world.units['a_unit']['id']}")).text
    assert "/delete" not in with_people and "删除此单位" not in with_people
    assert "该单位仍有在任人员，请先结束其任职。" in with_people

    with_children = (await client.get(f"{t}/{world.units['city']['id']}")).text
    assert "删除此单位" not in with_children
    assert "该单位仍有下属单位，请先移走或删除。" in with_children


async def test_the_notice_template_title_is_labelled_as_the_notice_title(client):
    world = await make_world()
    await login(client, world.slug, "office")
    page = (await client.get(f"/t/{world.slug}/notice-templates?position=principal")).text
    label = page.split('<label for="f-title">', 1)[1].split("<", 1)[0].strip()
    # 标题 once the catalog has the msgid; never the person's 职务
    assert label == translations("zh_CN").gettext("Notice title") and label != "职务"


async def test_every_layout_links_the_favicon_and_it_is_served(client):
    icon = await client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg") and "</svg>" in icon.text
    link = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
    world = await make_world()
    assert link in (await client.get(f"/t/{world.slug}/login")).text  # signed out
    public = await client.get(f"/t/{world.slug}/public/declassified")
    assert public.status_code == 200 and link in public.text  # a tenant's public layout
    await login(client, world.slug, "office")
    assert link in (await client.get(f"/t/{world.slug}/units")).text
    # and every page layout of its own (PDFs have no tab to show it in)
    layouts = [p for p in (ROOT / "templates").rglob("*.html") if "<head" in p.read_text() and p.parent.name != "pdf"]
    assert len(layouts) >= 3 and all(link in p.read_text() for p in layouts)
