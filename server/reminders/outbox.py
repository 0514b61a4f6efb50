"""Settling the outbox when the thing a reminder is about gets done: called by the
domains in the transaction of that change, so a reminder waiting out the quiet hours
is not sent afterwards. (The tick checks again before sending, for whatever else
changes.) Imports only tables, so any domain may call it."""

from __future__ import annotations

from server.reminders.tables import Delivery, Reminder

DONE = "done"


async def settle(tenant_id: int, kinds: tuple[str, ...], subject: str) -> int:
    """Cancel the deliveries not yet sent about this subject; how many."""
    ids = [
        r["id"]
        for r in await Reminder.select(Reminder.id).where(
            Reminder.tenant == tenant_id, Reminder.kind.is_in(list(kinds)), Reminder.subject == subject
        )
    ]
    if not ids:
        return 0
    cancelled = await (
        Delivery.update({Delivery.status: "cancelled", Delivery.next_at: None, Delivery.last_error: DONE})
        .where(Delivery.tenant == tenant_id, Delivery.reminder.is_in(ids), Delivery.status == "pending")
        .returning(Delivery.id)
    )
    return len(cancelled)
