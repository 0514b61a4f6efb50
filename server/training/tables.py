from piccolo.columns import JSON, Date, ForeignKey, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.units.tables import Person, Unit
from tenants.tables import TenantOwned, TenantRow


class TrainingRequirement(TenantOwned, Table, tablename="training_requirements"):
    """Hours a year required of leaders and of classified personnel by level."""

    year = Integer()
    leader = Numeric(digits=(6, 1))
    core = Numeric(digits=(6, 1))
    important = Numeric(digits=(6, 1))
    general = Numeric(digits=(6, 1))


class Course(TenantRow, Table, tablename="courses"):
    # the unit a secrecy officer recorded it for; none for the office's own courses
    unit = ForeignKey(references=Unit, null=True, on_delete=OnDelete.restrict)
    title = Varchar(length=200)
    kind = Varchar(length=16)  # lecture | online | exam | exercise
    hours = Numeric(digits=(6, 1))
    date = Date()
    organiser = Varchar(length=200, default="")
    pass_mark = Numeric(digits=(6, 1), null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Attendance(TenantRow, Table, tablename="attendances"):
    course = ForeignKey(references=Course, null=False, on_delete=OnDelete.cascade)
    person = ForeignKey(references=Person, null=False, on_delete=OnDelete.restrict)
    hours = Numeric(digits=(6, 1))
    score = Numeric(digits=(6, 1), null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class TrainingImport(TenantRow, Table, tablename="training_imports"):
    """An uploaded attendance workbook: its checked rows wait here until applied."""

    user_id = Integer()
    filename = Varchar(length=200, default="")
    year = Integer()
    status = Varchar(length=16, default="preview")  # preview | applied
    rows = JSON(default="[]")  # the rows that would be written
    errors = JSON(default="[]")  # [{"line": n, "field": key, "message": text}]
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    applied_at = Timestamptz(null=True, default=None)
