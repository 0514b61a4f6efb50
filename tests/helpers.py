"""Small helpers the test modules share (the fixtures are in conftest.py, the data in factories.py)."""

from __future__ import annotations

import asyncio
import hashlib

import httpx


def digest(data: bytes) -> str:
    """What to compare documents by: on a failure pytest would diff two PDFs for minutes."""
    return hashlib.sha256(data).hexdigest()


async def post_form(client: httpx.AsyncClient, path: str, token: str, **fields: str) -> httpx.Response:
    """A form posted as the browser posts it: its fields and the page's CSRF token."""
    return await client.post(path, data={"_csrf": token, **fields})


def both_pass(monkeypatch, module, name: str) -> None:
    """Two racing calls both get past `module.name` before either goes on: it answers, then
    waits for the other caller (10 s at most)."""
    barrier, original = asyncio.Barrier(2), getattr(module, name)

    async def both_looked(*args):
        found = await original(*args)
        await asyncio.wait_for(barrier.wait(), 10)
        return found

    monkeypatch.setattr(module, name, both_looked)
