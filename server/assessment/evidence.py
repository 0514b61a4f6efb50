"""Evidence for a self-assessed score: PDF, PNG or JPEG files, checked as every uploaded
document is (server.documents.uploads)."""

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
from server.documents import uploads
from tenants.service import TenantRef, get_owned

# evidence is an uploaded document as the shared layer takes it; the size has its own name here
MAX_EVIDENCE = uploads.MAX_BYTES


async def add_evidence(
    tenant: TenantRef, actor: Actor, year: int, unit_id: Any, code: str, filename: str, data: bytes
) -> dict:
    assessment, assessed, tree = await unit_context(tenant, actor, year, unit_id)
    self_assessment_open(assessment, assessed)
    _leaf, score = await manual_score(tenant, assessed, tree, code)
    kind = uploads.check_file(data)
    if await Evidence.count().where(Evidence.tenant == tenant.id, Evidence.score == score["id"]) >= uploads.MAX_FILES:
        raise ValidationFailed({"file": _("At most %(count)d files per indicator.", count=uploads.MAX_FILES)})
    name = uploads.clean_filename(filename, "evidence")
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
