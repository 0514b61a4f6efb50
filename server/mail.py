"""Sending mail over SMTP (aiosmtplib), configured by the LUZHI_SMTP_* settings."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import aiosmtplib

from server.settings import Settings
from server.web.errors import LuzhiError
from server.web.i18n import _

log = logging.getLogger("luzhi.mail")


class MailUnavailable(LuzhiError):
    status_code = 503


async def send(settings: Settings, to: str, subject: str, body: str) -> None:
    if not settings.smtp_host:
        raise MailUnavailable(_("Mail is not configured on this server."))
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password,
            start_tls=settings.smtp_security == "starttls",
            use_tls=settings.smtp_security == "tls",
            timeout=15,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.warning("mail to %s failed: %s", to, exc)
        raise MailUnavailable(_("The mail could not be sent; try again later or use your password.")) from None
