"""The tenant's declassification settings, which the office sets: how many days before a
term ends its review task opens (the lead time: at least 90, the law's three months), how
many days an originating unit has to answer a consultation by default, and how many days
after the first escalation of an unanswered consultation it goes to the bureau.

They live in the tenant's settings (tenants.service); this module holds their rules, once:
the bounds a change is checked against, and how a stored value is read (a value written
past the check reads as the nearest allowed one). review.py and consultations.py read them
through `lead_days_of`, `consult_days_of` and `escalate_days_of`."""

from __future__ import annotations

from typing import Any

from server import db, roles
from server.actor import Actor
from server.audit import service as audit
from server.core.errors import Forbidden
from server.core.i18n import _, _l
from server.core.validation import Checker
from server.declassification.terms import MIN_LEAD_DAYS
from tenants.service import TenantRef, settings_of, update_settings

LEAD = "declass_lead_days"
CONSULT = "declass_consult_days"
ESCALATE = "declass_consult_escalate_days"
MAX_LEAD_DAYS = 365
DEFAULT_CONSULT_DAYS = 30
DEFAULT_ESCALATE_DAYS = 14
# each setting: its default, its least and its greatest value (days)
BOUNDS: dict[str, tuple[int, int, int]] = {
    LEAD: (MIN_LEAD_DAYS, MIN_LEAD_DAYS, MAX_LEAD_DAYS),
    CONSULT: (DEFAULT_CONSULT_DAYS, 1, 180),
    ESCALATE: (DEFAULT_ESCALATE_DAYS, 1, 180),
}
LABELS = {
    LEAD: _l("Reminder lead time (days)"),
    CONSULT: _l("Days an originating unit has to answer"),
    ESCALATE: _l("Days from the first escalation to the bureau"),
}
AUDIT_ACTION = "declass.settings"


# ---------------------------------------------------------------- reading


def days_of(settings: dict[str, Any], name: str) -> int:
    """The setting `name` as the tenant's settings give it: its default when unset or not
    a number, and a value outside its bounds (written past the check) as the nearest bound."""
    default, least, most = BOUNDS[name]
    try:
        value = int(settings.get(name) or default)
    except (TypeError, ValueError):
        return default
    return min(most, max(least, value))


def lead_days_of(settings: dict[str, Any]) -> int:
    """How many days before a term ends its review task opens (default and minimum 90)."""
    return days_of(settings, LEAD)


def consult_days_of(settings: dict[str, Any]) -> int:
    """A consultation's deadline when the asker gives none, in days (default 30)."""
    return days_of(settings, CONSULT)


def escalate_days_of(settings: dict[str, Any]) -> int:
    """Days from an unanswered consultation's first escalation to the bureau (default 14)."""
    return days_of(settings, ESCALATE)


def values_of(settings: dict[str, Any]) -> dict[str, int]:
    """Every declassification setting, as read."""
    return {name: days_of(settings, name) for name in BOUNDS}


# ---------------------------------------------------------------- checking


def _days(check: Checker, name: str) -> int:
    """One setting as sent: required, a whole number, within its bounds (the lead time's
    floor said as the law says it)."""
    default, least, most = BOUNDS[name]
    if check.data.get(name) in (None, ""):
        check.fail(name, _("%(field)s is required.", field=check.label(name)))
        return default
    value = check.integer(name, default=default)
    if name in check.errors:
        return default
    if name == LEAD and value < least:
        check.fail(
            name,
            _(
                "The reminder comes at least %(days)d days before a term ends (three months, as the law asks).",
                days=least,
            ),
        )
    elif not least <= value <= most:
        check.fail(
            name,
            _("%(field)s: from %(least)d to %(most)d days.", field=check.label(name), least=least, most=most),
        )
    return value


def check_lead_days(data: dict[str, Any]) -> int:
    """A lead time as a settings form or the API sends it: 422 naming `declass_lead_days`
    when missing, not a number, below 90 days (the law's three months) or above a year."""
    check = Checker(data, LABELS)
    value = _days(check, LEAD)
    check.done()
    return value


def check_settings(data: dict[str, Any]) -> dict[str, int]:
    """A change of the settings: the ones given (at least one), each checked; 422 naming
    every wrong field."""
    check = Checker(data, LABELS)
    check.changes(BOUNDS)
    values = {name: _days(check, name) for name in BOUNDS if check.present(name)}
    check.done()
    return values


# ---------------------------------------------------------------- the service


async def declass_settings(tenant: TenantRef) -> dict[str, int]:
    """The tenant's declassification settings as they apply now (defaults filling the rest)."""
    return values_of(await settings_of(tenant))


async def update_declass_settings(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict[str, int]:
    """The office changes some of the settings (the others kept, even when another change
    is written at the same moment); audited with what changed, before and after."""
    if actor.role != roles.OFFICE_ADMIN:
        raise Forbidden(_("Only the bureau's office changes the declassification settings."))
    values = check_settings(data)
    async with db.atomic():
        before = values_of(await settings_of(tenant))
        after = values_of(await update_settings(tenant, values))
        changed = {name: [before[name], after[name]] for name in values if before[name] != after[name]}
        await audit.record(tenant.id, actor, AUDIT_ACTION, "tenant", tenant.uuid, detail={"changed": changed})
    return after
