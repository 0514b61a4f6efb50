"""Bulk writes: what the services do one request at a time, for many rows at once and at
moments in the past. Seeding a year of history (server.demo) through the one-by-one
services would take minutes; these write the same rows, audit events and indicator
events, and make what the services make (notice bodies from their templates, signed
PDFs), so the result reads as if users had done it.

No checking of user input here: the callers (the seed, tests) build valid data. Each
function names the service call it stands for, and belongs in time next to it in its
domain's service (a few reach that service's private helpers); the row helpers at the
top belong in server.db."""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from piccolo.columns import JSON, Column, Numeric
from piccolo.columns.defaults.base import Default
from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from server import db, events
from server.accounts import passwords, policy
from server.accounts import service as users
from server.accounts.tables import User
from server.actor import Actor
from server.assessment import cycle
from server.assessment.results import get_assessment, tree_of
from server.assessment.scoring import as_decimal
from server.assessment.tables import Adjustment, AssessedUnit, Assessment, Scheme, Score, ScoreEvent
from server.audit import service as audit
from server.audit.tables import AuditEvent
from server.core.chunks import chunks
from server.responsibility import catalog as catalogs
from server.responsibility import notices
from server.responsibility.confirmations import Period
from server.responsibility.defaults import POSITION_TITLES
from server.responsibility.tables import Confirmation, Duty, DutyCatalog, Notice, Signature
from server.training.tables import Attendance, Course, TrainingImport
from server.units import service as units
from server.units.tables import Person, Post, Unit
from tenants.service import TenantRef

# ---------------------------------------------------------------- rows in bulk (server.db)


def _connection() -> Any:
    tx = db.engine().current_transaction.get()
    if tx is None:
        raise RuntimeError("bulk writes run inside the caller's transaction")
    return tx.connection


def _sql(text: str) -> str:
    """`?` placeholders as the engine takes them (asyncpg's are numbered)."""
    if not db.is_postgres():
        return text
    head, *rest = text.split("?")
    return head + "".join(f"${i}{part}" for i, part in enumerate(rest, start=1))


async def insert_rows(table: type[Table], rows: Sequence[dict[str, Any]]) -> None:
    """INSERT many rows through one prepared statement on the transaction's connection
    (the ORM composes and binds each row's SQL in Python, most of a millisecond a row).
    Columns left out take their defaults, as Table(...) gives them."""
    if not rows:
        return
    columns = [c for c in table._meta.columns if not c._meta.primary_key]
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    sql = _sql(f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({", ".join("?" for _ in columns)})')
    plan = [(c._meta.name, c.get_default_value(), _converter(c)) for c in columns]
    values = []
    for row in rows:
        out = []
        for name, default, convert in plan:
            value = row.get(name, default)
            if value is default and isinstance(default, Default):
                value = default.python()
            out.append(value if convert is None or value is None else convert(value))
        values.append(out)
    await _connection().executemany(sql, values)


def _converter(column: Column) -> Callable[[Any], Any] | None:
    if isinstance(column, JSON):
        return lambda value: value if isinstance(value, str) else dump_json(value)
    if isinstance(column, Numeric) and db.is_postgres():
        # asyncpg binds a Decimal, not a float
        return lambda value: Decimal(str(value)) if isinstance(value, float) else value
    return None


async def update_rows(table: type[Table], columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """UPDATE rows by id through one prepared statement: each of `rows` holds the new
    values of `columns`, then the row's id."""
    if not rows:
        return
    sets = ", ".join(f'"{name}" = ?' for name in columns)
    sql = _sql(f'UPDATE "{table._meta.tablename}" SET {sets} WHERE "id" = ?')
    await _connection().executemany(sql, rows)


async def row_ids(table: type[Table], uuids: Sequence[Any]) -> dict[str, int]:
    """Row ids of rows just inserted, by public id."""
    out: dict[str, int] = {}
    for batch in chunks(list(uuids)):
        rows = await table.select(table.id, table.uuid).where(table.uuid.is_in(list(batch)))
        out.update({str(r["uuid"]): r["id"] for r in rows})
    return out


def _new(**values: Any) -> dict[str, Any]:
    """A new row's values with its public id drawn now (each table's `uuid` is a UUID4 column)."""
    return {"uuid": uuid4(), **values}


# ---------------------------------------------------------------- audit


async def record_each(tenant_id: int, action: str, object_type: str, items: Sequence[tuple[Actor, Any, dict]]) -> None:
    """audit.record_each, its event rows stored through one prepared statement."""
    await audit.record_each(tenant_id, action, object_type, items, store=_store_events)


async def _store_events(rows: list[dict[str, Any]]) -> None:
    await insert_rows(AuditEvent, rows)


# ---------------------------------------------------------------- accounts (server.accounts.service)


async def add_users(
    tenant: TenantRef, actor: Actor, password: str, accounts: Sequence[tuple[str, str, dict[str, int]]]
) -> None:
    """accounts.create_user_row for each (username, role, binding: scope_unit or person),
    all with one password: its hashes (each with its own salt) made at once in threads."""
    hashes = await asyncio.gather(*(passwords.hash_password(password) for _ in accounts))
    for (username, role, binding), password_hash in zip(accounts, hashes, strict=True):
        user = User(
            tenant=tenant.id,
            username=users.normalise_username(username),
            role=role,
            password_hash=password_hash,
            scope_unit=binding.get("scope_unit"),
            person=binding.get("person"),
        )
        await user.save()
        await policy.remember_password(tenant, user.id, password_hash)
        detail = {"username": user.username, "role": role, "scope_unit": binding.get("scope_unit"), "pending": False}
        await audit.record(tenant.id, actor, "user.create", "user", user.uuid, detail=detail)


# ---------------------------------------------------------------- units (server.units.service)


async def add_units(tenant: TenantRef, actor: Actor, specs: Sequence[dict[str, Any]]) -> list[dict]:
    """units.create_unit for each {name, kind, code, sort_order, parent: index of an
    earlier spec or None}; returns {pk, uuid, name, kind, path, depth} in spec order."""
    made: list[dict] = [{} for _ in specs]
    level = [i for i, spec in enumerate(specs) if spec.get("parent") is None]
    while level:  # a tree level at a time: children name their parent's row id
        rows = []
        for i in level:
            spec = specs[i]
            parent = made[spec["parent"]] if spec.get("parent") is not None else None
            made[i] = {"name": spec["name"], "kind": spec["kind"], "parent": parent}
            rows.append(
                _new(
                    tenant=tenant.id,
                    parent=parent["pk"] if parent else None,
                    name=spec["name"],
                    kind=spec["kind"],
                    code=spec.get("code"),
                    sort_order=spec.get("sort_order", 0),
                )
            )
        await insert_rows(Unit, rows)
        ids = await row_ids(Unit, [r["uuid"] for r in rows])
        for i, row in zip(level, rows, strict=True):
            parent = made[i].pop("parent")
            pk = ids[str(row["uuid"])]
            made[i].update(
                pk=pk,
                uuid=row["uuid"],
                path=(parent["path"] if parent else "") + units.path_segment(pk),
                depth=parent["depth"] + 1 if parent else 0,
            )
        await update_rows(Unit, ("path", "depth"), [(made[i]["path"], made[i]["depth"], made[i]["pk"]) for i in level])
        placed = set(level)
        level = [i for i, spec in enumerate(specs) if spec.get("parent") in placed]
    await record_each(tenant.id, "unit.create", "unit", [(actor, u["uuid"], {"name": u["name"]}) for u in made])
    return made


@dataclass
class NewPerson:
    """A person and their posts: the first as units.create_person makes it, the others
    (earlier or later ones) as units.add_post adds them."""

    name: str
    posts: list[dict[str, Any]]  # {unit: unit pk, position, title, start_date, end_date}
    email: str = ""
    mobile: str = ""
    classified_level: str = "none"
    military_transfer: bool = False
    pk: int = 0
    uuid: Any = None
    post_pks: list[int] = field(default_factory=list)


async def add_people(tenant: TenantRef, actor: Actor, people: Sequence[NewPerson]) -> None:
    """units.create_person (then add_post) for each; sets pk, uuid and post_pks on each."""
    rows = [
        _new(
            tenant=tenant.id,
            name=p.name,
            email=p.email,
            mobile=p.mobile,
            classified_level=p.classified_level,
            military_transfer=p.military_transfer,
        )
        for p in people
    ]
    await insert_rows(Person, rows)
    ids = await row_ids(Person, [r["uuid"] for r in rows])
    for p, row in zip(people, rows, strict=True):
        p.pk, p.uuid = ids[str(row["uuid"])], row["uuid"]
    posts = [(p, _new(tenant=tenant.id, person=p.pk, **post)) for p in people for post in p.posts]
    await insert_rows(Post, [post for _p, post in posts])
    ids = await row_ids(Post, [post["uuid"] for _p, post in posts])
    for p, post in posts:
        post["id"] = ids[str(post["uuid"])]
        p.post_pks.append(post["id"])
    unit_uuids = {r["id"]: r["uuid"] for r in await Unit.select(Unit.id, Unit.uuid).where(Unit.tenant == tenant.id)}
    await record_each(
        tenant.id,
        "person.create",
        "person",
        [
            (actor, p.uuid, {"unit": str(unit_uuids[p.posts[0]["unit"]]), "position": p.posts[0]["position"]})
            for p in people
        ],
    )
    await record_each(
        tenant.id,
        "post.create",
        "post",
        [(actor, post["uuid"], {"person": str(p.uuid)}) for p, post in posts if post["id"] != p.post_pks[0]],
    )
    await events.publish(
        events.INDICATOR_INPUTS,
        tenant,
        people=[p.pk for p in people],
        units=sorted({post["unit"] for p in people for post in p.posts}),
    )


# ---------------------------------------------------------------- notices (server.responsibility)


async def publish_catalog(tenant: TenantRef, actor: Actor, year: int, note: str, at: datetime) -> dict:
    """catalog.create_draft for a year with the duties of the catalog in force, then
    catalog.publish, at a moment: a year before the tenant's first catalog, which
    create_draft refuses (it copies the catalog in force that year, and there is none)."""
    base = await catalogs.current_catalog(tenant)
    row = DutyCatalog(
        tenant=tenant.id, year=year, version=1, status="published", note=note, created_at=at, published_at=at
    )
    await row.save()
    await Duty.insert(
        *[
            Duty(tenant=tenant.id, catalog=row.id, position=d["position"], sort_order=d["sort_order"], text=d["text"])
            for d in await catalogs.catalog_duties(tenant, base["id"])
        ]
    )
    detail = {"year": year, "version": 1}
    await audit.record(tenant.id, actor, "catalog.draft", "catalog", row.uuid, detail=detail)
    await audit.record(tenant.id, actor, "catalog.publish", "catalog", row.uuid, detail=detail)
    return {"id": row.id, "uuid": row.uuid, "year": year, "version": 1}


async def issue_notices(
    tenant: TenantRef, actor: Actor, catalog: dict, issues: Sequence[tuple[dict, datetime]], *, renew: bool = False
) -> dict[int, dict]:
    """notices.issue to each (current leader post, moment), with the catalog then in
    force: the body rendered from the position's template in the sandbox, the post's
    live notice superseded (`renew`: also one of the same catalog). Returns the new
    notices by post id."""
    templates = await catalogs.current_templates(tenant)
    duties = await catalogs.catalog_duties(tenant, catalog["id"])
    assigned = await catalogs.assignments_by_post(tenant, [post["id"] for post, _at in issues])
    zone = ZoneInfo(tenant.timezone)
    by_template: dict[int, list[int]] = defaultdict(list)
    for i, (post, _at) in enumerate(issues):
        by_template[templates[post["position"]]["id"]].append(i)
    bodies = [""] * len(issues)
    for indexes in by_template.values():
        template = templates[issues[indexes[0]][0]["position"]]
        contexts = [
            {
                "person_name": post["person_name"],
                "unit_name": post["unit_name"],
                "position_title": POSITION_TITLES[post["position"]],
                "tenant_name": tenant.name,
                "year": at.astimezone(zone).year,
                **catalogs.duties_for_post(post["position"], duties, assigned[post["id"]]),
            }
            for post, at in (issues[i] for i in indexes)
        ]
        for i, body in zip(indexes, await catalogs.render_notices(template["body"], contexts), strict=True):
            bodies[i] = body
    live = {}
    for batch in chunks([post["id"] for post, _at in issues]):
        rows = await Notice.select(Notice.id, Notice.post).where(
            Notice.tenant == tenant.id, Notice.post.is_in(list(batch)), Notice.status.is_in(notices.LIVE)
        )
        live.update({r["post"]: r["id"] for r in rows})
    rows = []
    for (post, at), body in zip(issues, bodies, strict=True):
        template = templates[post["position"]]
        rows.append(
            _new(
                tenant=tenant.id,
                person=post["person"],
                post=post["id"],
                unit=post["unit"],
                position=post["position"],
                catalog=catalog["id"],
                template=template["id"],
                year=at.astimezone(zone).year,
                version_label=f"{catalog['year']}年度职责目录第{catalog['version']}版",
                title=template["title"],
                body_html=body,
                digest=notices.digest_of(template["title"], body),
                issued_at=at,
                issued_by=actor.name,
            )
        )
    await insert_rows(Notice, rows)
    ids = await row_ids(Notice, [r["uuid"] for r in rows])
    for row in rows:
        row["id"] = ids[str(row["uuid"])]
    await update_rows(
        Notice,
        ("status", "closed_at", "superseded_by"),
        [("superseded", r["issued_at"], r["id"], live[r["post"]]) for r in rows if r["post"] in live],
    )
    detail = {"scope": "all", "renew": renew}
    await record_each(tenant.id, "notice.issue", "notice", [(actor, r["uuid"], detail) for r in rows])
    return {r["post"]: r for r in rows}


async def view_notices(tenant: TenantRef, views: Sequence[tuple[Actor, dict, datetime]]) -> None:
    """notices.mark_viewed by each (addressee, notice as issue_notices returns it, moment)."""
    await update_rows(Notice, ("status", "viewed_at"), [("viewed", at, n["id"]) for _a, n, at in views])
    await record_each(tenant.id, "notice.view", "notice", [(actor, n["uuid"], {}) for actor, n, _at in views])


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

    async def render(self, tenant: TenantRef, signature: Any, notice: dict, block: dict) -> None:
        self._jobs.append((signature, asyncio.create_task(notices.signed_pdf(tenant, notice, block))))
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
    full: dict[int, dict] = {}
    for batch in chunks([s.notice["id"] for s in signings]):
        full.update({r["id"]: r for r in await Notice.select(*notices._COLUMNS).where(Notice.id.is_in(list(batch)))})
    await update_rows(Notice, ("status", "signed_at"), [("signed", s.at, s.notice["id"]) for s in signings])
    rows = []
    for s in signings:
        notice = full[s.notice["id"]]
        rows.append(
            _new(
                tenant=tenant.id,
                notice=notice["id"],
                person=notice["person"],
                user_id=s.signer.id or 0,
                signer_name=notice["person_name"],
                signed_at=s.at,
                client_addr=s.signer.client_addr,
                user_agent=s.signer.user_agent,
                method=s.method,
                notice_digest=notice["digest"],
                code=notices.new_code(),
            )
        )
    await insert_rows(Signature, rows)
    for row in rows:
        if pdfs.wanted(full[row["notice"]]):
            block = {k: row[k] for k in ("signer_name", "signed_at", "code", "client_addr", "method")}
            await pdfs.render(tenant, row["uuid"], full[row["notice"]], block)
    await record_each(
        tenant.id,
        "notice.sign",
        "notice",
        [(s.signer, s.notice["uuid"], {"code": row["code"]}) for s, row in zip(signings, rows, strict=True)],
    )
    # no reminder is pending before the scheduler's first run: none to settle
    await events.publish(events.INDICATOR_INPUTS, tenant, people=sorted({n["person"] for n in full.values()}))


@dataclass
class Confirming:
    """A leader's confirmation of a period: every duty carried out."""

    leader: Actor  # with person_id
    period: Period
    duties: list[str]
    at: datetime


async def confirm(tenant: TenantRef, confirmings: Sequence[Confirming]) -> None:
    """confirmations.submit for each, at its moment (late when after the period's due date)."""
    zone = ZoneInfo(tenant.timezone)
    rows = [
        _new(
            tenant=tenant.id,
            person=c.leader.person_id,
            **c.period.columns,
            submitted_at=c.at,
            items=[{"duty": d, "done": True, "note": ""} for d in c.duties],
        )
        for c in confirmings
    ]
    await insert_rows(Confirmation, rows)
    await record_each(
        tenant.id,
        "confirmation.submit",
        "confirmation",
        [
            (c.leader, row["uuid"], {"period": c.period.key, "late": c.at.astimezone(zone).date() > c.period.due})
            for c, row in zip(confirmings, rows, strict=True)
        ],
    )
    # no reminder is pending before the scheduler's first run: none to settle
    await events.publish(events.INDICATOR_INPUTS, tenant, people=sorted({c.leader.person_id for c in confirmings}))


# ---------------------------------------------------------------- training (server.training.service)


async def import_attendance(
    tenant: TenantRef, actor: Actor, course: dict, attendees: Sequence[dict], at: datetime
) -> None:
    """training.preview_import then apply_import of a course's attendance sheet, at a
    moment: the course as create_course returns it, each attendee {pk, uuid, name,
    unit_name, score} new at it."""
    course_pk = (await Course.select(Course.id).where(Course.uuid == course["id"]).first())["id"]
    rows = [
        {
            "line": line,
            "person_id": str(a["uuid"]),
            "person_name": a["name"],
            "unit_name": a["unit_name"],
            "course": course["title"],
            "date": course["date"].isoformat(),
            "hours": course["hours"],
            "score": a["score"],
            "status": "new",
            "before": None,
        }
        for line, a in enumerate(attendees, start=2)
    ]
    record = TrainingImport(
        tenant=tenant.id,
        user_id=actor.id or 0,
        filename=f"{course['title']}.xlsx",
        year=course["date"].year,
        status="applied",
        rows=rows,
        errors=[],
        created_at=at,
        applied_at=at,
    )
    await record.save()
    await insert_rows(
        Attendance,
        [
            _new(tenant=tenant.id, course=course_pk, person=a["pk"], hours=course["hours"], score=a["score"])
            for a in attendees
        ],
    )
    await audit.record(
        tenant.id, actor, "training.import_preview", "import", record.uuid, detail={"rows": len(rows), "errors": 0}
    )
    await audit.record(
        tenant.id, actor, "training.import_apply", "import", record.uuid, detail={"written": len(rows), "courses": 0}
    )
    await events.publish(events.INDICATOR_INPUTS, tenant, people=[a["pk"] for a in attendees])


# ---------------------------------------------------------------- assessment (server.assessment.reviews)


@dataclass
class UnitScores:
    """One unit's form, filled in by `actor` at a moment: (indicator code, points, note)
    for its own scores, (code, other points or None to accept, reason) for a review."""

    actor: Actor
    unit_uuid: Any
    scores: list[tuple[str, float | None, str]]
    at: datetime


async def _open(tenant: TenantRef, year: int) -> tuple[dict, Any, dict[str, dict]]:
    """The open assessment of the year, its scheme, and its units by unit id."""
    assessment = await get_assessment(tenant, year)
    cycle.must_be_open(assessment)
    rows = await AssessedUnit.select(AssessedUnit.all_columns(), AssessedUnit.unit.uuid.as_alias("unit_uuid")).where(
        AssessedUnit.tenant == tenant.id, AssessedUnit.assessment == assessment["id"]
    )
    return assessment, await tree_of(assessment), {str(r["unit_uuid"]): r for r in rows}


async def _manual_scores(tenant: TenantRef, assessed_pks: list[int]) -> dict[tuple[int, str], dict]:
    out = {}
    for batch in chunks(assessed_pks):
        for r in await Score.select().where(
            Score.tenant == tenant.id, Score.assessed.is_in(list(batch)), Score.method == "manual"
        ):
            out[(r["assessed"], r["indicator"])] = r
    return out


def _checked(tree: Any, code: str, value: Any) -> Decimal:
    leaf = next(leaf for leaf in tree.leaves() if leaf["code"] == code and leaf["method"] == "manual")
    if not 0 <= float(value) <= float(leaf["points"]):
        raise ValueError(f"{code}: {value} is not a score from 0 to {leaf['points']}")
    return as_decimal(float(value))


async def self_assess(tenant: TenantRef, year: int, forms: Sequence[UnitScores], *, submit: bool) -> None:
    """reviews.self_assess of each indicator of each form, then (`submit`) reviews.submit_self."""
    assessment, tree, assessed = await _open(tenant, year)
    units_ = [assessed[str(f.unit_uuid)] for f in forms]
    scores = await _manual_scores(tenant, [u["id"] for u in units_])
    updates, score_events, audits, submitted = [], [], [], []
    for form, unit in zip(forms, units_, strict=True):
        for code, points, note in form.scores:
            value = _checked(tree, code, points)
            old = scores[(unit["id"], code)]["self_score"]
            updates.append((value, note, None, "", "self", form.at, scores[(unit["id"], code)]["id"]))
            score_events.append(
                {
                    "tenant": tenant.id,
                    "assessed": unit["id"],
                    "kind": "self",
                    "indicator": code,
                    "old": old,
                    "new": value,
                    "note": note,
                    "actor": form.actor.name,
                    "at": form.at,
                }
            )
            detail = {"year": year, "indicator": code, "old": None if old is None else float(old), "new": float(value)}
            audits.append((form.actor, unit["uuid"], detail))
        if submit:
            submitted.append(("submitted", form.at, unit["id"]))
            score_events.append(
                {
                    "tenant": tenant.id,
                    "assessed": unit["id"],
                    "kind": "submitted",
                    "actor": form.actor.name,
                    "at": form.at,
                }
            )
    await update_rows(Score, ("self_score", "self_note", "score", "reason", "state", "updated_at"), updates)
    await update_rows(AssessedUnit, ("status", "submitted_at"), submitted)
    await insert_rows(ScoreEvent, score_events)
    await record_each(tenant.id, "assessment.self_score", "assessed_unit", audits)
    await record_each(
        tenant.id,
        "assessment.submit",
        "assessed_unit",
        [(f.actor, u["uuid"], {"year": year}) for f, u in zip(forms, units_, strict=True) if submit],
    )
    # no reminder is pending before the scheduler's first run: none to settle
    await cycle.refresh_totals(tenant, assessment["id"], tree)


async def review(tenant: TenantRef, year: int, forms: Sequence[UnitScores]) -> None:
    """reviews.review of each indicator of each form: None accepts the unit's own score,
    other points change it for the reason given; a unit with all reviewed is reviewed."""
    assessment, tree, assessed = await _open(tenant, year)
    units_ = [assessed[str(f.unit_uuid)] for f in forms]
    scores = await _manual_scores(tenant, [u["id"] for u in units_])
    updates, score_events, audits, done = [], [], [], []
    for form, unit in zip(forms, units_, strict=True):
        for code, other, reason in form.scores:
            score = scores[(unit["id"], code)]
            value = score["self_score"] if other is None else _checked(tree, code, other)
            state = "accepted" if value == score["self_score"] else "changed"
            updates.append((value, state, reason, form.at, score["id"]))
            score_events.append(
                {
                    "tenant": tenant.id,
                    "assessed": unit["id"],
                    "kind": state,
                    "indicator": code,
                    "old": score["score"],
                    "new": value,
                    "note": reason,
                    "actor": form.actor.name,
                    "at": form.at,
                }
            )
            score["score"] = value
            detail = {"year": year, "indicator": code, "score": float(value), "reason": reason}
            audits.append((form.actor, unit["uuid"], detail))
        if all(s["score"] is not None for (pk, _code), s in scores.items() if pk == unit["id"]):
            done.append(("reviewed", form.at, unit["id"]))
    await update_rows(Score, ("score", "state", "reason", "updated_at"), updates)
    await update_rows(AssessedUnit, ("status", "reviewed_at"), done)
    await insert_rows(ScoreEvent, score_events)
    await record_each(tenant.id, "assessment.review", "assessed_unit", audits)
    await cycle.refresh_totals(tenant, assessment["id"], tree)


@dataclass
class Finding:
    """A deduction or veto item recorded against a unit by `actor` at a moment."""

    actor: Actor
    unit_uuid: Any
    kind: str  # deduction | veto
    item: str
    note: str
    at: datetime


async def adjust(tenant: TenantRef, year: int, findings: Sequence[Finding]) -> None:
    """reviews.add_adjustment for each finding."""
    assessment, tree, assessed = await _open(tenant, year)
    adjustments, score_events, audits = [], [], defaultdict(list)
    for f in findings:
        unit = assessed[str(f.unit_uuid)]
        item = tree.deduction(f.item) if f.kind == "deduction" else tree.veto(f.item)
        if item is None:
            raise ValueError(f"no {f.kind} item {f.item} in the scheme of {year}")
        points = as_decimal(float(item.get("points", 0)) if f.kind == "deduction" else 0.0)
        adjustments.append(
            _new(
                tenant=tenant.id,
                assessed=unit["id"],
                kind=f.kind,
                item=f.item,
                points=points,
                note=f.note,
                created_by=f.actor.name,
                created_at=f.at,
            )
        )
        score_events.append(
            {
                "tenant": tenant.id,
                "assessed": unit["id"],
                "kind": f.kind,
                "indicator": f.item,
                "new": points,
                "note": f.note,
                "actor": f.actor.name,
                "at": f.at,
            }
        )
        audits[f.kind].append((f.actor, unit["uuid"], {"year": year, "item": f.item, "note": f.note}))
    await insert_rows(Adjustment, adjustments)
    await insert_rows(ScoreEvent, score_events)
    for kind, items in audits.items():
        await record_each(tenant.id, f"assessment.{kind}", "assessed_unit", items)
    await cycle.refresh_totals(tenant, assessment["id"], tree)


# ---------------------------------------------------------------- moments a service stamps as now


async def date_catalog(tenant: TenantRef, catalog_pk: int, at: datetime) -> None:
    """A catalog published at a moment in the past (the one a tenant is provisioned with)."""
    await DutyCatalog.update({DutyCatalog.created_at: at, DutyCatalog.published_at: at}).where(
        DutyCatalog.tenant == tenant.id, DutyCatalog.id == catalog_pk
    )


async def date_assessment(tenant: TenantRef, year: int, opened: datetime, finalised: datetime | None) -> None:
    """A year's assessment opened (its scheme frozen then) and finalised at moments in the
    past, where cycle.open_assessment and cycle.finalise stamped the time they ran."""
    row = await get_assessment(tenant, year)
    await Assessment.update({Assessment.opened_at: opened, Assessment.finalised_at: finalised}).where(
        Assessment.id == row["id"]
    )
    await Scheme.update({Scheme.frozen_at: opened, Scheme.updated_at: opened}).where(Scheme.id == row["scheme"])
