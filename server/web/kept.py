"""Dashboard pages kept as rendered, per session, until the tenant's data moves.

The pages whose route has the option `kept` (KEPT below) read only the tenant's own
rows, every change of which leaves an audit event (see server.audit.summaries), so their
bytes are a function of the tenant's data version, the day, the URL, the language and
the session (whose CSRF token and account they show). The edge asks this memory after it
has identified the reader and before the handler runs: a page already rendered for that
key is sent as it was, without a query or a render; otherwise the handler's 200 answer
is kept for next time, until the earliest moment one of its summaries said it stops
being true.

Browsers are still told not to store pages (`no-store`: a shared office computer must
not show a secrecy register after sign-out), so this is a server-side memory, not HTTP
caching; no conditional GET.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from litestar.types import Message, Scope, Send

from server.actor import Actor
from server.audit import summaries
from server.core import i18n
from tenants.service import TenantRef

# rendered bytes kept per worker process
MAX_BYTES = 64 * 1024 * 1024
# the route option of a page that may be kept: it reads nothing but the tenant's rows, the
# day and the session. A page that also shows something that changes without an audit
# event names it instead with `opt={"kept": stamp}`: `await stamp(tenant, actor)` joins
# its key (the home page's outbox of the last seven days: mail leaves no audit event).
KEPT = {"kept": True}


@dataclass
class Page:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    until: datetime | None


class KeptPages:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.pages: OrderedDict[tuple, Page] = OrderedDict()

    async def key(self, scope: Scope, tenant: TenantRef, actor: Actor, session_key: str) -> tuple:
        version = await summaries.data_version(tenant)
        reader = hashlib.sha256(session_key.encode()).digest()  # the key itself is not kept around
        hx = any(name == b"hx-request" for name, _value in scope["headers"])
        return (
            tenant,  # the whole reference: a name the operator changed shows at once
            version,
            summaries.today(tenant),
            i18n.get_locale(),
            reader,
            actor.password_days_left,  # the layout's warning counts down by the hour it was set
            scope["path"],
            scope.get("query_string", b""),
            hx,
        )

    def get(self, key: tuple) -> Page | None:
        page = self.pages.get(key)
        if page is None:
            return None
        if page.until is not None and summaries.now() >= page.until:
            self._drop(key)
            return None
        self.pages.move_to_end(key)
        return page

    def put(self, key: tuple, page: Page) -> None:
        if key in self.pages:
            self._drop(key)
        self.pages[key] = page
        self.size += len(page.body)
        while self.size > self.max_bytes and self.pages:
            self._drop(next(iter(self.pages)))

    def _drop(self, key: tuple) -> None:
        self.size -= len(self.pages.pop(key).body)


class Recorder:
    """The ASGI send of a page being rendered: passes every message on and keeps a copy."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"set-cookie"]
        elif message["type"] == "http.response.body":
            self.body.append(message.get("body", b""))
        await self.send(message)

    def page(self, until: datetime | None) -> Page:
        return Page(self.status, self.headers, b"".join(self.body), until)


async def replay(page: Page, send: Send, cookie_headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": page.status, "headers": page.headers + cookie_headers})
    await send({"type": "http.response.body", "body": page.body, "more_body": False})
