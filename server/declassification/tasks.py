"""Review tasks: what a custodian unit has to decide about an item. Opened by the expiry
scan, by a change of the item's source (the derivation graph), and by the year's review;
closed by the decision that settles them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from server.actor import Actor
from server.audit import bulk as audit_bulk
from server.core.bulk import new_row
from server.core.chunks import rows_in
from server.declassification.tables import ReviewTask
from tenants.service import TenantRef

KINDS = ("expiry", "source", "annual")


async def open_tasks(
    tenant: TenantRef,
    actor: Actor,
    items: Sequence[dict],
    kind: str,
    *,
    reason: str = "",
    due_on: date | None = None,
) -> list[dict]:
    """A task of `kind` for each item (rows with id, uuid, custodian_unit) that has no open
    one of that kind yet; the tasks made. Callers that may race hold the items first (the
    expiry scan's conditional UPDATE, a decision's approval)."""
    if not items:
        return []
    open_now = (ReviewTask.tenant == tenant.id, ReviewTask.kind == kind, ReviewTask.status == "open")
    busy = {
        t["item"] for t in await rows_in(ReviewTask.item, [i["id"] for i in items], ReviewTask.item, where=open_now)
    }
    fresh = [i for i in items if i["id"] not in busy]
    rows = [
        new_row(tenant=tenant.id, item=i["id"], unit=i["custodian_unit"], kind=kind, reason=reason, due_on=due_on)
        for i in fresh
    ]
    done = [(actor, {"kind": kind, "item": str(i["uuid"])}) for i in fresh]
    await audit_bulk.insert_recorded(
        ReviewTask, rows, tenant.id, "declass.task_open", "classified_task", done, ids=True
    )
    return rows


async def close_tasks(tenant: TenantRef, item_pk: int, kinds: Sequence[str] = KINDS) -> int:
    """Close the item's open tasks of these kinds (a decision settled them); how many."""
    closed = (
        await ReviewTask.update({ReviewTask.status: "done", ReviewTask.closed_at: datetime.now(UTC)})
        .where(
            ReviewTask.tenant == tenant.id,
            ReviewTask.item == item_pk,
            ReviewTask.kind.is_in(list(kinds)),
            ReviewTask.status == "open",
        )
        .returning(ReviewTask.id)
    )
    return len(closed)
