"""Catalogs, notices and confirmations in bulk, at moments in the past: what the
catalog, notices and confirmations services do one request at a time, for a year of a
bureau's history at once (the demo), with the same rows, audit events and indicator
events; notice bodies rendered from their templates in the sandbox, signed PDFs made
by the PDF workers. No user input here: the callers pass valid data, and a change the
services would refuse (a notice viewed or signed by someone else, or twice) is a
programming error (ValueError), not a message.

The bulk writes settle no reminders: they serve a bureau whose scheduler has not run."""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from server import events
from server.actor import Actor
from server.audit import bulk as audit
from server.core.bulk import insert_new, insert_rows, new_row, row_ids, update_rows
from server.core.chunks import chunks
from server.responsibility import catalog as catalogs
from server.responsibility import notices
from server.responsibility.confirmations import Period
from server.responsibility.defaults import POSITION_TITLES
from server.responsibility.tables import Confirmation, Duty, DutyCatalog, Notice, Signature
from tenants.service import TenantRef

# ---------------------------------------------------------------- catalogs


async def publish_catalog(tenant: TenantRef, actor: Actor, year: int, note: str, at: datetime) -> dict:
    """catalog.create_draft for a year with the duties of the catalog in force, then
    catalog.publish, at a moment: for a year before the tenant's first catalog, which
    create_draft refuses (it copies the catalog in force that year, and there is none)."""
    if await DutyCatalog.exists().where(DutyCatalog.tenant == tenant.id, DutyCatalog.year <= year):
        raise ValueError(f"a catalog of {year} or before exists: create_draft makes the next one")
    base = await catalogs.current_catalog(tenant)
    row = new_row(tenant=tenant.id, year=year, version=1, status="published", note=note, created_at=at, published_at=at)
    await insert_new(DutyCatalog, [row])
    duties = await catalogs.catalog_duties(tenant, base["id"])
    keep = ("position", "sort_order", "text")
    await insert_rows(Duty, [new_row(tenant=tenant.id, catalog=row["id"], **{k: d[k] for k in keep}) for d in duties])
    detail = {"year": year, "version": 1}
    for action in ("catalog.draft", "catalog.publish"):
        await audit.record_each(tenant.id, action, "catalog", [(actor, row["uuid"], detail)])
    return row


async def date_catalog(tenant: TenantRef, catalog_pk: int, at: datetime) -> None:
    """A catalog published at a moment in the past (the one a tenant is provisioned with)."""
    await DutyCatalog.update({DutyCatalog.created_at: at, DutyCatalog.published_at: at}).where(
        DutyCatalog.tenant == tenant.id, DutyCatalog.id == catalog_pk
    )


# ---------------------------------------------------------------- notices


async def _bodies(tenant: TenantRef, catalog: dict, issues: Sequence[tuple[dict, datetime]]) -> list[str]:
    """Each notice's body, rendered from its position's template in the sandbox (one
    batch per template), as notices.issue renders them."""
    templates = await catalogs.current_templates(tenant)
    duties = await catalogs.catalog_duties(tenant, catalog["id"])
    assigned = await catalogs.assignments_by_post(tenant, [post["id"] for post, _at in issues])
    zone = ZoneInfo(tenant.timezone)
    by_position: dict[str, list[int]] = defaultdict(list)
    for i, (post, _at) in enumerate(issues):
        by_position[post["position"]].append(i)
    bodies = [""] * len(issues)
    for position, indexes in by_position.items():
        contexts = [
            {
                "person_name": post["person_name"],
                "unit_name": post["unit_name"],
                "position_title": POSITION_TITLES[position],
                "tenant_name": tenant.name,
                "year": at.astimezone(zone).year,
                **catalogs.duties_for_post(position, duties, assigned[post["id"]]),
            }
            for post, at in (issues[i] for i in indexes)
        ]
        for i, body in zip(indexes, await catalogs.render_notices(templates[position]["body"], contexts), strict=True):
            bodies[i] = body
    return bodies


async def _live(tenant: TenantRef, post_pks: list[int]) -> dict[int, int]:
    """The live notice of each post that has one, by post id."""
    live = {}
    for batch in chunks(post_pks):
        rows = await Notice.select(Notice.id, Notice.post).where(
            Notice.tenant == tenant.id, Notice.post.is_in(list(batch)), Notice.status.is_in(notices.LIVE)
        )
        live.update({r["post"]: r["id"] for r in rows})
    return live


async def issue_notices(
    tenant: TenantRef, actor: Actor, catalog: dict, issues: Sequence[tuple[dict, datetime]], *, renew: bool = False
) -> dict[int, dict]:
    """notices.issue to each (current leader post as units.current_leader_posts gives
    it, moment), with the catalog then in force; the post's live notice superseded
    (`renew`: also one of the same catalog). Returns the new notices by post id, each
    with its addressee's and unit's names."""
    templates = await catalogs.current_templates(tenant)
    if missing := {post["position"] for post, _at in issues} - set(templates):
        raise ValueError(f"no notice template for {sorted(missing)}")
    if len({post["id"] for post, _at in issues}) != len(issues):
        raise ValueError("a post given two notices at once")
    bodies = await _bodies(tenant, catalog, issues)
    live = await _live(tenant, [post["id"] for post, _at in issues])
    zone = ZoneInfo(tenant.timezone)
    rows = []
    for (post, at), body in zip(issues, bodies, strict=True):
        template = templates[post["position"]]
        year = at.astimezone(zone).year
        rows.append(new_row(**notices.notice_columns(tenant, actor, post, catalog, template, body, at, year)))
    await insert_new(Notice, rows)
    await update_rows(
        Notice,
        ("status", "closed_at", "superseded_by"),
        [("superseded", r["issued_at"], r["id"], live[r["post"]]) for r in rows if r["post"] in live],
    )
    detail = {"scope": "all", "renew": renew}
    await audit.record_each(tenant.id, "notice.issue", "notice", [(actor, r["uuid"], detail) for r in rows])
    names = {post["id"]: {"person_name": post["person_name"], "unit_name": post["unit_name"]} for post, _at in issues}
    return {r["post"]: {**r, **names[r["post"]]} for r in rows}


async def _must_be(
    tenant: TenantRef, changes: Sequence[tuple[Actor, dict]], states: Collection[str], change: str
) -> None:
    """Each (actor, notice): the notice addressed to the actor and in one of `states`, as
    the services require."""
    pks = [notice["id"] for _actor, notice in changes]
    if len(set(pks)) != len(pks):
        raise ValueError(f"a notice {change} twice")
    status: dict[int, str] = {}
    for batch in chunks(pks):
        rows = await Notice.select(Notice.id, Notice.status).where(
            Notice.tenant == tenant.id, Notice.id.is_in(list(batch))
        )
        status.update({r["id"]: r["status"] for r in rows})
    for actor, notice in changes:
        if notice["person"] != actor.person_id or status.get(notice["id"]) not in states:
            raise ValueError(f"notice {notice['uuid']} ({status.get(notice['id'])}) cannot be {change} by {actor.name}")


async def view_notices(tenant: TenantRef, views: Sequence[tuple[Actor, dict, datetime]]) -> None:
    """notices.mark_viewed by each (addressee, notice as issue_notices returns it, moment)."""
    await _must_be(tenant, [(actor, n) for actor, n, _at in views], ("issued",), "viewed")
    await update_rows(Notice, ("status", "viewed_at"), [("viewed", at, n["id"]) for _a, n, at in views])
    await audit.record_each(tenant.id, "notice.view", "notice", [(actor, n["uuid"], {}) for actor, n, _at in views])


@dataclass
class Signing:
    """A notice (as issue_notices returns it) signed by its addressee, who re-authenticated."""

    signer: Actor
    notice: dict
    at: datetime
    method: str = "password"


class SignedPdfs:
    """The PDFs that notices.sign makes, for signatures made in bulk: the pool's workers
    render them while the caller goes on writing, store() keeps them with their
    signatures (before the transaction ends). For the notices of `people` (None:
    everyone); the others get theirs on first download (notices.notice_pdf), as
    signatures imported in bulk do."""

    PENDING = 200  # rendered PDFs are held in memory until stored

    def __init__(self, people: Collection[int] | None = None) -> None:
        self.people = people
        self._jobs: list[tuple[Any, asyncio.Task]] = []

    def wanted(self, notice: dict) -> bool:
        return self.people is None or notice["person"] in self.people

    async def render(self, tenant: TenantRef, signature: dict, notice: dict) -> None:
        task = asyncio.create_task(notices.signed_pdf(tenant, notice, signature))
        self._jobs.append((signature["uuid"], task))
        if len(self._jobs) >= self.PENDING:
            await self.store()

    async def store(self) -> None:
        jobs, self._jobs = self._jobs, []
        made = await asyncio.gather(*(task for _signature, task in jobs))
        ids = await row_ids(Signature, [signature for signature, _task in jobs])
        await update_rows(
            Signature,
            ("pdf", "pdf_digest"),
            [(pdf, hashlib.sha256(pdf).hexdigest(), ids[str(sig)]) for (sig, _t), pdf in zip(jobs, made, strict=True)],
        )


async def sign_notices(tenant: TenantRef, signings: Sequence[Signing], pdfs: SignedPdfs) -> None:
    """notices.sign for each, its signed PDF rendered by `pdfs`."""
    await _must_be(tenant, [(s.signer, s.notice) for s in signings], notices.OPEN, "signed")
    await update_rows(Notice, ("status", "signed_at"), [("signed", s.at, s.notice["id"]) for s in signings])
    rows = [
        new_row(
            tenant=tenant.id,
            notice=s.notice["id"],
            person=s.notice["person"],
            user_id=s.signer.id or 0,
            signer_name=s.notice["person_name"],
            signed_at=s.at,
            client_addr=s.signer.client_addr,
            user_agent=s.signer.user_agent,
            method=s.method,
            notice_digest=s.notice["digest"],
            code=notices.new_code(),
        )
        for s in signings
    ]
    await insert_rows(Signature, rows)
    for s, row in zip(signings, rows, strict=True):
        if pdfs.wanted(s.notice):
            await pdfs.render(tenant, row, s.notice)
    await audit.record_each(
        tenant.id,
        "notice.sign",
        "notice",
        [(s.signer, s.notice["uuid"], {"code": row["code"]}) for s, row in zip(signings, rows, strict=True)],
    )
    await events.publish(events.INDICATOR_INPUTS, tenant, people=sorted({s.notice["person"] for s in signings}))


# ---------------------------------------------------------------- confirmations


@dataclass
class Confirming:
    """A leader's confirmation of a period: every duty carried out."""

    leader: Actor  # with person_id
    period: Period
    duties: list[str]
    at: datetime


async def confirm(tenant: TenantRef, confirmings: Sequence[Confirming]) -> None:
    """confirmations.submit for each, at its moment (late when after the period's due
    date); a period is confirmed once (the table's unique key)."""
    if empty := [c.leader.name for c in confirmings if not c.duties or c.leader.person_id is None]:
        raise ValueError(f"nothing to confirm for {empty[:5]}")
    zone = ZoneInfo(tenant.timezone)
    rows = [
        new_row(
            tenant=tenant.id,
            person=c.leader.person_id,
            **c.period.columns,
            submitted_at=c.at,
            items=[{"duty": d, "done": True, "note": ""} for d in c.duties],
        )
        for c in confirmings
    ]
    done = [
        (c.leader, {"period": c.period.key, "late": c.at.astimezone(zone).date() > c.period.due}) for c in confirmings
    ]
    await audit.insert_recorded(Confirmation, rows, tenant.id, "confirmation.submit", "confirmation", done)
    await events.publish(events.INDICATOR_INPUTS, tenant, people=sorted({c.leader.person_id for c in confirmings}))
