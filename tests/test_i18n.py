"""Every user-facing string goes through Babel; Chinese first, English second."""

from __future__ import annotations

import subprocess
import sys

from babel.messages.pofile import read_po

from server.settings import ROOT
from tests.conftest import csrf, csrf_of, login
from tests.factories import make_world


def test_every_message_in_the_code_has_a_chinese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "locale/babel.cfg",
            "-k",
            "_l",
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            "-o",
            str(pot),
            "--no-location",
            "server",
            "templates",
            "tenants",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    with (ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else all(m.string))
    }
    assert len(wanted) > 200
    assert sorted(wanted - translated) == []


async def test_pages_are_chinese_by_default_and_english_per_user(client, make_client):
    world = await make_world()
    await login(client, world.slug, "office")
    page = await client.get(f"/t/{world.slug}/units")
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in page.text and "单位" in page.text
    token = await csrf(client, f"/t/{world.slug}/account")
    chosen = await client.post(
        f"/t/{world.slug}/account/locale", data={"_csrf": token, "locale": "en", "next": f"/t/{world.slug}/units"}
    )
    assert chosen.status_code == 303 and chosen.headers["location"] == f"/t/{world.slug}/units"
    english = await client.get(f"/t/{world.slug}/units")
    assert '<html lang="en">' in english.text and "Leaders" in english.text
    refused = await client.post(
        f"/api/v1/t/{world.slug}/units", json={"name": "", "kind": "municipal"}, headers={"X-CSRF-Token": token}
    )
    assert refused.json()["errors"][0]["message"] == "Name is required."

    # the preference belongs to the user: a new browser signs in and gets English
    other = await make_client()
    await login(other, world.slug, "office")
    assert '<html lang="en">' in (await other.get(f"/t/{world.slug}/units")).text
    # and another user of the same tenant still reads Chinese
    third = await make_client()
    await login(third, world.slug, "district")
    assert '<html lang="zh-CN">' in (await third.get(f"/t/{world.slug}/units")).text


async def test_validation_messages_are_translated_and_name_the_field(client):
    world = await make_world()
    await login(client, world.slug, "office")
    token = await csrf(client, f"/t/{world.slug}/people/new")
    refused = await client.post(
        f"/api/v1/t/{world.slug}/people",
        json={"name": "", "unit_id": "x", "position": "staff"},
        headers={"X-CSRF-Token": token},
    )
    messages = {e["field"]: e["message"] for e in refused.json()["errors"]}
    assert messages["name"] == "姓名为必填项。"
    assert "单位" in messages["unit_id"]


async def test_anonymous_visitors_choose_a_language_with_a_cookie(client):
    world = await make_world()
    page = await client.get(f"/t/{world.slug}/login")
    assert "登录" in page.text
    chosen = await client.post(
        "/locale", data={"_csrf": csrf_of(page.text), "locale": "en", "next": f"/t/{world.slug}/login"}
    )
    assert chosen.status_code == 303
    assert "Sign in" in (await client.get(f"/t/{world.slug}/login")).text
