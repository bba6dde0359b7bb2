"""The executor's one settings object, read once from the environment (and `.env`) at start-up.

Every variable is documented in `.env.example`. Values are validated strictly: a bad value stops the
service with a message naming the variable. Trading can only be switched on here, never over RPC.
"""

from __future__ import annotations

import sys
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pumpflow.addr import parse_host_port

PUBLIC_HTTP = "https://api.mainnet-beta.solana.com"
PUBLIC_WS = "wss://api.mainnet-beta.solana.com"


def split_csv(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class ExecutorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field(default="", description="Postgres URL; make up/demo set it when unset")
    solana_rpc_http: Annotated[tuple[str, ...], NoDecode] = (PUBLIC_HTTP,)
    solana_rpc_ws: Annotated[tuple[str, ...], NoDecode] = (PUBLIC_WS,)
    executor_grpc_addr: str = "127.0.0.1:50051"
    executor_metrics_port: int = Field(default=9101, ge=0, lt=65536)
    metrics_host: str = "127.0.0.1"
    trading_disabled: bool = True
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"
    heartbeat_interval_s: float = Field(default=5.0, gt=0, le=3600)
    subscriber_queue_size: int = Field(default=10_000, ge=16)
    events_retention: int = Field(default=0, ge=0, description="events kept in the outbox; 0 keeps all")
    db_pool_size: int = Field(default=8, ge=2, le=100)
    shutdown_grace_s: float = Field(default=5.0, ge=0)
    intent_max_lamports: int = Field(default=1_000_000_000_000, gt=0)
    intent_max_slippage_bps: int = Field(default=5_000, ge=1, le=10_000)
    intent_max_ttl_ms: int = Field(default=600_000, ge=1)

    # Ingest (see docs/ingest.md and the README's fetch-policy note).
    ingest_enabled: bool = True
    ingest_commitment: Literal["confirmed", "finalized"] = "confirmed"
    # Client-side rate limits per endpoint. Unset: the public mainnet-beta limits (100 requests and 40
    # per method per 10 s) when that endpoint is configured, otherwise only the node's 429s govern.
    rpc_requests_per_10s: int | None = Field(default=None, ge=2)
    rpc_method_per_10s: int | None = Field(default=None, ge=2)
    rpc_timeout_s: float = Field(default=10.0, gt=0)
    rpc_max_attempts: int = Field(default=6, ge=1, le=50)
    rpc_max_in_flight: int = Field(default=8, ge=1, le=256)
    ws_ping_interval_s: float = Field(default=20.0, ge=0)
    ws_stall_after_s: float = Field(default=30.0, gt=0)
    ws_reconnect_min_s: float = Field(default=0.5, gt=0)
    ws_reconnect_max_s: float = Field(default=30.0, gt=0)
    ws_redundant: bool = False
    fetch_policy: Literal["all", "smart", "none"] = "smart"
    fetch_sample_bps: int = Field(default=100, ge=0, le=10_000)
    fetch_concurrency: int = Field(default=8, ge=1, le=256)
    fetch_failed: bool = False
    ingest_queue_size: int = Field(default=10_000, ge=100)
    ingest_batch_max: int = Field(default=1_000, ge=1)
    ingest_batch_wait_ms: int = Field(default=2, ge=0)
    reconcile_interval_s: float = Field(default=30.0, gt=0)
    ingest_initial_backfill: int = Field(default=0, ge=0, le=1000)
    features_lateness_s: int = Field(default=30, ge=0)
    risk_creator_dump_min_tokens: int = Field(default=10_000_000_000_000, ge=1)
    risk_serial_launch_count: int = Field(default=3, ge=2)
    risk_serial_launch_window_s: int = Field(default=86_400, ge=60)

    _split = field_validator("solana_rpc_http", "solana_rpc_ws", mode="before")(split_csv)

    @field_validator("executor_grpc_addr")
    @classmethod
    def _addr(cls, value: str) -> str:
        parse_host_port(value)
        return value

    @model_validator(mode="after")
    def _pairs(self) -> ExecutorSettings:
        if len(self.solana_rpc_http) != len(self.solana_rpc_ws):
            raise ValueError(
                f"SOLANA_RPC_HTTP lists {len(self.solana_rpc_http)} endpoints but SOLANA_RPC_WS lists "
                f"{len(self.solana_rpc_ws)}; they pair up in order"
            )
        if not self.solana_rpc_http:
            raise ValueError("SOLANA_RPC_HTTP/SOLANA_RPC_WS need at least one endpoint")
        return self


def settings_for_command(command: str, *, database: bool = False) -> ExecutorSettings:
    """The settings a CLI command runs with. A bad configuration (or no DATABASE_URL where the command
    needs one) is printed with pydantic's explanation and exits 2, as usage errors do."""
    try:
        settings = ExecutorSettings()
    except ValidationError as exc:
        print(f"executor: invalid configuration:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if database and not settings.database_url:
        print(f"executor {command}: DATABASE_URL is not set", file=sys.stderr)
        raise SystemExit(2)
    return settings
