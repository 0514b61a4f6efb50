"""What a review decision holds, checked against its item: the fields each kind takes, the
new term within the level's ceiling (an extension past it goes to the bureau, asked at
least 60 days before the term ends), the new level, the effective date. Pure: the item
and today in, the decision's values and whether the bureau approves it out."""

from __future__ import annotations

from datetime import date
from typing import Any

from server.core.i18n import _, _l
from server.core.validation import Checker
from server.declassification import terms

KINDS = {
    "declassify": _l("Declassify"),
    "extend": _l("Extend the term"),
    "change_level": _l("Change the level"),
    "correct": _l("Correct an irregular classification"),
}
IRREGULARITIES = {
    "level": _l("Wrong level"),
    "term": _l("Wrong term"),
    "scope": _l("Wrong knowledge scope"),
    "basis": _l("No or wrong basis"),
    "authority": _l("Beyond the classifier's authority"),
    "marking": _l("Irregular marking"),
}
LABELS = {
    "decision": _l("Decision"),
    "basis": _l("Basis of the decision"),
    "effective_on": _l("Effective date"),
    "part": _l("Part declassified"),
    "new_term_years": _l("New term in years"),
    "new_term_until": _l("New term until"),
    "new_level": _l("New level"),
    "irregularity": _l("Kind of irregularity"),
    "reason": _l("Reason"),
    "publish": _l("Publish on the public page"),
}
TERM_FIELDS = ("new_term_years", "new_term_until")
# the fields each kind takes beyond decision, basis, effective_on and reason
KIND_FIELDS = {
    "declassify": ("part", "publish"),
    "extend": TERM_FIELDS,
    "change_level": ("new_level", *TERM_FIELDS),
    "correct": ("irregularity", "new_level", *TERM_FIELDS),
}
# an extension past the ceiling is asked of the bureau at least this many days before the end
BUREAU_NOTICE_DAYS = 60
NOT_GIVEN = (None, "", False, "0", "false", "off", "no")


def label(labels: dict, code: str) -> str:
    """A code's label, or nothing for an empty or unknown code."""
    return str(labels[code]) if code in labels else ""


def given(data: dict[str, Any], field: str) -> bool:
    value = data.get(field)
    return (value.strip() if isinstance(value, str) else value) not in NOT_GIVEN


def ceiling(item: dict, level: str) -> date:
    """The last day a term of this level may run to, counted from the classification date."""
    end = terms.term_end(item["classified_on"], "years", terms.MAX_YEARS[level])
    assert end is not None
    return end


def _ceiling_message(item: dict, level: str) -> str:
    return _(
        "The term would pass the ceiling of %(level)s: at most %(years)d years from the classification date, "
        "until %(date)s.",
        level=str(terms.LEVELS[level]),
        years=terms.MAX_YEARS[level],
        date=ceiling(item, level).isoformat(),
    )


def _new_term(check: Checker, item: dict, today: date, *, required: bool) -> dict[str, Any] | None:
    """The new term (kind, years or end date, its last day), or None when none is given."""
    has_years, has_until = given(check.data, "new_term_years"), given(check.data, "new_term_until")
    if has_years and has_until:
        check.fail("new_term_until", _("Give the new term in years or as an end date, not both."))
        return None
    if not (has_years or has_until):
        if required:
            check.fail("new_term_years", _("%(field)s is required.", field=check.label("new_term_years")))
        return None
    field = "new_term_years" if has_years else "new_term_until"
    years = check.integer(field, minimum=1, maximum=100) if has_years else None
    until = None if has_years else check.date(field)
    if field in check.errors:
        return None
    kind = "years" if has_years else "date"
    end = terms.term_end(item["classified_on"], kind, years, until)
    if end is None or end <= today:
        check.fail(field, _("The new term must end after today."))
        return None
    return {"field": field, "kind": kind, "years": years, "until": until, "end": end}


def _check_extension(check: Checker, item: dict, today: date, *, approving: bool) -> tuple[dict, bool]:
    """An extension ends later than the term it extends; past the level's ceiling it waits
    for the bureau, which is asked at least 60 days before the term ends."""
    term = _new_term(check, item, today, required=True)
    if term is None:
        return {}, False
    current = item["term_ends_on"]
    if current is not None and term["end"] <= current:
        check.fail(
            term["field"], _("An extension must end later than the current term (%(date)s).", date=current.isoformat())
        )
    bureau = term["end"] > ceiling(item, item["level"])
    if bureau and not approving and current is not None and (current - today).days < BUREAU_NOTICE_DAYS:
        check.fail(
            term["field"],
            _(
                "An extension past the ceiling of %(level)s (%(years)d years) needs the bureau's approval, asked at "
                "least %(days)d days before the term ends on %(date)s: it is too late to ask now.",
                level=str(terms.LEVELS[item["level"]]),
                years=terms.MAX_YEARS[item["level"]],
                days=BUREAU_NOTICE_DAYS,
                date=current.isoformat(),
            ),
        )
    return {"new_term_years": term["years"], "new_term_until": term["until"]}, bureau


def _check_level_and_term(check: Checker, item: dict, today: date, *, level_required: bool) -> dict:
    """A new level (another than the item's) and a new term, both within the ceiling of
    the level the item ends up with; without a new term, the current one must fit it."""
    level = check.choice("new_level", terms.LEVELS, required=level_required)
    if level and level == item["level"]:
        check.fail("new_level", _("The item already has this level."))
    term = _new_term(check, item, today, required=False)
    values = {"new_level": level, "new_term_years": None, "new_term_until": None}
    if term is not None:
        values.update(new_term_years=term["years"], new_term_until=term["until"])
    final = level or item["level"]
    end = term["end"] if term else item["term_ends_on"]
    if end is not None and end > ceiling(item, final) and not check.errors:
        check.fail(term["field"] if term else "new_level", _ceiling_message(item, final))
    return values


def _check_fields_apply(check: Checker, kind: str) -> None:
    takes = KIND_FIELDS.get(kind, ())
    for field in LABELS:
        if field in ("decision", "basis", "effective_on", "reason") or field in takes:
            continue
        if given(check.data, field):
            check.fail(field, _("%(field)s does not apply to this decision.", field=check.label(field)))


def _check_effective(check: Checker, item: dict, kind: str, today: date) -> date | None:
    effective = check.date("effective_on")
    if effective is None:
        return None
    if effective < item["classified_on"]:
        check.fail(
            "effective_on",
            _(
                "The effective date cannot be before the item was classified (%(date)s).",
                date=item["classified_on"].isoformat(),
            ),
        )
    elif kind == "declassify" and effective > today:
        check.fail(
            "effective_on",
            _("A declassification takes effect on approval or an earlier day: for a later day, extend the term to it."),
        )
    return effective


def check_decision(item: dict, data: dict[str, Any], today: date, *, approving: bool = False) -> tuple[dict, bool]:
    """The decision's values as stored, and whether the bureau approves it; ValidationFailed
    (422 naming the field) otherwise. `approving`: checked again when it is approved (the
    item may have changed), the time to ask the bureau having been met when it was asked."""
    check = Checker(data, LABELS)
    kind = check.choice("decision", KINDS)
    values: dict[str, Any] = {
        "decision": kind,
        "basis": check.text("basis", required=True, max_len=2000),
        "reason": check.text("reason", required=kind == "extend", max_len=2000),
        "effective_on": _check_effective(check, item, kind, today),
    }
    _check_fields_apply(check, kind)
    bureau = False
    if kind == "declassify":
        values["part"] = check.text("part", max_len=2000)
        values["publish"] = check.boolean("publish")
    elif kind == "extend":
        extension, bureau = _check_extension(check, item, today, approving=approving)
        values.update(extension)
    elif kind == "change_level":
        values.update(_check_level_and_term(check, item, today, level_required=True))
    elif kind == "correct":
        values["irregularity"] = check.choice("irregularity", IRREGULARITIES)
        values.update(_check_level_and_term(check, item, today, level_required=False))
    check.done()
    return values, bureau


def as_data(decision: dict) -> dict[str, Any]:
    """A stored decision as the input it was checked from (to check it again)."""
    fields = ("decision", "basis", "reason", "effective_on", *KIND_FIELDS[decision["decision"]])
    return {f: decision[f] for f in fields if decision.get(f) not in (None, "")}


def effects(item: dict, decision: dict, today: date) -> dict[str, Any]:
    """What the approved decision changes on the item (column name → value)."""
    kind = decision["decision"]
    changes: dict[str, Any] = {"last_reviewed_on": today}
    if kind == "declassify":
        part = decision["part"]
        if part and item["declassified_part"]:
            part = item["declassified_part"] + "\n" + part
        changes.update(
            status="partly_declassified" if decision["part"] else "declassified",
            declassified_on=decision["effective_on"] or today,
            declassified_part=part if decision["part"] else item["declassified_part"],
        )
        return changes
    if kind in ("change_level", "correct") and decision["new_level"]:
        changes["level"] = decision["new_level"]
    if decision["new_term_years"] is not None or decision["new_term_until"] is not None:
        kind_of_term = "years" if decision["new_term_years"] is not None else "date"
        changes.update(
            term_kind=kind_of_term,
            term_years=decision["new_term_years"],
            term_until=decision["new_term_until"],
            term_condition="",
            term_defaulted=False,
            term_ends_on=terms.term_end(
                item["classified_on"], kind_of_term, decision["new_term_years"], decision["new_term_until"]
            ),
            expiry_stage=0,
        )
    return changes
