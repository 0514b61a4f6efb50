"""The tenant's audit trail, for the office and the audit administrator."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from server.accounts import roles
from server.audit import service
from server.web.guards import allow
from server.web.pagination import Page, page_args
from server.web.templating import page

READ = allow(roles.AUDIT_READERS)


async def _events(request: Request) -> Page:
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    action = request.query_params.get("action") or None
    rows, total = await service.events(request.state.edge.tenant.id, limit=n, offset=(p - 1) * n, action=action)
    return Page(items=rows, total=total, page=p, per_page=n)


@get("/t/{slug:str}/audit", guards=[READ], name="audit.list")
async def audit_page(request: Request, action: FromQuery[str] = "") -> Template:
    return page(request, "audit/list.html", result=await _events(request), action=action)


@get("/api/v1/t/{slug:str}/audit", guards=[READ], name="api.audit.list")
async def api_audit(request: Request) -> dict[str, Any]:
    result = await _events(request)
    return {"items": result.items, "total": result.total, "page": result.page, "per_page": result.per_page}


ROUTES = [audit_page, api_audit]
