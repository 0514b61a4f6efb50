"""The term of a classified item: when it ends, from years, a date or a condition; the
default of a derived item that marks none; the law's ceilings by level."""

from __future__ import annotations

from datetime import date, timedelta

from server.core.i18n import _l

LEVELS = {
    "top_secret": _l("Top secret"),  # 绝密
    "secret": _l("Secret (level)"),  # 机密
    "confidential": _l("Confidential"),  # 秘密
}
# most to least secret: a level change downward is a downgrade
LEVEL_RANK = {"top_secret": 0, "secret": 1, "confidential": 2}
# a term's ceiling by level unless a rule says otherwise, and the default of a derived item
# with no marked term (State Secrets Law art. 20; declassification rules)
MAX_YEARS = {"top_secret": 30, "secret": 20, "confidential": 10}
TERM_KINDS = {
    "years": _l("Years"),
    "date": _l("Until a date"),
    "condition": _l("Until a condition is met"),
}
# the earliest a reminder may come before a term ends, and the tenant's default lead time
MIN_LEAD_DAYS = 90
# the second stage: the unit's principal is told this many days before the end
ESCALATE_DAYS = 60


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def term_end(classified_on: date, kind: str, years: int | None = None, until: date | None = None) -> date | None:
    """The last day the item is classified: None for a condition (reviewed yearly, never
    ending by the calendar alone)."""
    if kind == "years" and years is not None:
        return add_years(classified_on, years) - timedelta(days=1)
    if kind == "date":
        return until
    return None


def default_years(level: str) -> int:
    return MAX_YEARS[level]


def days_left(end: date | None, today: date) -> int | None:
    return None if end is None else (end - today).days
