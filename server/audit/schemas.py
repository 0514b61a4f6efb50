"""API response bodies of the audit trail (msgspec), as the OpenAPI document shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from server.core.pagination import PageBody


class Event(msgspec.Struct):
    id: int
    seq: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    object_name: str
    outcome: str
    client_addr: str
    detail: Any
    hash: str
    action_label: str
    outcome_label: str
    actor_kind_label: str
    object_type_label: str


class EventPage(PageBody):
    items: list[Event]
