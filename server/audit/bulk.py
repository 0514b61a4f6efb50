"""The audit trail of bulk writes: the events of many changes, chained as the service
chains them and stored through one prepared statement."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from piccolo.table import Table

from server.actor import Actor
from server.audit import service as audit
from server.audit.tables import AuditEvent
from server.core.bulk import insert_new, insert_rows


async def record_each(tenant_id: int, action: str, object_type: str, items: Sequence[tuple[Actor, Any, dict]]) -> None:
    """audit.record_each: one event per (actor, object id, detail)."""
    await audit.record_each(tenant_id, action, object_type, items, store=_store)


async def insert_recorded(
    table: type[Table],
    rows: Sequence[dict[str, Any]],
    tenant_id: int,
    action: str,
    object_type: str,
    done: Iterable[tuple[Actor, dict]],
    *,
    ids: bool = False,
) -> None:
    """New rows (made by core.bulk.new_row) written in bulk, then one `action` event on
    each: `done` gives each row's (actor, detail), in the rows' order. With `ids`, each
    row is then given its row id as `id` (core.bulk.insert_new)."""
    await (insert_new if ids else insert_rows)(table, rows)
    await record_each(
        tenant_id,
        action,
        object_type,
        [(actor, str(row["uuid"]), detail) for row, (actor, detail) in zip(rows, done, strict=True)],
    )


async def _store(rows: list[dict[str, Any]]) -> None:
    await insert_rows(AuditEvent, rows)
