"""Who is acting: resolved once at the edge, passed explicitly to services."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # user | token | operator | anonymous | system
    id: int | None = None
    name: str = ""
    role: str | None = None
    tenant_id: int | None = None
    # district admins and unit officers: the materialized path of their unit's subtree
    scope_unit_id: int | None = None
    scope_path: str | None = None
    person_id: int | None = None
    client_addr: str = ""
    user_agent: str = ""

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(kind="system", name=name)
