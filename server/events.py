"""A small in-process event hub: a domain announces that something changed and the
domains that must react subscribe, so that no import points upward (responsibility and
training never import assessment). Handlers run in the publisher's transaction: what
they write commits, or rolls back, with the change itself."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from tenants.service import TenantRef

# a leader's signature, confirmation or waiver, training hours, a post taken or left:
# the inputs of the automatic indicators, named by the people (and units) they concern
INDICATOR_INPUTS = "indicator_inputs"
# a user's sessions must end (password reset, account switched off, second factor reset):
# the session store subscribes, whichever store it is; payload: user_id
SESSIONS_ENDED = "sessions_ended"

Handler = Callable[..., Awaitable[None]]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str, handler: Handler) -> None:
    if handler not in _handlers[name]:
        _handlers[name].append(handler)


async def publish(name: str, tenant: TenantRef, **payload: Any) -> None:
    for handler in _handlers[name]:
        await handler(tenant, **payload)
