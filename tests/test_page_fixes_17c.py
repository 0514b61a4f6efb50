"""Rough edges from issue 17: forms offering only what the user may do, export labels."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl

from server import db, roles
from server.accounts.tables import User
from tests.conftest import csrf, login
from tests.factories import make_world
from tests.helpers import post_form
from tests.test_reminders import at, delivery_rows, issue, set_rules, step
from tests.test_roles import as_user


def offered_roles(html: str) -> set[str]:
    select = re.search(r'<select id="f-role" name="role".*?</select>', html, re.S)
    assert select, "no role choice on the form"
    return set(re.findall(r'<option value="([^"]+)"', select.group(0)))


async def test_account_forms_offer_only_the_roles_the_administrator_may_grant(make_client):
    world = await make_world()
    t = f"/t/{world.slug}"
    inspector_id = world.users["inspector"]["id"]
    for key, role in (("system_admin", roles.SYSTEM_ADMIN), ("office", roles.OFFICE_ADMIN)):
        c = await as_user(make_client, world, key)
        assert offered_roles((await c.get(f"{t}/admin/users/new")).text) == roles.creatable(role)
    for key, role in (("security_admin", roles.SECURITY_ADMIN), ("office", roles.OFFICE_ADMIN)):
        c = await as_user(make_client, world, key)
        assert offered_roles((await c.get(f"{t}/admin/users/{inspector_id}")).text) == roles.grantable(role)
    office = await as_user(make_client, world, "office")
    assert roles.SECURITY_ADMIN not in offered_roles((await office.get(f"{t}/admin/users/new")).text)


async def test_a_role_not_offered_is_still_refused(make_client):
    world = await make_world()
    t = f"/t/{world.slug}"
    office = await as_user(make_client, world, "office")
    token = await csrf(office, f"{t}/admin/users/new")
    refused = await post_form(office, f"{t}/admin/users", token, username="sneaky", role=roles.SECURITY_ADMIN)
    assert refused.status_code == 422 and 'id="role-error"' in refused.text
    async with db.transaction(world.tenant.id):
        assert not await User.exists().where(User.tenant == world.tenant.id, User.username == "sneaky")


async def test_outbox_export_labels_the_recipient_address_as_the_recipients(make_client):
    world = await make_world()
    async with db.transaction(world.tenant.id):
        await User.update({User.locale: "en"}).where(User.tenant == world.tenant.id, User.username == "office")
    office = await as_user(make_client, world, "office")
    export = await office.get(f"/t/{world.slug}/outbox.xlsx")
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).worksheets[0]
    header = [c.value for c in next(sheet.iter_rows())]
    assert header[3:5] == ["Recipient", "Recipient address"]


async def test_inbox_messages_read_as_sentences_with_a_button(env, client):
    world = await make_world()
    await set_rules(world, notice_unsigned={"days": 7, "repeat_days": 0, "escalate_after": 0})
    day = await issue(world)
    await step(world, env.settings, at(day + timedelta(days=7), 23, 0))
    message = (await delivery_rows(world, channel="inbox"))[0]
    assert "http" in message["body"]  # the mail's wording, link included, is kept
    await login(client, world.slug, "leader")
    page = (await client.get(f"/t/{world.slug}/inbox")).text
    item = re.search(r'<li class="card.*?</li>', page, re.S).group(0)
    visible = re.sub(r'(href|action)="[^"]*"', "", item)
    assert "http" not in visible and "/t/" not in visible
    assert "李四：李四" not in item and "李四（甲区财政局）的保密工作责任告知书" in item
    assert re.search(r"未签署。</p>", item)
    opener = f'action="/t/{world.slug}/inbox/{message["uuid"]}/open"'
    assert item.count(opener) == 2 and re.search(r"<button>阅读并签署|<button>Read and sign", item)
