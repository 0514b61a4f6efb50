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
from server.web.registry import controller
from server.web.urls import TENANT_API, TENANT_PAGES

READ = allow({roles.OFFICE_ADMIN, roles.DISTRICT_ADMIN, roles.INSPECTOR})
# the export is recorded in the audit trail: SQLite takes the write lock up front
WRITES = {"writes": True}
UNIT_REPORT = "/inspections/{inspection_id:str}/report.pdf"


def _documents(name: str, base: str, rounds: str, route: str) -> type[Controller]:
    """The three documents under `base` (the pages' or the API's): a unit's report, and
    the round's under `rounds`; each route named `route` with the document's key."""

    async def unit_report(self, tenant: TenantDep, actor: ActorDep, inspection_id: FromPath[str]) -> Response:
        content, filename = await reports.unit_report_pdf(tenant, actor, inspection_id)
        return file_response(content, PDF, filename, inline=True)

    async def round_report(self, tenant: TenantDep, actor: ActorDep, round_id: FromPath[str]) -> Response:
        content, filename = await reports.round_summary_pdf(tenant, actor, round_id)
        return file_response(content, PDF, filename, inline=True)

    async def findings(self, tenant: TenantDep, actor: ActorDep, round_id: FromPath[str]) -> Response:
        content, filename = await reports.findings_xlsx(tenant, actor, round_id)
        return file_response(content, XLSX, filename)

    handlers = [
        get(UNIT_REPORT, media_type=PDF, guards=[READ], name=route.format("report"))(unit_report),
        get(f"{rounds}/report.pdf", media_type=PDF, guards=[READ], name=route.format("round_report"))(round_report),
        get(
            f"{rounds}/findings.xlsx",
            media_type=XLSX,
            guards=[READ],
            name=route.format("findings_export"),
            opt=WRITES,
        )(findings),
    ]
    return controller(name, base, handlers)


InspectionReportPages = _documents(
    "InspectionReportPages", TENANT_PAGES, "/inspections/rounds/{round_id:str}", "inspections.{}"
)
InspectionReportApi = _documents(
    "InspectionReportApi", TENANT_API, "/inspection-rounds/{round_id:str}", "api.inspection_{}"
)

ROUTES = [InspectionReportPages, InspectionReportApi]
