"""Settling the outbox when the thing a reminder is about gets done, on the event the
domains publish in the transaction of that change (events.REMINDERS_SETTLED: the reminders
read those domains, so they never import the reminders), so a reminder waiting out the
quiet hours is not sent afterwards. (The tick checks again before sending, for whatever
else changes.) And queueing a mail a domain asks for (a signing code, events.SIGN_CODE_MAIL)
to go out like every other mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server import events
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


async def _on_settled(tenant: TenantRef, *, kinds: tuple[str, ...], subjects: tuple[str, ...]) -> None:
    for subject in subjects:
        await settle(tenant.id, kinds, subject)


events.subscribe(events.REMINDERS_SETTLED, _on_settled)


SIGN_CODE = "sign_code"
# claims take the earliest due first: a mail someone is waiting for goes ahead of the day's reminders
URGENT = timedelta(days=1)


async def queue_mail(
    tenant: TenantRef,
    *,
    settings: Settings,
    person_id: int,
    name: str,
    address: str,
    locale: str,
    title: str,
    body: str,
    answer: dict,
) -> None:
    """Queue a signing code for `address` as an urgent delivery, in the publisher's
    transaction; its id goes into the answer, nothing when no mail server is set (the
    tenant's own or the deployment's)."""
    own = await NotifySettings.select().where(NotifySettings.tenant == tenant.id).first() or {}
    if MailServer.of(own, settings) is None:
        return
    now = datetime.now(UTC)
    made = await Reminder.insert(
        Reminder(
            tenant=tenant.id,
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
            tenant=tenant.id,
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
    answer["delivery"] = queued[0]["id"]


events.subscribe(events.SIGN_CODE_MAIL, queue_mail)
