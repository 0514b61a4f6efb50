"""API bodies of the reminders (msgspec): they are the OpenAPI. Values are checked by
the service, which names the field in a translated message."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server.core.pagination import PageBody

_KEPT = "Left out: kept as it is."


class NotifySettingsBody(msgspec.Struct, forbid_unknown_fields=True):
    """The tenant's mail server and group robot. Fields left out keep their current values."""

    smtp_host: Annotated[str, Meta(description="Empty: the deployment's mail server. " + _KEPT)] | UnsetType = UNSET
    smtp_port: int | UnsetType = UNSET
    smtp_user: str | UnsetType = UNSET
    smtp_password: (
        Annotated[
            str,
            Meta(
                description="A new password, stored encrypted and never shown again. "
                "Empty or left out: the stored one is kept."
            ),
        ]
        | UnsetType
    ) = UNSET
    smtp_password_clear: (
        Annotated[bool, Meta(description="true: remove the stored password (send no new one with it).")] | UnsetType
    ) = UNSET
    smtp_security: Annotated[str, Meta(description="none, starttls or tls. " + _KEPT)] | UnsetType = UNSET
    mail_from: str | UnsetType = UNSET
    webhook_url: str | UnsetType = UNSET
    webhook_preset: Annotated[str, Meta(description="generic, wecom or dingtalk. " + _KEPT)] | UnsetType = UNSET
    webhook_secret: (
        Annotated[
            str,
            Meta(
                description="A new signing secret, stored encrypted and never shown again. "
                "Empty or left out: the stored one is kept."
            ),
        ]
        | UnsetType
    ) = UNSET
    webhook_secret_clear: (
        Annotated[bool, Meta(description="true: remove the stored signing secret (send no new one with it).")]
        | UnsetType
    ) = UNSET


class NotifySettings(msgspec.Struct):
    """The tenant's notification settings as shown: whether each secret is set, never the secret."""

    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_security: str
    mail_from: str
    webhook_url: str
    webhook_preset: str
    smtp_password_set: Annotated[bool, Meta(description="A password is stored (and decrypts).")]
    webhook_secret_set: Annotated[bool, Meta(description="A signing secret is stored (and decrypts).")]


class RuleTemplate(msgspec.Struct):
    subject: str = ""
    body: str = ""


_TEMPLATE = Meta(
    description="Jinja text, checked when saved; empty: the built-in wording. "
    "The language's entry in `templates` (as sent, else as stored) takes precedence."
)


class RuleBody(msgspec.Struct):
    """A change of one kind's rule. Fields left out keep their current values; what the
    rule's GET answers may be sent back as it is (the fields it adds are ignored)."""

    enabled: bool | UnsetType = UNSET
    days: Annotated[int | str, Meta(description="A whole number; empty is refused as missing.")] | UnsetType = UNSET
    repeat_days: int | str | UnsetType = UNSET
    escalate_after: int | str | UnsetType = UNSET
    channels: Annotated[list[str], Meta(description="mail, inbox and/or webhook.")] | UnsetType = UNSET
    quiet_start: Annotated[str, Meta(description="HH:MM, or empty for none.")] | UnsetType = UNSET
    quiet_end: str | UnsetType = UNSET
    templates: (
        Annotated[dict[str, RuleTemplate], Meta(description="Subject and body per language (zh_CN, en).")] | UnsetType
    ) = UNSET
    subject_zh_CN: Annotated[str, _TEMPLATE] | UnsetType = UNSET
    body_zh_CN: Annotated[str, _TEMPLATE] | UnsetType = UNSET
    subject_en: Annotated[str, _TEMPLATE] | UnsetType = UNSET
    body_en: Annotated[str, _TEMPLATE] | UnsetType = UNSET


class Rule(msgspec.Struct):
    """One kind of reminder as the tenant runs it (the built-in rule until it saves its own)."""

    kind: str
    enabled: bool
    days: int
    repeat_days: int
    escalate_after: int
    channels: list[str]
    quiet_start: str
    quiet_end: str
    templates: dict[str, RuleTemplate]
    id: Annotated[int, Meta(description="Once the tenant saved its own rule.")] | UnsetType = UNSET
    tenant: Annotated[int, Meta(description="Once the tenant saved its own rule.")] | UnsetType = UNSET
    updated_at: Annotated[datetime, Meta(description="Once the tenant saved its own rule.")] | UnsetType = UNSET


class Rules(msgspec.Struct):
    rules: list[Rule]


class Delivery(msgspec.Struct):
    """A reminder sent through one channel (a signing code's text is never shown)."""

    id: str
    kind: str
    channel: str
    recipient: str
    address: str
    title: str
    body: str
    link: str
    status: str
    attempts: int
    next_at: datetime | None
    last_error: Annotated[str, Meta(description="Why it was not delivered, in the reader's language.")]
    created_at: datetime
    sent_at: datetime | None
    read_at: datetime | None
    level: Annotated[int, Meta(description="0 the person, 1 the unit's principal and officer, 2 the office.")]


class DeliveryPage(PageBody):
    items: list[Delivery]


class InboxPage(DeliveryPage):
    unread: int


class Unread(msgspec.Struct):
    unread: int


class Retried(msgspec.Struct):
    count: Annotated[int, Meta(description="How many deliveries will be sent again.")]


class PreferenceBody(msgspec.Struct):
    """The channels a user wants. What is left out is cleared, as on the page."""

    channels: Annotated[Any, Meta(description="A list of mail and/or inbox; the service names a wrong one.")] = UNSET
    email: Annotated[str, Meta(description="An address of one's own instead of the record's.")] | UnsetType = UNSET


class Preference(msgspec.Struct):
    channels: list[str]
    email: str
