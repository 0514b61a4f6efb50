"""The inspection documents, for the page's download links and for the API: a unit's report
(PDF/A), the round's summary (PDF/A) and the round's findings with their comments (Excel).

Who gets what (server.inspections.access and rounds): a unit's report goes to the office,
the admin of the unit's district and the unit's team, not to the unit itself; the round's
summary and export cover what the reader sees of the round: every unit for the office,
their district's units for a district admin, their teams' units for an inspector.
"""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.params import FromPath

from server import roles
from server.documents.pdf import MEDIA_TYPE as PDF
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.inspections import reports
from server.web.deps import ActorDep, TenantDep
from server.web.forms import file_response
from server.web.guards import allow
from server.web.urls import TENANT_API, TENANT_PAGES

READ = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.INSPECTOR})
# the export is recorded in the audit trail: SQLite takes the write lock up front
WRITES = {"writes": True}
UNIT_REPORT = "/inspections/{inspection_id:str}/report.pdf"


async def _unit_report(tenant: TenantDep, actor: ActorDep, inspection_id: str) -> Response:
    content, name = await reports.unit_report_pdf(tenant, actor, inspection_id)
    return file_response(content, PDF, name, inline=True)


async def _round_report(tenant: TenantDep, actor: ActorDep, round_id: str) -> Response:
    content, name = await reports.round_summary_pdf(tenant, actor, round_id)
    return file_response(content, PDF, name, inline=True)


async def _findings(tenant: TenantDep, actor: ActorDep, round_id: str) -> Response:
    content, name = await reports.findings_xlsx(tenant, actor, round_id)
    return file_response(content, XLSX, name)


class InspectionReportPages(Controller):
    path = TENANT_PAGES

    @get(UNIT_REPORT, media_type=PDF, guards=[READ], name="inspections.report")
    async def unit_report(self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]) -> Response:
        return await _unit_report(tenant, actor, inspection_id)

    @get(
        "/inspections/rounds/{round_id:str}/report.pdf", media_type=PDF, guards=[READ], name="inspections.round_report"
    )
    async def round_report(self, tenant: TenantDep, actor: ActorDep, round_id: FromPath[str]) -> Response:
        return await _round_report(tenant, actor, round_id)

    @get(
        "/inspections/rounds/{round_id:str}/findings.xlsx",
        media_type=XLSX,
        guards=[READ],
        name="inspections.findings_export",
        opt=WRITES,
    )
    async def findings(self, tenant: TenantDep, actor: ActorDep, round_id: FromPath[str]) -> Response:
        return await _findings(tenant, actor, round_id)


class InspectionReportApi(Controller):
    path = TENANT_API

    @get(UNIT_REPORT, media_type=PDF, guards=[READ], name="api.inspection_report")
    async def unit_report(self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]) -> Response:
        return await _unit_report(tenant, actor, inspection_id)

    @get(
        "/inspection-rounds/{round_id:str}/report.pdf",
        media_type=PDF,
        guards=[READ],
        name="api.inspection_round_report",
    )
    async def round_report(self, tenant: TenantDep, actor: ActorDep, round_id: FromPath[str]) -> Response:
        return await _round_report(tenant, actor, round_id)

    @get(
        "/inspection-rounds/{round_id:str}/findings.xlsx",
        media_type=XLSX,
        guards=[READ],
        name="api.inspection_findings_export",
        opt=WRITES,
    )
    async def findings(self, tenant: TenantDep, actor: ActorDep, round_id: FromPath[str]) -> Response:
        return await _findings(tenant, actor, round_id)


ROUTES = [InspectionReportPages, InspectionReportApi]
