"""What the audit trail's codes mean, in the reader's language."""

from __future__ import annotations

from server.core.i18n import LazyString, _l

ACTIONS: dict[str, LazyString] = {
    "access.denied": _l("Access refused"),
    "auth.login": _l("Sign in"),
    "auth.logout": _l("Sign out"),
    "auth.totp": _l("Second-factor check"),
    "auth.lock": _l("Account locked after failed sign-ins"),
    "totp.enable": _l("Enable second factor"),
    "totp.disable": _l("Disable second factor"),
    "totp.reset": _l("Reset second factor"),
    "totp.recovery_codes": _l("Renew recovery codes"),
    "totp.recovery_used": _l("Use recovery code"),
    "policy.update": _l("Change security policy"),
    "user.create": _l("Create account"),
    "user.update": _l("Change account"),
    "user.password": _l("Change password"),
    "user.locale": _l("Change language"),
    "user.activate": _l("Activate account"),
    "user.password_reset": _l("Reset password"),
    "user.unlock": _l("Unlock account"),
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
    "confirmation.waive": _l("Waive a missed duty confirmation"),
    "training.requirements": _l("Set training requirements"),
    "training.course": _l("Save course"),
    "training.attendance": _l("Record attendance"),
    "training.attendance_remove": _l("Remove attendance"),
    "training.import_preview": _l("Preview attendance import"),
    "training.import_apply": _l("Apply attendance import"),
    "assessment.scheme_create": _l("Create assessment scheme"),
    "assessment.scheme_save": _l("Save assessment scheme"),
    "assessment.open": _l("Open assessment"),
    "assessment.self_score": _l("Self-assess indicator"),
    "assessment.submit": _l("Submit self-assessment"),
    "assessment.evidence_add": _l("Add evidence"),
    "assessment.evidence_remove": _l("Remove evidence"),
    "assessment.review": _l("Review score"),
    "assessment.correct": _l("Correct score"),
    "assessment.deduction": _l("Record deduction"),
    "assessment.veto": _l("Record veto"),
    "assessment.adjustment_remove": _l("Remove deduction"),
    "assessment.recompute": _l("Recompute scores"),
    "assessment.finalise": _l("Finalise assessment"),
    "assessment.scorecards": _l("Generate scorecards"),
    "reminders.rule": _l("Change reminder rule"),
    "reminders.settings": _l("Change notification settings"),
    "reminders.preference": _l("Change notification preferences"),
    "reminders.retry": _l("Retry delivery"),
    "export.attendance": _l("Export attendance"),
    "export.classified_items": _l("Export classified items"),
    "export.courses": _l("Export courses"),
    "export.coverage": _l("Export coverage"),
    "export.outbox": _l("Export outbox"),
    "export.scores": _l("Export scores"),
    "export.training_hours": _l("Export training hours"),
    "audit.export": _l("Export audit trail"),
    "audit.report": _l("Generate monthly audit report"),
    "audit.purge": _l("Purge expired audit events"),
    "inspection.round_create": _l("Open inspection round"),
    "inspection.round_close": _l("Close inspection round"),
    "inspection.checklist_save": _l("Change checklist template"),
    "inspection.team_create": _l("Form inspection team"),
    "inspection.conflict_confirm": _l("Confirm conflict of interest"),
    "inspection.member_replace": _l("Replace team member"),
    "inspection.assign": _l("Assign units and visit dates"),
    "inspection.checklist": _l("Record checklist result"),
    "inspection.clue_add": _l("Record clue"),
    "inspection.file_add": _l("Attach file"),
    "inspection.interview": _l("Record must-interview"),
    "inspection.notes": _l("Change team notes"),
    "inspection.finalise": _l("Finalise unit inspection"),
    "inspection.sample_draw": _l("Draw device sample"),
    "inspection.device_result": _l("Record device result"),
    "inspection.measure": _l("Take measure"),
    "inspection.finding_create": _l("Record finding"),
    "inspection.finding_rectifying": _l("Start rectification"),
    "inspection.finding_submitted": _l("Submit rectification"),
    "inspection.finding_verified": _l("Verify rectification"),
    "inspection.finding_reopened": _l("Reopen finding"),
    "inspection.finding_comment": _l("Comment on finding"),
    "inspection.finding_overdue": _l("Finding overdue"),
    "declass.item_create": _l("Register classified item"),
    "declass.item_update": _l("Change classified item"),
    "declass.import_preview": _l("Check classified items workbook"),
    "declass.import_apply": _l("Import classified items"),
    "declass.task_open": _l("Open declassification review task"),
    "declass.escalate": _l("Escalate declassification review"),
    "declass.expired": _l("Declassified by expiry of term"),
    "declass.review": _l("Annual review of classified item"),
    "declass.decision_propose": _l("Propose declassification decision"),
    "declass.decision_approve": _l("Approve declassification decision"),
    "declass.decision_reject": _l("Reject declassification decision"),
    "declass.acknowledge": _l("Acknowledge declassification decision"),
    "declass.consult": _l("Consult originating unit"),
    "declass.consult_answer": _l("Answer consultation"),
    "declass.consult_escalate": _l("Escalate unanswered consultation"),
    "declass.publish": _l("Publish declassified item"),
    "declass.withhold": _l("Withhold declassified item from publication"),
    "declass.withdraw": _l("Withdraw published item"),
    "declass.qa_create": _l("Add Q&A entry"),
    "declass.qa_update": _l("Change Q&A entry"),
    "declass.qa_delete": _l("Delete Q&A entry"),
    "declass.clearing_create": _l("Open clearing project"),
    "declass.clearing_record": _l("Record cleared documents"),
    "declass.clearing_close": _l("Close clearing project"),
    "declass.settings": _l("Change declassification settings"),
    "device.create": _l("Add device"),
    "device.update": _l("Change device"),
    "device.delete": _l("Remove device"),
    "device.import_preview": _l("Check device workbook"),
    "device.import_apply": _l("Import device register"),
    "export.inspection_findings": _l("Export inspection findings"),
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


OBJECT_TYPES: dict[str, LazyString] = {
    "assessed_unit": _l("Assessed unit"),
    "assessment": _l("Assessment"),
    "audit": _l("Audit log"),
    "catalog": _l("Duty catalog"),
    "confirmation": _l("Duty confirmation"),
    "course": _l("Course"),
    "coverage": _l("Coverage"),
    "delivery": _l("Delivery"),
    "duty": _l("Duty"),
    "evidence": _l("Evidence"),
    "import": _l("Import"),
    "notice": _l("Notice"),
    "notify_settings": _l("Notification settings"),
    "outbox": _l("Outbox"),
    "person": _l("Person"),
    "policy": _l("Security policy"),
    "post": _l("Post"),
    "reminder_rule": _l("Reminder rule"),
    "report_job": _l("Report job"),
    "scheme": _l("Assessment scheme"),
    "template": _l("Notice template"),
    "tenant": _l("Tenant"),
    "token": _l("API token"),
    "training": _l("Training"),
    "unit": _l("Unit"),
    "user": _l("Account"),
    "year": _l("Year"),
    "inspection": _l("Unit inspection"),
    "inspection_round": _l("Inspection round"),
    "inspection_team": _l("Inspection team"),
    "inspection_template": _l("Checklist template"),
    "inspection_finding": _l("Inspection finding"),
    "classified_item": _l("Classified item"),
    "classified_import": _l("Classified item import"),
    "classified_task": _l("Declassification review task"),
    "classified_decision": _l("Declassification decision"),
    "classified_consultation": _l("Consultation of originating unit"),
    "declassified_publication": _l("Published declassified item"),
    "declassification_qa": _l("Q&A entry"),
    "clearing_project": _l("Clearing project"),
    "inspection_measure": _l("Inspection measure"),
    "device": _l("Device"),
    "device_import": _l("Device import"),
}

# why `luzhi audit verify` found a chain broken (server.audit.service.Verdict.kind)
BREAKS: dict[str, LazyString] = {
    "missing": _l("An event is missing: it was deleted."),
    "unlinked": _l("The event does not follow the one before it: events were removed or reordered."),
    "changed": _l("The event was changed after it was written."),
    "day_head": _l("The event differs from the chain head kept for its day."),
    "head": _l("The chain ends before its recorded head: the latest events were removed."),
    "head_differs": _l("The last event differs from the recorded chain head."),
    "cut_tail": _l("The chain ends before the head kept for a day: the latest events were removed."),
}


def _label(table: dict[str, LazyString], code: str) -> str:
    """A code's label in the reader's language; a code the table does not know, as it is."""
    label = table.get(code)
    return str(label) if label is not None else code


def break_label(kind: str) -> str:
    return _label(BREAKS, kind)


def action_label(code: str) -> str:
    return _label(ACTIONS, code)


def outcome_label(code: str) -> str:
    return _label(OUTCOMES, code)


def actor_kind_label(code: str) -> str:
    return _label(ACTOR_KINDS, code)


def object_type_label(code: str) -> str:
    return _label(OBJECT_TYPES, code)
