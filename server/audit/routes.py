"""The tenant's audit trail, for the audit administrator: the list, its export, the
chain's verification and the monthly report."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, Response, get
from litestar.response import Template

from server import roles
from server.audit import labels, schemas, service
from server.core.errors import ValidationFailed
from server.core.i18n import _
from server.core.pagination import Page
from server.documents.pdf import MEDIA_TYPE as PDF
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.web.deps import ActorDep, TenantDep
from server.web.forms import file_response, page_json, paging
from server.web.guards import allow
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

READ = allow(roles.AUDIT_READERS)
WRITES = {"writes": True}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


async def _events(request: Request, tenant: TenantDep, filters: service.Filters) -> Page:
    p, n = paging(request)
    rows, total = await service.events(tenant.id, filters, zone=tenant.timezone, limit=n, offset=(p - 1) * n)
    return Page(items=rows, total=total, page=p, per_page=n)


def _query(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in service.FILTERS}


class AuditPages(Controller):
    path = TENANT_PAGES
    guards = [READ]

    @get("/audit", name="audit.list")
    async def audit_page(self, request: Request, tenant: TenantDep) -> Template:
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
        return page(request, "audit/list.html", result=await _events(request, tenant, filters), **context)

    @get("/audit/export.xlsx", media_type=XLSX, name="audit.export", opt=WRITES)
    async def audit_export(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        filters = service.parse_filters(_query(request))
        content = await service.export_xlsx(tenant.id, actor, filters, zone=tenant.timezone)
        return file_response(content, XLSX, f"audit-{tenant.slug}.xlsx")

    @get("/audit/report.pdf", media_type=PDF, name="audit.report", opt=WRITES)
    async def audit_report(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        """The monthly report of ?month=YYYY-MM (default: this month, in the tenant's zone)."""
        this_month = datetime.now(ZoneInfo(tenant.timezone)).strftime("%Y-%m")
        match = _MONTH.match(request.query_params.get("month", "").strip() or this_month)
        if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
            raise ValidationFailed({"month": _("%(field)s must be a month like 2026-01.", field=_("Month"))})
        year, month = int(match[1]), int(match[2])
        report = await service.monthly_report(tenant.id, actor, year, month, zone=tenant.timezone)
        content = await service.report_pdf(tenant, report)
        return file_response(content, PDF, f"audit-{tenant.slug}-{year:04d}-{month:02d}.pdf")


class AuditApi(Controller):
    path = TENANT_API
    guards = [READ]

    @get("/audit", name="api.audit.list")
    async def api_audit(self, request: Request, tenant: TenantDep) -> schemas.EventPage:
        result = await _events(request, tenant, service.parse_filters(_query(request)))
        return msgspec.convert(page_json(result), schemas.EventPage)

    @get("/audit/verify", name="api.audit.verify")
    async def api_verify(self, tenant: TenantDep) -> service.Verdict:
        return await service.verify(tenant.id)


ROUTES = [AuditPages, AuditApi]
