"""API bodies of accounts, tokens and the security policy (msgspec): they are the OpenAPI.
Values are checked by the service, which names the field in a translated message;
UNSET tells PATCH which fields were sent."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server.accounts.service import TOKEN_DAYS_DEFAULT
from server.units.schemas import PersonDetail


class User(msgspec.Struct):
    id: str
    username: str
    display_name: str
    role: str
    active: bool
    locale: Annotated[str, Meta(description="zh_CN or en; null: the browser's choice.")] | None
    scope_unit_id: Annotated[str, Meta(description="The unit whose subtree a scoped role acts on.")] | None
    scope_unit_name: str
    person_id: Annotated[str, Meta(description="A leader's own person record.")] | None
    person_name: str
    pending: Annotated[bool, Meta(description="Waiting for the security administrator's activation.")]
    password_temporary: Annotated[bool, Meta(description="Set by an administrator: to be replaced first.")]
    totp_enabled: bool
    created_at: datetime
    last_login_at: datetime | None


class CreatedUser(User):
    generated_password: (
        Annotated[str, Meta(description="When none was given: a temporary password, shown this once.")] | UnsetType
    ) = UNSET


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    role: str
    display_name: str = ""
    password: str | None = None
    scope_unit_id: str | None = None
    person_id: str | None = None


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    display_name: str | UnsetType = UNSET
    role: str | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    password: str | UnsetType = UNSET
    scope_unit_id: str | None | UnsetType = UNSET
    person_id: str | None | UnsetType = UNSET


class TenantName(msgspec.Struct):
    slug: str
    name: str


class Me(msgspec.Struct):
    """Who the caller is: the account, its person record (leaders) and the tenant."""

    user: User
    person: PersonDetail | None
    tenant: TenantName


class Token(msgspec.Struct):
    id: str
    name: str
    prefix: Annotated[str, Meta(description="The token's first characters, to tell it apart.")]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class TokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str = ""
    expires_in_days: Annotated[
        int, Meta(description="The token stops working after this many days (at most a year).")
    ] = TOKEN_DAYS_DEFAULT


class NewToken(msgspec.Struct):
    id: str
    name: str
    prefix: str
    expires_at: datetime
    token: Annotated[str, Meta(description="The token itself, shown this once: send it as `Bearer <token>`.")]


class SecurityPolicy(msgspec.Struct):
    """The tenant's password and sign-in policy."""

    min_length: int
    max_age_days: int
    warn_days: int
    history: Annotated[int, Meta(description="How many earlier passwords may not be used again.")]
    totp_admins: Annotated[bool, Meta(description="Two-factor sign-in for administrators.")]
    totp_everyone: Annotated[bool, Meta(description="Two-factor sign-in for everyone.")]


class PolicyUpdate(msgspec.Struct, forbid_unknown_fields=True):
    min_length: int | UnsetType = UNSET
    max_age_days: int | UnsetType = UNSET
    warn_days: int | UnsetType = UNSET
    history: int | UnsetType = UNSET
    totp_admins: bool | UnsetType = UNSET
    totp_everyone: bool | UnsetType = UNSET
