"""API request bodies (msgspec). Values are checked by the service, which names
the field in a translated message; UNSET tells PATCH which fields were sent."""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType


class UnitCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    kind: str
    parent_id: str | None = None
    code: str | None = None
    sort_order: int = 0
    note: str = ""


class UnitPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: str | UnsetType = UNSET
    kind: str | UnsetType = UNSET
    parent_id: str | None | UnsetType = UNSET
    code: str | None | UnsetType = UNSET
    sort_order: int | UnsetType = UNSET
    note: str | UnsetType = UNSET


class PersonCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    unit_id: str
    position: str
    title: str = ""
    classified_level: str = "none"
    military_transfer: bool = False
    email: str = ""
    mobile: str = ""
    start_date: str | None = None
    end_date: str | None = None
    note: str = ""


class PersonPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: str | UnsetType = UNSET
    classified_level: str | UnsetType = UNSET
    military_transfer: bool | UnsetType = UNSET
    email: str | UnsetType = UNSET
    mobile: str | UnsetType = UNSET
    note: str | UnsetType = UNSET
    # a change of post: the current post ends the day before effective_date
    unit_id: str | UnsetType = UNSET
    position: str | UnsetType = UNSET
    title: str | UnsetType = UNSET
    effective_date: str | UnsetType = UNSET
    post_id: str | UnsetType = UNSET


class PostCreate(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: str
    position: str
    title: str = ""
    start_date: str | None = None
    end_date: str | None = None


class PostEnd(msgspec.Struct, forbid_unknown_fields=True):
    end_date: str | None = None
