"""What an approved decision does beyond its item: the knowledge scope told (an
acknowledgement to track for each person), a review of every item derived from it (the
derivation graph, across units), and a declassification put on the public page."""

from __future__ import annotations

from datetime import date

from server.actor import Actor
from server.core.chunks import rows_in
from server.core.i18n import _
from server.declassification import publication, tasks
from server.declassification.tables import Acknowledgement, ClassifiedItem
from server.units import service as units
from tenants.service import TenantRef

# an item in these states takes decisions, and is reviewed when its source changes
LIVE = ("active", "partly_declassified")


async def tell_scope(tenant: TenantRef, item: dict, decision_pk: int, today: date) -> int:
    """An acknowledgement to track for each person in the knowledge scope: whoever holds a
    post in the custodian unit today, and the responsible person."""
    people = {p["person"] for p in await units.posts_on(tenant, today, units=[item["custodian_unit"]])}
    if item["responsible_person"]:
        people.add(item["responsible_person"])
    rows = [Acknowledgement(tenant=tenant.id, decision=decision_pk, person=p) for p in sorted(people)]
    if rows:
        await Acknowledgement.insert(*rows)
    return len(rows)


async def derived_items(tenant: TenantRef, item_pk: int) -> list[dict]:
    """Every item derived from this one, directly or through others (a cycle is walked once)."""
    seen, frontier, found = {item_pk}, [item_pk], []
    while frontier:
        children = await rows_in(
            ClassifiedItem.source_item,
            frontier,
            ClassifiedItem.id,
            ClassifiedItem.uuid,
            ClassifiedItem.custodian_unit,
            ClassifiedItem.status,
            ClassifiedItem.reference,
            where=[ClassifiedItem.tenant == tenant.id],
        )
        frontier = []
        for child in children:
            if child["id"] not in seen:
                seen.add(child["id"])
                found.append(child)
                frontier.append(child["id"])
    return found


def source_reason(item: dict, changes: dict) -> str:
    reference = item["reference"]
    if changes.get("status") == "declassified":
        return _("An item it derives from, %(reference)s, was declassified.", reference=reference)
    if changes.get("status") == "partly_declassified":
        return _("An item it derives from, %(reference)s, was partly declassified.", reference=reference)
    if "term_ends_on" in changes:
        return _("The term of an item it derives from, %(reference)s, was extended.", reference=reference)
    return _("The level of an item it derives from, %(reference)s, was changed.", reference=reference)


async def review_derived(tenant: TenantRef, actor: Actor, item: dict, changes: dict) -> int:
    """A source review task for every live item derived from this one, whatever its unit."""
    live = [d for d in await derived_items(tenant, item["id"]) if d["status"] in LIVE]
    made = await tasks.open_tasks(tenant, actor, live, "source", reason=source_reason(item, changes))
    return len(made)


async def publish(tenant: TenantRef, actor: Actor, item: dict, row: dict, changes: dict) -> bool:
    """A declassification the decision says to publish goes on the public page (once: an
    item already published keeps its entry)."""
    if not row["publish"] or item["publication"] == "published":
        return False
    declassified = {**item, **changes}
    await publication.publish_item(
        tenant, actor, declassified, what=row["part"], declassified_on=changes["declassified_on"]
    )
    return True
