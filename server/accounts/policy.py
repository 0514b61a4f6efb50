"""The tenant's password and sign-in policy, kept by the security administrator."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from server import db, roles
from server.accounts.passwords import policy_problem, verify_password
from server.accounts.tables import PasswordHistory, SecurityPolicy
from server.actor import Actor
from server.audit import service as audit
from server.audit import summaries
from server.core.i18n import _, _l
from server.core.validation import Checker
from tenants.service import TenantRef

LABELS = {
    "min_length": _l("Minimum length"),
    "max_age_days": _l("Maximum age (days)"),
    "warn_days": _l("Warn before expiry (days)"),
    "history": _l("Earlier passwords refused"),
    "totp_admins": _l("Two-factor sign-in for administrators"),
    "totp_everyone": _l("Two-factor sign-in for everyone"),
}
# the floor no tenant may go below (GB/T 22239 level 3: complex passwords changed regularly)
MIN_LENGTH_FLOOR = 10
MAX_AGE_CEILING = 365
HISTORY_CEILING = 24


@dataclass(frozen=True)
class Policy:
    min_length: int = 10
    max_age_days: int = 180
    warn_days: int = 14
    history: int = 5
    totp_admins: bool = True
    totp_everyone: bool = False

    def second_factor_required(self, role: str | None) -> bool:
        return self.totp_everyone or (self.totp_admins and role in roles.SECOND_FACTOR_ROLES)

    def expires(self, changed_at: datetime | None) -> datetime | None:
        if not self.max_age_days or changed_at is None:
            return None
        return changed_at + timedelta(days=self.max_age_days)


FIELDS = tuple(Policy.__dataclass_fields__)


# every signed-in request reads it; a change of it is audited, so it is kept like a summary
@summaries.kept("accounts.security_policy")
async def security_policy(tenant: TenantRef) -> Policy:
    row = (
        await SecurityPolicy.select(*[getattr(SecurityPolicy, f) for f in FIELDS])
        .where(SecurityPolicy.tenant == tenant.id)
        .first()
    )
    if row is None:
        return Policy()
    # SQLite hands booleans back as integers
    return Policy(**{k: bool(v) if isinstance(getattr(Policy, k), bool) else v for k, v in row.items()})


async def update_policy(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> Policy:
    check = Checker(data, LABELS)
    current = await security_policy(tenant)
    values = asdict(current)
    bounds = {
        "min_length": (MIN_LENGTH_FLOOR, 128),
        "max_age_days": (0, MAX_AGE_CEILING),
        "warn_days": (0, 60),
        "history": (0, HISTORY_CEILING),
    }
    for field, (low, high) in bounds.items():
        if check.present(field):
            values[field] = check.integer(field, minimum=low, maximum=high, default=values[field])
    for field in ("totp_admins", "totp_everyone"):
        if check.present(field):
            values[field] = check.boolean(field)
    check.done()
    policy = Policy(**values)
    changed = {k: [getattr(current, k), v] for k, v in values.items() if getattr(current, k) != v}
    async with db.atomic():
        # one statement: two first saves at once do not both insert
        await SecurityPolicy.insert(
            SecurityPolicy(tenant=tenant.id, updated_at=datetime.now(UTC), **values)
        ).on_conflict(
            target=SecurityPolicy.tenant,
            action="DO UPDATE",
            values=[*(getattr(SecurityPolicy, k) for k in values), SecurityPolicy.updated_at],
        )
        await audit.record(tenant.id, actor, "policy.update", "policy", tenant.id, detail={"changed": changed})
    return policy


async def password_problem(
    tenant: TenantRef | None, password: str, username: str = "", user_id: int | None = None
) -> str | None:
    """A translated reason the password is refused under the tenant's policy, or None."""
    policy = await security_policy(tenant) if tenant else Policy()
    if problem := policy_problem(password, username, policy.min_length):
        return problem
    if user_id is not None and policy.history:
        rows = (
            await PasswordHistory.select(PasswordHistory.password_hash)
            .where(PasswordHistory.tenant == tenant.id, PasswordHistory.user == user_id)
            .order_by(PasswordHistory.created_at, ascending=False)
            .limit(policy.history)
        )
        for row in rows:
            if await verify_password(row["password_hash"], password):
                return _(
                    "This password was used recently; choose one you have not used for the last %(n)d.",
                    n=policy.history,
                )
    return None


async def remember_password(tenant: TenantRef, user_id: int, password_hash: str) -> None:
    """Keep the new hash in the history and forget those beyond what any policy may ask."""
    await PasswordHistory.insert(PasswordHistory(tenant=tenant.id, user=user_id, password_hash=password_hash))
    keep = (
        await PasswordHistory.select(PasswordHistory.id)
        .where(PasswordHistory.tenant == tenant.id, PasswordHistory.user == user_id)
        .order_by(PasswordHistory.created_at, ascending=False)
        .limit(HISTORY_CEILING)
    )
    await PasswordHistory.delete().where(
        PasswordHistory.tenant == tenant.id,
        PasswordHistory.user == user_id,
        PasswordHistory.id.not_in([r["id"] for r in keep]),
    )
