"""Files of an inspection: on a clue, a checklist item, a finding, a rectification or a
measure. Checked as every uploaded document is (server.documents.uploads: PDF, PNG or
JPEG by their first bytes, up to 8 MB), kept with their SHA-256 digest, and shown only
to whom may see their owner: clue files to the team and the office alone; the unit's
officer also sees those of its findings, rectifications and measures."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from server import db
from server.actor import Actor
from server.audit import service as audit
from server.core.chunks import chunks
from server.core.errors import Forbidden, NotFound, ValidationFailed
from server.core.i18n import _
from server.core.rows import public
from server.documents import uploads
from server.inspections import access
from server.inspections.access import ALL_VIEWS, DISTRICT, LEADER, OFFICE, TEAM, UNIT
from server.inspections.tables import Attachment
from tenants.service import TenantRef, get_owned

# an owner's kind ("<kind>:<key>") and the views that may see its files
VISIBLE = {
    "clue": (OFFICE, TEAM),
    "item": (OFFICE, DISTRICT, TEAM),
    "finding": (OFFICE, DISTRICT, TEAM, UNIT, LEADER),
    "rectification": (OFFICE, DISTRICT, TEAM, UNIT, LEADER),
    "measure": (OFFICE, DISTRICT, TEAM, UNIT, LEADER),
}
OWNER_MAX = 64  # the column's length
# what a listing shows of a file (never its bytes)
SHOWN = (
    Attachment.uuid,
    Attachment.owner,
    Attachment.filename,
    Attachment.content_type,
    Attachment.size,
    Attachment.digest,
    Attachment.uploaded_by,
    Attachment.uploaded_at,
)


def owner_kind(owner: str) -> str:
    """The kind an owner names; ValueError for one no file may belong to (a caller's slip)."""
    kind, _sep, key = owner.partition(":")
    if kind not in VISIBLE or not key or len(owner) > OWNER_MAX:
        raise ValueError(f"not an attachment owner: {owner!r}")
    return kind


def may_see(view: str, owner: str) -> bool:
    return view in VISIBLE[owner_kind(owner)]


def _shown(row: dict) -> dict:
    return public(row, "filename", "content_type", "size", "digest", "uploaded_by", "uploaded_at")


async def store(
    tenant: TenantRef, actor: Actor, inspection_row: dict, owner: str, filename: str, content: bytes
) -> dict:
    """Keep a file on `owner` of the inspection (read through access, so it carries the
    actor's view; the caller has decided the actor may add it). Bad files: ValidationFailed
    on "file"."""
    if not may_see(inspection_row["view"], owner):
        raise Forbidden()
    content_type = uploads.check_file(content)
    held = await Attachment.count().where(
        Attachment.tenant == tenant.id, Attachment.inspection == inspection_row["id"], Attachment.owner == owner
    )
    if held >= uploads.MAX_FILES:
        raise ValidationFailed({"file": _("At most %(count)d files can be attached here.", count=uploads.MAX_FILES)})
    row = Attachment(
        tenant=tenant.id,
        inspection=inspection_row["id"],
        owner=owner,
        filename=uploads.clean_filename(filename, "file"),
        content_type=content_type,
        size=len(content),
        digest=hashlib.sha256(content).hexdigest(),
        data=content,
        uploaded_by=actor.name,
    )
    async with db.atomic():
        await row.save()
        detail = {"owner": owner, "filename": row.filename, "size": row.size, "digest": row.digest}
        await audit.record(tenant.id, actor, "inspection.file_add", "inspection", inspection_row["uuid"], detail=detail)
    return _shown(row.to_dict())


async def list_for(tenant: TenantRef, inspection_pk: int, owners: list[str]) -> dict[str, list[dict]]:
    """The files of these owners (each owner's in upload order; an empty list for none)."""
    found: dict[str, list[dict]] = defaultdict(list)
    for batch in chunks(list(dict.fromkeys(owners))):
        rows = (
            await Attachment.select(*SHOWN)
            .where(
                Attachment.tenant == tenant.id,
                Attachment.inspection == inspection_pk,
                Attachment.owner.is_in(list(batch)),
            )
            .order_by(Attachment.uploaded_at)
            .order_by(Attachment.id)
        )
        for r in rows:
            found[r["owner"]].append(_shown(r))
    return {owner: found[owner] for owner in owners}


async def download(tenant: TenantRef, actor: Actor, attachment_id: Any) -> tuple[str, str, bytes]:
    """A file's name, type and bytes, for whom may see its owner; to anyone else it does
    not exist (a clue's file is not even refused to the unit: it is not there)."""
    row = await get_owned(Attachment, tenant, attachment_id)
    inspection = await access.inspection_by_pk(tenant, actor, row["inspection"], allow=ALL_VIEWS)
    if not may_see(inspection["view"], row["owner"]):
        raise NotFound()
    return row["filename"], row["content_type"], bytes(row["data"])
