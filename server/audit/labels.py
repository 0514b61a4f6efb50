"""What the audit trail's codes mean, in the reader's language."""

from __future__ import annotations

from server.web.i18n import LazyString, _l

ACTIONS: dict[str, LazyString] = {
    "access.denied": _l("Access refused"),
    "auth.login": _l("Sign in"),
    "auth.logout": _l("Sign out"),
    "user.create": _l("Create account"),
    "user.update": _l("Change account"),
    "user.password": _l("Change password"),
    "user.locale": _l("Change language"),
    "token.create": _l("Create API token"),
    "token.revoke": _l("Revoke API token"),
    "tenant.create": _l("Create tenant"),
    "tenant.suspend": _l("Suspend tenant"),
    "tenant.resume": _l("Resume tenant"),
    "unit.create": _l("Create unit"),
    "unit.update": _l("Change unit"),
    "unit.delete": _l("Delete unit"),
    "person.create": _l("Add person"),
    "person.update": _l("Change person"),
    "person.delete": _l("Delete person"),
    "post.create": _l("Appoint to post"),
    "post.end": _l("End post"),
    "catalog.draft": _l("Draft duty catalog"),
    "catalog.duty_add": _l("Add duty"),
    "catalog.duty_update": _l("Change duty"),
    "catalog.duty_delete": _l("Delete duty"),
    "catalog.publish": _l("Publish duty catalog"),
    "catalog.discard": _l("Discard duty catalog draft"),
    "duty.assign": _l("Assign duty"),
    "duty.unassign": _l("Unassign duty"),
    "template.save": _l("Save notice template"),
    "notice.issue": _l("Issue notice"),
    "notice.view": _l("View notice"),
    "notice.code": _l("Send signing code"),
    "notice.sign": _l("Sign notice"),
    "notice.withdraw": _l("Withdraw notice"),
    "confirmation.submit": _l("Submit duty confirmation"),
    "training.requirements": _l("Set training requirements"),
    "training.course": _l("Save course"),
    "training.attendance": _l("Record attendance"),
    "training.attendance_remove": _l("Remove attendance"),
    "training.import_preview": _l("Preview attendance import"),
    "training.import_apply": _l("Apply attendance import"),
    "assessment.scheme_create": _l("Create assessment scheme"),
    "assessment.scheme_save": _l("Save assessment scheme"),
    "assessment.open": _l("Open assessment"),
    "assessment.submit": _l("Submit self-assessment"),
    "assessment.evidence_add": _l("Add evidence"),
    "assessment.evidence_remove": _l("Remove evidence"),
    "assessment.review": _l("Review score"),
    "assessment.correct": _l("Correct score"),
    "assessment.adjustment_remove": _l("Remove deduction"),
    "assessment.recompute": _l("Recompute scores"),
    "assessment.finalise": _l("Finalise assessment"),
    "assessment.scorecards": _l("Generate scorecards"),
    "reminders.rule": _l("Change reminder rule"),
    "reminders.settings": _l("Change notification settings"),
    "reminders.preference": _l("Change notification preferences"),
    "reminders.retry": _l("Retry delivery"),
    "audit.export": _l("Export audit trail"),
    "audit.report": _l("Generate monthly audit report"),
    "audit.purge": _l("Purge expired audit events"),
}

OUTCOMES: dict[str, LazyString] = {
    "success": _l("Succeeded"),
    "denied": _l("Refused"),
    "failed": _l("Failed"),
}

ACTOR_KINDS: dict[str, LazyString] = {
    "user": _l("User"),
    "token": _l("API token"),
    "operator": _l("Platform operator"),
    "anonymous": _l("Anonymous"),
    "system": _l("System"),
}


def action_label(code: str) -> str:
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def outcome_label(code: str) -> str:
    label = OUTCOMES.get(code)
    return str(label) if label is not None else code


def actor_kind_label(code: str) -> str:
    label = ACTOR_KINDS.get(code)
    return str(label) if label is not None else code
