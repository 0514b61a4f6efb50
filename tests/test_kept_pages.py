"""Dashboard pages kept as rendered (server.web.kept): sent again without a query or a
render while nothing changed, and never once anything did, to anyone else, in another
language, after the session ended, or after the moment a summary said it stops holding."""

from __future__ import annotations

from datetime import timedelta

import jinja2

from server.audit import summaries
from server.responsibility import notices
from tests.conftest import csrf_of, login
from tests.factories import make_world
from tests.test_assessment import actor_of, run


def counting(monkeypatch, template: str = "responsibility/coverage.html") -> list[int]:
    """Count the renders of a page's template: a kept answer renders nothing."""
    renders: list[int] = []
    original = jinja2.Template.render

    def counted(self, *args, **kwargs):
        if self.name == template:
            renders.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", counted)
    return renders


async def test_a_kept_page_is_sent_again_until_the_data_changes(make_client, monkeypatch):
    summaries.forget()
    world = await make_world()
    office = await make_client()
    await login(office, world.slug, "office")
    calls = counting(monkeypatch)
    url = f"/t/{world.slug}/coverage"

    first = await office.get(url)
    again = await office.get(url)
    assert first.status_code == again.status_code == 200
    assert again.text == first.text and len(calls) == 1  # the second answer was kept bytes
    assert again.headers["cache-control"] == "no-store"  # browsers still keep nothing
    assert world.units["b_unit"]["name"] in first.text  # its principal has no notice

    # the office issues notices (a write with its audit event): the page is rendered anew
    await run(world, notices.issue, await actor_of(world, "office"), {"scope": "all"})
    changed = await office.get(url)
    assert len(calls) == 2 and changed.text != first.text


async def test_each_session_language_and_tenant_has_its_own_page(make_client, monkeypatch):
    summaries.forget()
    world, other = await make_world(), await make_world("另一市保密局")
    office, district, elsewhere = await make_client(), await make_client(), await make_client()
    await login(office, world.slug, "office")
    await login(district, world.slug, "district")
    await login(elsewhere, other.slug, "office")
    calls = counting(monkeypatch)

    mine = await office.get(f"/t/{world.slug}/coverage")
    theirs = await district.get(f"/t/{world.slug}/coverage")
    foreign = await elsewhere.get(f"/t/{other.slug}/coverage")
    assert len(calls) == 3
    # each page carries its own session's form token and its own scope's figures
    assert csrf_of(mine.text) != csrf_of(theirs.text)
    assert world.units["b_unit"]["name"] in mine.text and world.units["b_unit"]["name"] not in theirs.text
    assert other.tenant.name in foreign.text and world.tenant.name not in foreign.text

    office.cookies.set("luzhi_lang", "en")
    english = await office.get(f"/t/{world.slug}/coverage")
    assert english.status_code == 200
    assert len(calls) == 4 and "Leaders without a notice" in english.text and english.text != mine.text


async def test_a_kept_page_is_not_sent_after_sign_out(make_client):
    summaries.forget()
    world = await make_world()
    office = await make_client()
    await login(office, world.slug, "office")
    url = f"/t/{world.slug}/coverage"
    assert (await office.get(url)).status_code == 200
    cookie = office.cookies.get("luzhi_session")
    token = csrf_of((await office.get(url)).text)
    assert (await office.post(f"/t/{world.slug}/logout", data={"_csrf": token})).status_code == 303

    stale = await office.get(url, headers={"cookie": f"luzhi_session={cookie}"})
    assert stale.status_code == 303 and "/login" in stale.headers["location"]


async def test_a_kept_page_holds_only_until_a_notice_turns_overdue(make_client, monkeypatch):
    summaries.forget()
    world = await make_world()
    await run(world, notices.issue, await actor_of(world, "office"), {"scope": "all"})
    office = await make_client()
    await login(office, world.slug, "office")
    calls = counting(monkeypatch)
    url = f"/t/{world.slug}/coverage"
    await office.get(url)
    await office.get(url)
    assert len(calls) == 1

    # fifteen days on (the sign days are 14), the same page must show them overdue; the
    # day is held still, so that only the moment the coverage named can tell
    same_day = summaries.today(world.tenant)
    later = summaries.now() + timedelta(days=15)
    monkeypatch.setattr(summaries, "today", lambda tenant: same_day)
    monkeypatch.setattr(summaries, "now", lambda: later)
    await office.get(url)
    assert len(calls) == 2


async def test_the_kept_home_page_follows_the_outbox(make_client, monkeypatch):
    """Mail goes out without an audit event: the office's home page holds its outbox
    counts in its key, so a delivery that changes them shows at once."""
    from server.reminders import service as reminders

    summaries.forget()
    world = await make_world()
    office = await make_client()
    await login(office, world.slug, "office")
    renders = counting(monkeypatch, "home.html")
    first = await office.get(f"/t/{world.slug}/")
    assert (await office.get(f"/t/{world.slug}/")).text == first.text and len(renders) == 1
    original = reminders.outbox_summary

    async def one_more_failed(*args, **kwargs):
        counts = await original(*args, **kwargs)
        return {**counts, "failed": counts["failed"] + 1}

    monkeypatch.setattr(reminders, "outbox_summary", one_more_failed)
    changed = await office.get(f"/t/{world.slug}/")
    assert changed.status_code == 200 and changed.text != first.text and len(renders) == 2
