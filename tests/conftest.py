"""The whole suite runs once per database: SQLite always, PostgreSQL when reachable
(and under CI=true it must be). The app is the real one; data is built through the
services, as users build it."""

from __future__ import annotations

import os

# cheap password hashing: the suite creates hundreds of accounts (set before server imports)
os.environ.setdefault("LUZHI_ARGON2_TIME_COST", "1")
os.environ.setdefault("LUZHI_ARGON2_MEMORY_KIB", "1024")

import hashlib
import re
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from server import db
from server.actor import Actor
from server.settings import ROOT, Settings

# `make test` runs the suite in two processes (pytest-xdist): each its own databases
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_NO = int(WORKER.removeprefix("gw") or 0)
# one database per checkout (and worker), so two clones can run their suites side by side
PG_URL = os.environ.get(
    "LUZHI_TEST_PG_URL",
    f"postgresql://postgres@127.0.0.1:5432/luzhi_test_{hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]}",
) + (f"_{WORKER}" if WORKER else "")
# the Redis session store's tests: a database number of its own on the local server
REDIS_URL = os.environ.get("LUZHI_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - WORKER_NO}")
PASSWORD = "Correct-Horse-42"
SYSTEM = Actor.system("tests")


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _redis_reachable() -> bool:
    url = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Env:
    kind: str
    settings: Settings
    env: dict[str, str]
    app: object


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SMTP_PORT = _free_port()


class Mailbox:
    """A real SMTP server (aiosmtpd) keeping what the app sends."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _environment(kind: str, var_dir: Path) -> dict[str, str]:
    url = f"sqlite:///{var_dir / 'test.sqlite3'}" if kind == "sqlite" else PG_URL
    return {
        **os.environ,
        "LUZHI_DATABASE_URL": url,
        "LUZHI_VAR_DIR": str(var_dir),
        "LUZHI_SECRET_KEY": "test-secret-key",
        "LUZHI_SCHEDULER": "0",
        "LUZHI_SMTP_HOST": "127.0.0.1",
        "LUZHI_SMTP_PORT": str(SMTP_PORT),
        "LUZHI_MAIL_FROM": "luzhi@test.example",
        "PICCOLO_CONF": "server.piccolo_conf",
    }


def _drop_pg_database() -> None:
    import asyncio

    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres")
        try:
            name = PG_URL.rsplit("/", 1)[1]
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            await conn.close()

    asyncio.run(drop())


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def env(request, tmp_path_factory) -> Env:
    kind = request.param
    if kind == "postgres":
        if not _pg_reachable():
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail("PostgreSQL must be reachable on 127.0.0.1:5432 under CI=true")
            pytest.skip("PostgreSQL not reachable")
    var_dir = tmp_path_factory.mktemp(kind)
    environment = _environment(kind, var_dir)
    if kind == "postgres":
        await _run_sync(_drop_pg_database)
    # migrations run as the operator would run them: the CLI, in its own process
    subprocess.run(  # noqa: ASYNC221 - once per session, before anything else runs
        [sys.executable, "-m", "server.cli", "migrate"],
        env=environment,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    os.environ.update({k: v for k, v in environment.items() if k.startswith("LUZHI_")})
    from server.app import create_app

    settings = Settings.from_env(environment)
    app = create_app(settings)
    await db.open_pool()
    yield Env(kind, settings, environment, app)
    await db.close_pool()


async def _run_sync(fn) -> None:
    import anyio

    await anyio.to_thread.run_sync(fn)


@pytest.fixture
def redis_url() -> str:
    """A Redis to talk to: skipped when none runs here, a failure under CI=true (.ci/run starts one)."""
    if not _redis_reachable():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis must be reachable at {REDIS_URL} under CI=true")
        pytest.skip(f"Redis not reachable at {REDIS_URL} (set LUZHI_TEST_REDIS_URL or start redis-server)")
    return REDIS_URL


@pytest.fixture(scope="session")
def mailbox():
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
async def client(env):
    transport = httpx.ASGITransport(app=env.app, client=("10.1.2.3", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        yield c


@pytest.fixture
async def make_client(env):
    """More browsers (other users, other addresses) in one test."""
    clients = []

    async def make(address: str = "10.9.9.9") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=env.app, client=(address, 4000))
        c = httpx.AsyncClient(transport=transport, base_url="https://testserver")
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.aclose()


def new_slug() -> str:
    return "t" + uuid.uuid4().hex[:12]


def csrf_of(html: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


async def login(client: httpx.AsyncClient, slug: str, username: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get(f"/t/{slug}/login")
    if page.status_code == 303:  # already signed in: the form is on no page, the token on every page
        page = await client.get(page.headers["location"])
    return await client.post(
        f"/t/{slug}/login", data={"_csrf": csrf_of(page.text), "username": username, "password": password}
    )


async def csrf(client: httpx.AsyncClient, path: str) -> str:
    """The CSRF token a signed-in browser would find on a page."""
    return csrf_of((await client.get(path)).text)
