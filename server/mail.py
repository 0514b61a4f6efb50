"""Sending mail over SMTP (aiosmtplib), configured by the LUZHI_SMTP_* settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from email.message import EmailMessage

import aiosmtplib

from server import secretbox
from server.core.errors import LuzhiError
from server.core.i18n import _
from server.settings import Settings

log = logging.getLogger("luzhi.mail")
TIMEOUT = 15


class MailUnavailable(LuzhiError):
    status_code = 503


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    user: str | None
    password: str | None = field(repr=False)
    security: str
    sender: str

    @classmethod
    def of(cls, own: dict, settings: Settings) -> MailServer | None:
        """The tenant's own mail server if it set one, else the deployment's.
        `own` is the tenant's stored row: its password is decrypted here, just before use."""
        if own.get("smtp_host"):
            return cls(
                own["smtp_host"],
                int(own["smtp_port"]),
                own.get("smtp_user") or None,
                secretbox.reveal(own, "smtp_password"),
                own.get("smtp_security") or "none",
                own.get("mail_from") or settings.mail_from,
            )
        if settings.smtp_host:
            return cls(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_user,
                settings.smtp_password,
                settings.smtp_security,
                own.get("mail_from") or settings.mail_from,
            )
        return None

    def client(self, timeout: float = TIMEOUT, kind: type[aiosmtplib.SMTP] = aiosmtplib.SMTP) -> aiosmtplib.SMTP:
        return kind(
            hostname=self.host,
            port=self.port,
            username=self.user,
            password=self.password,
            start_tls=self.security == "starttls",
            use_tls=self.security == "tls",
            timeout=timeout,
        )


async def send(settings: Settings, to: str, subject: str, body: str) -> None:
    server = MailServer.of({}, settings)
    if server is None:
        raise MailUnavailable(_("Mail is not configured on this server."))
    message = EmailMessage()
    message["From"] = server.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        client = server.client()
        async with client:
            await client.send_message(message)
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.warning("mail to %s failed: %s", to, exc)
        raise MailUnavailable(_("The mail could not be sent; try again later or use your password.")) from None
