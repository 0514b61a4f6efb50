"""Training attendance in bulk, at moments in the past: an attendance sheet imported and
applied as training.preview_import and apply_import do, without the workbook, with the
same rows, audit events and indicator events. No user input here: the callers pass
valid sheets, and a wrong one is a programming error (ValueError), not a message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from server import events
from server.actor import Actor
from server.audit import bulk as audit
from server.core.bulk import insert_rows, new_row
from server.training.tables import Attendance, Course, TrainingImport
from tenants.service import TenantRef


async def import_attendance(
    tenant: TenantRef, actor: Actor, course: dict, attendees: Sequence[dict], at: datetime
) -> None:
    """training.preview_import then apply_import of a course's attendance sheet, at a
    moment: the course as create_course returns it, each attendee {pk, uuid, name,
    unit_name, score} new at it (a person once)."""
    if len({a["pk"] for a in attendees}) != len(attendees):
        raise ValueError(f"{course['title']}: someone is on the sheet twice")
    found = await Course.select(Course.id).where(Course.tenant == tenant.id, Course.uuid == course["id"]).first()
    if found is None:
        raise ValueError(f"no course {course['id']}")
    keys = {"course": course["title"], "date": course["date"].isoformat(), "hours": course["hours"]}
    rows = [
        {
            "line": line,
            "person_id": str(a["uuid"]),
            "person_name": a["name"],
            "unit_name": a["unit_name"],
            **keys,
            "score": a["score"],
            "status": "new",
            "before": None,
        }
        for line, a in enumerate(attendees, start=2)
    ]
    record = new_row(
        tenant=tenant.id,
        user_id=actor.id or 0,
        filename=f"{course['title']}.xlsx",
        year=course["date"].year,
        status="applied",
        rows=rows,
        errors=[],
        created_at=at,
        applied_at=at,
    )
    await insert_rows(TrainingImport, [record])
    await insert_rows(
        Attendance,
        [
            new_row(tenant=tenant.id, course=found["id"], person=a["pk"], hours=course["hours"], score=a["score"])
            for a in attendees
        ],
    )
    preview, applied = {"rows": len(rows), "errors": 0}, {"written": len(rows), "courses": 0}
    await audit.record_each(tenant.id, "training.import_preview", "import", [(actor, record["uuid"], preview)])
    await audit.record_each(tenant.id, "training.import_apply", "import", [(actor, record["uuid"], applied)])
    await events.publish(events.INDICATOR_INPUTS, tenant, people=[a["pk"] for a in attendees])
