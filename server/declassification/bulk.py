"""Declassification in bulk, for the demo: what the services do one request at a time,
for many items at once, with the same rows and audit events. The year's review of many
items (review.note_review's rows), and consultations put at moments in the past (the
service asks today; a bureau's open consultations were asked over months)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from server.actor import Actor
from server.audit import bulk as audit
from server.core.bulk import insert_rows, update_rows
from server.declassification.tables import ClassifiedItem, Consultation, Review
from tenants.service import TenantRef


async def record_reviews(tenant: TenantRef, reviews: Sequence[tuple[Actor, dict, date]]) -> None:
    """This year's review of each item (actor, item row with id and uuid, day), kept as it
    is: no item reviewed twice in a year, as note_review refuses a second one."""
    if len({item["id"] for _actor, item, _day in reviews}) != len(reviews):
        raise ValueError("an item reviewed twice")
    await insert_rows(
        Review,
        [
            {
                "tenant": tenant.id,
                "item": item["id"],
                "year": day.year,
                "outcome": "keep",
                "reviewed_on": day,
                "reviewed_by": actor.name[:100],
            }
            for actor, item, day in reviews
        ],
    )
    now = datetime.now(UTC)
    await update_rows(
        ClassifiedItem, ["last_reviewed_on", "updated_at"], [(day, now, item["id"]) for _a, item, day in reviews]
    )
    await audit.record_each(
        tenant.id,
        "declass.review",
        "classified_item",
        [(actor, str(item["uuid"]), {"year": day.year, "outcome": "keep"}) for actor, item, day in reviews],
    )


async def date_consultations(rows: Sequence[tuple[int, datetime, date]]) -> None:
    """Consultations (by row id) as asked at a moment in the past with that deadline."""
    if any(at.date() >= deadline for _pk, at, deadline in rows):
        raise ValueError("a deadline before the consultation was asked")
    await update_rows(Consultation, ["created_at", "deadline"], [(at, deadline, pk) for pk, at, deadline in rows])
