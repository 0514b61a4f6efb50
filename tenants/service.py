"""Tenancy: resolving a bureau from the URL, the one scoped lookup helper,
creating and suspending tenants, and the provisioning hooks domains register."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, TypeVar

from piccolo.table import Table

from server import db
from server.core.errors import Conflict, NotFound
from server.core.i18n import _, _l
from server.core.rows import pick
from server.core.validation import Checker
from tenants.tables import Operator, Tenant

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
RESERVED_SLUGS = {"api", "platform", "static", "schema", "admin", "www"}
STATUSES = {"active": _l("Active"), "suspended": _l("Suspended")}
LABELS = {"slug": _l("Slug"), "name": _l("Name"), "timezone": _l("Time zone")}

DEFAULT_SETTINGS: dict[str, Any] = {
    "training_hours": {"leader": 4, "core": 12, "important": 8, "general": 6},
    "confirmation_period": "quarterly",
    # a notice still unsigned this many days after issue is overdue
    "notice_sign_days": 14,
    # a signature older than this needs the annual renewal
    "renewal_days": 365,
}


@dataclass(frozen=True)
class TenantRef:
    id: int
    uuid: uuid.UUID
    slug: str
    name: str
    status: str
    timezone: str
    default_locale: str

    @property
    def active(self) -> bool:
        return self.status == "active"


_REF_FIELDS = tuple(f.name for f in fields(TenantRef))


def _ref(row: dict) -> TenantRef:
    return TenantRef(**pick(row, *_REF_FIELDS))


# a tenant row's columns are named as TenantRef's fields
_COLUMNS = tuple(getattr(Tenant, name) for name in _REF_FIELDS)
_CACHE_SECONDS = 5.0
_cache: dict[str, tuple[float, TenantRef | None]] = {}


async def resolve(slug: str) -> TenantRef | None:
    """The tenant of a URL slug; cached briefly, as every request asks."""
    hit = _cache.get(slug)
    now = time.monotonic()
    if hit and hit[0] > now:
        return hit[1]
    row = await Tenant.select(*_COLUMNS).where(Tenant.slug == slug).first()
    ref = _ref(row) if row else None
    _cache[slug] = (now + _CACHE_SECONDS, ref)
    return ref


def forget(slug: str) -> None:
    _cache.pop(slug, None)


async def by_id(tenant_id: int) -> TenantRef:
    row = await Tenant.select(*_COLUMNS).where(Tenant.id == tenant_id).first()
    if row is None:
        raise NotFound()
    return _ref(row)


async def active_tenants() -> list[TenantRef]:
    """Every tenant not suspended, for work that runs over all of them (the scheduler)."""
    rows = await Tenant.select(*_COLUMNS).where(Tenant.status == "active").order_by(Tenant.id)
    return [_ref(r) for r in rows]


async def list_tenants() -> list[dict]:
    return await Tenant.select().order_by(Tenant.created_at)


Provisioner = Callable[[TenantRef], Awaitable[None]]
_provisioners: list[tuple[int, Provisioner]] = []


def register_provisioner(fn: Provisioner, order: int = 100) -> Provisioner:
    """Domains add the defaults a new tenant starts with (catalogs, schemes...)."""
    _provisioners.append((order, fn))
    _provisioners.sort(key=lambda item: item[0])
    return fn


def check_new_tenant(data: dict[str, Any]) -> tuple[str, str]:
    check = Checker(data, LABELS)
    slug = check.text("slug", required=True, max_len=63).lower()
    name = check.text("name", required=True, max_len=200)
    if slug and not SLUG_RE.match(slug):
        check.fail("slug", _("Slug: 3 to 63 lower-case letters, digits or hyphens."))
    if slug in RESERVED_SLUGS:
        check.fail("slug", _("This slug is reserved."))
    check.done()
    return slug, name


async def create(data: dict[str, Any]) -> TenantRef:
    """Create a tenant and install its defaults; the caller's transaction makes it all-or-nothing."""
    slug, name = check_new_tenant(data)
    if await Tenant.exists().where(Tenant.slug == slug):
        raise Conflict(_("A tenant with slug %(slug)s already exists.", slug=slug))
    async with db.atomic():
        row = Tenant(slug=slug, name=name, settings=DEFAULT_SETTINGS)
        await row.save()
        ref = await by_id(row.id)
        await db.set_tenant(ref.id)
        for _order, provision in _provisioners:
            await provision(ref)
    forget(slug)
    return ref


async def set_status(slug: str, status: str) -> TenantRef:
    if status not in STATUSES:
        raise ValueError(status)
    ref = await resolve(slug)
    if ref is None:
        raise NotFound(_("No tenant with slug %(slug)s.", slug=slug))
    await Tenant.update(
        {Tenant.status: status, Tenant.suspended_at: datetime.now(UTC) if status == "suspended" else None}
    ).where(Tenant.id == ref.id)
    forget(slug)
    return await by_id(ref.id)


async def operator_by_name(username: str) -> dict | None:
    """A platform operator by their (normalised) username."""
    return await Operator.select().where(Operator.username == username).first()


async def create_operator(username: str, password_hash: str) -> None:
    await Operator.insert(Operator(username=username, password_hash=password_hash))


async def settings_of(tenant: TenantRef) -> dict[str, Any]:
    """The tenant's settings, the defaults filling what it has not set."""
    row = await Tenant.select(Tenant.settings).where(Tenant.id == tenant.id).output(load_json=True).first()
    return {**DEFAULT_SETTINGS, **(row["settings"] if row else {})}


# a settings key as update_settings takes it (a name, safe in a JSON path)
SETTING_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


async def update_settings(tenant: TenantRef, changes: dict[str, Any]) -> dict[str, Any]:
    """Set these top-level keys of the tenant's settings, keeping the others, in one UPDATE
    (two changes of different keys at once both hold); the settings as they now are, the
    defaults filling what the tenant has not set. The caller checks the values and records
    the change in the audit trail."""
    for key in changes:
        if not SETTING_KEY_RE.match(key):
            raise ValueError(f"not a settings key: {key!r}")
    if not changes:
        return await settings_of(tenant)
    if db.is_postgres():
        merged = "(COALESCE(settings::jsonb, jsonb_build_object()) || CAST({} AS TEXT)::jsonb)::json"
        args: list[Any] = [json.dumps(changes)]
    else:
        merged = "json_set(COALESCE(settings, json_object()), " + ", ".join("{}, json({})" for _ in changes) + ")"
        args = [v for key, value in changes.items() for v in (f'$."{key}"', json.dumps(value))]
    rows = await Tenant.raw(
        f"UPDATE tenants SET settings = {merged} WHERE id = {{}} RETURNING settings", *args, tenant.id
    )
    if not rows:
        raise NotFound()
    stored = rows[0]["settings"]
    return {**DEFAULT_SETTINGS, **(json.loads(stored) if isinstance(stored, str) else stored)}


T = TypeVar("T", bound=Table)


def parse_id(public_id: Any) -> uuid.UUID:
    if isinstance(public_id, uuid.UUID):
        return public_id
    try:
        return uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound() from None


async def get_owned(table: type[T], tenant: TenantRef, public_id: Any, *columns, include_deleted: bool = False) -> dict:
    """THE lookup of a tenant-owned row by public id: "not yours" and "missing" are the same 404."""
    uid = parse_id(public_id)
    query = table.select(*columns).where(table.tenant == tenant.id, table.uuid == uid)  # type: ignore[attr-defined]
    if hasattr(table, "deleted_at") and not include_deleted:
        query = query.where(table.deleted_at.is_null())  # type: ignore[attr-defined]
    row = await query.first()
    if row is None:
        raise NotFound()
    return row
