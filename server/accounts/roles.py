"""Roles in a tenant, and what each may see of the unit tree."""

from __future__ import annotations

from server.web.i18n import _l

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
# who manages accounts
ACCOUNT_ADMINS = {OFFICE_ADMIN, SYSTEM_ADMIN}
# who reads the audit trail
AUDIT_READERS = {OFFICE_ADMIN, AUDIT_ADMIN, SECURITY_ADMIN}

# the administrator roles only the office admin hands out (separation of the three administrators)
ADMIN_ROLES = {OFFICE_ADMIN, SYSTEM_ADMIN, SECURITY_ADMIN, AUDIT_ADMIN}


def grantable(granter_role: str | None) -> set[str]:
    """The roles an account administrator may give (the system itself may give any)."""
    if granter_role in (None, OFFICE_ADMIN):
        return set(ROLES)
    return set(ROLES) - ADMIN_ROLES
