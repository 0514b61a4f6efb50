"""Dashboards whose cost follows what changed, not the bureau's size.

A summary (the coverage of a scope, a year's training, the assessment overview) is a
function of the tenant's data, the day, the reader's scope and language. Every state
change leaves an audit event in its own transaction and claims the next positions of
the tenant's chain (`audit_heads.seq`, under the chain's row lock), so that seq is the
tenant's data version, committed with the change it counts. A summary is computed once
per (tenant, version, day, scope, language, arguments) in each worker process and served
from memory until one of them moves, or until the moment the computation itself said its
answer stops being true (`valid_until`: a notice turns overdue at 14:00).

Why this rather than summary tables kept by every write: exactly right by construction
(a write that does not leave an audit event breaks a rule older than this module, and
the equivalence test catches it), writes pay nothing, and no table or migration has to
follow each new indicator. The price: the first read after a change recomputes.

Only read-only transactions use the memory: a summary read inside a writing transaction
may see that transaction's own uncommitted changes, which a rollback would make false.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from server import db
from server.actor import Actor
from server.audit import chain
from server.audit.tables import AuditHead
from server.core.i18n import get_locale
from tenants.service import TenantRef

P = ParamSpec("P")
R = TypeVar("R")

# entries per worker process; a dashboard reads a few, a scope a few more
MAX_ENTRIES = 512

_memory: OrderedDict[tuple, tuple[Any, datetime | None]] = OrderedDict()
# the summaries being computed now, for the requests that ask for the same meanwhile
_running: dict[tuple, asyncio.Future] = {}
# the earliest moment the summaries being computed stop being true (None: not before a change)
_until: ContextVar[list[datetime] | None] = ContextVar("luzhi_summary_until", default=None)
# the data version read once per transaction: (transaction, tenant id, version)
_version: ContextVar[tuple[object, int, int] | None] = ContextVar("luzhi_summary_version", default=None)
_enabled: ContextVar[bool] = ContextVar("luzhi_summaries_enabled", default=True)


def valid_until(moment: datetime | None) -> None:
    """Say, while computing a summary, that its answer holds until `moment` (UTC) only."""
    bounds = _until.get()
    if bounds is not None and moment is not None:
        bounds.append(moment)


@contextmanager
def fresh() -> Iterator[None]:
    """Compute every summary from the data, neither reading nor keeping the memory."""
    token = _enabled.set(False)
    try:
        yield
    finally:
        _enabled.reset(token)


def enabled() -> bool:
    """Whether memory may be used here (not inside `fresh()`)."""
    return _enabled.get()


def forget() -> None:
    """Empty this process's memory (tests that count computations)."""
    _memory.clear()


async def data_version(tenant: TenantRef) -> int:
    """The tenant's audit chain head: moves with every committed state change."""
    tx = db.engine().current_transaction.get()
    known = _version.get()
    if tx is not None and known is not None and known[:2] == (tx, tenant.id):
        return known[2]
    rows = await AuditHead.raw("SELECT seq FROM audit_heads WHERE chain = {}", chain.chain_key(tenant.id))
    version = rows[0]["seq"] if rows else 0
    _version.set((tx, tenant.id, version))
    return version


def now() -> datetime:
    return datetime.now(UTC)


def today(tenant: TenantRef) -> date:
    """The tenant's day, by the same clock as the summaries' moments."""
    return now().astimezone(_zone(tenant.timezone)).date()


@contextmanager
def collecting() -> Iterator[list[datetime]]:
    """The moments the summaries read inside this block say they hold until."""
    bounds: list[datetime] = []
    token = _until.set(bounds)
    try:
        yield bounds
    finally:
        _until.reset(token)


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _reader(actor: Actor) -> tuple:
    """What of the reader a summary may depend on: the role and the scope, not the name."""
    return (actor.role, actor.scope_unit_id, actor.scope_path, actor.person_id)


def _key_part(value: Any) -> Any:
    return ("actor", _reader(value)) if isinstance(value, Actor) else value


def _usable() -> bool:
    return enabled() and db.read_only()


async def _compute(key: tuple, fn: Callable[..., Awaitable[Any]], tenant: TenantRef, args, kwargs) -> tuple:
    running = _running[key] = asyncio.get_running_loop().create_future()
    try:
        with collecting() as bounds:
            value = await fn(tenant, *args, **kwargs)
    except BaseException:
        running.cancel()  # whoever waits computes it themselves
        raise
    finally:
        _running.pop(key, None)
    hit = (value, min(bounds, default=None))
    running.set_result(hit)
    _memory[key] = hit
    while len(_memory) > MAX_ENTRIES:
        _memory.popitem(last=False)
    return hit


def kept(name: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Keep an async `fn(tenant, *args)`'s result per tenant data version and day.
    The result is shared by every reader with the same key: callers must not change it."""

    def wrap(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @functools.wraps(fn)
        async def summary(tenant: TenantRef, *args: Any, **kwargs: Any) -> R:
            if not _usable():
                return await fn(tenant, *args, **kwargs)
            version = await data_version(tenant)
            key = (
                name,
                tenant,  # the whole reference: its id, and its time zone and name as they are now
                version,
                today(tenant),
                get_locale(),
                tuple(map(_key_part, args)),
                tuple(sorted((k, _key_part(v)) for k, v in kwargs.items())),
            )
            if (hit := _memory.get(key)) is not None and (hit[1] is None or now() < hit[1]):
                _memory.move_to_end(key)
            elif (running := _running.get(key)) is not None and running.get_loop() is asyncio.get_running_loop():
                # the same summary is being computed for another request: wait for it
                # rather than compute it again (a dashboard just after a change, many readers)
                await asyncio.wait({running})
                hit = running.result() if not running.cancelled() else await _compute(key, fn, tenant, args, kwargs)
            else:
                hit = await _compute(key, fn, tenant, args, kwargs)
            valid_until(hit[1])  # an enclosing summary holds no longer than this one
            return hit[0]

        return summary

    return wrap
