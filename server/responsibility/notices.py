"""Responsibility notices: issued from a template, frozen with a digest, viewed,
signed with re-authentication, superseded or withdrawn; PDFs and verification."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from markupsafe import Markup

from server import db, events, mail, roles
from server.accounts import service as accounts
from server.actor import Actor
from server.audit import service as audit
from server.core.chunks import chunks
from server.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.core.i18n import _, _l
from server.core.pagination import read_page
from server.core.rows import joined, public
from server.core.validation import Checker
from server.documents import render_html, render_pdf, safe
from server.documents.uploads import clean_filename
from server.responsibility import catalog as catalogs
from server.responsibility.defaults import POSITION_TITLES
from server.responsibility.tables import Notice, Signature, SignCode
from server.settings import Settings
from server.units import service as units
from tenants.service import TenantRef, get_owned

STATUSES = {
    "issued": _l("Issued"),
    "viewed": _l("Read"),
    "signed": _l("Signed"),
    "superseded": _l("Superseded"),
    "withdrawn": _l("Withdrawn"),
}
OPEN = ("issued", "viewed")
LIVE = ("issued", "viewed", "signed")
LABELS = {
    "person_id": _l("Leader"),
    "unit_id": _l("Unit"),
    "scope": _l("Recipients"),
    "password": _l("Password"),
    "reason": _l("Reason"),
    "code": _l("Verification code"),
    "file": _l("PDF file"),
}
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: codes are read aloud and typed


def digest_of(title: str, body_html: str) -> str:
    return hashlib.sha256(f"{title}\n{body_html}".encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


# ---------------------------------------------------------------- issuing


async def issue(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict:
    """Issue notices to one leader, a unit or district (its subtree), or every leader
    in the actor's scope. A leader whose live notice already carries the catalog and
    template in force is skipped unless `renew` (annual renewal); a live notice that
    is replaced is marked superseded."""
    check = Checker(data, LABELS)
    scope = check.choice("scope", {"person": 1, "unit": 1, "all": 1})
    person = check.uuid("person_id", required=scope == "person")
    unit = check.uuid("unit_id", required=scope == "unit")
    renew = check.boolean("renew")
    check.done()
    try:
        posts = await units.current_leader_posts(
            tenant, actor, within=unit if scope == "unit" else None, person=person if scope == "person" else None
        )
    except NotFound:
        field = "person_id" if scope == "person" else "unit_id"
        raise ValidationFailed({field: _("%(field)s: not found.", field=check.label(field))}) from None
    catalog = await catalogs.current_catalog(tenant)
    duties = await catalogs.catalog_duties(tenant, catalog["id"])
    templates = await catalogs.current_templates(tenant)
    post_pks = [p["id"] for p in posts]
    assigned = await catalogs.assignments_by_post(tenant, post_pks)
    # two issues at once take turns: the second sees (and skips or supersedes) the first's notices
    await units.lock_posts(tenant, post_pks)
    live: dict[int, dict] = {}
    for batch in chunks(post_pks):
        rows = await Notice.select(Notice.id, Notice.post, Notice.catalog, Notice.template).where(
            Notice.tenant == tenant.id, Notice.post.is_in(batch), Notice.status.is_in(LIVE)
        )
        live.update({r["post"]: r for r in rows})
    now = datetime.now(UTC)
    year = units.today(tenant).year
    due: list[tuple[dict, dict, dict | None]] = []
    for post in posts:
        template = templates.get(post["position"])
        previous = live.get(post["id"])
        if template is None:
            continue
        if previous and previous["catalog"] == catalog["id"] and previous["template"] == template["id"] and not renew:
            continue
        due.append((post, template, previous))
    bodies = await _render_or_refuse(
        [
            (
                template,
                {
                    "person_name": post["person_name"],
                    "unit_name": post["unit_name"],
                    "position_title": POSITION_TITLES[post["position"]],
                    "tenant_name": tenant.name,
                    "year": year,
                    **catalogs.duties_for_post(post["position"], duties, assigned[post["id"]]),
                },
            )
            for post, template, _previous in due
        ]
    )
    new: list[tuple[Notice, dict | None]] = []
    for (post, template, previous), body in zip(due, bodies, strict=True):
        notice = Notice(**notice_columns(tenant, actor, post, catalog, template, body, now, year))
        new.append((notice, previous))
    async with db.atomic():
        for batch in chunks(new):
            await Notice.insert(*[n for n, _p in batch])
        for batch in chunks([p["id"] for _n, p in new if p is not None]):
            await _supersede(tenant, batch, now)
        # a leader who changed post: the notice of the post they left is replaced too
        people = list({n.person for n, _p in new})
        still_held = {p["id"] for p in await units.posts_on(tenant, units.today(tenant), people=people)}
        moved = [
            row
            for batch in chunks(people)
            for row in await Notice.select(Notice.id, Notice.person, Notice.post).where(
                Notice.tenant == tenant.id, Notice.person.is_in(batch), Notice.status.is_in(LIVE)
            )
            if row["post"] not in still_held
        ]
        newest = {n.person: n.id for n, _p in new}
        for row in moved:
            await Notice.update(
                {Notice.status: "superseded", Notice.closed_at: now, Notice.superseded_by: newest[row["person"]]}
            ).where(Notice.id == row["id"])
        await audit.record_many(
            tenant.id,
            actor,
            "notice.issue",
            "notice",
            [n.uuid for n, _p in new],
            detail={"scope": scope, "renew": renew},
        )
    superseded = sum(1 for _n, p in new if p is not None) + len(moved)
    return {"issued": len(new), "superseded": superseded, "skipped": len(posts) - len(new), "leaders": len(posts)}


def notice_columns(
    tenant: TenantRef, actor: Actor, post: dict, catalog: dict, template: dict, body: str, at: datetime, year: int
) -> dict[str, Any]:
    """A notice's columns: issued by the actor at `at` for the year, to the post's holder,
    from the catalog and the position's template (rendered as `body`), with its digest."""
    return {
        "tenant": tenant.id,
        "person": post["person"],
        "post": post["id"],
        "unit": post["unit"],
        "position": post["position"],
        "catalog": catalog["id"],
        "template": template["id"],
        "year": year,
        "version_label": f"{catalog['year']}年度职责目录第{catalog['version']}版",
        "title": template["title"],
        "body_html": body,
        "digest": digest_of(template["title"], body),
        "issued_at": at,
        "issued_by": actor.name,
    }


async def _supersede(tenant: TenantRef, notice_pks: list[int], now: datetime) -> None:
    """Close replaced notices in one statement, each pointing at its post's new notice."""
    placeholders = ", ".join("{}" for _ in notice_pks)
    await Notice.raw(
        "UPDATE notices SET status = 'superseded', closed_at = {}, superseded_by = ("
        " SELECT n.id FROM notices n WHERE n.tenant = notices.tenant AND n.post = notices.post"
        " AND n.status = 'issued' AND n.issued_at = {} ORDER BY n.id DESC LIMIT 1)"
        f" WHERE tenant = {{}} AND id IN ({placeholders})",
        now,
        now,
        tenant.id,
        *notice_pks,
    )


async def _render_or_refuse(jobs: list[tuple[dict, dict[str, Any]]]) -> list[str]:
    """Each (template, context) rendered, one worker batch per template; a template that
    fails or overruns for some leader stops the whole issue, cleanly."""
    batches: dict[int, list[int]] = defaultdict(list)
    for index, (template, _context) in enumerate(jobs):
        batches[template["id"]].append(index)
    bodies: list[str] = [""] * len(jobs)
    for indexes in batches.values():
        template = jobs[indexes[0]][0]
        try:
            rendered = await catalogs.render_notices(template["body"], [jobs[i][1] for i in indexes])
        except safe.TemplateRefused as exc:
            raise ValidationFailed(
                {
                    "template": _(
                        "The %(position)s notice template cannot be rendered: %(error)s",
                        position=POSITION_TITLES[template["position"]],
                        error=exc.message,
                    )
                }
            ) from None
        for i, body in zip(indexes, rendered, strict=True):
            bodies[i] = body
    return bodies


# ---------------------------------------------------------------- reading


_FIELDS = (
    "title",
    "status",
    "position",
    "year",
    "version_label",
    "digest",
    "issued_at",
    "viewed_at",
    "signed_at",
    "closed_at",
    "close_reason",
    "person_name",
    "unit_name",
)


def _public(row: dict) -> dict:
    return public(row, *_FIELDS, person_id=str(row["person_uuid"]), unit_id=str(row["unit_uuid"]))


_COLUMNS = (
    Notice.all_columns(),
    *joined(Notice.person, "uuid", "name"),
    *joined(Notice.unit, "uuid", "name", "path"),
)


# what every reading of a signature shows of it
_SIGNED = (Signature.signer_name, Signature.signed_at, Signature.code, Signature.notice_digest)


async def _row(tenant: TenantRef, actor: Actor, notice_id: Any) -> dict:
    """A notice the actor may read: their own, or one in their registry scope."""
    uid = (await get_owned(Notice, tenant, notice_id, Notice.id))["id"]
    row = await Notice.select(*_COLUMNS).where(Notice.id == uid).first()
    if row["person"] == actor.person_id:
        return row
    if actor.role in roles.REGISTRY_READERS and (
        actor.scope_path is None or row["unit_path"].startswith(actor.scope_path)
    ):
        return row
    raise NotFound()


async def notice_detail(tenant: TenantRef, actor: Actor, notice_id: Any) -> dict:
    row = await _row(tenant, actor, notice_id)
    signature = (
        await Signature.select(Signature.uuid, *_SIGNED, Signature.client_addr, Signature.user_agent, Signature.method)
        .where(Signature.tenant == tenant.id, Signature.notice == row["id"])
        .first()
    )
    return {
        **_public(row),
        "body_html": Markup(row["body_html"]),  # rendered by our sandboxed, autoescaping template
        "mine": row["person"] == actor.person_id,
        "signature": signature,
    }


async def my_notices(tenant: TenantRef, actor: Actor) -> dict[str, list[dict]]:
    if not actor.person_id:
        return {"to_sign": [], "signed": [], "closed": []}
    rows = (
        await Notice.select(*_COLUMNS)
        .where(Notice.tenant == tenant.id, Notice.person == actor.person_id)
        .order_by(Notice.issued_at, ascending=False)
    )
    items = [_public(r) for r in rows]
    return {
        "to_sign": [n for n in items if n["status"] in OPEN],
        "signed": [n for n in items if n["status"] == "signed"],
        "closed": [n for n in items if n["status"] in ("superseded", "withdrawn")],
    }


async def list_notices(
    tenant: TenantRef, actor: Actor, *, status: str = "", q: str = "", page: int = 1, per_page: int = 50
):
    where = [Notice.tenant == tenant.id]
    if actor.scope_path:
        where.append(Notice.unit.path.like(actor.scope_path + "%"))
    if status in STATUSES:
        where.append(Notice.status == status)
    if q:
        where.append(db.contains(Notice.person.name, q) | db.contains(Notice.unit.name, q))
    order = [Notice.issued_at, Notice.id]
    return await read_page(Notice, where, _COLUMNS, order, page, per_page, ascending=False, shape=_public)


async def unsigned(tenant: TenantRef, day: date) -> list[dict]:
    """Notices waiting for their leader's signature on the day: open, to someone still on
    the registry, for a post not ended before the day."""
    rows = await Notice.select(
        Notice.uuid,
        Notice.person,
        Notice.unit,
        Notice.title,
        Notice.issued_at,
        *joined(Notice.person, "name"),
        *joined(Notice.unit, "name"),
        *joined(Notice.post, "end_date"),
    ).where(Notice.tenant == tenant.id, Notice.status.is_in(list(OPEN)), Notice.person.deleted_at.is_null())
    return [r for r in rows if r["post_end_date"] is None or r["post_end_date"] >= day]


async def posts_covered(tenant: TenantRef, post_pks: list[int], signed_from: datetime, until: datetime) -> set[int]:
    """The posts with a notice signed from `signed_from` to before `until` that was still
    in force then (not superseded or withdrawn before it)."""
    covered: set[int] = set()
    for batch in chunks(post_pks):
        rows = await Notice.select(Notice.post, Notice.signed_at, Notice.closed_at).where(
            Notice.tenant == tenant.id,
            Notice.post.is_in(batch),
            Notice.signed_at.is_not_null(),
            Notice.signed_at < until,
            Notice.signed_at >= signed_from,
        )
        covered |= {r["post"] for r in rows if r["closed_at"] is None or r["closed_at"] >= until}
    return covered


async def mark_viewed(tenant: TenantRef, actor: Actor, notice_id: Any) -> None:
    """The addressee opened it: issued -> viewed, once."""
    row = await _row(tenant, actor, notice_id)
    if row["person"] != actor.person_id or row["status"] != "issued":
        return
    async with db.atomic():
        await Notice.update({Notice.status: "viewed", Notice.viewed_at: datetime.now(UTC)}).where(
            Notice.id == row["id"], Notice.status == "issued"
        )
        await audit.record(tenant.id, actor, "notice.view", "notice", row["uuid"])


# ---------------------------------------------------------------- signing


def _refusal(row: dict) -> str | None:
    return {
        "signed": _("This notice has already been signed."),
        "superseded": _("This notice has been replaced by a newer one; sign the newer notice."),
        "withdrawn": _("This notice has been withdrawn and can no longer be signed."),
    }.get(row["status"])


async def _to_sign(tenant: TenantRef, actor: Actor, notice_id: Any) -> dict:
    """The actor's own notice, still open to be signed; else the refusal is raised."""
    addressee = await get_owned(Notice, tenant, notice_id, Notice.person)
    if addressee["person"] != actor.person_id:
        raise Forbidden(_("This notice is addressed to someone else; only they can sign it."))
    row = await _row(tenant, actor, notice_id)
    if refusal := _refusal(row):
        raise Conflict(refusal)
    return row


async def sign(tenant: TenantRef, actor: Actor, notice_id: Any, data: dict[str, Any]) -> dict:
    """Sign after re-authenticating with the password. Raises on every refusal."""
    row = await _to_sign(tenant, actor, notice_id)
    check = Checker(data, LABELS)
    code_given = check.present("code") and not check.present("password")
    secret = check.text("code" if code_given else "password", required=True, max_len=200)
    check.done()
    if code_given:
        method = "email_code"
        if refused := await _use_sign_code(tenant, actor, row, secret):
            raise ValidationFailed({"code": refused})
    else:
        method = "password"
        if refused := await accounts.reauthenticate(tenant, actor, secret):
            raise ValidationFailed({"password": refused})
    now = datetime.now(UTC)
    code = new_code()
    signature = {
        "signer_name": row["person_name"],
        "signed_at": now,
        "code": code,
        "client_addr": actor.client_addr,
        "method": method,
    }
    pdf = await signed_pdf(tenant, row, signature)
    async with db.atomic():
        changed = (
            await Notice.update({Notice.status: "signed", Notice.signed_at: now})
            .where(Notice.id == row["id"], Notice.status.is_in(OPEN))
            .returning(Notice.id)
        )
        if not changed:  # someone else's request got there first
            raise Conflict(_("This notice has already been signed."))
        await Signature.insert(
            Signature(
                tenant=tenant.id,
                notice=row["id"],
                person=row["person"],
                user_id=actor.id,
                signer_name=row["person_name"],
                signed_at=now,
                client_addr=actor.client_addr,
                user_agent=actor.user_agent,
                method=method,
                notice_digest=row["digest"],
                code=code,
                pdf=pdf,
                pdf_digest=hashlib.sha256(pdf).hexdigest(),
            )
        )
        await audit.record(tenant.id, actor, "notice.sign", "notice", row["uuid"], detail={"code": code})
        await events.publish(events.INDICATOR_INPUTS, tenant, people=[row["person"]])
        await events.publish(
            events.REMINDERS_SETTLED, tenant, kinds=("notice_unsigned",), subjects=(f"notice:{row['uuid']}",)
        )
    return await notice_detail(tenant, actor, row["uuid"])


def _code_hash(notice_uuid: Any, code: str) -> str:
    return hashlib.sha256(f"{notice_uuid}:{code}".encode()).hexdigest()


async def send_sign_code(tenant: TenantRef, actor: Actor, notice_id: Any, settings: Settings) -> tuple[str, int]:
    """Queue a mail with a one-time code (valid 10 minutes) for the addressee to sign without
    their password, through the outbox like every other mail (a slow mail server never holds
    the request); returns the address it goes to, partly hidden, and the delivery to send."""
    row = await _to_sign(tenant, actor, notice_id)
    email = await units.person_email(tenant, actor.person_id)
    if not email:
        raise ValidationFailed({"code": _("Your record has no email address; sign with your password.")})
    now = datetime.now(UTC)
    recent = await SignCode.exists().where(
        SignCode.tenant == tenant.id, SignCode.notice == row["id"], SignCode.created_at > now - timedelta(minutes=1)
    )
    if recent:
        raise Conflict(_("A code was sent less than a minute ago; check your mailbox."))
    code = "".join(secrets.choice("0123456789") for _ in range(6))
    async with db.atomic():
        await SignCode.insert(
            SignCode(
                tenant=tenant.id,
                notice=row["id"],
                user_id=actor.id,
                code_hash=_code_hash(row["uuid"], code),
                created_at=now,
                expires_at=now + events.SIGN_CODE_VALID,
            )
        )
        await audit.record(tenant.id, actor, "notice.code", "notice", row["uuid"])
        queued: dict = {}
        await events.publish(
            events.SIGN_CODE_MAIL,
            tenant,
            settings=settings,
            person_id=actor.person_id,
            name=actor.name,
            address=email,
            locale=tenant.default_locale,
            title=_("Your code to sign: %(code)s", code=code),
            body=_(
                "Your one-time code to sign %(title)s is %(code)s. It is valid for 10 minutes. "
                "If you did not ask for it, ignore this mail.",
                title=row["title"],
                code=code,
            ),
            answer=queued,
        )
        if "delivery" not in queued:
            raise mail.MailUnavailable(_("Mail is not configured on this server."))
    name, _at, domain = email.partition("@")
    return f"{name[:1]}***@{domain}", queued["delivery"]


async def _use_sign_code(tenant: TenantRef, actor: Actor, row: dict, code: str) -> str | None:
    """None when the code is right (and it is spent), else the translated reason."""
    if refused := await accounts.locked_message(accounts.throttle_keys(str(tenant.id), actor.name, actor.client_addr)):
        return refused
    match = (
        await SignCode.select(SignCode.id)
        .where(
            SignCode.tenant == tenant.id,
            SignCode.notice == row["id"],
            SignCode.user_id == actor.id,
            SignCode.code_hash == _code_hash(row["uuid"], code.strip()),
            SignCode.used_at.is_null(),
            SignCode.expires_at > datetime.now(UTC),
        )
        .first()
    )
    if match is None:
        return _("The code is wrong or has expired; the notice was not signed.")
    await SignCode.update({SignCode.used_at: datetime.now(UTC)}).where(SignCode.id == match["id"])
    return None


def _pdf_notice(tenant: TenantRef, row: dict) -> dict:
    return {
        "title": row["title"],
        "tenant_name": tenant.name,
        "person_name": row["person_name"],
        "unit_name": row["unit_name"],
        "position_label": POSITION_TITLES.get(row["position"], row["position"]),
        "version": row["version_label"],
        "issued_at": row["issued_at"],
        "digest": row["digest"],
        "body_html": row["body_html"],
    }


async def notice_pdf(tenant: TenantRef, actor: Actor, notice_id: Any) -> tuple[bytes, str]:
    """The signed PDF as made at signing (made now and kept if it is missing, e.g. for
    signatures imported in bulk); an unsigned notice is rendered now, marked unsigned."""
    row = await _row(tenant, actor, notice_id)
    signature = await Signature.select().where(Signature.tenant == tenant.id, Signature.notice == row["id"]).first()
    name = clean_filename(f"{row['title']}-{row['person_name']}-{row['year']}.pdf", "notice.pdf")
    if signature is None:
        return await render_pdf(render_html("notice.html", notice=_pdf_notice(tenant, row), signature=None)), name
    if signature["pdf"]:
        return bytes(signature["pdf"]), name
    pdf = await signed_pdf(tenant, row, signature)
    await Signature.update({Signature.pdf: pdf, Signature.pdf_digest: hashlib.sha256(pdf).hexdigest()}).where(
        Signature.id == signature["id"]
    )
    return pdf, name


async def signed_pdf(tenant: TenantRef, row: dict, signature: dict) -> bytes:
    block = {k: signature[k] for k in ("signer_name", "signed_at", "code", "client_addr", "method")}
    return await render_pdf(render_html("notice.html", notice=_pdf_notice(tenant, row), signature=block))


async def withdraw(tenant: TenantRef, actor: Actor, notice_id: Any, data: dict[str, Any]) -> dict:
    row = await _row(tenant, actor, notice_id)
    if row["status"] not in OPEN:
        raise Conflict(_("Only a notice that is not yet signed can be withdrawn."))
    check = Checker(data, LABELS)
    reason = check.text("reason", required=True, max_len=200)
    check.done()
    async with db.atomic():
        changed = (
            await Notice.update(
                {Notice.status: "withdrawn", Notice.closed_at: datetime.now(UTC), Notice.close_reason: reason}
            )
            .where(Notice.id == row["id"], Notice.status.is_in(OPEN))
            .returning(Notice.id)
        )
        if not changed:  # signed meanwhile
            raise Conflict(_("Only a notice that is not yet signed can be withdrawn."))
        await audit.record(tenant.id, actor, "notice.withdraw", "notice", row["uuid"], detail={"reason": reason})
    return await notice_detail(tenant, actor, row["uuid"])


# ---------------------------------------------------------------- verification


async def verify(tenant: TenantRef, actor: Actor, code: str, pdf: bytes | None = None) -> dict:
    """Does a verification code (and, when given, a PDF) match a signature of this tenant?"""
    check = Checker({"code": code}, LABELS)
    code = check.text("code", required=True, max_len=20).upper().replace(" ", "")
    check.done()
    if len(code) == 8:
        code = f"{code[:4]}-{code[4:]}"
    signature = (
        await Signature.select(Signature.notice, *_SIGNED, Signature.pdf_digest)
        .where(Signature.tenant == tenant.id, Signature.code == code)
        .first()
    )
    if signature is None:
        return {"match": False, "reason": _("No signed notice has this verification code; it does not match.")}
    notice = await Notice.select(*_COLUMNS).where(Notice.id == signature["notice"]).first()
    intact = digest_of(notice["title"], notice["body_html"]) == signature["notice_digest"] == notice["digest"]
    result = {
        "code": signature["code"],
        "signer_name": signature["signer_name"],
        "signed_at": signature["signed_at"],
        "title": notice["title"],
        "unit_name": notice["unit_name"],
        "digest": notice["digest"],
        "notice_id": str(notice["uuid"]),
    }
    if not intact:
        return {**result, "match": False, "reason": _("The stored notice no longer matches its digest.")}
    # compared by digest, never parsed; hashing up to the body limit is done beside the loop
    if pdf is not None and (await asyncio.to_thread(hashlib.sha256, pdf)).hexdigest() != signature["pdf_digest"]:
        return {**result, "match": False, "reason": _("The PDF does not match the signed document.")}
    return {
        **result,
        "match": True,
        "reason": _("The code matches a signed notice.") if pdf is None else _("The PDF matches the signed document."),
    }
