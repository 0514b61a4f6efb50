"""Review decisions on an item of the register: declassify (whole or in part), extend the
term, change the level, correct an irregular classification. The custodian unit's officer
(or the office) proposes; someone else approves: the unit's principal or the person
responsible for the classification, or the bureau's office for an extension past the
level's ceiling. A derived item needs its originator's answer first. On approval, in one
transaction: the item changes, its review tasks close, the knowledge scope is told (each
acknowledgement tracked), every item derived from it gets a review task, and a
declassification to publish goes on the public page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from server import db, roles
from server.accounts import service as accounts
from server.actor import Actor
from server.audit import service as audit
from server.core.chunks import chunks
from server.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.core.i18n import _, _l
from server.core.once import update_once
from server.core.validation import Checker
from server.declassification import access, consultations, tasks, terms
from server.declassification import decisions_effects as effects
from server.declassification.decisions_checks import IRREGULARITIES, KINDS, as_data, check_decision, label
from server.declassification.decisions_checks import effects as item_effects
from server.declassification.tables import Acknowledgement, ClassifiedItem, Consultation, Decision
from server.units import service as units
from tenants.service import TenantRef, get_owned

STATUSES = {
    "proposed": _l("Awaiting approval"),
    "bureau": _l("Awaiting the bureau's approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
OPEN = ("proposed", "bureau")
# an item in these states takes decisions (a declassified or expired one is the publication's)
LIVE = effects.LIVE
# who proposes: the custodian unit's officer, or the office
PROPOSERS = (access.OFFICE, access.UNIT)
# someone outside the item's readers who still sees its decisions: its responsible person,
# or a person told of one of its decisions
PERSON = "person"
# a source item's approved decision of these kinds opens a review of every item derived from it
GRAPH_KINDS = ("declassify", "extend", "change_level")
CONSULTATION_STATES = {"open": _l("still awaiting its answer")}
REJECT_LABELS = {"reason": _l("Why it is rejected")}
DECISION_COLUMNS = (
    *Decision.all_columns(),
    Decision.item.uuid.as_alias("item_uuid"),
    Decision.item.reference.as_alias("item_reference"),
    Decision.item.public_title.as_alias("item_title"),
    Decision.item.custodian_unit.name.as_alias("unit_name"),
)


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- finding things


async def _knows_of(tenant: TenantRef, actor: Actor, item: dict) -> bool:
    """The actor's own person is the item's responsible person or was told of a decision."""
    if not actor.person_id:
        return False
    if item["responsible_person"] == actor.person_id:
        return True
    told = await Acknowledgement.count().where(
        Acknowledgement.tenant == tenant.id,
        Acknowledgement.person == actor.person_id,
        Acknowledgement.decision.item == item["id"],
    )
    return told > 0


async def item_row(tenant: TenantRef, actor: Actor, item_id: Any) -> dict:
    """The item with `view`: how the actor sees it (access.view_of, or PERSON); NotFound
    for whom it is invisible."""
    owned = await get_owned(ClassifiedItem, tenant, item_id, ClassifiedItem.id)
    row = (
        await ClassifiedItem.select(*access.ITEM_COLUMNS)
        .where(ClassifiedItem.tenant == tenant.id, ClassifiedItem.id == owned["id"])
        .first()
    )
    try:
        row["view"] = await access.view_of(tenant, actor, row)
    except NotFound:
        if not await _knows_of(tenant, actor, row):
            raise
        row["view"] = PERSON
    return row


async def _decision_row(tenant: TenantRef, item: dict, decision_id: Any) -> dict:
    owned = await get_owned(Decision, tenant, decision_id, Decision.id)
    row = (
        await Decision.select(*DECISION_COLUMNS).where(Decision.tenant == tenant.id, Decision.id == owned["id"]).first()
    )
    if row is None or row["item"] != item["id"]:
        raise NotFound()
    return row


async def _is_principal(tenant: TenantRef, actor: Actor, unit_pk: int) -> bool:
    """A leader whose own person holds the unit's principal post today."""
    if actor.role != roles.LEADER or not actor.person_id:
        return False
    posts = await units.posts_on(
        tenant, units.today(tenant), people=[actor.person_id], positions=["principal"], units=[unit_pk]
    )
    return bool(posts)


async def _proposer_person(tenant: TenantRef, decision: dict) -> int | None:
    """The person record of the account that proposed the decision (None when it has none)."""
    row = await accounts.active_user(tenant, decision["proposed_by_id"])
    return row["person"] if row else None


async def approver_refusal(tenant: TenantRef, actor: Actor, item: dict, decision: dict) -> str | None:
    """Why the actor may not approve (or reject) the decision; None when they may."""
    if decision["proposed_by_id"] == actor.id and actor.kind in ("user", "token"):
        return _(
            "Whoever proposed a decision does not approve it: the unit's principal or the person responsible for "
            "the classification does."
        )
    if actor.person_id and actor.person_id == await _proposer_person(tenant, decision):
        return _("You proposed this decision under another account: someone else approves it.")
    if decision["status"] == "bureau":
        if actor.role == roles.OFFICE_ADMIN:
            return None
        return _("An extension past the level's ceiling is approved by the bureau's office.")
    if await _is_principal(tenant, actor, item["custodian_unit"]):
        return None
    if actor.person_id and actor.person_id == item["responsible_person"]:
        return None
    return _(
        "Only the custodian unit's principal or the person responsible for the classification approves this decision."
    )


async def check_consultation(tenant: TenantRef, item: dict, kind: str) -> dict | None:
    """A derived item's decision needs its originator's answer: the answered consultation
    (None for an item that needs none); Conflict naming the consultation otherwise."""
    if item["origin"] != "derived" or not (item["originating_unit"] or item["originating_body"]):
        return None
    rows = (
        await Consultation.select(
            Consultation.uuid, Consultation.status, Consultation.deadline, Consultation.answer, Consultation.note
        )
        .where(Consultation.tenant == tenant.id, Consultation.item == item["id"])
        .order_by(Consultation.created_at, ascending=False)
        .order_by(Consultation.id, ascending=False)
    )
    originator = item["originating_unit_name"] or item["originating_body"]
    answered = next((r for r in rows if r["status"] == "answered"), None)
    if answered is None and not rows:
        raise Conflict(
            _(
                "This item is derived from %(originator)s, whose opinion a decision needs: no consultation was "
                "requested yet.",
                originator=originator,
            ),
            errors={"consultation": _("None requested.")},
        )
    if answered is None:
        latest = rows[0]
        state = str(CONSULTATION_STATES.get(latest["status"], latest["status"]))
        raise Conflict(
            _(
                "This item is derived from %(originator)s, whose opinion a decision needs: consultation %(id)s is "
                "%(state)s (deadline %(deadline)s).",
                originator=originator,
                id=str(latest["uuid"]),
                state=state,
                deadline=latest["deadline"].isoformat(),
            ),
            errors={"consultation": str(latest["uuid"])},
        )
    if kind == "declassify" and answered["answer"] == "keep":
        raise Conflict(
            _(
                "%(originator)s answered consultation %(id)s that the item stays classified: it is not declassified "
                "against the originator's answer.",
                originator=originator,
                id=str(answered["uuid"]),
            ),
            errors={"consultation": str(answered["uuid"])},
        )
    return answered


# ---------------------------------------------------------------- what a decision shows


async def _acknowledgements(tenant: TenantRef, decision_pks: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {pk: [] for pk in decision_pks}
    for batch in chunks(decision_pks):
        rows = (
            await Acknowledgement.select(
                Acknowledgement.decision,
                Acknowledgement.person,
                Acknowledgement.person.uuid.as_alias("person_uuid"),
                Acknowledgement.person.name.as_alias("name"),
                Acknowledgement.acknowledged_at,
            )
            .where(Acknowledgement.tenant == tenant.id, Acknowledgement.decision.is_in(list(batch)))
            .order_by(Acknowledgement.id)
        )
        for r in rows:
            out[r["decision"]].append(r)
    return out


def summary(row: dict) -> dict:
    """What every view of a decision (a row of DECISION_COLUMNS) starts with: it, its item
    and its kind."""
    return {
        "id": str(row["uuid"]),
        "item_id": str(row["item_uuid"]),
        "item_reference": row["item_reference"],
        "item_title": row["item_title"],
        "unit_name": row["unit_name"],
        "decision": row["decision"],
        "decision_label": label(KINDS, row["decision"]),
    }


def _public(row: dict, acks: list[dict], may: dict[str, bool], consultation: dict | None = None) -> dict:
    done = sum(1 for a in acks if a["acknowledged_at"] is not None)
    return {
        **summary(row),
        "basis": row["basis"],
        "reason": row["reason"],
        "effective_on": row["effective_on"],
        "part": row["part"],
        "new_term_years": row["new_term_years"],
        "new_term_until": row["new_term_until"],
        "new_level": row["new_level"],
        "new_level_label": label(terms.LEVELS, row["new_level"]),
        "irregularity": row["irregularity"],
        "irregularity_label": label(IRREGULARITIES, row["irregularity"]),
        "publish": bool(row["publish"]),
        "status": row["status"],
        "status_label": label(STATUSES, row["status"]),
        "proposed_by": row["proposed_by"],
        "decided_by": row["approved_by"],
        "decided_at": row["approved_at"],
        "decided_note": row["decided_note"],
        "created_at": row["created_at"],
        "acknowledged": done,
        "total": len(acks),
        # told to everyone in scope, and every one of them has acknowledged it
        "safe": row["status"] == "approved" and done == len(acks),
        "acknowledgements": [
            {"person_id": str(a["person_uuid"]), "name": a["name"], "acknowledged_at": a["acknowledged_at"]}
            for a in acks
        ],
        "may": may,
        "consultation": consultation,
    }


async def _may(tenant: TenantRef, actor: Actor, item: dict, row: dict, acks: list[dict]) -> dict[str, bool]:
    decide = row["status"] in OPEN and await approver_refusal(tenant, actor, item, row) is None
    mine = any(a["person"] == actor.person_id and a["acknowledged_at"] is None for a in acks)
    return {"approve": decide, "reject": decide, "acknowledge": bool(actor.person_id) and mine}


def _consultation_ref(found: dict | None) -> dict | None:
    if found is None:
        return None
    return {
        "id": str(found["uuid"]),
        "status": found["status"],
        "answer": found["answer"],
        "answer_label": label(consultations.ANSWERS, found["answer"]),
        "note": found["note"],
    }


async def _answered(tenant: TenantRef, item: dict) -> dict | None:
    """The originator's answer a derived item's decisions rest on (None when none yet)."""
    try:
        return await check_consultation(tenant, item, "")
    except Conflict:
        return None


async def item_decisions(tenant: TenantRef, actor: Actor, item: dict) -> list[dict]:
    """The item's decisions, newest first, each with its acknowledgements and what the actor
    may do. `item` as access.item or item_row gives it (the caller has checked that the actor
    sees it); a public dict (its `id` the public id) is looked up again."""
    if not isinstance(item.get("id"), int):
        item = await item_row(tenant, actor, item.get("uuid") or item["id"])
    rows = (
        await Decision.select(*DECISION_COLUMNS)
        .where(Decision.tenant == tenant.id, Decision.item == item["id"])
        .order_by(Decision.created_at, ascending=False)
        .order_by(Decision.id, ascending=False)
    )
    acks = await _acknowledgements(tenant, [r["id"] for r in rows])
    return [_public(r, acks[r["id"]], await _may(tenant, actor, item, r, acks[r["id"]])) for r in rows]


async def list_decisions(tenant: TenantRef, actor: Actor, item_id: Any) -> list[dict]:
    return await item_decisions(tenant, actor, await item_row(tenant, actor, item_id))


async def _detail(tenant: TenantRef, actor: Actor, item: dict, row: dict) -> dict:
    acks = (await _acknowledgements(tenant, [row["id"]]))[row["id"]]
    may = await _may(tenant, actor, item, row, acks)
    return _public(row, acks, may, _consultation_ref(await _answered(tenant, item)))


async def decision_detail(tenant: TenantRef, actor: Actor, item_id: Any, decision_id: Any) -> dict:
    item = await item_row(tenant, actor, item_id)
    return await _detail(tenant, actor, item, await _decision_row(tenant, item, decision_id))


async def new_decision_context(tenant: TenantRef, actor: Actor, item_id: Any) -> dict:
    """The item a decision is proposed on, for the form (Forbidden for whom may not propose)."""
    item = await item_row(tenant, actor, item_id)
    if item["view"] not in PROPOSERS:
        raise Forbidden(_("Only the custodian unit's secrecy officer or the office proposes a decision on an item."))
    return item


# ---------------------------------------------------------------- propose


async def _hold_item(tenant: TenantRef, item_pk: int) -> None:
    """Hold the item until the transaction ends, so that two proposals take turns (SQLite's
    write transaction already serialises them)."""
    if db.is_postgres():
        await (
            ClassifiedItem.select(ClassifiedItem.id)
            .where(ClassifiedItem.tenant == tenant.id, ClassifiedItem.id == item_pk)
            .lock_rows()
        )


async def _refuse_if_open(tenant: TenantRef, item_pk: int) -> None:
    waiting = (
        await Decision.select(Decision.decision, Decision.proposed_by, Decision.created_at)
        .where(Decision.tenant == tenant.id, Decision.item == item_pk, Decision.status.is_in(list(OPEN)))
        .first()
    )
    if waiting is not None:
        raise Conflict(
            _(
                "This item already has a decision waiting (%(decision)s, proposed by %(name)s): it is approved or "
                "rejected before another is proposed.",
                decision=label(KINDS, waiting["decision"]),
                name=waiting["proposed_by"],
            )
        )


def _refuse_if_settled(item: dict, today: date) -> None:
    if item["status"] not in LIVE:
        raise Conflict(_("This item no longer takes decisions: it was declassified, or its term ended."))
    if item["term_ends_on"] is not None and item["term_ends_on"] < today:
        # the law declassifies it the day after its term (自行解密), whether or not the scan ran yet
        raise Conflict(
            _(
                "The term of this item ended on %(date)s with no decision: it is declassified by expiry and "
                "waits for the decision whether to publish it.",
                date=item["term_ends_on"].isoformat(),
            )
        )


async def propose(tenant: TenantRef, actor: Actor, item_id: Any, data: dict[str, Any]) -> dict:
    """A proposed decision (or one waiting for the bureau: an extension past the ceiling)."""
    item = await new_decision_context(tenant, actor, item_id)
    _refuse_if_settled(item, units.today(tenant))
    values, bureau = check_decision(item, data, units.today(tenant))
    answered = await check_consultation(tenant, item, values["decision"])
    row = Decision(
        tenant=tenant.id,
        item=item["id"],
        status="bureau" if bureau else "proposed",
        proposed_by_id=actor.id or 0,
        proposed_by=actor.name,
        **values,
    )
    async with db.atomic():
        await _hold_item(tenant, item["id"])
        await _refuse_if_open(tenant, item["id"])
        await Decision.insert(row)
        detail = {
            "item": str(item["uuid"]),
            "reference": item["reference"],
            "status": row.status,
            **{k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()},
        }
        if answered:
            detail["consultation"] = str(answered["uuid"])
        await audit.record(tenant.id, actor, "declass.decision_propose", "classified_decision", row.uuid, detail=detail)
    return await decision_detail(tenant, actor, item["uuid"], row.uuid)


# ---------------------------------------------------------------- approve, reject


async def _deciding(tenant: TenantRef, actor: Actor, item_id: Any, decision_id: Any) -> tuple[dict, dict]:
    """The item and its open decision, if the actor may decide it."""
    item = await item_row(tenant, actor, item_id)
    row = await _decision_row(tenant, item, decision_id)
    if row["status"] not in OPEN:
        raise Conflict(_("This decision was already decided: %(status)s.", status=label(STATUSES, row["status"])))
    refusal = await approver_refusal(tenant, actor, item, row)
    if refusal:
        raise Forbidden(refusal)
    return item, row


async def _settle(tenant: TenantRef, actor: Actor, row: dict, status: str, note: str = "") -> None:
    """The one conditional UPDATE that two deciders at once cannot both pass (with what the
    decider said: a rejection's reason)."""
    won = await update_once(
        Decision,
        {
            Decision.status: status,
            Decision.approved_by_id: actor.id,
            Decision.approved_by: actor.name,
            Decision.approved_at: _now(),
            Decision.decided_note: note,
        },
        (Decision.tenant == tenant.id, Decision.id == row["id"], Decision.status == row["status"]),
    )
    if not won:
        now = await Decision.select(Decision.status).where(Decision.id == row["id"]).first()
        raise Conflict(_("This decision was already decided: %(status)s.", status=label(STATUSES, now["status"])))


def _checked_again(item: dict, row: dict, today: date) -> None:
    """The decision still fits the item as it is now (it may have changed since)."""
    try:
        _values, bureau = check_decision(item, as_data(row), today, approving=True)
    except ValidationFailed as exc:
        problems = " ".join(exc.errors.values())
        raise Conflict(_("The item changed since this decision was proposed: %(problems)s", problems=problems)) from exc
    if bureau and row["status"] != "bureau":
        raise Conflict(
            _("The item changed since this decision was proposed: the new term now needs the bureau's approval.")
        )


def _audit_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


async def approve(tenant: TenantRef, actor: Actor, item_id: Any, decision_id: Any) -> dict:
    """Approve the decision and apply it, all in one transaction."""
    item, row = await _deciding(tenant, actor, item_id, decision_id)
    today = units.today(tenant)
    _refuse_if_settled(item, today)
    answered = await check_consultation(tenant, item, row["decision"])
    _checked_again(item, row, today)
    changes = item_effects(item, row, today)
    async with db.atomic():
        await _settle(tenant, actor, row, "approved")
        await ClassifiedItem.update({**changes, "updated_at": _now()}).where(
            ClassifiedItem.tenant == tenant.id, ClassifiedItem.id == item["id"]
        )
        closed = await tasks.close_tasks(tenant, item["id"])
        told = await effects.tell_scope(tenant, item, row["id"], today)
        derived = await effects.review_derived(tenant, actor, item, changes) if row["decision"] in GRAPH_KINDS else 0
        published = await effects.publish(tenant, actor, item, row, changes)
        detail = {
            "item": str(item["uuid"]),
            "reference": item["reference"],
            "decision": row["decision"],
            "changes": {k: _audit_value(v) for k, v in changes.items()},
            "tasks_closed": closed,
            "told": told,
            "derived_reviews": derived,
            "published": published,
        }
        if answered:
            detail["consultation"] = str(answered["uuid"])
        await audit.record(
            tenant.id, actor, "declass.decision_approve", "classified_decision", row["uuid"], detail=detail
        )
    return await decision_detail(tenant, actor, item["uuid"], row["uuid"])


async def reject(tenant: TenantRef, actor: Actor, item_id: Any, decision_id: Any, data: dict[str, Any]) -> dict:
    """Turn the decision down, saying why (the reason is kept on the decision, as its
    `decided_note`, and in the audit trail)."""
    check = Checker(data, REJECT_LABELS)
    reason = check.text("reason", required=True, max_len=2000)
    check.done()
    item, row = await _deciding(tenant, actor, item_id, decision_id)
    async with db.atomic():
        await _settle(tenant, actor, row, "rejected", reason)
        detail = {"item": str(item["uuid"]), "decision": row["decision"], "reason": reason}
        await audit.record(
            tenant.id, actor, "declass.decision_reject", "classified_decision", row["uuid"], detail=detail
        )
    return await decision_detail(tenant, actor, item["uuid"], row["uuid"])


# ---------------------------------------------------------------- acknowledge


async def acknowledge(tenant: TenantRef, actor: Actor, item_id: Any, decision_id: Any) -> dict:
    """The actor's own person acknowledges the decision they were told of (once; again is
    no change)."""
    item = await item_row(tenant, actor, item_id)
    row = await _decision_row(tenant, item, decision_id)
    mine = (
        await Acknowledgement.select(Acknowledgement.id, Acknowledgement.acknowledged_at)
        .where(
            Acknowledgement.tenant == tenant.id,
            Acknowledgement.decision == row["id"],
            Acknowledgement.person == (actor.person_id or 0),
        )
        .first()
    )
    if mine is None:
        raise Forbidden(_("You are not among the people this decision was told to."))
    if mine["acknowledged_at"] is None:
        async with db.atomic():
            done = (
                await Acknowledgement.update({Acknowledgement.acknowledged_at: _now()})
                .where(Acknowledgement.id == mine["id"], Acknowledgement.acknowledged_at.is_null())
                .returning(Acknowledgement.id)
            )
            if done:
                detail = {"item": str(item["uuid"]), "decision": row["decision"], "person": actor.person_id}
                await audit.record(
                    tenant.id, actor, "declass.acknowledge", "classified_decision", row["uuid"], detail=detail
                )
    return await _detail(tenant, actor, item, row)
