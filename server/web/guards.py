"""Role guards: every tenant route names the roles that may call it."""

from __future__ import annotations

from collections.abc import Iterable

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.actor import Actor
from server.core.errors import Forbidden


def actor_of(connection: ASGIConnection) -> Actor | None:
    return connection.scope["state"]["edge"].actor


def allow(*groups: str | Iterable[str]):
    allowed: set[str] = set()
    for group in groups:
        allowed |= {group} if isinstance(group, str) else set(group)

    def guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
        actor = actor_of(connection)
        if actor is None or actor.role not in allowed:
            raise Forbidden()

    # who may call it, readable by tools that walk the route table (the isolation sweep)
    guard.roles = frozenset(allowed)  # type: ignore[attr-defined]
    return guard


def any_member(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """Any signed-in user of the tenant (the edge has already checked membership)."""
    if actor_of(connection) is None:
        raise Forbidden()


def platform_operator(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    actor = actor_of(connection)
    if actor is None or actor.kind != "operator":
        raise Forbidden()
