"""Every module that reacts to another domain's events (server/events.py), imported
wherever a change may be published (the app, the scheduler, the CLI), so no handler is
missed because nothing else there happened to import its module."""

from __future__ import annotations

from server.assessment import cycle, inspection_adjustments  # noqa: F401  (their import subscribes them)
from server.declassification import qa  # noqa: F401  (its import registers a new tenant's default Q&A)
from server.inspections import finding_costs  # noqa: F401  (to the assessment opening)
from server.reminders import outbox  # noqa: F401  (to reminders settled, to a signing code's mail)
