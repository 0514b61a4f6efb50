"""The audit trail's hash chain: one chain per tenant (platform events form their own),
each event's hash covering every stored field and the previous event's hash.

Pure functions, shared by the writer, the verifier and the migration that chains
the events written before the chain existed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

ALG = "sm3"
# prev_hash of a chain's first event
GENESIS = "0" * 64
# the fields a hash covers, in the order they are documented (the encoding sorts keys)
FIELDS = (
    "tenant",
    "seq",
    "at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_name",
    "outcome",
    "client_addr",
    "detail",
    "prev_hash",
)


def chain_key(tenant_id: int | None) -> int:
    """The chain's key in audit_heads and audit_day_heads: the tenant, 0 for the platform."""
    return tenant_id or 0


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, (UUID, date, Decimal)):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in an audit detail")


def normal_detail(detail: dict[str, Any] | None) -> dict[str, Any]:
    """The detail as it reads back from the database (ids and dates as text), so the
    hash computed now matches the one recomputed from the stored row."""
    return json.loads(json.dumps(detail or {}, default=_plain))


def utc(at: datetime) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite may hand back another offset)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def canonical(event: dict[str, Any]) -> bytes:
    """JSON with sorted keys and no spaces, UTF-8, times as ISO UTC with microseconds."""
    body = {name: event[name] for name in FIELDS}
    body["at"] = utc(body["at"]).isoformat(timespec="microseconds")
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain).encode()


def digest(event: dict[str, Any], alg: str = ALG) -> str:
    return hashlib.new(alg, canonical(event)).hexdigest()
