"""The bureau's questions and answers on declassification: entries with a Markdown answer
(shown sanitised), tags, the legal basis, internal or public, and a review date after
which the answer is flagged stale. Searched in Chinese by substring; the public ones are
on the tenant's public page. A new tenant starts with the default set (qa_seed)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from markdown_it import MarkdownIt

from server import db, roles
from server.actor import Actor
from server.audit import service as audit
from server.core.errors import Forbidden, NotFound
from server.core.i18n import _, _l
from server.core.once import update_once
from server.core.pagination import Page
from server.core.rows import json_value
from server.core.validation import Checker
from server.declassification.qa_seed import ENTRIES
from server.declassification.tables import QAEntry
from server.units import service as units
from tenants.service import TenantRef, get_owned, register_provisioner

LABELS = {
    "question": _l("Q&A question"),
    "answer": _l("Q&A answer"),
    "tags": _l("Tags"),
    "legal_basis": _l("Legal basis"),
    "public": _l("Public"),
    "review_on": _l("Review by"),
    "q": _l("Search"),
    "tag": _l("Tag"),
    "stale": _l("Stale"),
}
FIELDS = ("question", "answer", "tags", "legal_basis", "public", "review_on")
QUESTION_MAX = 500
ANSWER_MAX = 20_000
BASIS_MAX = 1_000
TAG_MAX = 30
TAGS_MAX = 12
QUERY_MAX = 200
# a review date this far from today is a typing mistake, not a plan
REVIEW_YEARS = 20
# tags as a form sends them: one text, split on commas (either width), 、, semicolons or spaces
TAG_SPLIT = re.compile(r"[,，、;；\s]+")

# who reads the entries, internal ones too: the tenant's business roles (not the three admins)
READERS = frozenset(roles.BUSINESS_ROLES)
# who writes them: the bureau's office
EDITORS = frozenset({roles.OFFICE_ADMIN})


# ---------------------------------------------------------------- Markdown


SAFE_SCHEMES = ("http://", "https://", "mailto:")


def safe_link(url: str) -> bool:
    """Links go to the web or to a mail address, nowhere else (no javascript:, data:,
    vbscript:, file:, and no relative address that could name a page of this app)."""
    return url.strip().lower().startswith(SAFE_SCHEMES)


def _image_as_text(renderer, tokens, idx, options, env) -> str:
    # the page allows images of its own origin only: an answer's image shows as its words
    return escape(renderer.renderInlineAsText(tokens[idx].children or [], options, env))


def _link_open(renderer, tokens, idx, options, env) -> str:
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = safe_link  # type: ignore[method-assign]
    md.add_render_rule("image", _image_as_text)
    md.add_render_rule("link_open", _link_open)
    return md


MARKDOWN = _markdown()


def render(text: str) -> str:
    """An answer as HTML: raw HTML in it shows as text, links only to http(s) and mail,
    images as their alt text."""
    return MARKDOWN.render(text or "")


# ---------------------------------------------------------------- reading


def _fold(text: str) -> str:
    """For matching: full-width Latin letters and digits as half-width, case folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _row(row: dict[str, Any], today: date, *, html: bool = True) -> dict[str, Any]:
    tags = row["tags"]
    return {
        "id": str(row["uuid"]),
        "question": row["question"],
        "answer": row["answer"],
        "answer_html": render(row["answer"]) if html else "",
        "tags": list(tags) if isinstance(tags, list) else [],
        "legal_basis": row["legal_basis"],
        "public": row["public"],
        "review_on": row["review_on"],
        "stale": row["review_on"] is not None and row["review_on"] < today,
        "updated_by": row["updated_by"],
        "updated_at": row["updated_at"],
    }


def _haystack(row: dict[str, Any]) -> str:
    tags = row["tags"] if isinstance(row["tags"], list) else []
    return _fold("\n".join((row["question"], row["answer"], " ".join(tags), row["legal_basis"])))


def _terms(check: Checker) -> list[str]:
    q = check.text("q", max_len=QUERY_MAX)
    return [_fold(term) for term in q.split()]


def _flag(check: Checker, field: str) -> bool | None:
    """A yes/no filter: None when not given."""
    if check.data.get(field) in (None, ""):
        return None
    return check.boolean(field)


def require(actor: Actor, allowed: frozenset[str]) -> None:
    if actor.role not in allowed:
        raise Forbidden()


async def _rows(tenant: TenantRef, *, public_only: bool) -> list[dict[str, Any]]:
    where = [QAEntry.tenant == tenant.id]
    if public_only:
        where.append(QAEntry.public.eq(True))
    return await QAEntry.select().where(*where).order_by(QAEntry.id).output(load_json=True)


def _tags(rows: list[dict[str, Any]]) -> list[str]:
    """Every tag of these entries, the most used first."""
    counts: dict[str, int] = {}
    for row in rows:
        for tag in row["tags"] if isinstance(row["tags"], list) else []:
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts, key=lambda tag: (-counts[tag], tag))


async def _search(
    tenant: TenantRef, query: dict[str, Any], page: int, per_page: int, *, public_only: bool
) -> tuple[Page, list[str]]:
    check = Checker(query, LABELS)
    terms = _terms(check)
    tag = check.text("tag", max_len=TAG_MAX)
    public = None if public_only else _flag(check, "public")
    stale = None if public_only else _flag(check, "stale")
    check.done()
    today = units.today(tenant)
    rows = await _rows(tenant, public_only=public_only)
    tags = _tags(rows)
    # a few hundred entries at most: matched here, the same on both databases
    found = [
        row
        for row in rows
        if (not tag or tag in (row["tags"] or []))
        and (public is None or row["public"] == public)
        and (stale is None or (row["review_on"] is not None and row["review_on"] < today) == stale)
        and all(term in _haystack(row) for term in terms)
    ]
    start = (page - 1) * per_page
    items = [_row(row, today) for row in found[start : start + per_page]]
    return Page(items=items, total=len(found), page=page, per_page=per_page), tags


async def list_entries(
    tenant: TenantRef, actor: Actor, query: dict[str, Any], page: int = 1, per_page: int = 50
) -> tuple[Page, list[str]]:
    """The entries matching `query` (q: every whitespace-separated term somewhere in the
    question, answer, tags or legal basis; tag; public; stale), and every tag in use."""
    require(actor, READERS)
    return await _search(tenant, query, page, per_page, public_only=False)


PUBLIC_KEYS = ("id", "question", "answer_html", "tags", "legal_basis", "updated_at")


async def public_entries(
    tenant: TenantRef, query: dict[str, Any], page: int = 1, per_page: int = 50
) -> tuple[Page, list[str]]:
    """The public entries (for the page anyone may read): q and tag only, and only the
    keys the public may see."""
    found, tags = await _search(tenant, {k: query.get(k) for k in ("q", "tag")}, page, per_page, public_only=True)
    found.items = [{key: item[key] for key in PUBLIC_KEYS} for item in found.items]
    return found, tags


async def _owned(tenant: TenantRef, entry_id: Any) -> dict[str, Any]:
    row = await get_owned(QAEntry, tenant, entry_id)
    return {**row, "tags": json_value(row["tags"])}


async def entry_detail(tenant: TenantRef, actor: Actor, entry_id: Any) -> dict[str, Any]:
    require(actor, READERS)
    return _row(await _owned(tenant, entry_id), units.today(tenant))


# ---------------------------------------------------------------- writing


def _read_tags(check: Checker) -> list[str]:
    value = check.data.get("tags")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = TAG_SPLIT.split(value)
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        check.fail("tags", _("%(field)s must be a list of words.", field=check.label("tags")))
        return []
    tags = list(dict.fromkeys(tag.strip() for tag in value if tag.strip()))
    if len(tags) > TAGS_MAX:
        check.fail("tags", _("At most %(max)d tags.", max=TAGS_MAX))
    if any(len(tag) > TAG_MAX for tag in tags):
        check.fail("tags", _("A tag has at most %(max)d characters.", max=TAG_MAX))
    return tags


def _read_review_on(check: Checker, today: date, *, creating: bool) -> date | None:
    if check.data.get("review_on") in (None, "") and creating:
        return one_year_after(today)  # a new answer is looked at again in a year
    day = check.date("review_on", required=True)
    if day is not None and abs(day.year - today.year) > REVIEW_YEARS:
        check.fail("review_on", _("%(field)s is out of range.", field=check.label("review_on")))
    return day


def _values(check: Checker, today: date, *, creating: bool) -> dict[str, Any]:
    readers = {
        "question": lambda: check.text("question", required=True, max_len=QUESTION_MAX),
        "answer": lambda: check.text("answer", required=True, max_len=ANSWER_MAX),
        "tags": lambda: _read_tags(check),
        "legal_basis": lambda: check.text("legal_basis", max_len=BASIS_MAX),
        "public": lambda: check.boolean("public"),
        "review_on": lambda: _read_review_on(check, today, creating=creating),
    }
    return check.fields(readers, partial=not creating)


async def create_entry(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    require(actor, EDITORS)
    today = units.today(tenant)
    check = Checker(data, LABELS)
    values = _values(check, today, creating=True)
    check.done()
    entry = QAEntry(tenant=tenant.id, updated_by=actor.name, **values)
    await entry.save()
    await audit.record(
        tenant.id, actor, "declass.qa_create", "declassification_qa", entry.uuid, detail=_audit_detail(values)
    )
    return await entry_detail(tenant, actor, entry.uuid)


def _audit_detail(values: dict[str, Any]) -> dict[str, Any]:
    detail: dict[str, Any] = {"fields": sorted(values)}
    if "question" in values:
        detail["title"] = values["question"][:100]
    if "public" in values:
        detail["public"] = values["public"]
    return detail


async def update_entry(tenant: TenantRef, actor: Actor, entry_id: Any, data: dict[str, Any]) -> dict[str, Any]:
    require(actor, EDITORS)
    row = await _owned(tenant, entry_id)
    check = Checker(data, LABELS)
    check.changes(FIELDS)
    values = _values(check, units.today(tenant), creating=False)
    check.done()
    changes = {getattr(QAEntry, key): value for key, value in values.items()}
    await update_once(
        QAEntry,
        {**changes, QAEntry.updated_by: actor.name, QAEntry.updated_at: datetime.now(UTC)},
        (QAEntry.tenant == tenant.id, QAEntry.id == row["id"]),
        NotFound(),  # deleted meanwhile
    )
    detail = _audit_detail(values) | {"title": values.get("question", row["question"])[:100]}
    await audit.record(tenant.id, actor, "declass.qa_update", "declassification_qa", row["uuid"], detail=detail)
    return await entry_detail(tenant, actor, row["uuid"])


async def delete_entry(tenant: TenantRef, actor: Actor, entry_id: Any) -> None:
    require(actor, EDITORS)
    row = await _owned(tenant, entry_id)
    deleted = await QAEntry.delete().where(QAEntry.tenant == tenant.id, QAEntry.id == row["id"]).returning(QAEntry.id)
    if not deleted:  # two deletes at once: the second finds nothing
        raise NotFound()
    detail = {"title": row["question"][:100]}
    await audit.record(tenant.id, actor, "declass.qa_delete", "declassification_qa", row["uuid"], detail=detail)


# ---------------------------------------------------------------- the default set


SEED_LOCK = 0x5141  # "QA": with the tenant id, one seeding at a time per tenant (PostgreSQL)


def default_rows(tenant: TenantRef, actor: Actor) -> list[QAEntry]:
    review_on = one_year_after(units.today(tenant))
    return [
        QAEntry(
            tenant=tenant.id,
            question=entry["question"],
            answer=entry["answer"],
            tags=list(entry["tags"]),
            legal_basis=entry["legal_basis"],
            public=entry["public"],
            review_on=review_on,
            updated_by=actor.name,
        )
        for entry in ENTRIES
    ]


async def _insert_defaults(tenant: TenantRef, actor: Actor) -> int:
    """The default set, unless the tenant has entries already; how many were added."""
    if db.is_postgres():
        await QAEntry.raw("SELECT pg_advisory_xact_lock({}, {})", SEED_LOCK, tenant.id)
    if await QAEntry.exists().where(QAEntry.tenant == tenant.id):
        return 0
    rows = default_rows(tenant, actor)
    await QAEntry.insert(*rows)
    return len(rows)


async def seed_defaults(tenant: TenantRef, actor: Actor) -> int:
    """Give the tenant the default questions and answers, once: nothing happens when it
    has entries already (its own or the defaults). Returns how many were added."""
    async with db.atomic():
        added = await _insert_defaults(tenant, actor)
        if added:
            await audit.record(tenant.id, actor, "declass.qa_create", "declassification_qa", detail={"defaults": added})
    return added


async def provision(tenant: TenantRef) -> None:
    """A new tenant starts with the default set (inside its creation, audited as that)."""
    await _insert_defaults(tenant, Actor.system(""))


register_provisioner(provision)
