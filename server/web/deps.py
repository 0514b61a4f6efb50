"""What handlers receive by injection: the tenant and the actor the edge resolved.

Handlers declare `tenant: TenantDep`, `actor: ActorDep` and `settings: SettingsDep`
instead of reading request.state. The request's transaction is opened by the edge middleware, not by a
dependency: a transaction (a ContextVar) opened inside a dependency would not reach
the handler."""

from __future__ import annotations

from litestar import Request
from litestar.di import NamedDependency, Provide

from server.actor import Actor
from server.core.errors import Forbidden, NotFound
from server.settings import Settings
from tenants.service import TenantRef


def _tenant(request: Request) -> TenantRef:
    tenant = request.state.edge.tenant
    if tenant is None:  # a route under /t/{slug} is only reached once the edge found it
        raise NotFound()
    return tenant


def _actor(request: Request) -> Actor:
    actor = request.state.edge.actor
    if actor is None:
        raise Forbidden()
    return actor


def _settings(request: Request) -> Settings:
    return request.state.edge.settings


DEPENDENCIES = {
    "tenant": Provide(_tenant, sync_to_thread=False),
    "actor": Provide(_actor, sync_to_thread=False),
    "settings": Provide(_settings, sync_to_thread=False),
}

# what a handler's parameters are annotated with (marked, not inferred, as Litestar asks)
TenantDep = NamedDependency[TenantRef]
ActorDep = NamedDependency[Actor]
SettingsDep = NamedDependency[Settings]
# a list's filters (the query's fields), which the route's own dependency named `filters` makes
Filters = NamedDependency[dict[str, str]]
