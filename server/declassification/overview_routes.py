"""Declassification: the hub page of the actor's part of the work."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from server.declassification import access, overview
from server.web.deps import ActorDep, TenantDep
from server.web.guards import allow
from server.web.templating import page
from server.web.urls import TENANT_PAGES


class OverviewPages(Controller):
    path = TENANT_PAGES

    @get("/declassification", guards=[allow(access.READERS)], name="declass.overview")
    async def overview_page(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return page(request, "declassification/overview.html", summary=await overview.summary(tenant, actor))


ROUTES = [OverviewPages]
