"""What waits for the actor: decisions to approve (the bureau's for the office; for a
person, those on items of the units they are the principal of, or that they are
responsible for), and decisions told to them to acknowledge."""

from __future__ import annotations

from server import roles
from server.actor import Actor
from server.declassification.decisions import DECISION_COLUMNS, STATUSES, summary
from server.declassification.decisions_checks import label
from server.declassification.tables import Acknowledgement, Decision
from server.units import service as units
from tenants.service import TenantRef


def _waiting_row(row: dict) -> dict:
    return {
        **summary(row),
        "status": row["status"],
        "status_label": label(STATUSES, row["status"]),
        "proposed_by": row["proposed_by"],
        "created_at": row["created_at"],
    }


async def awaiting_approval(tenant: TenantRef, actor: Actor) -> list[dict]:
    """Decisions the actor may approve now, oldest first: the bureau's for the office; for a
    person, those on items of the units they are the principal of or they are responsible for."""
    if actor.role == roles.OFFICE_ADMIN:
        where = [Decision.status == "bureau"]
    elif actor.person_id:
        led: list[int] = []
        if actor.role == roles.LEADER:
            posts = await units.posts_on(tenant, units.today(tenant), people=[actor.person_id], positions=["principal"])
            led = sorted({p["unit"] for p in posts})
        mine = Decision.item.responsible_person == actor.person_id
        where = [Decision.status == "proposed", (Decision.item.custodian_unit.is_in(led) | mine) if led else mine]
    else:
        return []
    rows = (
        await Decision.select(*DECISION_COLUMNS)
        .where(Decision.tenant == tenant.id, Decision.proposed_by_id != (actor.id or 0), *where)
        .order_by(Decision.created_at)
        .order_by(Decision.id)
    )
    return [_waiting_row(r) for r in rows]


async def awaiting_acknowledgement(tenant: TenantRef, actor: Actor) -> list[dict]:
    """Approved decisions told to the actor's own person and not yet acknowledged."""
    if not actor.person_id:
        return []
    told = Acknowledgement.select(Acknowledgement.decision).where(
        Acknowledgement.tenant == tenant.id,
        Acknowledgement.person == actor.person_id,
        Acknowledgement.acknowledged_at.is_null(),
    )
    rows = (
        await Decision.select(*DECISION_COLUMNS)
        .where(Decision.tenant == tenant.id, Decision.id.is_in(told))
        .order_by(Decision.approved_at)
        .order_by(Decision.id)
    )
    return [_waiting_row(r) for r in rows]


async def waiting(tenant: TenantRef, actor: Actor) -> dict[str, list[dict]]:
    """Both lists, for the actor's page of approvals."""
    return {
        "approvals": await awaiting_approval(tenant, actor),
        "acknowledgements": await awaiting_acknowledgement(tenant, actor),
    }
