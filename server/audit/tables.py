from piccolo.columns import JSON, BigInt, Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tenants.tables import Tenant


class AuditEvent(Table, tablename="audit_events"):
    """Append-only (database triggers refuse UPDATE and DELETE but the retention purge)
    and hash-chained per tenant: see server.audit.chain."""

    # null for platform events (operators)
    tenant = ForeignKey(references=Tenant, null=True, on_delete=OnDelete.restrict)
    # set by the writer, not the database, so the hash covers exactly the stored value
    at = Timestamptz(default=TimestamptzNow())
    actor_kind = Varchar(length=16)  # user | operator | token | anonymous | system
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=100, default="")
    action = Varchar(length=64)
    object_type = Varchar(length=32, default="")
    object_id = Varchar(length=64, default="")
    # the object's name when it was written (readable after the object is gone)
    object_name = Varchar(length=200, default="")
    outcome = Varchar(length=16, default="success")  # success | denied | failed
    client_addr = Varchar(length=64, default="")
    detail = JSON(default="{}")
    # position in the tenant's chain (1, 2, ...), the previous event's hash and this one's
    seq = BigInt(default=0)
    prev_hash = Varchar(length=64, default="")
    hash = Varchar(length=64, default="")
    hash_alg = Varchar(length=16, default="sm3")


class AuditHead(Table, tablename="audit_heads"):
    """The last event of each chain. Writers of a chain serialise on its row."""

    # the tenant's id, 0 for the platform chain (a unique key cannot hold NULL once)
    chain = Integer(unique=True)
    tenant = ForeignKey(references=Tenant, null=True, on_delete=OnDelete.restrict)
    seq = BigInt(default=0)
    hash = Varchar(length=64, default="")


class AuditDayHead(Table, tablename="audit_day_heads"):
    """The last event of each chain at the end of each (tenant-local) day: a cut tail
    of the chain no longer reaches the head kept for its day."""

    chain = Integer()
    tenant = ForeignKey(references=Tenant, null=True, on_delete=OnDelete.restrict)
    day = Date()
    seq = BigInt(default=0)
    hash = Varchar(length=64, default="")
