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
    # what the account must do before anything else: "password" (temporary or expired) or "totp" (enrol)
    restricted: str | None = None
    # days until the password expires, when within the policy's warning period
    password_days_left: int | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(kind="system", name=name)
