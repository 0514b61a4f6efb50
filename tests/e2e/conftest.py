"""Browser journeys: a real server process, headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from server.settings import ROOT
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(env):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env={**env.env, "LUZHI_HOST": "127.0.0.1"},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("server did not start: " + process.stderr.read().decode()[-2000:])
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    # shutdown waits for the PDF workers' warm-up (WeasyPrint and the CJK fonts loading),
    # which on a busy machine outlasts 10 s; the start above is given 20 s alike
    process.wait(timeout=30)


@pytest.fixture
async def browser():
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium must be installed under CI=true")
        pytest.skip("chromium not installed")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


async def sign_in(page, base: str, slug: str, username: str) -> None:
    await page.goto(f"{base}/t/{slug}/login")
    await page.fill("#f-username", username)
    await page.fill("#f-password", PASSWORD)
    await page.click("form[action$='/login'] button")
    await page.wait_for_load_state()


async def signed_in_page(browser, base: str, slug: str, username: str, **options):
    """A new browser context (a desk's screen unless `options` say otherwise) and its page,
    signed in as `username`."""
    context = await browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
    page = await context.new_page()
    await sign_in(page, base, slug, username)
    return context, page
