"""The audit trail: one event per state change, written in the change's transaction."""

from __future__ import annotations

from typing import Any

from server.actor import Actor
from server.audit.tables import AuditEvent


async def record(
    tenant_id: int | None,
    actor: Actor,
    action: str,
    object_type: str = "",
    object_id: Any = "",
    *,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> None:
    await AuditEvent.insert(
        AuditEvent(
            tenant=tenant_id,
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_name=actor.name[:100],
            action=action,
            object_type=object_type,
            object_id=str(object_id or "")[:64],
            outcome=outcome,
            client_addr=actor.client_addr[:64],
            detail=detail or {},
        )
    )


async def events(
    tenant_id: int | None, *, limit: int = 50, offset: int = 0, action: str | None = None
) -> tuple[list[dict], int]:
    where = [AuditEvent.tenant == tenant_id] if tenant_id else [AuditEvent.tenant.is_null()]
    if action:
        where.append(AuditEvent.action == action)
    rows = (
        await AuditEvent.select()
        .where(*where)
        .order_by(AuditEvent.id, ascending=False)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
    )
    return rows, await AuditEvent.count().where(*where)


async def record_many(
    tenant_id: int | None,
    actor: Actor,
    action: str,
    object_type: str,
    object_ids: list[Any],
    detail: dict | None = None,
) -> None:
    """One event per object of a bulk change, inserted together."""
    rows = [
        AuditEvent(
            tenant=tenant_id,
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_name=actor.name[:100],
            action=action,
            object_type=object_type,
            object_id=str(object_id)[:64],
            client_addr=actor.client_addr[:64],
            detail=detail or {},
        )
        for object_id in object_ids
    ]
    for start in range(0, len(rows), 500):
        await AuditEvent.insert(*rows[start : start + 500])
