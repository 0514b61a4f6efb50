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
from server.mail import MailServer
from server.web.i18n import _l

PRESETS = {
    "generic": _l("Generic JSON (HMAC-signed)"),
    "wecom": _l("WeCom group robot"),
    "dingtalk": _l("DingTalk group robot"),
}
SECURITY = {"none": _l("None"), "starttls": "STARTTLS", "tls": "TLS"}
TIMEOUT = 15


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


async def send_mails(server: MailServer, deliveries: list[dict], now: datetime) -> dict[int, str | None]:
    """Send over one connection; per delivery: None when accepted, else the reason."""
    results: dict[int, str | None] = {}
    client = server.client()
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, OSError) as exc:
        reason = f"{server.host}:{server.port}: {exc}"[:500]
        return {d["id"]: reason for d in deliveries}
    try:
        for d in deliveries:
            try:
                await client.send_message(mail_message(server, d, now))
                results[d["id"]] = None
            except aiosmtplib.SMTPRecipientsRefused as exc:
                results[d["id"]] = str(exc)[:500]
            except (aiosmtplib.SMTPException, OSError) as exc:
                # the connection is gone: this and the rest are retried
                for rest in deliveries:
                    results.setdefault(rest["id"], str(exc)[:500] or type(exc).__name__)
                break
    finally:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            pass
    return results


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


async def post_webhook(client: httpx.AsyncClient, hook: dict, delivery: dict, kind: str) -> str | None:
    url, body, headers = webhook_request(hook, delivery, kind)
    try:
        response = await client.post(url, content=body, headers=headers, timeout=TIMEOUT)
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
