"""The reminder rules a tenant runs, their defaults, checking an edit, quiet hours,
and rendering a message from a rule's template in the recipient's language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import TemplateError

from server.core.i18n import LOCALES, LazyString, _, _l, translations
from server.core.validation import Checker
from server.documents import safe

CHANNELS = {"mail": _l("Email"), "inbox": _l("Inbox"), "webhook": _l("Group robot (webhook)")}
# the channels a person may choose among (the webhook speaks to a group, not to them)
PERSONAL_CHANNELS = ("mail", "inbox")
LEVELS = {0: _l("The person"), 1: _l("Unit principal and secrecy officer"), 2: _l("Secrecy office")}


@dataclass(frozen=True)
class Kind:
    label: LazyString
    # how `days` counts: after the anchor day, before it, or weeks before the year ends
    counts: str
    days_label: LazyString
    days: int
    repeat_days: int
    escalate_after: int
    subject: LazyString
    body: LazyString


KINDS: dict[str, Kind] = {
    "notice_unsigned": Kind(
        _l("Notice unsigned"),
        "after",
        _l("Days after issue"),
        7,
        7,
        3,
        _l("Responsibility notice awaiting signature: {{ person }}"),
        _l(
            '{{ name }}: the secrecy responsibility notice "{{ title }}" of {{ person }} ({{ unit }}) '
            "was issued on {{ since }} and is still unsigned after {{ days }} days. Read and sign it here: {{ link }}"
        ),
    ),
    "confirmation_due": Kind(
        _l("Duty confirmation due"),
        "before",
        _l("Days before the due date"),
        7,
        0,
        0,
        _l("Duty confirmation due on {{ due }}: {{ person }}"),
        _l(
            "{{ name }}: the duty confirmation of {{ person }} ({{ unit }}) for {{ title }} is due on {{ due }}. "
            "Confirm duty by duty here: {{ link }}"
        ),
    ),
    "confirmation_overdue": Kind(
        _l("Duty confirmation overdue"),
        "after",
        _l("Days after the due date"),
        1,
        7,
        2,
        _l("Duty confirmation overdue: {{ person }}"),
        _l(
            "{{ name }}: the duty confirmation of {{ person }} ({{ unit }}) for {{ title }} was due on {{ due }} "
            "and is {{ days }} days late. Confirm duty by duty here: {{ link }}"
        ),
    ),
    "training_short": Kind(
        _l("Training hours short"),
        "weeks_left",
        _l("Weeks left in the year"),
        8,
        14,
        2,
        _l("Secrecy training hours short: {{ person }}"),
        _l(
            "{{ name }}: {{ person }} ({{ unit }}) has {{ hours }} of the {{ required }} secrecy training hours "
            "required in {{ title }}, with {{ days }} days left in the year. See the record: {{ link }}"
        ),
    ),
    "assessment_due": Kind(
        _l("Self-assessment due"),
        "before",
        _l("Days before the due date"),
        7,
        0,
        0,
        _l("Secrecy self-assessment due on {{ due }}: {{ unit }}"),
        _l(
            "{{ name }}: the {{ title }} secrecy self-assessment of {{ unit }} is due on {{ due }}. "
            "Score, attach evidence and submit here: {{ link }}"
        ),
    ),
    "assessment_overdue": Kind(
        _l("Self-assessment overdue"),
        "after",
        _l("Days after the due date"),
        1,
        3,
        2,
        _l("Secrecy self-assessment overdue: {{ unit }}"),
        _l(
            "{{ name }}: the {{ title }} secrecy self-assessment of {{ unit }} was due on {{ due }} "
            "and is {{ days }} days late. Submit it here: {{ link }}"
        ),
    ),
    "finding_due": Kind(
        _l("Inspection finding due"),
        "before",
        _l("Days before the deadline"),
        7,
        0,
        0,
        _l("Inspection finding to rectify by {{ due }}: {{ unit }}"),
        _l(
            '{{ name }}: the inspection finding "{{ title }}" of {{ unit }} is to be rectified by {{ due }}. '
            "Say what was done here: {{ link }}"
        ),
    ),
    "finding_overdue": Kind(
        _l("Inspection finding overdue"),
        "after",
        _l("Days after the deadline"),
        1,
        7,
        2,
        _l("Inspection finding overdue: {{ unit }}"),
        _l(
            '{{ name }}: the inspection finding "{{ title }}" of {{ unit }} was to be rectified by {{ due }} '
            "and is {{ days }} days late. Say what was done here: {{ link }}"
        ),
    ),
    "declass_due": Kind(
        _l("Classified item's term ending"),
        "after",
        _l("Days after the review task opens"),
        0,
        14,
        0,
        _l("Classified item's term ends on {{ due }}: {{ unit }}"),
        _l(
            '{{ name }}: the term of the classified item "{{ title }}" of {{ unit }} ends on {{ due }}. '
            "Review it and decide (declassify, extend or change its level) before then here: {{ link }}"
        ),
    ),
    "declass_expired": Kind(
        _l("Classified item declassified by expiry"),
        "after",
        _l("Days after the term ended"),
        1,
        7,
        2,
        _l("Declassified by expiry, publication undecided: {{ unit }}"),
        _l(
            '{{ name }}: the term of the classified item "{{ title }}" of {{ unit }} ended on {{ due }} '
            "with no decision, so it is declassified by expiry. Decide whether it is published here: {{ link }}"
        ),
    ),
    "consult_due": Kind(
        _l("Consultation answer due"),
        "before",
        _l("Days before the deadline"),
        7,
        0,
        0,
        _l("Consultation to answer by {{ due }}: {{ unit }}"),
        _l(
            '{{ name }}: {{ unit }} is asked for its opinion on the derived classified item "{{ title }}" '
            "and is to answer by {{ due }}. Answer here: {{ link }}"
        ),
    ),
    "consult_overdue": Kind(
        _l("Consultation answer overdue"),
        "after",
        _l("Days after the deadline"),
        1,
        7,
        0,
        _l("Consultation answer overdue: {{ unit }}"),
        _l(
            '{{ name }}: the opinion of {{ unit }} on the derived classified item "{{ title }}" was due on {{ due }} '
            "and is {{ days }} days late. Answer here: {{ link }}"
        ),
    ),
}

# the built-in training text on the year's last day, when "0 days left" would read oddly
LAST_DAY_BODY = _l(
    "{{ name }}: {{ person }} ({{ unit }}) has {{ hours }} of the {{ required }} secrecy training hours "
    "required in {{ title }}, and today is the last day of the year. See the record: {{ link }}"
)
# what the inbox's button says: the task a reminder asks for
ACTIONS = {
    "notice_unsigned": _l("Read and sign"),
    "confirmation_due": _l("Confirm the duties"),
    "confirmation_overdue": _l("Confirm the duties"),
    "training_short": _l("See the training record"),
    "assessment_due": _l("Fill in the self-assessment"),
    "assessment_overdue": _l("Fill in the self-assessment"),
    "finding_due": _l("Report the rectification"),
    "finding_overdue": _l("Report the rectification"),
    "declass_due": _l("Review the classified item"),
    "declass_expired": _l("Decide on publication"),
    "consult_due": _l("Give the opinion"),
    "consult_overdue": _l("Give the opinion"),
}
DEFAULT_ACTION = _l("Go to the task")
_TRAILING_LINK_RE = re.compile(r"\s*[:：]?\s*https?://\S+\s*$")
_ANY_LINK_RE = re.compile(r"\s*https?://\S+")
_CLAUSE_ENDS = "。，；！？.;!?"


def as_sentence(body: str, name: str) -> str:
    """A message for the inbox, where the link is a button: without the greeting by the
    reader's own name and without the closing "…here: <address>" clause."""
    text = body.strip()
    for colon in ("：", ":"):
        if name and text.startswith(name + colon):
            text = text[len(name) + 1 :].lstrip()
    if found := _TRAILING_LINK_RE.search(text):
        head = text[: found.start()]
        cut = max(head.rfind(c) for c in _CLAUSE_ENDS)
        # the clause that only pointed at the link goes; the sentence before it is closed
        text = head[:cut] + ("." if head[cut] in ".;!?" else "。") if cut > 0 else head
    text = _ANY_LINK_RE.sub("", text)
    return text[:1].upper() + text[1:]


DEFAULT_QUIET = ("22:00", "08:00")
ESCALATED_PREFIX = _l("[Escalated]")
# the office's daily digest of what stays undone after every reminder to the unit
DIGEST_SUBJECT = _l("%(kind)s: %(count)s still undone")
DIGEST_BODY = _l(
    '%(name)s: %(count)s cases of "%(kind)s" are still undone after %(reminders)s reminders each, '
    "the unit's principal and secrecy officer included: %(items)s. See the list: %(link)s"
)
DIGEST_NAMES = 30
SAMPLE = {
    "name": "张三",
    "person": "李四",
    "unit": "示例单位",
    "title": "2026-Q3",
    "since": "2026-09-01",
    "due": "2026-10-15",
    "days": 7,
    "count": 2,
    "hours": "2",
    "required": "4",
    "link": "https://luzhi.example/t/demo/me",
    "tenant": "示例市保密局",
}
LABELS = {
    "enabled": _l("On"),
    "repeat_days": _l("Repeat every (days)"),
    "escalate_after": _l("Escalate after (reminders)"),
    "channels": _l("Channels"),
    "quiet_start": _l("Quiet hours from"),
    "quiet_end": _l("Quiet hours until"),
    **{f"subject_{loc}": _l("Subject") for loc in LOCALES},
    **{f"body_{loc}": _l("Message") for loc in LOCALES},
}
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# Office admins write these templates: they render in a bounded sandbox (server.documents.safe)
MESSAGE_MAX_CHARS = 20_000
MESSAGE_SECONDS = 0.2  # a real message takes well under a millisecond
TRUSTED_SECONDS = 10.0  # the built-in wording: only a stalled process comes near it
# tenant templates that overran here: rendered once more they would hold the loop again
_runaway: dict[str, None] = {}


def defaults(kind: str) -> dict[str, Any]:
    k = KINDS[kind]
    return {
        "kind": kind,
        "enabled": True,
        "days": k.days,
        "repeat_days": k.repeat_days,
        "escalate_after": k.escalate_after,
        "channels": ["mail", "inbox"],
        "quiet_start": DEFAULT_QUIET[0],
        "quiet_end": DEFAULT_QUIET[1],
        "templates": {},
    }


def fires(rule: dict[str, Any], anchor: date, day: date) -> int | None:
    """Which reminder (0, 1, …) of a thing anchored on `anchor` falls due by `day`, if any.
    A scheduler that slept through days sends the latest one only."""
    counts = KINDS[rule["kind"]].counts
    if counts == "before":
        first = anchor - timedelta(days=rule["days"])
        return 0 if first <= day <= anchor else None
    first = anchor + timedelta(days=rule["days"]) if counts == "after" else anchor - timedelta(weeks=rule["days"])
    if day < first:
        return None
    return (day - first).days // rule["repeat_days"] if rule["repeat_days"] > 0 else 0


def level_of(rule: dict[str, Any], number: int) -> int:
    after = rule["escalate_after"]
    if not after or number < after:
        return 0
    return 1 if number < 2 * after else 2


def channel_list(value: Any) -> list[str]:
    """A checkbox group (form) or a list (API) of channel codes; anything else is one
    value the caller refuses as not allowed."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [] if value is None else [str(value)]


async def check_rule(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """A rule edit checked as a whole: every wrong field named, nothing half-applied."""
    check = Checker(data, {**LABELS, "days": KINDS[kind].days_label})
    out: dict[str, Any] = {"enabled": check.boolean("enabled")}
    if data.get("days") in (None, ""):
        check.fail("days", _("%(field)s is required.", field=check.label("days")))
    out["days"] = check.integer("days", minimum=1 if KINDS[kind].counts == "weeks_left" else 0, maximum=365)
    out["repeat_days"] = check.integer("repeat_days", minimum=0, maximum=365)
    out["escalate_after"] = check.integer("escalate_after", minimum=0, maximum=50)
    channels = channel_list(data.get("channels"))
    if any(c not in CHANNELS for c in channels):
        check.fail("channels", _("%(field)s is not one of the allowed values.", field=check.label("channels")))
    elif not channels and out["enabled"]:
        check.fail("channels", _("Choose at least one channel."))
    out["channels"] = [c for c in CHANNELS if c in channels]
    for field in ("quiet_start", "quiet_end"):
        value = check.text(field, max_len=5)
        if value and not _TIME_RE.match(value):
            check.fail(field, _("Enter a time as HH:MM, e.g. 22:00."))
        out[field] = value
    if bool(out["quiet_start"]) != bool(out["quiet_end"]):
        check.fail("quiet_end", _("Give both ends of the quiet hours, or neither."))
    templates: dict[str, dict[str, str]] = {}
    for loc in LOCALES:
        subject = check.text(f"subject_{loc}", max_len=200)
        body = check.text(f"body_{loc}", max_len=4000)
        for field, text in ((f"subject_{loc}", subject), (f"body_{loc}", body)):
            if text:  # rendered in a worker: a template that runs away is killed there
                problem = await safe.check_template(
                    text, SAMPLE, autoescape=False, max_chars=MESSAGE_MAX_CHARS, seconds=MESSAGE_SECONDS
                )
                if problem:
                    check.fail(field, problem)
        if subject or body:
            templates[loc] = {"subject": subject, "body": body}
    out["templates"] = templates
    check.done()
    return out


def template_text(rule: dict[str, Any], locale: str) -> tuple[str, str]:
    """The subject and body template for a language: the tenant's text, else the built-in one."""
    own = (rule.get("templates") or {}).get(locale) or {}
    kind = KINDS[rule["kind"]]
    gettext = translations(locale).gettext
    return own.get("subject") or gettext(kind.subject.message), own.get("body") or gettext(kind.body.message)


def render(rule: dict[str, Any], locale: str, context: dict[str, Any], escalated: bool) -> tuple[str, str]:
    """The message for one recipient. In-process (a day's generation renders thousands),
    but bounded in time and size; a tenant's template that fails on real data (it passed
    the check on the sample) gives way to the built-in wording rather than no reminder."""
    subject, body = template_text(rule, locale)
    own = (rule.get("templates") or {}).get(locale) or {}
    if not own.get("body") and KINDS[rule["kind"]].counts == "weeks_left" and context.get("days") == 0:
        body = translations(locale).gettext(LAST_DAY_BODY.message)
    try:
        title = _render(subject, context, trusted=not own.get("subject"))
        text = _render(body, context, trusted=not own.get("body"))
    except TemplateError:
        builtin = template_text({"kind": rule["kind"]}, locale)
        title, text = _render(builtin[0], context, trusted=True), _render(builtin[1], context, trusted=True)
    if escalated:
        title = f"{translations(locale).gettext(ESCALATED_PREFIX.message)} {title}"
    return title[:300], text


def render_digest(locale: str, params: dict[str, Any]) -> tuple[str, str]:
    gettext = translations(locale).gettext
    title = f"{gettext(ESCALATED_PREFIX.message)} {gettext(DIGEST_SUBJECT.message) % params}"
    return title[:300], gettext(DIGEST_BODY.message) % params


def _render(text: str, context: dict[str, Any], *, trusted: bool = False) -> str:
    """A tenant's template within MESSAGE_SECONDS, and never again once it overran; our own
    wording (`trusted`) with room for a busy machine's stall, so a reminder is never lost."""
    if trusted:
        return safe.render_bounded(
            text, context, autoescape=False, max_chars=MESSAGE_MAX_CHARS, seconds=TRUSTED_SECONDS
        )
    if text in _runaway:
        raise TemplateError("overran before")
    try:
        return safe.render_bounded(
            text, context, autoescape=False, max_chars=MESSAGE_MAX_CHARS, seconds=MESSAGE_SECONDS
        )
    except safe.TemplateLimit:
        if len(_runaway) < 1000:
            _runaway[text] = None
        raise


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def after_quiet(rule: dict[str, Any], at: datetime, zone: str) -> datetime:
    """The first moment at or after `at` outside the rule's quiet hours (in the tenant's zone)."""
    if not rule.get("quiet_start") or not rule.get("quiet_end"):
        return at
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    start, end, now = _minutes(rule["quiet_start"]), _minutes(rule["quiet_end"]), local.hour * 60 + local.minute
    if start == end:
        return at
    quiet = start <= now < end if start < end else (now >= start or now < end)
    if not quiet:
        return at
    day = local.date() if (start < end or now < end) else local.date() + timedelta(days=1)
    resume = datetime.combine(day, time(end // 60, end % 60), tz)
    return resume.astimezone(at.tzinfo)
