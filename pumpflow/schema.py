"""The schema revision this code was written against, and the start-up guard both services run.

Neither service migrates on boot (`make migrate` does); each refuses to start unless the database is at
SCHEMA_HEAD. tests/test_migrations.py keeps SCHEMA_HEAD equal to the newest alembic revision.
"""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A plain connection or one borrowed from a pool; both speak the same API.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

SCHEMA_HEAD = "0002"


class SchemaNotAtHead(RuntimeError):
    """The database is not migrated to the revision this code expects."""


async def check_schema(conn: Conn) -> str:
    """Return the database's revision, or raise SchemaNotAtHead with the command that fixes it."""
    has_table = await conn.fetchval("select to_regclass('public.alembic_version') is not null")
    current = await conn.fetchval("select version_num from alembic_version") if has_table else None
    if current != SCHEMA_HEAD:
        found = "no alembic_version table (never migrated)" if not has_table else f"revision {current!r}"
        raise SchemaNotAtHead(
            f"database schema is not at head: found {found}, this build needs {SCHEMA_HEAD!r}; "
            "run `make migrate` (alembic upgrade head) with the same DATABASE_URL"
        )
    return str(current)
