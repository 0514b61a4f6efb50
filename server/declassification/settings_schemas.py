"""API bodies of the tenant's declassification settings (msgspec). The service checks the
values and names the field of a wrong one, so a change's fields take a number or its text."""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType


class DeclassSettingsChange(msgspec.Struct, forbid_unknown_fields=True):
    """Some of the settings (at least one), in days: `declass_lead_days` 90 to 365,
    `declass_consult_days` and `declass_consult_escalate_days` 1 to 180."""

    declass_lead_days: int | str | UnsetType = UNSET
    declass_consult_days: int | str | UnsetType = UNSET
    declass_consult_escalate_days: int | str | UnsetType = UNSET


class DeclassSettings(msgspec.Struct):
    """The settings as they apply now (the defaults where the office set none)."""

    declass_lead_days: int  # a review task opens this many days before a term ends (default 90)
    declass_consult_days: int  # a consultation's deadline when the asker gives none (default 30)
    declass_consult_escalate_days: int  # from an unanswered consultation's first escalation to the bureau (default 14)
