"""API bodies of the reminders' notification settings (msgspec): they are the OpenAPI.
Values are checked by the service, which names the field in a translated message."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

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
