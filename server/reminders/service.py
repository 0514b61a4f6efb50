"""Reminders: the tenant's rules and channels, generating the day's reminders
idempotently, and what users read of them (the outbox, the inbox, preferences)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from piccolo.query.functions.aggregate import Count

from server import db, roles, secretbox
from server.accounts import service as accounts
from server.actor import Actor
from server.audit import service as audit
from server.core.chunks import chunks
from server.core.errors import Conflict, NotFound
from server.core.i18n import _, _l, translations
from server.core.rows import joined, public
from server.core.validation import Checker
from server.documents.xlsx import write_workbook
from server.reminders import outbox, sources
from server.reminders import rules as rulebook
from server.reminders.channels import PRESETS, SECURITY, MailServer, message_id
from server.reminders.tables import Delivery, NotifyPreference, NotifySettings, Reminder, ReminderRule, ReminderRun
from server.settings import Settings
from server.units import service as units
from tenants.service import TenantRef, get_owned

STATUSES = {
    "pending": _l("Waiting"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "uncertain": _l("Uncertain"),
    "undeliverable": _l("Undeliverable"),
    "cancelled": _l("Not needed"),
}
SIGN_CODE = outbox.SIGN_CODE
# what the office may send again (same message, same Message-ID)
RESENDABLE = ("failed", "uncertain", "undeliverable")
# why a delivery was not sent, when the reason is ours (else the server's own words)
REASONS = {
    "no_mail": _l("No mail server is configured."),
    "no_webhook": _l("No webhook is configured."),
    "no_address": _l("The person has no email address."),
    "no_account": _l("The person has no account to read the inbox with."),
    outbox.DONE: _l("Already done, or the person has left the post."),
    outbox.EXPIRED: _l("The code expired before the mail server took it."),
}
SETTINGS_LABELS = {
    "smtp_host": _l("Mail server"),
    "smtp_port": _l("Port"),
    "smtp_user": _l("User name"),
    "smtp_password": _l("Password"),
    "smtp_security": _l("Encryption"),
    "mail_from": _l("Sender address"),
    "webhook_url": _l("Webhook address"),
    "webhook_preset": _l("Webhook format"),
    "webhook_secret": _l("Signing secret"),
    "smtp_password_clear": _l("Clear the stored password"),
    "webhook_secret_clear": _l("Clear the stored secret"),
    "channels": _l("Channels"),
    "email": _l("Email"),
}
# kept sealed (server.secretbox), never shown: the settings say only whether each is set
SECRETS = ("smtp_password", "webhook_secret")


# ---------------------------------------------------------------- rules and settings


async def rules_of(tenant: TenantRef) -> dict[str, dict[str, Any]]:
    """Every kind's rule: the tenant's edit, else the default."""
    rows = await ReminderRule.select().where(ReminderRule.tenant == tenant.id).output(load_json=True)
    saved = {r["kind"]: r for r in rows if r["kind"] in rulebook.KINDS}
    return {kind: saved.get(kind) or rulebook.defaults(kind) for kind in rulebook.KINDS}


async def save_rule(tenant: TenantRef, actor: Actor, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    if kind not in rulebook.KINDS:
        raise NotFound()
    values = await rulebook.check_rule(kind, data)
    existing = (
        await ReminderRule.select(ReminderRule.id)
        .where(ReminderRule.tenant == tenant.id, ReminderRule.kind == kind)
        .first()
    )
    now = datetime.now().astimezone()
    async with db.atomic():
        if existing:
            await ReminderRule.update({**values, "updated_at": now}).where(ReminderRule.id == existing["id"])
        else:
            await ReminderRule.insert(ReminderRule(tenant=tenant.id, kind=kind, updated_at=now, **values))
        # today's reminders are generated again under the new rule at the next tick
        today = sources.local_day(tenant, now)
        await ReminderRun.delete().where(ReminderRun.tenant == tenant.id, ReminderRun.day == today)
        await audit.record(tenant.id, actor, "reminders.rule", "reminder_rule", kind, detail=values)
    return (await rules_of(tenant))[kind]


async def notify_settings(tenant: TenantRef) -> dict[str, Any]:
    row = await NotifySettings.select().where(NotifySettings.tenant == tenant.id).first()
    return row or {c._meta.name: c._meta.params.get("default") for c in NotifySettings._meta.columns}


def public_settings(row: dict[str, Any]) -> dict[str, Any]:
    """What the settings page and the API show: whether each secret is set (one that
    does not decrypt is not), never the secret nor its ciphertext."""
    out = {k: row[k] for k in ("smtp_host", "smtp_port", "smtp_user", "smtp_security", "mail_from")}
    out |= {"webhook_url": row["webhook_url"], "webhook_preset": row["webhook_preset"]}
    out |= {f"{field}_set": secretbox.reveal(row, field) is not None for field in SECRETS}
    return out


async def save_settings(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    check = Checker(data, SETTINGS_LABELS)
    current = await notify_settings(tenant)
    values: dict[str, Any] = {
        "smtp_host": check.text("smtp_host", max_len=200),
        "smtp_port": check.integer("smtp_port", default=25, minimum=1, maximum=65535),
        "smtp_user": check.text("smtp_user", max_len=200),
        "smtp_security": check.choice("smtp_security", SECURITY, required=False, default="none"),
        "mail_from": check.email("mail_from"),
        "webhook_url": check.text("webhook_url", max_len=1000),
        "webhook_preset": check.choice("webhook_preset", PRESETS, required=False, default="generic"),
    }
    if values["webhook_url"] and not values["webhook_url"].startswith(("https://", "http://")):
        check.fail("webhook_url", _("The address must start with https:// or http://."))
    # a secret left blank keeps the stored one; "<secret>_clear" removes it; a new one is sealed
    changed, cleared = [], []
    for field in SECRETS:
        given = check.text(field, max_len=200)
        if check.boolean(f"{field}_clear"):
            if given:
                check.fail(
                    field, _("%(field)s: enter a new one or clear the stored one, not both.", field=check.label(field))
                )
            values[field] = ""
            if current[field]:
                cleared.append(field)
        elif given:
            values[field] = secretbox.seal(tenant.id, field, given)
            changed.append(field)
        else:
            values[field] = current[field]
    check.done()
    shown = public_settings({**values, "tenant": tenant.id})
    async with db.atomic():
        if current.get("id"):
            await NotifySettings.update({**values, "updated_at": datetime.now().astimezone()}).where(
                NotifySettings.id == current["id"]
            )
        else:
            await NotifySettings.insert(NotifySettings(tenant=tenant.id, **values))
        # which secrets changed, never their values
        detail = shown | {"secrets_changed": changed, "secrets_cleared": cleared}
        await audit.record(tenant.id, actor, "reminders.settings", "notify_settings", tenant.slug, detail=detail)
    return shown


async def preference(tenant: TenantRef, user_id: int) -> dict[str, Any]:
    row = (
        await NotifyPreference.select()
        .where(NotifyPreference.tenant == tenant.id, NotifyPreference.user == user_id)
        .first()
        .output(load_json=True)
    )
    return row or {"channels": list(rulebook.PERSONAL_CHANNELS), "email": ""}


async def save_preference(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    check = Checker(data, SETTINGS_LABELS)
    chosen = rulebook.channel_list(data.get("channels"))
    if any(c not in rulebook.PERSONAL_CHANNELS for c in chosen):
        check.fail("channels", _("%(field)s is not one of the allowed values.", field=check.label("channels")))
    email = check.email("email")
    check.done()
    values = {"channels": [c for c in rulebook.PERSONAL_CHANNELS if c in chosen], "email": email}
    existing = (
        await NotifyPreference.select(NotifyPreference.id)
        .where(NotifyPreference.tenant == tenant.id, NotifyPreference.user == actor.id)
        .first()
    )
    async with db.atomic():
        if existing:
            await NotifyPreference.update({**values, "updated_at": datetime.now().astimezone()}).where(
                NotifyPreference.id == existing["id"]
            )
        else:
            await NotifyPreference.insert(NotifyPreference(tenant=tenant.id, user=actor.id, **values))
        await audit.record(tenant.id, actor, "reminders.preference", "user", actor.id, detail=values)
    return values


# ---------------------------------------------------------------- generation


class _Directory:
    """Names, addresses, languages and channel choices of everyone a reminder may reach."""

    def __init__(self, tenant: TenantRef) -> None:
        self.tenant = tenant
        self.people: dict[int, dict] = {}
        self.users: dict[int, dict] = {}
        self.user_of_person: dict[int, int] = {}
        self.officer_users: dict[int, list[int]] = defaultdict(list)
        self.office: list[int] = []

    async def load(self) -> None:
        t = self.tenant.id
        prefs = {
            r["user"]: r
            for r in await NotifyPreference.select().where(NotifyPreference.tenant == t).output(load_json=True)
        }
        for u in await accounts.active_users(self.tenant):
            pref = prefs.get(u["id"]) or {"channels": list(rulebook.PERSONAL_CHANNELS), "email": ""}
            self.users[u["id"]] = {**u, "name": u["display_name"] or u["username"], "pref": pref}
            if u["person"]:
                self.user_of_person.setdefault(u["person"], u["id"])
            if u["role"] == roles.UNIT_OFFICER and u["scope_unit"]:
                self.officer_users[u["scope_unit"]].append(u["id"])
            if u["role"] == roles.OFFICE_ADMIN:
                self.office.append(u["id"])
        self.people = await units.people_contacts(self.tenant)

    def contact(self, recipient: str) -> dict[str, Any] | None:
        """name, locale, email (or ""), inbox user (or None), channels they accept."""
        kind, pk = recipient[0], int(recipient[1:])
        if kind == "p":
            person = self.people.get(pk)
            if person is None:
                return None
            user = self.users.get(self.user_of_person.get(pk, -1))
        else:
            person, user = None, self.users.get(pk)
            if user is None:
                return None
        pref = user["pref"] if user else {"channels": list(rulebook.PERSONAL_CHANNELS), "email": ""}
        return {
            "name": person["name"] if person else user["name"],
            "locale": (user and user["locale"]) or self.tenant.default_locale,
            "email": pref["email"] or (person["email"] if person else ""),
            "user": user["id"] if user else None,
            "accepts": set(pref["channels"]) | {"webhook"},
        }


def _recipients(w: sources.Waiting, level: int, officers_of: dict, directory: _Directory) -> list[str]:
    """The person who must act (or the unit's officers), then those it is escalated to
    in the unit (the office hears of everything escalated further in one daily digest)."""
    people: list[int] = []
    users: list[int] = []
    officers = officers_of.get(w.unit, {"principal": [], "secrecy_officer": []})
    if w.person is not None:
        people.append(w.person)
    else:
        people += officers["secrecy_officer"]
        users += directory.officer_users.get(w.unit, [])
    if level >= 1:
        people += officers["principal"] + officers["secrecy_officer"]
    # a user who is one of these people hears once, as that person
    covered = {directory.user_of_person.get(p) for p in people}
    keys = [f"p{p}" for p in people] + [f"u{u}" for u in users if u not in covered]
    return list(dict.fromkeys(keys))


@dataclass
class _Plan:
    """One reminder to be made, and how to word it for its recipient."""

    rule: dict[str, Any]
    level: int
    person: int | None
    unit: int | None
    primary: bool  # the group robot hears of a thing once, with its first recipient
    message: Callable[[dict[str, Any]], tuple[str, str, str]]  # contact -> title, body, path


def _reminder_message(
    tenant: TenantRef, settings: Settings, rule: dict, w: sources.Waiting, day: date, number: int, level: int, key: str
) -> Callable[[dict[str, Any]], tuple[str, str, str]]:
    def make(contact: dict[str, Any]) -> tuple[str, str, str]:
        own = w.person is not None and key == f"p{w.person}"
        path = w.link if own or (w.person is None and level == 0) else w.oversight
        ctx = _context(tenant, w, day, number, contact["locale"])
        ctx |= {"name": contact["name"], "link": settings.base_url.rstrip("/") + path}
        title, body = rulebook.render(rule, contact["locale"], ctx, escalated=level > 0 and not own)
        return title, body, path

    return make


def _digest_message(
    tenant: TenantRef, settings: Settings, rule: dict, items: list[sources.Waiting]
) -> Callable[[dict[str, Any]], tuple[str, str, str]]:
    path = sources.overview_link(tenant, rule["kind"], items)

    def make(contact: dict[str, Any]) -> tuple[str, str, str]:
        names = [f"{w.context['person']} ({w.context['unit']})" for w in items[: rulebook.DIGEST_NAMES]]
        params = {
            "name": contact["name"],
            "count": len(items),
            "kind": translations(contact["locale"]).gettext(rulebook.KINDS[rule["kind"]].label.message),
            "reminders": 2 * rule["escalate_after"],
            "items": "; ".join(names) + ("…" if len(items) > len(names) else ""),
            "link": settings.base_url.rstrip("/") + path,
        }
        return (*rulebook.render_digest(contact["locale"], params), path)

    return make


def _context(tenant: TenantRef, w: sources.Waiting, day: date, number: int, locale: str) -> dict[str, Any]:
    loc = "zh_CN" if locale == "zh_CN" else "en"
    ctx = {**w.context, "count": number + 1, "tenant": tenant.name}
    for key in ("since", "due"):
        if isinstance(ctx.get(key), date):
            ctx[key] = format_date(ctx[key], "long", locale=loc)
    ctx.setdefault("since", format_date(w.anchor, "long", locale=loc))
    ctx.setdefault("due", format_date(w.anchor, "long", locale=loc))
    ctx["days"] = abs((day - w.anchor).days)
    return ctx


async def _earlier(
    tenant: TenantRef, found: list[tuple[dict, sources.Waiting, int]]
) -> tuple[dict[tuple[str, str], set], dict[tuple[str, str], set]]:
    """The reminders already made about each of these things (which periods), and those of
    them that reached someone (a delivery sent): only these count toward escalation."""
    made: dict[tuple[str, str], set] = defaultdict(set)
    delivered: dict[tuple[str, str], set] = defaultdict(set)
    subjects = sorted({w.subject for _rule, w, _n in found})
    kinds = sorted({rule["kind"] for rule, _w, _n in found})
    for batch in chunks(subjects):
        rows = await Reminder.select(Reminder.id, Reminder.kind, Reminder.subject, Reminder.period).where(
            # the kinds lead the unique key's index after the tenant
            Reminder.tenant == tenant.id,
            Reminder.kind.is_in(kinds),
            Reminder.subject.is_in(batch),
        )
        for r in rows:
            made[(r["kind"], r["subject"])].add(r["period"])
        by_id = {r["id"]: r for r in rows}
        for ids in chunks(sorted(by_id)):
            for d in await Delivery.select(Delivery.reminder).where(
                Delivery.tenant == tenant.id, Delivery.reminder.is_in(ids), Delivery.status == "sent"
            ):
                r = by_id[d["reminder"]]
                delivered[(r["kind"], r["subject"])].add(r["period"])
    return made, delivered


async def generate(tenant: TenantRef, settings: Settings, now: datetime) -> int:
    """Create the day's reminders and their deliveries; what exists already is left alone
    (the unique key), so running it twice, or from two schedulers, creates nothing twice."""
    day = sources.local_day(tenant, now)
    rules = {k: r for k, r in (await rules_of(tenant)).items() if r["enabled"]}
    if not rules:
        return 0
    directory = _Directory(tenant)
    await directory.load()
    found = await _due(tenant, rules, day)
    earlier, delivered = await _earlier(tenant, found)
    found = [(rule, w, n) for rule, w, n in found if str(n) not in earlier.get((rule["kind"], w.subject), ())]
    officers = await sources.unit_officers(tenant, sorted({w.unit for _r, w, _n in found if w.unit}), day)
    planned = _plan(tenant, settings, day, found, delivered, officers, directory)
    if not planned:
        return 0
    created = await _insert_reminders(tenant, day, planned)
    hook = await notify_settings(tenant)
    outlet = _Outlet(tenant, hook, hook["mail_from"] or settings.mail_from, MailServer.of(hook, settings) is not None)
    deliveries = []
    for r in created:
        contact = directory.contact(r["recipient"])
        if contact is not None:
            plan = planned[(r["kind"], r["subject"], r["period"], r["recipient"])]
            deliveries += outlet.deliveries(r["id"], plan, contact, now)
    for batch in chunks(deliveries):
        await Delivery.insert(*batch)
    return len(created)


async def _due(tenant: TenantRef, rules: dict[str, dict], day: date) -> list[tuple[dict, sources.Waiting, int]]:
    """Every waiting thing a rule reminds of today: (rule, thing, which reminder of it)."""
    found = []
    for kind, rule in rules.items():
        for w in await sources.SOURCES[kind](tenant, kind, day):
            number = rulebook.fires(rule, w.anchor, day)
            if number is not None:
                found.append((rule, w, number))
    return found


def _plan(
    tenant: TenantRef,
    settings: Settings,
    day: date,
    found: list[tuple[dict, sources.Waiting, int]],
    delivered: dict[tuple[str, str], set],
    officers: dict,
    directory: _Directory,
) -> dict[tuple[str, str, str, str], _Plan]:
    """The reminders to make, by their unique key (kind, subject, period, recipient)."""
    planned: dict[tuple[str, str, str, str], _Plan] = {}
    escalated: dict[str, tuple[dict, list[sources.Waiting]]] = {}
    for rule, w, number in found:
        # escalation counts the reminders that reached someone, not the days elapsed nor
        # those lost to an outage: a thing found late is first put to the person
        level = rulebook.level_of(rule, len(delivered.get((rule["kind"], w.subject), ())))
        if level >= 2:
            escalated.setdefault(rule["kind"], (rule, []))[1].append(w)
        for i, recipient in enumerate(_recipients(w, level, officers, directory)):
            message = _reminder_message(tenant, settings, rule, w, day, number, level, recipient)
            planned[(rule["kind"], w.subject, str(number), recipient)] = _Plan(
                rule, level, w.person, w.unit, i == 0, message
            )
    for kind, (rule, items) in escalated.items():
        message = _digest_message(tenant, settings, rule, items)
        for user in directory.office:
            key = (kind, f"{sources.DIGEST}{kind}", day.isoformat(), f"u{user}")
            planned[key] = _Plan(rule, 2, None, None, False, message)
    return planned


async def _insert_reminders(
    tenant: TenantRef, day: date, planned: dict[tuple[str, str, str, str], _Plan]
) -> list[dict]:
    """Insert the planned reminders; those that exist already are skipped. Returns the new ones."""
    rows = [
        Reminder(
            tenant=tenant.id,
            kind=kind,
            subject=subject,
            period=period,
            recipient=recipient,
            level=plan.level,
            person=plan.person,
            unit=plan.unit,
            day=day,
        )
        for (kind, subject, period, recipient), plan in planned.items()
    ]
    created: list[dict] = []
    for batch in chunks(rows):
        created += await (
            Reminder.insert(*batch)
            .on_conflict(action="DO NOTHING")
            .returning(Reminder.id, Reminder.kind, Reminder.subject, Reminder.period, Reminder.recipient)
        )
    return created


@dataclass
class _Outlet:
    """The tenant's ways out: its webhook, the sender address and whether any mail server
    is set (without one, mail is not queued: a reminder nothing else carries shows as
    undeliverable, and the reminders page says so)."""

    tenant: TenantRef
    hook: dict[str, Any]
    sender: str
    mail: bool

    def deliveries(self, reminder_pk: int, plan: _Plan, contact: dict[str, Any], now: datetime) -> list[Delivery]:
        """One delivery per channel of the rule that the recipient accepts and that can carry it;
        none can: one undeliverable row per channel, and why, so that it stays in sight."""
        title, body, path = plan.message(contact)
        message = {
            "tenant": self.tenant.id,
            "reminder": reminder_pk,
            "recipient_name": contact["name"][:100],
            "locale": contact["locale"],
            "title": title,
            "body": body,
            "link": path,
        }
        next_at = rulebook.after_quiet(plan.rule, now, self.tenant.timezone)
        made: list[Delivery] = []
        unreachable: list[tuple[str, str]] = []
        for channel in plan.rule["channels"]:
            if channel not in contact["accepts"] or (channel == "webhook" and not plan.primary):
                continue  # the group hears of each thing once
            way = self._way(channel, contact)
            if isinstance(way, str):
                unreachable.append((channel, way))
                continue
            address, user = way
            made.append(
                Delivery(
                    **message,
                    channel=channel,
                    user=user,
                    address=address[:254],
                    message_id=self._message_id(channel),
                    # the inbox shows at once; mail and robots wait out the quiet hours
                    next_at=now if channel == "inbox" else next_at,
                )
            )
        return made or [
            Delivery(
                **message,
                channel=channel,
                # kept, so that sending it again once a mail server is set can work
                address=contact["email"][:254] if channel == "mail" else "",
                message_id=self._message_id(channel),
                status="undeliverable",
                next_at=None,
                last_error=why,
            )
            for channel, why in unreachable
        ]

    def _way(self, channel: str, contact: dict[str, Any]) -> tuple[str, int | None] | str:
        """(address, inbox user) a channel reaches the contact by, or why it cannot."""
        if channel == "mail":
            if not (self.mail and contact["email"]):
                return "no_address" if self.mail else "no_mail"
            return contact["email"], None
        if channel == "inbox":
            return ("", contact["user"]) if contact["user"] is not None else "no_account"
        return (self.hook["webhook_preset"], None) if self.hook["webhook_url"] else "no_webhook"

    def _message_id(self, channel: str) -> str:
        return message_id(self.sender) if channel == "mail" else ""


async def generate_once(tenant: TenantRef, settings: Settings, now: datetime, *, force: bool = False) -> int | None:
    """The day's generation, done by whichever scheduler claims the day first (None: another did)."""
    day = sources.local_day(tenant, now)
    async with db.transaction(tenant.id):
        if force:
            await ReminderRun.delete().where(ReminderRun.tenant == tenant.id, ReminderRun.day == day)
        claimed = await (
            ReminderRun.insert(ReminderRun(tenant=tenant.id, day=day))
            .on_conflict(action="DO NOTHING")
            .returning(ReminderRun.id)
        )
        if not claimed:
            return None
        created = await generate(tenant, settings, now)
        await ReminderRun.update({ReminderRun.created: created}).where(ReminderRun.id == claimed[0]["id"])
    return created


KEEP_DAYS = 400


async def purge(tenant: TenantRef, now: datetime) -> int:
    """Forget reminders (and their deliveries) older than a year and a bit: the outbox
    keeps a full year to look back on, and the table does not grow for ever."""
    cutoff = now - timedelta(days=KEEP_DAYS)
    async with db.transaction(tenant.id):
        await Delivery.delete().where(Delivery.tenant == tenant.id, Delivery.created_at < cutoff)
        gone = await (
            Reminder.delete().where(Reminder.tenant == tenant.id, Reminder.created_at < cutoff).returning(Reminder.id)
        )
    return len(gone)


# ---------------------------------------------------------------- reading


_ADDRESS = re.compile(r"^\S+:\d+: ")


def reason(status: str, code: str) -> str:
    """Why a delivery did not go (yet), in the reader's language: our own reasons translated,
    the server's words kept as the detail of a translated sentence."""
    if not code:
        return ""
    if code in REASONS:
        return str(REASONS[code])
    if status == "uncertain":
        return _(
            "The server took the message but did not confirm in time; it may have arrived (%(detail)s).", detail=code
        )
    if _ADDRESS.match(code):
        return _("The mail server could not be reached (%(detail)s).", detail=code)
    return _("Not delivered: %(detail)s", detail=code)


_DELIVERY_FIELDS = ("channel", "address", "link", "status", "attempts", "next_at", "created_at", "sent_at", "read_at")


def _delivery_public(r: dict) -> dict[str, Any]:
    # a signing code is the addressee's alone: the outbox says it went, never what it said
    code = r.get("kind") == SIGN_CODE
    return public(
        r,
        *_DELIVERY_FIELDS,
        kind=r.get("kind"),
        level=r.get("level"),
        recipient=r["recipient_name"],
        title=_("One-time signing code") if code else r["title"],
        body="" if code else r["body"],
        last_error=reason(r["status"], r["last_error"]),
    )


OUTBOX_COLUMNS = (
    Delivery.uuid,
    Delivery.channel,
    Delivery.recipient_name,
    Delivery.address,
    Delivery.title,
    Delivery.body,
    Delivery.link,
    Delivery.status,
    Delivery.attempts,
    Delivery.next_at,
    Delivery.last_error,
    Delivery.created_at,
    Delivery.sent_at,
    Delivery.read_at,
    *joined(Delivery.reminder, "kind", "level", prefix=""),
)


def outbox_filters(tenant: TenantRef, query: dict[str, Any]) -> list:
    where = [Delivery.tenant == tenant.id]
    if query.get("status") in STATUSES:
        where.append(Delivery.status == query["status"])
    if query.get("channel") in rulebook.CHANNELS:
        where.append(Delivery.channel == query["channel"])
    if query.get("kind") in rulebook.KINDS:
        where.append(Delivery.reminder.kind == query["kind"])
    if query.get("q"):
        text = str(query["q"])[:100]
        where.append(db.contains(Delivery.recipient_name, text) | db.contains(Delivery.address, text))
    for field, op in (("from", "ge"), ("to", "le")):
        try:
            day = date.fromisoformat(str(query.get(field) or ""))
        except ValueError:
            continue
        moment = datetime.min.time() if op == "ge" else datetime.max.time()
        edge = datetime.combine(day, moment, ZoneInfo(tenant.timezone))
        where.append(Delivery.created_at >= edge if op == "ge" else Delivery.created_at <= edge)
    return where


async def _deliveries(where: list, newest_by, *, limit: int, offset: int) -> list[dict]:
    rows = (
        await Delivery.select(*OUTBOX_COLUMNS)
        .where(*where)
        .order_by(newest_by, ascending=False)
        .order_by(Delivery.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    return [_delivery_public(r) for r in rows]


async def outbox(tenant: TenantRef, query: dict[str, Any], *, limit: int, offset: int) -> tuple[list[dict], int]:
    where = outbox_filters(tenant, query)
    items = await _deliveries(where, Delivery.created_at, limit=limit, offset=offset)
    return items, await Delivery.count().where(*where)


async def mail_only(tenant: TenantRef) -> tuple[int, int]:
    """How many of the people holding a post today have no account (mail is their only
    channel), of how many: the reminders page warns when most do and no mail server is set."""
    day = sources.local_day(tenant, datetime.now(UTC))
    people = {p["person"] for p in await units.posts_on(tenant, day, live_units=True)}
    with_account = {u["person"] for u in await accounts.active_users(tenant) if u["person"]}
    return len(people - with_account), len(people)


async def outbox_summary(tenant: TenantRef, since: datetime | None = None) -> dict[str, int]:
    """Deliveries by status: all of them, or those made since a moment (the index's way in)."""
    where = [Delivery.tenant == tenant.id, *([Delivery.created_at >= since] if since else [])]
    rows = await Delivery.select(Delivery.status, Count(alias="n")).where(*where).group_by(Delivery.status)
    return {s: 0 for s in STATUSES} | {r["status"]: r["n"] for r in rows}


async def retry(tenant: TenantRef, actor: Actor, delivery_id: Any) -> dict[str, Any]:
    """Send a failed, uncertain or undeliverable delivery again now (same message, same Message-ID)."""
    row = await get_owned(Delivery, tenant, delivery_id, Delivery.id, Delivery.uuid, Delivery.status)
    if row["status"] not in RESENDABLE:
        raise Conflict(_("Only a failed, uncertain or undeliverable delivery can be sent again."))
    async with db.atomic():
        await Delivery.update(
            {Delivery.status: "pending", Delivery.attempts: 0, Delivery.next_at: datetime.now().astimezone()}
        ).where(Delivery.id == row["id"])
        await audit.record(tenant.id, actor, "reminders.retry", "delivery", row["uuid"])
    return public(row, status="pending")


async def retry_many(tenant: TenantRef, actor: Actor, query: dict[str, Any]) -> int:
    """Send again every failed, uncertain or undeliverable delivery the outbox's filters select
    (a status filter narrows it further); how many. One UPDATE, in one transaction with its record."""
    where = [*outbox_filters(tenant, query), Delivery.status.is_in(list(RESENDABLE))]
    ids = [r["id"] for r in await Delivery.select(Delivery.id).where(*where)]
    now = datetime.now().astimezone()
    async with db.atomic():
        for batch in chunks(ids):
            await Delivery.update({Delivery.status: "pending", Delivery.attempts: 0, Delivery.next_at: now}).where(
                Delivery.id.is_in(batch), Delivery.status.is_in(list(RESENDABLE))
            )
        await audit.record(
            tenant.id, actor, "reminders.retry_many", "outbox", "", detail={"filters": dict(query), "count": len(ids)}
        )
    return len(ids)


def _inbox_where(tenant: TenantRef, actor: Actor) -> list:
    return [
        Delivery.tenant == tenant.id,
        Delivery.user == (actor.id or 0),
        Delivery.channel == "inbox",
        Delivery.status == "sent",
    ]


async def inbox(tenant: TenantRef, actor: Actor, *, limit: int, offset: int) -> tuple[list[dict], int]:
    where = _inbox_where(tenant, actor)
    items = await _deliveries(where, Delivery.sent_at, limit=limit, offset=offset)
    return items, await Delivery.count().where(*where)


async def unread(tenant: TenantRef, actor: Actor) -> int:
    return await Delivery.count().where(*_inbox_where(tenant, actor), Delivery.read_at.is_null())


async def mark_read(tenant: TenantRef, actor: Actor, delivery_id: Any | None = None) -> int:
    """One message (None: all of them) read; someone else's message is a 404."""
    where = [*_inbox_where(tenant, actor), Delivery.read_at.is_null()]
    if delivery_id is not None:
        where.append(Delivery.id == (await inbox_item(tenant, actor, delivery_id))["id"])
    ids = [r["id"] for r in await Delivery.select(Delivery.id).where(*where)]
    if ids:
        await Delivery.update({Delivery.read_at: datetime.now().astimezone()}).where(Delivery.id.is_in(ids))
    return len(ids)


EXPORT_LIMIT = 100_000


async def export_outbox(tenant: TenantRef, actor: Actor, query: dict[str, Any]) -> bytes:
    """The filtered outbox as a workbook, times in the tenant's zone."""
    await audit.record(tenant.id, actor, "export.outbox", "outbox", "", detail={"filters": dict(query)})
    rows = await _deliveries(outbox_filters(tenant, query), Delivery.created_at, limit=EXPORT_LIMIT, offset=0)
    zone = ZoneInfo(tenant.timezone)

    def local(value: datetime | None) -> datetime | None:
        return value.astimezone(zone).replace(tzinfo=None) if value else None

    headers = [
        _("Created"),
        _("Reminder"),
        _("Channel"),
        _("Recipient"),
        _("Recipient address"),
        _("Subject"),
        _("Status"),
        _("Attempts"),
        _("Sent"),
        _("Next attempt"),
        _("Reason"),
        _("Link"),
    ]
    data = [
        [
            local(r["created_at"]),
            str(rulebook.KINDS[r["kind"]].label) if r["kind"] in rulebook.KINDS else r["kind"],
            str(rulebook.CHANNELS.get(r["channel"], r["channel"])),
            r["recipient"],
            r["address"],
            r["title"],
            str(STATUSES.get(r["status"], r["status"])),
            r["attempts"],
            local(r["sent_at"]),
            local(r["next_at"]) if r["status"] == "pending" else None,
            r["last_error"],
            r["link"],
        ]
        for r in rows
    ]
    return write_workbook([(_("Outbox"), headers, data)])


async def inbox_item(tenant: TenantRef, actor: Actor, delivery_id: Any) -> dict[str, Any]:
    row = await get_owned(Delivery, tenant, delivery_id, Delivery.id, Delivery.user, Delivery.channel, Delivery.link)
    if row["user"] != actor.id or row["channel"] != "inbox":
        raise NotFound()
    return row
