"""APScheduler only ticks: each job's state lives in the database, and every job is
safe to run from several processes at once. Embedded in `luzhi serve` unless
LUZHI_SCHEDULER=0; `luzhi scheduler` runs it alone for multi-worker deployments."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from server import (
    db,
    subscribers,  # noqa: F401  (its import subscribes the events' handlers)
)
from server.accounts import service as accounts
from server.accounts.sessions import DatabaseSessionStore
from server.declassification import consultations as declass_consultations
from server.declassification import review as declass_review
from server.inspections import finding_costs
from server.reminders import service as reminder_service
from server.reminders.dispatch import tick
from server.settings import Settings
from server.units import service as units
from tenants.service import active_tenants, list_tenants

log = logging.getLogger("luzhi.scheduler")

Job = Callable[[Settings], Awaitable[None]]
JOBS: list[tuple[Job, dict]] = []


def every(**interval) -> Callable[[Job], Job]:
    """Register a job run at this interval (APScheduler's interval trigger arguments)."""

    def register(fn: Job) -> Job:
        JOBS.append((fn, interval))
        return fn

    return register


@every(minutes=15)
async def purge_sign_in_state(settings: Settings) -> None:
    """Expired sessions (database store) and sign-in counters that no longer matter,
    the platform's and every tenant's (row-level security shows each only its own)."""
    async with db.transaction(None, write=False):
        tenant_ids = [row["id"] for row in await list_tenants()]
    # (a Redis store expires its records itself)
    store = None if settings.redis_url else DatabaseSessionStore(settings)
    sessions = counters = 0
    for tenant_id in [None, *tenant_ids]:
        async with db.transaction(tenant_id):
            sessions += await store.purge_expired() if store else 0
            counters += await accounts.purge_throttle(datetime.now(UTC), settings)
    if sessions or counters:
        log.info("purged %d expired sessions and %d sign-in counters", sessions, counters)


@every(minutes=1)
async def reminders(settings: Settings) -> None:
    """Generate the day's reminders (once per tenant and day) and send what is due."""
    totals = await tick(settings)
    if any(totals.values()):
        log.info("reminders: %s", totals)


@every(hours=6)
async def purge_reminders(settings: Settings) -> None:
    """Reminders older than the outbox keeps (deleting twice is harmless, so no claim)."""
    now = datetime.now(UTC)
    async with db.transaction(None, write=False):
        tenants = await active_tenants()
    for tenant in tenants:
        if gone := await reminder_service.purge(tenant, now):
            log.info("purged %d old reminders of tenant %s", gone, tenant.slug)


@every(hours=1)
async def overdue_findings(settings: Settings) -> None:
    """Findings whose rectification deadline passed: noted once in their history and
    charged to the unit's assessment, whether or not a reminder rule is on."""
    async with db.transaction(None, write=False):
        tenants = await active_tenants()
    for tenant in tenants:
        async with db.transaction(tenant.id):
            if noted := await finding_costs.mark_overdue(tenant, units.today(tenant)):
                log.info("%d findings of tenant %s fell overdue", noted, tenant.slug)


@every(hours=1)
async def declassification_due(settings: Settings) -> None:
    """The day's expiry scan of the register: items whose term ends within the tenant's
    lead time get their review task, escalation at 60 days, declassification by expiry the
    day after the end. Hourly so a new day is taken up soon after midnight; each stage
    happens once per item (one conditional UPDATE claims it), whichever scheduler runs it."""
    async with db.transaction(None, write=False):
        tenants = await active_tenants()
    for tenant in tenants:
        async with db.transaction(tenant.id):
            found = await declass_review.scan(tenant, units.today(tenant))
        if any(found.values()):
            log.info("declassification scan of tenant %s: %s", tenant.slug, found)


@every(hours=1)
async def consultation_escalations(settings: Settings) -> None:
    """The day's escalation of consultations left unanswered past their deadline: up the
    unit tree, then to the bureau. Hourly so a new day is taken up soon after midnight; each
    stage happens once per consultation (one conditional UPDATE), whichever scheduler runs it."""
    async with db.transaction(None, write=False):
        tenants = await active_tenants()
    for tenant in tenants:
        async with db.transaction(tenant.id):
            raised = await declass_consultations.escalate(tenant, units.today(tenant))
        if raised:
            log.info("consultations of tenant %s escalated: %s", tenant.slug, raised)


def make_scheduler(settings: Settings) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC)
    for fn, interval in JOBS:
        # coalesce: a process that slept through several ticks runs a job once
        scheduler.add_job(fn, "interval", args=[settings], id=fn.__name__, coalesce=True, max_instances=1, **interval)
    return scheduler
