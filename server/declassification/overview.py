"""The declassification work of the actor's part of the register at a glance: what is
due, what waits for them, what the bureau has to chase."""

from __future__ import annotations

from server import roles
from server.actor import Actor
from server.declassification import consultations, decisions_waiting, publication, qa, register, review
from tenants.service import TenantRef


async def summary(tenant: TenantRef, actor: Actor) -> dict:
    """Counts for the hub's tiles: items still classified, terms ending within the lead
    time, open review tasks, decisions waiting for the actor, open (and late) consultations,
    the office's publication decisions still to make, stale Q&A answers."""
    active = await register.list_items(tenant, actor, {"status": "active"}, 1, 1)
    due = await review.due_items(tenant, actor, {}, 1, 1)
    asked = await consultations.overview(tenant, actor)
    out = {
        "active": active.total,
        "due": due["page"].total,
        "lead_days": due["lead_days"],
        "tasks": (await review.open_review_tasks(tenant, actor, 1, 1)).total,
        "approvals": len(await decisions_waiting.awaiting_approval(tenant, actor)),
        "consultations": asked["open"],
        "consultations_overdue": asked["overdue"],
        "publication": None,
        "stale_answers": (await qa.list_entries(tenant, actor, {"stale": "true"}, 1, 1))[0].total,
    }
    if actor.role == roles.OFFICE_ADMIN:
        out["publication"] = (await publication.waiting(tenant, actor, 1, 1)).total
    return out
