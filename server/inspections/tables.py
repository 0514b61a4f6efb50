from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.units.tables import Person, Unit
from tenants.tables import StoredFile, TenantOwned, TenantRow


class ChecklistTemplate(TenantOwned, Table, tablename="inspection_templates"):
    """The tenant's checklist (items in the six areas, each with its criterion and legal
    basis) as one document: edited as a whole, copied into each round when it opens."""

    document = JSON(default="{}")
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by = Varchar(length=100, default="")


class Round(TenantRow, Table, tablename="inspection_rounds"):
    name = Varchar(length=200)
    starts_on = Date()
    ends_on = Date()
    status = Varchar(length=16, default="open")  # open | closed
    # the checklist as it was when the round opened: later edits of the template do not reach it
    checklist = JSON(default="{}")
    created_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)


class Team(TenantRow, Table, tablename="inspection_teams"):
    round = ForeignKey(references=Round, null=False, on_delete=OnDelete.cascade)
    name = Varchar(length=100)
    created_at = Timestamptz(default=TimestamptzNow())


class TeamMember(TenantOwned, Table, tablename="inspection_team_members"):
    """An inspector account on a team; a conflict of interest (the member's post history
    includes an inspected unit of the team) must be confirmed before the member acts."""

    team = ForeignKey(references=Team, null=False, on_delete=OnDelete.cascade)
    user_id = Integer()
    user_uuid = Varchar(length=36)  # the account's public id, as the API names it
    user_name = Varchar(length=100, default="")
    role = Varchar(length=16, default="member")  # leader | member
    # [{"unit": pk, "unit_name": ..., "from": iso, "to": iso|None}]: where the member held posts
    conflicts = JSON(default="[]")
    conflict_confirmed_by = Varchar(length=100, default="")
    conflict_note = Text(default="")


class Inspection(TenantRow, Table, tablename="inspections"):
    """One unit's check in one round."""

    round = ForeignKey(references=Round, null=False, on_delete=OnDelete.cascade)
    unit = ForeignKey(references=Unit, null=False, on_delete=OnDelete.restrict)
    team = ForeignKey(references=Team, null=True, on_delete=OnDelete.set_null)
    visit_on = Date(null=True, default=None)
    status = Varchar(length=16, default="open")  # open | finalised
    # the team's own notes: never shown to the unit
    team_notes = Text(default="")
    # the technical check's draw: size and seed, so the same seed draws the same devices
    sample_size = Integer(null=True, default=None)
    sample_seed = Varchar(length=64, default="")
    sampled_at = Timestamptz(null=True, default=None)
    finalised_at = Timestamptz(null=True, default=None)
    finalised_by = Varchar(length=100, default="")


class Clue(TenantRow, Table, tablename="inspection_clues"):
    """What the inspection group handed over about a unit: for its team and the office only."""

    inspection = ForeignKey(references=Inspection, null=False, on_delete=OnDelete.cascade)
    text = Text()
    created_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class ItemResult(TenantOwned, Table, tablename="inspection_item_results"):
    inspection = ForeignKey(references=Inspection, null=False, on_delete=OnDelete.cascade)
    item = Varchar(length=16)  # the item's code in the round's checklist
    result = Varchar(length=16)  # pass | partial | fail | na
    note = Text(default="")
    updated_by = Varchar(length=100, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class Interview(TenantOwned, Table, tablename="inspection_interviews"):
    """One of the three must-interviews held (or waived, with the reason)."""

    inspection = ForeignKey(references=Inspection, null=False, on_delete=OnDelete.cascade)
    person = ForeignKey(references=Person, null=False, on_delete=OnDelete.restrict)
    held_on = Date(null=True, default=None)
    interviewer = Varchar(length=100, default="")
    summary = Text(default="")  # non-secret
    waived_reason = Text(default="")
    recorded_by = Varchar(length=100, default="")
    recorded_at = Timestamptz(default=TimestamptzNow())


class Device(TenantRow, Table, tablename="devices"):
    """A unit's register of computers, IT devices and mailboxes, kept by its officer."""

    unit = ForeignKey(references=Unit, null=False, on_delete=OnDelete.restrict)
    kind = Varchar(length=16)  # computer | it_device | mailbox
    label = Varchar(length=200)  # asset number, model or address: how the unit names it
    classified = Boolean(default=False)
    holder = Varchar(length=100, default="")
    location = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)


class DeviceImport(TenantRow, Table, tablename="device_imports"):
    """An uploaded device register workbook for one unit: its checked rows wait here
    until applied."""

    unit = ForeignKey(references=Unit, null=False, on_delete=OnDelete.restrict)
    user_id = Integer()
    filename = Varchar(length=200, default="")
    status = Varchar(length=16, default="preview")  # preview | applied
    rows = JSON(default="[]")  # the rows that would be written
    errors = JSON(default="[]")  # [{"line": n, "field": key, "message": text}]
    created_at = Timestamptz(default=TimestamptzNow())
    applied_at = Timestamptz(null=True, default=None)


class DeviceCheck(TenantOwned, Table, tablename="inspection_device_checks"):
    """A device drawn in an inspection's sample, and its result once checked."""

    inspection = ForeignKey(references=Inspection, null=False, on_delete=OnDelete.cascade)
    device = ForeignKey(references=Device, null=False, on_delete=OnDelete.restrict)
    result = Varchar(length=16, default="")  # "" (not yet) | clean | violation
    note = Text(default="")
    checked_by = Varchar(length=100, default="")
    checked_at = Timestamptz(null=True, default=None)


class Finding(TenantRow, Table, tablename="inspection_findings"):
    inspection = ForeignKey(references=Inspection, null=False, on_delete=OnDelete.cascade)
    # the unit again, so that recurrence across rounds is one indexed lookup
    unit = ForeignKey(references=Unit, null=False, on_delete=OnDelete.restrict)
    item = Varchar(length=16, default="")  # checklist item code; "" when from a device alone
    area = Varchar(length=8)
    device = ForeignKey(references=Device, null=True, on_delete=OnDelete.restrict)
    severity = Varchar(length=16)  # minor | major | serious
    description = Text()
    basis = Text(default="")
    mode = Varchar(length=16)  # on_spot | deadline
    deadline = Date(null=True, default=None)
    responsible = ForeignKey(references=Person, null=True, on_delete=OnDelete.set_null)
    # open | rectifying | submitted | verified | reopened
    state = Varchar(length=16, default="open")
    leak = Boolean(default=False)  # a confirmed leak: the scheme's veto once verified
    recurring = Boolean(default=False)
    recorded_by_id = Integer()
    recorded_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(null=True, default=None)
    verified_at = Timestamptz(null=True, default=None)
    verified_by = Varchar(length=100, default="")


class FindingEvent(TenantOwned, Table, tablename="inspection_finding_events"):
    """A finding's history and comments: recorded, rectifying, submitted (what was done),
    verified, reopened, overdue, comment."""

    finding = ForeignKey(references=Finding, null=False, on_delete=OnDelete.cascade)
    kind = Varchar(length=16)
    note = Text(default="")
    actor = Varchar(length=100, default="")
    at = Timestamptz(default=TimestamptzNow())


class Measure(TenantRow, Table, tablename="inspection_measures"):
    """What the team did about a violation: register and preserve, order deletion, order to
    stop use, transfer to the bureau; its particulars by kind in `details`."""

    inspection = ForeignKey(references=Inspection, null=False, on_delete=OnDelete.cascade)
    device = ForeignKey(references=Device, null=True, on_delete=OnDelete.restrict)
    finding = ForeignKey(references=Finding, null=True, on_delete=OnDelete.set_null)
    kind = Varchar(length=24)  # register_preserve | order_delete | order_stop_use | transfer
    details = JSON(default="{}")
    created_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class _OfInspection(TenantRow):
    """An attachment's leading columns, ahead of the file's (see StoredFile)."""

    inspection = ForeignKey(references=Inspection, null=False, on_delete=OnDelete.cascade)
    owner = Varchar(length=64)


class Attachment(StoredFile, _OfInspection, Table, tablename="inspection_attachments"):
    """A file on a clue, a checklist item, a finding (evidence, a rectification) or a
    measure; `owner` names it as "<kind>:<key>"."""
