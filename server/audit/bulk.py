"""The audit trail of bulk writes: the events of many changes, chained as the service
chains them and stored through one prepared statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.actor import Actor
from server.audit import service as audit
from server.audit.tables import AuditEvent
from server.core.bulk import insert_rows


async def record_each(tenant_id: int, action: str, object_type: str, items: Sequence[tuple[Actor, Any, dict]]) -> None:
    """audit.record_each: one event per (actor, object id, detail)."""
    await audit.record_each(tenant_id, action, object_type, items, store=_store)


async def _store(rows: list[dict[str, Any]]) -> None:
    await insert_rows(AuditEvent, rows)
