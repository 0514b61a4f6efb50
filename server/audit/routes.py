"""The tenant's audit trail, for the audit administrator: the list, its export, the
chain's verification and the monthly report."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get
from litestar.response import Template

from server.accounts import roles
from server.audit import labels, service
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.web.errors import ValidationFailed
from server.web.forms import file_response
from server.web.guards import allow
from server.web.i18n import _
from server.web.pagination import Page, page_args
from server.web.templating import page

READ = allow(roles.AUDIT_READERS)
WRITES = {"writes": True}
T = "/t/{slug:str}"
API = "/api/v1/t/{slug:str}"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


async def _events(request: Request, filters: service.Filters) -> Page:
    tenant = request.state.edge.tenant
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    rows, total = await service.events(tenant.id, filters, zone=tenant.timezone, limit=n, offset=(p - 1) * n)
    return Page(items=rows, total=total, page=p, per_page=n)


def _query(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in service.FILTERS}


@get(f"{T}/audit", guards=[READ], name="audit.list")
async def audit_page(request: Request) -> Template:
    tenant = request.state.edge.tenant
    raw = _query(request)
    context: dict[str, Any] = {
        "filters": raw,
        "actions": sorted(labels.ACTIONS.items(), key=lambda item: item[0]),
        "outcomes": labels.OUTCOMES,
        "object_types": sorted(labels.OBJECT_TYPES.items()),
        "export_query": "",
        "verdict": None,
        "break_label": labels.break_label,
        "this_month": datetime.now(ZoneInfo(tenant.timezone)).strftime("%Y-%m"),
    }
    try:
        filters = service.parse_filters(raw)
    except ValidationFailed as exc:
        empty = Page(items=[], total=0, page=1, per_page=1)
        return page(request, "audit/list.html", 422, result=empty, errors=exc.errors, **context)
    context["export_query"] = urlencode(filters.query())
    if request.query_params.get("verify"):
        context["verdict"] = await service.verify(tenant.id)
    return page(request, "audit/list.html", result=await _events(request, filters), **context)


@get(f"{API}/audit", guards=[READ], name="api.audit.list")
async def api_audit(request: Request) -> dict[str, Any]:
    result = await _events(request, service.parse_filters(_query(request)))
    return {"items": result.items, "total": result.total, "page": result.page, "per_page": result.per_page}


@get(f"{API}/audit/verify", guards=[READ], name="api.audit.verify")
async def api_verify(request: Request) -> dict[str, Any]:
    return asdict(await service.verify(request.state.edge.tenant.id))


@get(f"{T}/audit/export.xlsx", media_type=XLSX, guards=[READ], name="audit.export", opt=WRITES)
async def audit_export(request: Request) -> Response:
    edge = request.state.edge
    filters = service.parse_filters(_query(request))
    content = await service.export_xlsx(edge.tenant.id, edge.actor, filters, zone=edge.tenant.timezone)
    return file_response(content, XLSX, f"audit-{edge.tenant.slug}.xlsx")


@get(f"{T}/audit/report.pdf", media_type="application/pdf", guards=[READ], name="audit.report", opt=WRITES)
async def audit_report(request: Request) -> Response:
    """The monthly report of ?month=YYYY-MM (default: this month, in the tenant's zone)."""
    edge = request.state.edge
    this_month = datetime.now(ZoneInfo(edge.tenant.timezone)).strftime("%Y-%m")
    match = _MONTH.match(request.query_params.get("month", "").strip() or this_month)
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
        raise ValidationFailed({"month": _("%(field)s must be a month like 2026-01.", field=_("Month"))})
    year, month = int(match[1]), int(match[2])
    report = await service.monthly_report(edge.tenant.id, edge.actor, year, month, zone=edge.tenant.timezone)
    content = await service.report_pdf(edge.tenant, report)
    return file_response(content, "application/pdf", f"audit-{edge.tenant.slug}-{year:04d}-{month:02d}.pdf")


ROUTES = [audit_page, api_audit, api_verify, audit_export, audit_report]
