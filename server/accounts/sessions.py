"""Server-side sessions shared by every worker. The cookie holds a random id; the store
keeps its hash. SessionStore is what a session means (idle and absolute timeouts, a new
id at every sign-in, revocation of a user's sessions); it is kept in the database (here)
or, when LUZHI_REDIS_URL is set, in a Litestar key/value store (server.web.sessions)."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from server import db
from server.accounts.passwords import sha256
from server.accounts.tables import WebSession
from server.settings import Settings

COOKIE = "luzhi_session"
# last-seen is written at most this often, so reads stay reads
TOUCH_SECONDS = 60


@dataclass
class Session:
    key: str
    tenant_id: int | None = None
    user_id: int | None = None
    operator_id: int | None = None
    created: float = field(default_factory=time.time)
    seen: float = field(default_factory=time.time)
    # (key/value stores) the user's generation when the session began; a later one revokes it
    generation: str | None = None


class SessionStore:
    def __init__(self, settings: Settings) -> None:
        self.idle = settings.session_idle_minutes * 60
        self.absolute = settings.session_absolute_hours * 3600

    def hash_to_reveal(self, key: str | None) -> str | None:
        """What the request's transaction must name as it begins for fetch(key) to find the
        session (db.reveal_session; None: nothing)."""
        return None

    def expired(self, session: Session) -> bool:
        now = time.time()
        return now - session.seen > self.idle or now - session.created > self.absolute

    async def fetch(self, key: str | None) -> Session | None:
        """The stored session of a cookie value, expired or not (the caller decides)."""
        if not key or len(key) > 100:
            return None
        return await self._get(sha256(key), key)

    async def create(self, *, tenant_id=None, user_id=None, operator_id=None) -> Session:
        session = Session(key=secrets.token_urlsafe(32), tenant_id=tenant_id, user_id=user_id, operator_id=operator_id)
        await self._put(session)
        return session

    async def touch(self, session: Session) -> None:
        now = time.time()
        if now - session.seen >= TOUCH_SECONDS:
            session.seen = now
            await self._touch(session)

    async def _get(self, key_hash: str, key: str) -> Session | None:
        raise NotImplementedError

    async def _put(self, session: Session) -> None:
        raise NotImplementedError

    async def _touch(self, session: Session) -> None:
        raise NotImplementedError

    async def delete(self, key: str) -> None:
        raise NotImplementedError

    async def delete_for_user(self, user_id: int) -> None:
        raise NotImplementedError


class DatabaseSessionStore(SessionStore):
    """On PostgreSQL row-level security shows a transaction its tenant's sessions (or,
    without a tenant, the operators'); a session is found by its key whatever its
    tenant because the store names the hash of that key first (db.reveal_session).

    Not a Litestar store: the rows are the tenant's, under row-level security, and the
    scheduler purges each tenant's expired ones (a key/value store has no tenant); the
    memory and file stores would not be shared by workers on several hosts."""

    def hash_to_reveal(self, key: str | None) -> str | None:
        return sha256(key) if key and len(key) <= 100 and db.is_postgres() else None

    @asynccontextmanager
    async def _revealed(self, key_hash: str) -> AsyncIterator[None]:
        if not db.is_postgres() or db.engine().current_transaction.get() is not None:
            await db.reveal_session(key_hash)
            yield
            return
        # a setting lasts one transaction (the edge touches a session after the request's)
        async with db.transaction(None):
            await db.reveal_session(key_hash)
            yield

    async def _get(self, key_hash: str, key: str) -> Session | None:
        async with self._revealed(key_hash):
            # every request asks: one fixed statement, not a query built each time
            rows = await WebSession.raw(
                'SELECT tenant, "user", operator, created_at, last_seen_at FROM web_sessions WHERE key_hash = {}',
                key_hash,
            )
        if not rows:
            return None
        row = rows[0]
        return Session(
            key=key,
            tenant_id=row["tenant"],
            user_id=row["user"],
            operator_id=row["operator"],
            created=row["created_at"].timestamp(),
            seen=row["last_seen_at"].timestamp(),
        )

    async def _put(self, session: Session) -> None:
        # (not revealed: the policy lets a transaction create sessions of its own tenant only)
        await WebSession.insert(
            WebSession(
                key_hash=sha256(session.key),
                tenant=session.tenant_id,
                user=session.user_id,
                operator=session.operator_id,
                created_at=datetime.fromtimestamp(session.created, UTC),
                last_seen_at=datetime.fromtimestamp(session.seen, UTC),
            )
        )

    async def _touch(self, session: Session) -> None:
        key_hash = sha256(session.key)
        async with self._revealed(key_hash):
            await WebSession.update({WebSession.last_seen_at: datetime.fromtimestamp(session.seen, UTC)}).where(
                WebSession.key_hash == key_hash
            )

    async def delete(self, key: str) -> None:
        key_hash = sha256(key)
        async with self._revealed(key_hash):
            await WebSession.delete().where(WebSession.key_hash == key_hash)

    async def delete_for_user(self, user_id: int) -> None:
        await WebSession.delete().where(WebSession.user == user_id)

    async def purge_expired(self) -> int:
        """Expired sessions of the transaction's tenant (or, without one, the operators'):
        row-level security shows one tenant's sessions at a time, so the scheduler calls
        this once per tenant."""
        now = time.time()
        idle_cut = datetime.fromtimestamp(now - self.idle, UTC)
        abs_cut = datetime.fromtimestamp(now - self.absolute, UTC)
        rows = (
            await WebSession.delete()
            .where((WebSession.last_seen_at < idle_cut) | (WebSession.created_at < abs_cut))
            .returning(WebSession.id)
        )
        return len(rows)
