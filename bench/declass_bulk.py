"""What the declassification rows share for the data they write in bulk, untimed."""

from __future__ import annotations

import time

from server import db


async def vacuum(*tables: str) -> float:
    """PostgreSQL: VACUUM ANALYZE the tables after a bulk write, as autovacuum would (as
    the owner: the application role may not). Returns seconds; 0 on SQLite."""
    if not db.is_postgres():
        return 0.0
    from server.piccolo_conf import DB as owner

    t0 = time.perf_counter()
    for table in tables:
        await owner.run_ddl(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - t0
