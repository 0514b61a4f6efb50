"""Publication: what the public page shows of declassified items. A published entry is a
copy of the publishable fields alone (reference, public title, unit, level, date, what was
declassified), so the public side reads this table and never the register; an entry is
withdrawn with a reason, never deleted. The office decides, item by item, whether a
declassified item is published or withheld."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

from server import db
from server.actor import Actor
from server.audit import service as audit
from server.core.errors import Conflict
from server.core.i18n import _
from server.declassification.tables import ClassifiedItem, Publication
from tenants.service import TenantRef

# an item in one of these states may go on the public page
DECLASSIFIED = ("declassified", "partly_declassified", "expired")


def _now() -> datetime:
    return datetime.now(UTC)


async def publish_item(tenant: TenantRef, actor: Actor, item: dict, *, what: str, declassified_on: date) -> dict:
    """Put a declassified item on the public page: its Publication row (copies of the
    publishable fields of `item`: id, uuid, reference, public_title, level, custodian_unit,
    unit_name) and the item marked published; audit declass.publish. Call it once the item's
    status is declassified, partly_declassified or expired. Once per item: Conflict (409)
    when it is already published (or not declassified)."""
    async with db.atomic():
        marked = await (
            ClassifiedItem.update({ClassifiedItem.publication: "published", ClassifiedItem.updated_at: _now()})
            .where(
                ClassifiedItem.tenant == tenant.id,
                ClassifiedItem.id == item["id"],
                ClassifiedItem.publication != "published",
                ClassifiedItem.status.is_in(list(DECLASSIFIED)),
            )
            .returning(ClassifiedItem.id)
        )
        if not marked:
            raise Conflict(_not_publishable_message(await _state_of(tenant, item["id"])))
        row = {
            "uuid": uuid4(),
            "tenant": tenant.id,
            "item": item["id"],
            "reference": item["reference"],
            "public_title": item["public_title"],
            "unit_name": item["unit_name"],
            "unit": item["custodian_unit"],
            "level": item["level"],
            "declassified_on": declassified_on,
            "what": what,
            "published_at": _now(),
            "published_by": actor.name,
        }
        await Publication.insert(Publication(**row))
        await audit.record(
            tenant.id,
            actor,
            "declass.publish",
            "declassified_publication",
            str(row["uuid"]),
            detail={"item": str(item["uuid"]), "reference": item["reference"], "what": what},
        )
    return await _entry_by_uuid(tenant, row["uuid"])


async def _state_of(tenant: TenantRef, pk: int) -> dict | None:
    return (
        await ClassifiedItem.select(ClassifiedItem.status, ClassifiedItem.publication)
        .where(ClassifiedItem.tenant == tenant.id, ClassifiedItem.id == pk)
        .first()
    )


def _not_publishable_message(state: dict | None) -> str:
    if state and state["publication"] == "published":
        return _("This item is already published.")
    return _("Only a declassified item can be published.")


PUBLIC_COLUMNS = (
    Publication.id,
    Publication.uuid,
    Publication.reference,
    Publication.public_title,
    Publication.unit_name,
    Publication.level,
    Publication.declassified_on,
    Publication.what,
    Publication.published_at,
    Publication.withdrawn_at,
    Publication.withdrawn_reason,
)


async def _entry_by_uuid(tenant: TenantRef, uid) -> dict:
    row = (
        await Publication.select(*PUBLIC_COLUMNS)
        .where(Publication.tenant == tenant.id, Publication.uuid == uid)
        .first()
    )
    return _entry(row)


def _entry(row: dict) -> dict:
    return {
        "id": str(row["uuid"]),
        "reference": row["reference"],
        "public_title": row["public_title"],
        "unit": row["unit_name"],
        "level": row["level"],
        "declassified_on": row["declassified_on"],
        "what": row["what"],
        "published_at": row["published_at"],
        "withdrawn": row["withdrawn_at"] is not None,
        "withdrawn_on": row["withdrawn_at"].date() if row["withdrawn_at"] else None,
        "withdrawn_reason": row["withdrawn_reason"],
    }
