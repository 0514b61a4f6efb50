from piccolo.columns import JSON, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tenants.tables import Tenant


class AuditEvent(Table, tablename="audit_events"):
    # null for platform events (operators)
    tenant = ForeignKey(references=Tenant, null=True, on_delete=OnDelete.restrict)
    at = Timestamptz(default=TimestamptzNow())
    actor_kind = Varchar(length=16)  # user | operator | token | anonymous | system
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=100, default="")
    action = Varchar(length=64)
    object_type = Varchar(length=32, default="")
    object_id = Varchar(length=64, default="")
    outcome = Varchar(length=16, default="success")  # success | denied | failed
    client_addr = Varchar(length=64, default="")
    detail = JSON(default="{}")
