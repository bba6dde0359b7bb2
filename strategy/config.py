"""The strategy service's one settings object, read once from the environment (and `.env`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pumpflow.addr import parse_host_port


class StrategySettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    executor_grpc_addr: str = "127.0.0.1:50051"
    strategy_metrics_port: int = Field(default=9102, ge=0, lt=65536)
    metrics_host: str = "127.0.0.1"
    database_url: str = ""
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"
    strategy_client_id: str = "strategy"
    reconnect_min_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)
    intent_timeout_s: float = Field(default=10.0, gt=0)
    # Signals: a TOML file, the instances to run, and where the stream starts (0: the live head).
    strategy_signals_file: Path | None = None
    strategy_signals: str | None = None
    strategy_from_seq: int = Field(default=1, ge=0)

    @field_validator("executor_grpc_addr")
    @classmethod
    def _addr(cls, value: str) -> str:
        parse_host_port(value)
        return value
