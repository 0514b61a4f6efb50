"""Sending one claimed delivery: mail over SMTP (one connection per batch), a webhook
POST (generic JSON signed with HMAC-SHA256, or a WeCom / DingTalk group robot)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib
import httpx

from server import secretbox
from server.core.i18n import _l
from server.mail import MailServer

PRESETS = {
    "generic": _l("Generic JSON (HMAC-signed)"),
    "wecom": _l("WeCom group robot"),
    "dingtalk": _l("DingTalk group robot"),
}
SECURITY = {"none": _l("None"), "starttls": "STARTTLS", "tls": "TLS"}


class SendError(Exception):
    """A delivery that did not go through; the message is shown in the outbox."""


def message_id(sender: str) -> str:
    """Made once, when the delivery is created, so that a resend carries the same one."""
    domain = sender.rpartition("@")[2].strip("> ") or "luzhi"
    return make_msgid(domain=domain)


def mail_message(server: MailServer, delivery: dict, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = server.sender
    message["To"] = delivery["address"]
    message["Subject"] = delivery["title"]
    message["Message-ID"] = delivery["message_id"]
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(delivery["body"])
    return message


class Uncertain(str):
    """A reason after which the mail may or may not have arrived: the message was handed over
    (DATA) and the server's answer never came. It is not retried by itself: the outbox shows it
    and the office decides (a resend carries the same Message-ID)."""


class _TrackedSMTP(aiosmtplib.SMTP):
    """Knows whether the message itself was handed over, so a timeout can be told apart."""

    handed_over = False

    async def data(self, *args, **kwargs):
        self.handed_over = True
        return await super().data(*args, **kwargs)


class Mailer:
    """One SMTP connection for a batch, opened at the first mail; `send` answers for one
    delivery at once: None when accepted, else the reason (an `Uncertain` one when the server
    may have taken it). Once the connection is lost the rest get its reason untried."""

    def __init__(self, server: MailServer, timeout: float) -> None:
        self.server, self.timeout = server, timeout
        self.client: _TrackedSMTP | None = None
        self.broken: str | None = None

    async def send(self, delivery: dict, now: datetime) -> str | None:
        if self.broken:
            return self.broken
        if self.client is None:
            client = self.server.client(self.timeout, _TrackedSMTP)
            try:
                await client.connect()
            except (aiosmtplib.SMTPException, OSError) as exc:
                self.broken = f"{self.server.host}:{self.server.port}: {exc}"[:500]
                return self.broken
            self.client = client
        self.client.handed_over = False
        try:
            await self.client.send_message(mail_message(self.server, delivery, now))
            return None
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as exc:
            # the server answered: refused, nothing delivered, the connection still usable
            return str(exc)[:500] or type(exc).__name__
        except (aiosmtplib.SMTPException, OSError) as exc:
            reason = f"{type(exc).__name__}: {exc}"[:500]
            self.broken = reason
            return Uncertain(reason) if self.client.handed_over else reason

    async def close(self) -> None:
        if self.client is not None:
            try:
                await self.client.quit()
            except (aiosmtplib.SMTPException, OSError):
                self.client.close()


def sign_generic(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign_dingtalk(secret: str, timestamp_ms: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_request(hook: dict, delivery: dict, kind: str) -> tuple[str, bytes, dict[str, str]]:
    """URL, body and headers of a webhook POST in the preset's format, signed with the
    secret of the tenant's stored settings `hook`, decrypted here."""
    text = f"{delivery['body']}"
    preset, url, secret = hook["webhook_preset"], hook["webhook_url"], secretbox.reveal(hook, "webhook_secret")
    headers = {"Content-Type": "application/json", "X-Luzhi-Delivery": str(delivery["uuid"])}
    if preset == "wecom":
        payload = {"msgtype": "markdown", "markdown": {"content": f"**{delivery['title']}**\n{text}"}}
    elif preset == "dingtalk":
        markdown = {"title": delivery["title"], "text": f"### {delivery['title']}\n{text}"}
        payload = {"msgtype": "markdown", "markdown": markdown}
        if secret:
            ts = str(int(time.time() * 1000))
            sign = urllib.parse.quote_plus(sign_dingtalk(secret, ts))
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={sign}"
    else:
        payload = {
            "id": str(delivery["uuid"]),
            "event": kind,
            "title": delivery["title"],
            "text": text,
            "link": delivery["link"],
            "recipient": delivery["recipient_name"],
        }
    body = json.dumps(payload, ensure_ascii=False).encode()
    if preset == "generic" and secret:
        ts = str(int(time.time()))
        headers["X-Luzhi-Timestamp"] = ts
        headers["X-Luzhi-Signature"] = sign_generic(secret, ts, body)
    return url, body, headers


async def post_webhook(client: httpx.AsyncClient, hook: dict, delivery: dict, kind: str, wait: float) -> str | None:
    url, body, headers = webhook_request(hook, delivery, kind)
    try:
        response = await client.post(url, content=body, headers=headers, timeout=wait)
    except (httpx.ReadTimeout, httpx.RemoteProtocolError) as exc:
        # the request went out and no answer came: the robot may have posted it
        return Uncertain(f"{type(exc).__name__}: {exc}"[:500])
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if response.status_code >= 300:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if hook["webhook_preset"] in ("wecom", "dingtalk"):
        # the robots answer 200 with an error code in the body
        try:
            answer = response.json()
        except ValueError:
            return f"HTTP {response.status_code}: {response.text[:200]}"
        if answer.get("errcode", 0) != 0:
            return f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}"[:500]
    return None
