"""Settling the outbox when the thing a reminder is about gets done: called by the
domains in the transaction of that change (or, for a domain this one reads, on its
event), so a reminder waiting out the quiet hours is not sent afterwards. (The tick
checks again before sending, for whatever else changes.) Imports only tables and an
event's name, so any domain may call it; and queueing a mail of its own (a signing code) to go out like
every other mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server import events
from server.inspections import finding_costs
from server.mail import MailServer
from server.reminders.channels import message_id
from server.reminders.tables import Delivery, NotifySettings, Reminder
from server.settings import Settings
from tenants.service import TenantRef

DONE = "done"
# a signing code not yet handed to the mail server by then is no longer worth sending
EXPIRED = "expired"


async def settle(tenant_id: int, kinds: tuple[str, ...], subject: str) -> int:
    """Cancel the deliveries not yet sent about this subject; how many."""
    ids = [
        r["id"]
        for r in await Reminder.select(Reminder.id).where(
            Reminder.tenant == tenant_id, Reminder.kind.is_in(list(kinds)), Reminder.subject == subject
        )
    ]
    if not ids:
        return 0
    cancelled = await (
        Delivery.update({Delivery.status: "cancelled", Delivery.next_at: None, Delivery.last_error: DONE})
        .where(Delivery.tenant == tenant_id, Delivery.reminder.is_in(ids), Delivery.status == "pending")
        .returning(Delivery.id)
    )
    return len(cancelled)


async def _on_done(tenant: TenantRef, *, kinds: tuple[str, ...], subjects: tuple[str, ...]) -> None:
    for subject in subjects:
        await settle(tenant.id, kinds, subject)


# findings cannot call settle: the reminders read them (sources), so they say it by an event
events.subscribe(finding_costs.REMINDERS_DONE, _on_done)


SIGN_CODE = "sign_code"
SIGN_CODE_VALID = timedelta(minutes=10)
# claims take the earliest due first: a mail someone is waiting for goes ahead of the day's reminders
URGENT = timedelta(days=1)


async def queue_mail(
    tenant_id: int, settings: Settings, person_id: int, name: str, address: str, locale: str, title: str, body: str
) -> int | None:
    """Queue a signing code for `address` as an urgent delivery, in the caller's transaction;
    its id, or None when no mail server is set (the tenant's own or the deployment's)."""
    own = await NotifySettings.select().where(NotifySettings.tenant == tenant_id).first() or {}
    if MailServer.of(own, settings) is None:
        return None
    now = datetime.now(UTC)
    made = await Reminder.insert(
        Reminder(
            tenant=tenant_id,
            kind=SIGN_CODE,
            subject=f"{SIGN_CODE}:{person_id}",
            period=now.isoformat(),
            recipient=f"p{person_id}",
            person=person_id,
            day=now.date(),
        )
    ).returning(Reminder.id)
    queued = await Delivery.insert(
        Delivery(
            tenant=tenant_id,
            reminder=made[0]["id"],
            channel="mail",
            recipient_name=name[:100],
            address=address[:254],
            locale=locale,
            title=title[:300],
            body=body,
            message_id=message_id(own.get("mail_from") or settings.mail_from),
            next_at=now - URGENT,
        )
    ).returning(Delivery.id)
    return queued[0]["id"]
