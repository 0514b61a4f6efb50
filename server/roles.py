"""Roles in a tenant, and what each may see of the unit tree: the names an actor's role
is judged by, below every domain (the units read them, and the accounts that hand them
out read the units)."""

from __future__ import annotations

from server.core.i18n import _l

OFFICE_ADMIN = "office_admin"
DISTRICT_ADMIN = "district_admin"
UNIT_OFFICER = "unit_officer"
LEADER = "leader"
INSPECTOR = "inspector"
ASSESSOR = "assessor"
SYSTEM_ADMIN = "system_admin"
SECURITY_ADMIN = "security_admin"
AUDIT_ADMIN = "audit_admin"

ROLES = {
    OFFICE_ADMIN: _l("Office admin"),
    DISTRICT_ADMIN: _l("District admin"),
    UNIT_OFFICER: _l("Unit secrecy officer"),
    LEADER: _l("Leader"),
    INSPECTOR: _l("Inspector"),
    ASSESSOR: _l("Assessor"),
    SYSTEM_ADMIN: _l("System administrator"),
    SECURITY_ADMIN: _l("Security administrator"),
    AUDIT_ADMIN: _l("Audit administrator"),
}

# roles whose account is bound to a unit subtree
SCOPED_ROLES = {DISTRICT_ADMIN, UNIT_OFFICER}
# who may change the unit tree (within their scope)
UNIT_EDITORS = {OFFICE_ADMIN, DISTRICT_ADMIN}
# who may change people (within their scope)
PEOPLE_EDITORS = {OFFICE_ADMIN, DISTRICT_ADMIN, UNIT_OFFICER}
# who may read the registry
REGISTRY_READERS = {OFFICE_ADMIN, DISTRICT_ADMIN, UNIT_OFFICER, INSPECTOR, ASSESSOR}
# the three separated administrators (GB/T 22239-2019 level 3): none sees business data,
# nobody holds two of them (an account has one role), nobody changes their own role
THREE_ADMINS = {SYSTEM_ADMIN, SECURITY_ADMIN, AUDIT_ADMIN}
BUSINESS_ROLES = set(ROLES) - THREE_ADMINS
# who creates accounts: the system admin any, the office admin business ones
ACCOUNT_CREATORS = {SYSTEM_ADMIN, OFFICE_ADMIN}
# who sees the list of accounts
ACCOUNT_READERS = {SYSTEM_ADMIN, SECURITY_ADMIN, OFFICE_ADMIN}
# who keeps the bureau's mail server and group robot: the system admin, and the office that uses them
SETTINGS_KEEPERS = {SYSTEM_ADMIN, OFFICE_ADMIN}
# who reads the audit trail: the audit admin alone
AUDIT_READERS = {AUDIT_ADMIN}
# roles that must sign in with a second factor unless the tenant's policy says otherwise
SECOND_FACTOR_ROLES = {OFFICE_ADMIN, DISTRICT_ADMIN} | THREE_ADMINS


def _assignable(role: str | None, chief: str) -> set[str]:
    """Every role for the platform (None) and the chief administrator named, the business
    roles for the office admin, none for anyone else."""
    if role in (None, chief):
        return set(ROLES)
    if role == OFFICE_ADMIN:
        return BUSINESS_ROLES
    return set()


def creatable(creator_role: str | None) -> set[str]:
    """The roles a new account may be made with by this creator (None: the platform)."""
    return _assignable(creator_role, SYSTEM_ADMIN)


def grantable(granter_role: str | None) -> set[str]:
    """The roles an administrator may give an existing account (None: the platform)."""
    return _assignable(granter_role, SECURITY_ADMIN)


def manages(actor_role: str | None, target_role: str) -> bool:
    """Whether this administrator may touch an account that holds target_role at all."""
    if actor_role in (SYSTEM_ADMIN, SECURITY_ADMIN):
        return True
    return actor_role == OFFICE_ADMIN and target_role in BUSINESS_ROLES
