"""API request and response bodies (msgspec), as the OpenAPI document shows them.
Request values are checked by the service, which names the field in a translated
message; UNSET tells PATCH which fields were sent."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType

from server.core.pagination import PageBody


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


# ---------------------------------------------------------------- responses


class Holder(msgspec.Struct):
    """A person holding a leadership or secrecy post."""

    id: str
    name: str


class Leadership(msgspec.Struct):
    principal: list[Holder]
    secrecy_lead: list[Holder]
    secrecy_officer: list[Holder]
    leaders: int
    people: int
    gaps: list[str]


class UnitSummary(Leadership):
    id: str
    name: str
    kind: str
    code: str
    depth: int


class UnitRow(UnitSummary):
    top_name: str


class UnitPage(PageBody):
    items: list[UnitRow]


class Ancestor(msgspec.Struct):
    id: str
    name: str
    visible: bool


class PostRow(msgspec.Struct):
    """A post with its holder and unit; a list of people lists these."""

    id: str
    position: str
    title: str
    start_date: date
    end_date: date | None
    person_id: str
    person_name: str
    classified_level: str
    military_transfer: bool
    mobile: str
    email: str
    unit_id: str
    unit_name: str


class PostPage(PageBody):
    items: list[PostRow]


class UnitDetail(UnitSummary):
    note: str
    sort_order: int
    parent_id: str | None
    ancestors: list[Ancestor]
    children: list[UnitSummary]
    posts: list[PostRow]
    created_at: datetime
    updated_at: datetime


class PersonPost(PostRow):
    current: bool


class PersonDetail(msgspec.Struct):
    id: str
    name: str
    email: str
    mobile: str
    classified_level: str
    military_transfer: bool
    note: str
    created_at: datetime
    updated_at: datetime
    posts: list[PersonPost]
    current_posts: list[PersonPost]
