"""Storage tuning for the ingest write path: lz4 for the large raw columns, one redundant index fewer.

`raw_logs.logs` (about 4 KB per transaction) and `transactions.result` are compressed with lz4 where
the server was built with it (much cheaper to write than the default pglz, similar size); elsewhere
this is a no-op. `trades_mint_slot_idx` is dropped: `trades_bucket_idx (mint, venue, event_time)`
serves lookups by mint, and one index fewer is one write fewer per trade.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE: tuple[str, ...] = (
    """
    do $$
    begin
        if exists (select 1 from pg_settings where name = 'default_toast_compression'
                   and 'lz4' = any(enumvals)) then
            execute 'alter table raw_logs alter column logs set compression lz4';
            execute 'alter table transactions alter column result set compression lz4';
        end if;
    end
    $$
    """,
    "drop index trades_mint_slot_idx",
)

DOWNGRADE: tuple[str, ...] = (
    "create index trades_mint_slot_idx on trades (mint, slot)",
    "alter table raw_logs alter column logs set compression default",
    "alter table transactions alter column result set compression default",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
