"""Two issues of notices at the same moment leave each post exactly one live notice."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from server import db
from server.responsibility.notices import LIVE
from server.responsibility.tables import Notice
from tests.factories import make_world, token_for


async def live_per_post(world) -> Counter:
    async with db.transaction(world.tenant.id):
        rows = await Notice.select(Notice.post).where(Notice.tenant == world.tenant.id, Notice.status.is_in(LIVE))
    return Counter(r["post"] for r in rows)


@pytest.mark.parametrize("renew", [False, True])
async def test_two_issues_at_once_leave_one_live_notice_per_post(client, make_client, renew):
    world = await make_world()
    other = await make_client()
    for c in (client, other):
        c.headers["Authorization"] = "Bearer " + await token_for(world, "office")
    url = f"/api/v1/t/{world.slug}/notices/issue"
    if renew:  # both replace the notices already there
        assert (await client.post(url, json={"scope": "all"})).status_code == 201
    answers = await asyncio.gather(*(c.post(url, json={"scope": "all", "renew": renew}) for c in (client, other)))
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    issued = sorted(a.json()["issued"] for a in answers)
    assert issued == ([4, 4] if renew else [0, 4])
    live = await live_per_post(world)
    assert len(live) == 4 and set(live.values()) == {1}
