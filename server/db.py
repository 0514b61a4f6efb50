"""Engine choice (SQLite by default, PostgreSQL by URL), table binding and transactions.

Every database access of a request runs inside one transaction opened at the edge
(see web/edge.py); on PostgreSQL that transaction carries the tenant as a
per-transaction setting which the row-level security policies compare with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import cache
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

from server.settings import Settings

# the Piccolo apps, each with its tables and migrations (server.piccolo_conf hands the
# same list to Piccolo's own tooling)
APPS = (
    "tenants.piccolo_app",
    "server.units.piccolo_app",
    "server.accounts.piccolo_app",
    "server.audit.piccolo_app",
    "server.responsibility.piccolo_app",
    "server.training.piccolo_app",
    "server.assessment.piccolo_app",
    "server.inspections.piccolo_app",
    "server.declassification.piccolo_app",
    "server.reminders.piccolo_app",
)

_engine: Engine | None = None
# whether the open transaction was begun as read-only (what may be served from memory)
_read_only: ContextVar[bool] = ContextVar("luzhi_read_only", default=False)


def sqlite_path(url: str) -> str:
    # sqlite:///relative or sqlite:////absolute, as SQLAlchemy spells it
    return url.split("sqlite:///", 1)[1]


def app_dsn(settings: Settings) -> str:
    """The owner's URL with the application role's name (and password, if set) instead."""
    url = urlsplit(settings.database_url)
    user = quote(settings.db_app_role, safe="")
    if settings.db_app_password:
        user += ":" + quote(settings.db_app_password, safe="")
    return urlunsplit(url._replace(netloc=f"{user}@{url.netloc.rpartition('@')[2]}"))


def make_engine(settings: Settings, *, as_owner: bool = False) -> Engine:
    """The engine for the configured database.

    On PostgreSQL the application logs in as its own role, which is no superuser, has
    no BYPASSRLS and owns no tables, so the row-level security policies apply to every
    query it makes; migrations run as the owner of the URL.
    """
    if settings.is_postgres:
        url = settings.database_url if as_owner else app_dsn(settings)
        config: dict = {"dsn": url.replace("postgresql://", "postgres://", 1)}
        config["database"] = urlsplit(url).path.lstrip("/")
        if as_owner:
            # policies are forced on the owner as well: a migration that reads or writes
            # rows they would filter fails instead of silently missing them (an owner
            # with BYPASSRLS, or a superuser, is not affected)
            config["server_settings"] = {"row_security": "off"}
        return PostgresEngine(config=config, extensions=())
    path = sqlite_path(settings.database_url)
    return SQLiteEngine(path=path, timeout=30)


@cache
def app_registry() -> AppRegistry:
    # on first use, not at import: the apps' tables import this module
    return AppRegistry(apps=list(APPS))


def all_tables() -> list[type[Table]]:
    return [t for app in app_registry().app_configs.values() for t in app.table_classes]


def bind(engine: Engine) -> None:
    """Point every table at this engine (instead of Piccolo's global lookup)."""
    global _engine
    _engine = engine
    for table in all_tables():
        table._meta.db = engine


def engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database engine not bound; call server.db.bind() first")
    return _engine


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


class _PooledConnection(asyncpg.Connection):
    """Not reset when the pool takes it back (asyncpg's RESET ALL, UNLISTEN, CLOSE ALL and
    advisory unlock: a round trip each request, ~5 % of a kept page's cost): nothing here
    leaves state in a session. Settings are transaction-local (set_config(..., true)), locks
    transaction-scoped, nothing listens, and every transaction names its tenant as it begins
    (Transaction.begin). An open transaction is still rolled back on release."""

    def get_reset_query(self) -> str:
        return ""


async def open_pool() -> None:
    if isinstance(_engine, PostgresEngine) and _engine.pool is None:
        await _engine.start_connection_pool(min_size=1, max_size=10, connection_class=_PooledConnection)


async def close_pool() -> None:
    if isinstance(_engine, PostgresEngine) and _engine.pool is not None:
        await _engine.close_connection_pool()


def contains(column, text: str):
    """Case-insensitive substring match (ILIKE on PostgreSQL; SQLite's LIKE already is)."""
    pattern = "%" + text.replace("%", "").replace("\x00", "") + "%"
    return column.ilike(pattern) if is_postgres() else column.like(pattern)


async def ping() -> None:
    await engine().run_querystring(QueryString("SELECT 1"))


class Transaction:
    """A transaction whose end (commit or rollback) the caller decides."""

    def __init__(self, tenant_id: int | None, write: bool, *, session_hash: str | None = None) -> None:
        self.tenant_id = tenant_id
        self.write = write
        # the web session this transaction may see (reveal_session), named as it begins
        self.session_hash = session_hash
        self._tx = None

    async def begin(self) -> None:
        _read_only.set(not self.write)
        eng = engine()
        if isinstance(eng, SQLiteEngine):
            # IMMEDIATE takes the write lock up front: a deferred transaction that
            # later writes can fail with SQLITE_BUSY instead of waiting.
            kind = TransactionType.immediate if self.write else TransactionType.deferred
            self._tx = eng.transaction(transaction_type=kind)
            await self._tx.__aenter__()
        else:
            self._tx = eng.transaction()
            await self._tx.__aenter__()
            # both settings in one statement: each is a round trip on every request
            tenant = ("luzhi.tenant", "" if self.tenant_id is None else str(self.tenant_id))
            await _set_locals(tenant, *((("luzhi.session", self.session_hash),) if self.session_hash else ()))
            _revealed.set(self.session_hash)

    async def end(self, commit: bool) -> None:
        _read_only.set(False)
        _revealed.set(None)
        tx, self._tx = self._tx, None
        if tx is None:
            return
        if commit:
            await tx.__aexit__(None, None, None)
        else:
            await tx.rollback()
            await tx.__aexit__(None, None, None)


# the session hash the open transaction was begun with (Transaction.begin)
_revealed: ContextVar[str | None] = ContextVar("luzhi_revealed_session", default=None)


def read_only() -> bool:
    """Whether the open transaction was begun as read-only (a safe request)."""
    return _read_only.get() and engine().current_transaction.get() is not None


async def set_tenant(tenant_id: int | None) -> None:
    """Tell the row-level security policies which tenant this transaction serves."""
    await _set_locals(("luzhi.tenant", "" if tenant_id is None else str(tenant_id)))


async def reveal_session(key_hash: str) -> None:
    """Let this transaction see the web session of this key hash whatever its tenant
    (the caller's own: the edge finds it before it knows whether it fits the URL)."""
    if _revealed.get() != key_hash:  # else named as the transaction began
        await _set_locals(("luzhi.session", key_hash))


async def _set_locals(*settings: tuple[str, str]) -> None:
    tx = engine().current_transaction.get()
    if tx is None or not is_postgres():
        return
    calls = ", ".join(f"set_config(${2 * i + 1}, ${2 * i + 2}, true)" for i in range(len(settings)))
    await tx.connection.execute(f"select {calls}", *(part for setting in settings for part in setting))


@asynccontextmanager
async def transaction(tenant_id: int | None, *, write: bool = True) -> AsyncIterator[None]:
    """A transaction of its own, for work outside a request (CLI, scheduler, tests)."""
    tx = Transaction(tenant_id, write)
    await tx.begin()
    try:
        yield
    except BaseException:
        await tx.end(commit=False)
        raise
    await tx.end(commit=True)


def unique_violation(exc: BaseException) -> bool:
    """Whether a write was refused by a unique index (asyncpg's error, or sqlite3's)."""
    name = type(exc).__name__
    return name == "UniqueViolationError" or (name == "IntegrityError" and "UNIQUE" in str(exc))


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """All-or-nothing for a multi-table write: a savepoint inside the request's
    transaction, so a failure leaves nothing behind even when the caller goes on."""
    tx = engine().current_transaction.get()
    if tx is None:
        raise RuntimeError("atomic() needs an open transaction")
    savepoint = await tx.savepoint()
    try:
        yield
    except BaseException:
        await savepoint.rollback_to()
        raise
    await savepoint.release()
