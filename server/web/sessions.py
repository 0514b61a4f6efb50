"""Sessions in a Litestar key/value store (Redis, when LUZHI_REDIS_URL is set) under the
same SessionStore as the database's; make_store picks the app's."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict

from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from redis.asyncio import Redis

from server import events
from server.accounts.passwords import sha256
from server.accounts.sessions import DatabaseSessionStore, Session, SessionStore
from server.settings import Settings
from tenants.service import TenantRef

# the name of the sessions' store in the app's registry
STORE = "sessions"


class KeyValueSessionStore(SessionStore):
    """Each session a record under its key's hash, expiring when idle.

    A key/value store cannot list a user's sessions, so revoking them all gives the user
    a new generation instead, and a record begun under an earlier one is no session. It
    is a random value, not a counter: revoking writes without reading, so no two
    revocations or a revocation and a touch can undo each other."""

    def __init__(self, settings: Settings, records: Store) -> None:
        super().__init__(settings)
        self.records = records

    async def _get(self, key_hash: str, key: str) -> Session | None:
        raw = await self.records.get(key_hash)
        if raw is None:
            return None
        session = Session(key=key, **json.loads(raw))
        if session.user_id and session.generation != await self._generation(session.user_id):
            return None
        return session

    async def _put(self, session: Session) -> None:
        if session.user_id:
            session.generation = await self._generation(session.user_id)
        await self._write(session)

    async def _touch(self, session: Session) -> None:
        # the generation the session was read with: a revocation since then still holds
        await self._write(session)

    async def _write(self, session: Session) -> None:
        data = asdict(session)
        key = data.pop("key")
        await self.records.set(sha256(key), json.dumps(data), expires_in=self.idle)

    async def delete(self, key: str) -> None:
        await self.records.delete(sha256(key))

    async def delete_for_user(self, user_id: int) -> None:
        # kept without expiry: one short value per user whose sessions were ever revoked
        await self.records.set(_user(user_id), secrets.token_urlsafe(16))

    async def _generation(self, user_id: int) -> str | None:
        raw = await self.records.get(_user(user_id))
        return raw.decode() if raw is not None else None


def _user(user_id: int) -> str:
    # beside the records' 64-hex-digit keys, never equal to one
    return f"user:{user_id}"


class RedisSessionStore(KeyValueSessionStore):
    """Litestar's RedisStore, under the keys the sessions have always had (luzhi:session:<hash>)."""

    def __init__(self, settings: Settings) -> None:
        self.redis = Redis.from_url(settings.redis_url)
        super().__init__(settings, RedisStore(self.redis, namespace="luzhi:session", handle_client_shutdown=True))


# the store of the app this process serves: a user's sessions end there (events.SESSIONS_ENDED)
_current: SessionStore | None = None


def make_store(settings: Settings, stores: StoreRegistry) -> SessionStore:
    """The database's sessions, or Redis's when LUZHI_REDIS_URL is set; a Litestar store
    goes into the app's registry, whose lifespan closes it."""
    global _current
    if not settings.redis_url:
        _current = DatabaseSessionStore(settings)
        return _current
    sessions = RedisSessionStore(settings)
    stores.register(STORE, sessions.records)
    _current = sessions
    return sessions


async def end_sessions(tenant: TenantRef, *, user_id: int) -> None:
    """A password reset, a switched-off account or a reset second factor: the user's
    sessions end, in the publisher's transaction for the database store."""
    if _current is not None:
        await _current.delete_for_user(user_id)


events.subscribe(events.SESSIONS_ENDED, end_sessions)
