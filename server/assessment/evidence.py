"""Evidence for a self-assessed score: PDF, PNG or JPEG files, judged by their first bytes."""

from __future__ import annotations

import hashlib
from typing import Any

from server import db
from server.actor import Actor
from server.assessment.reviews import manual_score, owner_of, self_assessment_open, unit_context
from server.assessment.tables import Evidence, Score
from server.audit import service as audit
from server.core.errors import ValidationFailed
from server.core.i18n import _
from server.core.rows import pick
from tenants.service import TenantRef, get_owned

EVIDENCE_TYPES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
# below the request body limit (LUZHI_MAX_BODY_BYTES), so that the message is ours, not a bare 413
MAX_EVIDENCE = 8 * 1024 * 1024
MAX_EVIDENCE_FILES = 10


def sniff(data: bytes) -> str | None:
    """The evidence's real type, from its first bytes (never from its name)."""
    return next((kind for magic, kind in EVIDENCE_TYPES.items() if data.startswith(magic)), None)


def check_evidence(filename: str, data: bytes) -> str:
    if not data:
        raise ValidationFailed({"file": _("Choose a file to upload.")})
    if len(data) > MAX_EVIDENCE:
        raise ValidationFailed({"file": _("The file is larger than %(size)d MB.", size=MAX_EVIDENCE // (1024 * 1024))})
    kind = sniff(data)
    if kind is None:
        raise ValidationFailed({"file": _("Evidence must be a PDF, PNG or JPEG file.")})
    return kind


async def add_evidence(
    tenant: TenantRef, actor: Actor, year: int, unit_id: Any, code: str, filename: str, data: bytes
) -> dict:
    assessment, assessed, tree = await unit_context(tenant, actor, year, unit_id)
    self_assessment_open(assessment, assessed)
    _leaf, score = await manual_score(tenant, assessed, tree, code)
    kind = check_evidence(filename, data)
    if await Evidence.count().where(Evidence.tenant == tenant.id, Evidence.score == score["id"]) >= MAX_EVIDENCE_FILES:
        raise ValidationFailed({"file": _("At most %(count)d files per indicator.", count=MAX_EVIDENCE_FILES)})
    name = (filename.replace("\x00", "").replace("/", "_").replace("\\", "_").strip() or "evidence")[-200:]
    shown = {"filename": name, "content_type": kind, "size": len(data)}
    async with db.atomic():
        row = Evidence(
            tenant=tenant.id,
            score=score["id"],
            **shown,
            digest=hashlib.sha256(data).hexdigest(),
            data=data,
            uploaded_by=actor.name,
        )
        await row.save()
        detail = {"indicator": code, **pick(shown, "filename", "size")}
        await audit.record(tenant.id, actor, "assessment.evidence_add", "evidence", row.uuid, detail=detail)
    return {"id": str(row.uuid), **shown}


async def _evidence_row(tenant: TenantRef, actor: Actor, evidence_id: Any) -> tuple[dict, dict, dict]:
    row = await get_owned(Evidence, tenant, evidence_id)
    score = await Score.select(Score.assessed).where(Score.tenant == tenant.id, Score.id == row["score"]).first()
    assessed, assessment = await owner_of(tenant, actor, score["assessed"])
    return row, assessed, assessment


async def evidence_file(tenant: TenantRef, actor: Actor, evidence_id: Any) -> dict:
    row, _assessed, _assessment = await _evidence_row(tenant, actor, evidence_id)
    return pick(row, "filename", "content_type", "data")


async def remove_evidence(tenant: TenantRef, actor: Actor, evidence_id: Any) -> dict:
    row, assessed, assessment = await _evidence_row(tenant, actor, evidence_id)
    self_assessment_open(assessment, assessed)
    async with db.atomic():
        await Evidence.delete().where(Evidence.id == row["id"])
        detail = pick(row, "filename")
        await audit.record(tenant.id, actor, "assessment.evidence_remove", "evidence", row["uuid"], detail=detail)
    return {"year": assessment["year"], "unit_id": assessment["unit_id"]}


async def evidence_place(tenant: TenantRef, actor: Actor, evidence_id: Any) -> dict:
    """The year and unit an evidence file belongs to (to show its page again)."""
    _row, _assessed, assessment = await _evidence_row(tenant, actor, evidence_id)
    return {"year": assessment["year"], "unit_id": assessment["unit_id"]}
