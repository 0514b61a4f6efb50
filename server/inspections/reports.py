"""What an inspection hands on: the written report of one unit for the inspection office,
the round's summary (both PDF/A) and the round's findings in Excel with every comment.

The parts come from the services that keep them (fieldwork: the checklist and the
must-interviews; devices: the sample and the measures; findings: the findings, their
state and what they cost); here they are put together. A report never shows the clues
the inspection group handed over nor the team's own notes: neither is read here. The
round's documents read all its units at once, a few queries whatever their number.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from typing import Any

from server import roles
from server.actor import Actor
from server.audit import service as audit
from server.core.chunks import chunks
from server.core.i18n import _, _l, format_date, format_datetime
from server.documents import charts, render_html, render_pdf
from server.documents.xlsx import write_workbook
from server.inspections import access, checklist, devices, fieldwork, findings, rounds
from server.inspections.tables import DeviceCheck, FindingEvent, Inspection, ItemResult, Measure, TeamMember
from tenants.service import TenantRef

# who gets a unit's report: the office, the district's admin, the unit's team (not the unit)
REPORT_VIEWS = (access.OFFICE, access.DISTRICT, access.TEAM)
STATUSES = {"open": _l("In progress"), "finalised": _l("Finalised")}
TEAM_ROLES = {"leader": _l("Team leader"), "member": _l("Team member")}
# a measure's particulars that are dates (ISO strings in its details)
DATE_PARTICULARS = ("since", "transferred_on")
ALL = 1_000_000  # findings.list_findings' page size for "every finding"
NONE = "—"


def _numbered(found: list[dict], document: dict) -> list[dict]:
    """Findings (newest first, as findings.py lists them) in the order they were
    recorded, numbered, each with its item's text and what it cost in words."""
    ordered = list(reversed(found))
    for n, f in enumerate(ordered, start=1):
        item = checklist.item(document, f["item"]) if f["item"] else None
        f["no"] = n
        f["item_text"] = item["text"] if item else ""
        f["deduction"] = findings.deduction_text(f["deductions"])
    return ordered


# ---------------------------------------------------------------- one unit's report


async def unit_report(tenant: TenantRef, actor: Actor, inspection_id: Any) -> dict:
    """One unit's written report (see templates/pdf/inspection_report.html for its shape)."""
    row = await access.inspection(tenant, actor, inspection_id, allow=REPORT_VIEWS)
    _insp, found = await findings.inspection_findings(tenant, actor, row["uuid"])
    found = _numbered(found, row["checklist"])
    measures = await _measures(tenant, row, found)
    return {
        "tenant_name": tenant.name,
        "generated_at": datetime.now(UTC),
        "unit_name": row["unit_name"],
        "round": {"name": row["round_name"], "starts_on": row["round_starts_on"], "ends_on": row["round_ends_on"]},
        "team_name": row["team_name"] or "",
        "members": await _members(tenant, row["team"]),
        "visit_on": row["visit_on"],
        "status": row["status"],
        "status_label": str(STATUSES.get(row["status"], row["status"])),
        "finalised_at": row["finalised_at"],
        "finalised_by": row["finalised_by"],
        "areas": await _areas(tenant, row),
        "interviews": await _interviews(tenant, row),
        "technical": await _technical(tenant, row),
        "findings": found,
        "measures": measures,
        "rectification": [f for f in found if f["mode"] == "deadline" and f["state"] != "verified"],
    }


async def _members(tenant: TenantRef, team_pk: int | None) -> list[dict]:
    if team_pk is None:
        return []
    rows = (
        await TeamMember.select(TeamMember.user_name, TeamMember.role)
        .where(TeamMember.tenant == tenant.id, TeamMember.team == team_pk)
        .order_by(TeamMember.id)
    )
    rows.sort(key=lambda m: m["role"] != "leader")
    return [{"name": m["user_name"], "role_label": str(TEAM_ROLES.get(m["role"], m["role"]))} for m in rows]


async def _areas(tenant: TenantRef, row: dict) -> list[dict]:
    """The six areas, each item with its result and note (fieldwork.checklist_state)."""
    areas = await fieldwork.checklist_state(tenant, row)
    for area in areas:
        for item in area["items"]:
            result = item["result"]
            item["result_label"] = str(checklist.RESULTS[result]) if result else _("No result yet")
    return areas


async def _interviews(tenant: TenantRef, row: dict) -> dict:
    """The must-interview list as of the visit day (fieldwork.interviews), with why each
    person is on it and where their interview stands in words."""
    found = await fieldwork.interviews(tenant, row)
    for person in found["people"]:
        person["reason_labels"] = [str(fieldwork.REASONS[r]) for r in person["reasons"]]
        person["status_label"] = str(fieldwork.INTERVIEW_STATUSES[person["status"]])
    return found


async def _technical(tenant: TenantRef, row: dict) -> dict:
    """The draw (size, seed) and each drawn device with its result (devices.sample_state)."""
    state = await devices.sample_state(tenant, row)
    for d in state["devices"]:
        d["kind_label"] = str(checklist.DEVICE_KINDS.get(d["kind"], d["kind"]))
        d["result_label"] = str(checklist.DEVICE_RESULTS[d["result"]]) if d["result"] else _("Not checked yet")
    state["violations"] = sum(1 for d in state["devices"] if d["result"] == "violation")
    return state


async def _measures(tenant: TenantRef, row: dict, found: list[dict]) -> list[dict]:
    """The inspection's measures with their particulars in words, each naming its finding
    by number; each finding lists its measures' kinds."""
    by_id = {f["id"]: f for f in found}
    for f in found:
        f["measures"] = []
    measures = await devices.measures_of(tenant, row["id"])
    for m in measures:
        m["kind_label"] = str(checklist.MEASURES.get(m["kind"], m["kind"]))
        m["particulars"] = particulars(m["kind"], m["details"])
        finding = by_id.get(m["finding_id"])
        m["finding_no"] = finding["no"] if finding else None
        if finding:
            finding["measures"].append(m["kind_label"])
    return measures


def particulars(kind: str, details: dict) -> list[tuple[str, list[str]]]:
    """A measure's details as (label, lines) in the order devices.MEASURE_FIELDS gives."""
    out = []
    for field in devices.MEASURE_FIELDS.get(kind, ()):
        value = details.get(field)
        if not value:
            continue
        if field == "preserved":
            lines = [f"{i['name']} SHA-256 {i['sha256']}" if i.get("sha256") else i["name"] for i in value]
        elif field in DATE_PARTICULARS:
            lines = [format_date(date.fromisoformat(value))]
        else:
            lines = [str(value)]
        out.append((str(devices.LABELS[field]), lines))
    return out


def unit_report_html(report: dict) -> str:
    return render_html("inspection_report.html", report=report, pct=pct)


async def unit_report_pdf(tenant: TenantRef, actor: Actor, inspection_id: Any) -> tuple[bytes, str]:
    report = await unit_report(tenant, actor, inspection_id)
    name = _filename(_("%(round)s %(unit)s inspection report", round=report["round"]["name"], unit=report["unit_name"]))
    return await render_pdf(unit_report_html(report)), name + ".pdf"


# ---------------------------------------------------------------- the round


async def _round(tenant: TenantRef, actor: Actor, round_id: Any) -> tuple[dict, dict[int, dict], list[dict]]:
    """The round as the actor sees it (rounds.round_detail: every unit for the office, their
    district's units for a district admin, their teams' units for an inspector; NotFound
    for anyone else), its visible inspections by row id, and their findings in the order
    they were recorded, numbered."""
    detail = await rounds.round_detail(tenant, actor, round_id)
    by_uuid = {i["id"]: i for i in detail["inspections"]}
    visible: dict[int, dict] = {}
    for batch in chunks(list(by_uuid)):
        for r in await Inspection.select(Inspection.id, Inspection.uuid).where(
            Inspection.tenant == tenant.id, Inspection.uuid.is_in(list(batch))
        ):
            visible[r["id"]] = by_uuid[str(r["uuid"])]
    listed = (await findings.list_findings(tenant, actor, {"round": detail["id"]}, 1, ALL)).items
    found = _numbered([f for f in listed if f["inspection_id"] in by_uuid], detail["checklist"])
    return detail, visible, found


async def round_summary(tenant: TenantRef, actor: Actor, round_id: Any) -> dict:
    """The round's summary (see templates/pdf/inspection_round.html for its shape)."""
    detail, visible, found = await _round(tenant, actor, round_id)
    pks = list(visible)
    total = len(found)
    severities = Counter(f["severity"] for f in found)
    kinds = Counter(m["kind"] for m in await _measure_kinds(tenant, pks))
    verified = sum(1 for f in found if f["state"] == "verified")
    return {
        "tenant_name": tenant.name,
        "generated_at": datetime.now(UTC),
        "round": {k: detail[k] for k in ("name", "starts_on", "ends_on", "status")},
        "round_status_label": str(rounds.ROUND_STATUSES.get(detail["status"], detail["status"])),
        # a district admin or an inspector sees part of the round: the summary says so
        "partial": actor.role != roles.OFFICE_ADMIN,
        "units_total": len(visible),
        "units_finalised": sum(1 for i in visible.values() if i["status"] == "finalised"),
        "teams": len(detail["teams"]),
        "findings_total": total,
        "by_area": _by_area(found),
        "by_severity": [
            {"code": code, "label": str(label), "count": severities[code], "share": share(severities[code], total)}
            for code, label in checklist.SEVERITIES.items()
        ],
        "measures": [{"code": c, "label": str(label), "count": kinds[c]} for c, label in checklist.MEASURES.items()],
        # every finding is to be rectified, on the spot or by its deadline
        "rectification": {
            "findings": total,
            "verified": verified,
            "rate": share(verified, total),
            "on_spot": sum(1 for f in found if f["mode"] == "on_spot"),
            "overdue": sum(1 for f in found if f["overdue"]),
        },
        "recurring": [f for f in found if f["recurring"]],
        "units": await _unit_rows(tenant, visible, found, len(detail["checklist"]["items"])),
    }


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _by_area(found: list[dict]) -> list[dict]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for f in found:
        counts[f["area"]][f["severity"]] += 1
    total = len(found)
    return [
        {
            "code": code,
            "label": str(label),
            "count": sum(counts[code].values()),
            "share": share(sum(counts[code].values()), total),
            "severities": [counts[code][s] for s in checklist.SEVERITIES],
        }
        for code, label in checklist.AREAS.items()
    ]


async def _measure_kinds(tenant: TenantRef, inspection_pks: list[int]) -> list[dict]:
    """Each measure of these inspections: its kind and the finding it is about."""
    rows: list[dict] = []
    for batch in chunks(inspection_pks):
        rows += await Measure.select(Measure.kind, Measure.finding.uuid.as_alias("finding_id")).where(
            Measure.tenant == tenant.id, Measure.inspection.is_in(list(batch))
        )
    return rows


async def _unit_rows(tenant: TenantRef, visible: dict[int, dict], found: list[dict], items: int) -> list[dict]:
    """Per unit: its team and visit, how far its checklist got, its findings and devices."""
    assessed: Counter = Counter()
    checked: dict[int, Counter] = defaultdict(Counter)
    for batch in chunks(list(visible)):
        for r in await ItemResult.select(ItemResult.inspection).where(
            ItemResult.tenant == tenant.id, ItemResult.inspection.is_in(list(batch))
        ):
            assessed[r["inspection"]] += 1
        for d in await DeviceCheck.select(DeviceCheck.inspection, DeviceCheck.result).where(
            DeviceCheck.tenant == tenant.id, DeviceCheck.inspection.is_in(list(batch))
        ):
            checked[d["inspection"]][d["result"]] += 1
    per_unit: dict[str, Counter] = defaultdict(Counter)
    for f in found:
        per_unit[f["inspection_id"]].update(
            {f["severity"]: 1, "total": 1, "open": int(f["state"] != "verified"), "overdue": int(f["overdue"])}
        )
    rows = []
    for pk, i in visible.items():
        counts = per_unit[i["id"]]
        rows.append(
            {
                **{k: i[k] for k in ("unit_name", "team_name", "visit_on", "status")},
                "status_label": str(STATUSES.get(i["status"], i["status"])),
                "assessed": assessed[pk],
                "item_total": items,
                "findings": counts["total"],
                "severities": [counts[s] for s in checklist.SEVERITIES],
                "open": counts["open"],
                "overdue": counts["overdue"],
                "checked": checked[pk]["clean"] + checked[pk]["violation"],
                "violations": checked[pk]["violation"],
            }
        )
    return rows


def round_summary_html(summary: dict) -> str:
    severity_colours = (charts.SECONDARY, charts.BAR, charts.HIGHLIGHT)  # minor to serious
    figures = {
        "areas": charts.count_bars(
            [{**a, "label": f"{a['code']} {a['label']}"} for a in summary["by_area"]],
            width=580,
            height=170,
            title=_("Findings by area"),
        ),
        "severities": charts.count_bars(
            summary["by_severity"], width=240, height=150, title=_("Findings by severity"), colours=severity_colours
        ),
    }
    return render_html("inspection_round.html", summary=summary, charts=figures, pct=pct)


async def round_summary_pdf(tenant: TenantRef, actor: Actor, round_id: Any) -> tuple[bytes, str]:
    summary = await round_summary(tenant, actor, round_id)
    name = _filename(_("%(round)s summary", round=summary["round"]["name"]))
    return await render_pdf(round_summary_html(summary)), name + ".pdf"


# ---------------------------------------------------------------- the findings in Excel


async def findings_xlsx(tenant: TenantRef, actor: Actor, round_id: Any) -> tuple[bytes, str]:
    """One row per finding of the round (what the actor may see of it) with the deduction
    it caused and its whole history, comments included, in one cell; a second sheet has
    one row per history entry."""
    detail, visible, found = await _round(tenant, actor, round_id)
    await audit.record(tenant.id, actor, "export.inspection_findings", "inspection_round", detail["id"])
    measures: dict[str, list[str]] = defaultdict(list)
    for m in await _measure_kinds(tenant, list(visible)):
        if m["finding_id"]:
            measures[str(m["finding_id"])].append(str(checklist.MEASURES.get(m["kind"], m["kind"])))
    history = await _history(tenant, [f["id"] for f in found])
    yes = _("Yes")
    rows = [
        [
            f["no"],
            f["unit_name"],
            f["round_name"],
            f"{f['area']} {f['area_label']}",
            f"{f['item']} {f['item_text']}".strip() or f["device_label"],
            f["severity_label"],
            f["description"],
            f["basis"],
            f["mode_label"],
            f["deadline"],
            f["responsible_name"],
            f["state_label"],
            yes if f["overdue"] else "",
            yes if f["recurring"] else "",
            f["deduction"],
            "、".join(measures[f["id"]]),
            f["recorded_by"],
            "\n".join(_entry_line(e) for e in history[f["id"]]),
            f["id"],
        ]
        for f in found
    ]
    entries = [
        [f["no"], f["unit_name"], format_datetime(e["at"]), e["kind_label"], e["actor"], e["note"]]
        for f in found
        for e in history[f["id"]]
    ]
    sheets = [
        (_("Findings"), _finding_headers(), rows),
        (_("History"), [_("No."), _("Unit"), _("Time"), _("Entry"), _("By"), _("Comment")], entries),
    ]
    return write_workbook(sheets), _filename(_("%(round)s findings", round=detail["name"])) + ".xlsx"


def _finding_headers() -> list[str]:
    return [
        _("No."),
        _("Unit"),
        _("Round"),
        _("Inspection area"),
        _("Item"),
        _("Severity"),
        _("Finding"),
        _("Legal basis"),
        _("Handling"),
        _("Rectification deadline"),
        _("Responsible leader"),
        _("State"),
        _("Overdue"),
        _("Recurring"),
        _("Deduction"),
        _("Measures"),
        _("Recorded by"),
        _("History and comments"),
        _("Finding id"),
    ]


async def _history(tenant: TenantRef, finding_ids: list[str]) -> dict[str, list[dict]]:
    """Each finding's history and comments, oldest first, by the finding's public id."""
    rows: list[dict] = []
    for batch in chunks(finding_ids):
        rows += await FindingEvent.select(
            FindingEvent.id,
            FindingEvent.finding.uuid.as_alias("finding_id"),
            FindingEvent.kind,
            FindingEvent.note,
            FindingEvent.actor,
            FindingEvent.at,
        ).where(FindingEvent.tenant == tenant.id, FindingEvent.finding.uuid.is_in(list(batch)))
    history: dict[str, list[dict]] = defaultdict(list)
    for e in sorted(rows, key=lambda e: (e["at"], e["id"])):
        e["kind_label"] = str(findings.EVENT_KINDS.get(e["kind"], e["kind"]))
        history[str(e["finding_id"])].append(e)
    return history


def _entry_line(entry: dict) -> str:
    head = f"{format_datetime(entry['at'])} {entry['kind_label']} · {entry['actor']}"
    return f"{head}: {entry['note']}" if entry["note"] else head


# ---------------------------------------------------------------- formats


def pct(value: float | None, digits: int = 0) -> str:
    return NONE if value is None else f"{value * 100:.{digits}f}%"


def _filename(title: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", title).strip("_")[:150]
