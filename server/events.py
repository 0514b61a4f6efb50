"""A small in-process event hub: a domain announces that something changed and the
domains that must react subscribe, so that no import points upward (responsibility and
training never import assessment). Handlers run in the publisher's transaction: what
they write commits, or rolls back, with the change itself."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from tenants.service import TenantRef

# a leader's signature, confirmation or waiver, training hours, a post taken or left:
# the inputs of the automatic indicators, named by the people (and units) they concern
INDICATOR_INPUTS = "indicator_inputs"
# a user's sessions must end (password reset, account switched off, second factor reset):
# the session store subscribes, whichever store it is; payload: user_id
SESSIONS_ENDED = "sessions_ended"

# what a unit's inspection findings of one year should make of its assessment (verified
# findings, confirmed leaks, rectifications gone overdue); the assessment subscribes.
# payload: unit (pk), year, sources (the adjustment sources this speaks for:
# "finding:<uuid>", "overdue:<uuid>"), adjustments ([{source, kind, item, note}]: what
# those sources should be now; the rest of them go), actor (a name)
FINDING_ADJUSTMENTS = "finding_adjustments"
# a question the assessment answers without inspections importing it: which of these
# adjustments it holds. payload: wanted ([{source, kind, item, unit, year}]), answer (a
# dict the subscriber fills, by (source, kind): {kind, item, name, points, year, unit_id,
# applied, problem})
FINDING_DEDUCTIONS = "finding_deductions"
# a year's assessment has opened (its units and scheme are in place); payload: year, actor
ASSESSMENT_OPENED = "assessment_opened"

# something no longer waits for anyone (a notice signed, a period confirmed or waived, a
# self-assessment submitted, a finding settled): its reminders not yet sent are cancelled.
# The reminders subscribe: they read every domain that reminds, so none of those imports
# them. payload: kinds (the reminders' kinds), subjects (what those reminders are about)
REMINDERS_SETTLED = "reminders_settled"
# a one-time code to sign a notice, to be mailed to its addressee through the outbox like
# every other mail; the reminders subscribe. payload: settings, person_id, name, address,
# locale, title, body, answer (a dict the subscriber fills: delivery, the id of the mail
# queued; left empty when no mail server is set)
SIGN_CODE_MAIL = "sign_code_mail"
# how long such a code signs, and is worth sending
SIGN_CODE_VALID = timedelta(minutes=10)

Handler = Callable[..., Awaitable[None]]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str, handler: Handler) -> None:
    if handler not in _handlers[name]:
        _handlers[name].append(handler)


async def publish(name: str, tenant: TenantRef, /, **payload: Any) -> None:
    for handler in _handlers[name]:
        await handler(tenant, **payload)
