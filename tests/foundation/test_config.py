"""Configuration: every setting is documented in .env.example and bad values fail loudly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from executor.config import ExecutorSettings
from executor.ingest.pipeline import rate_limits
from pumpflow.redact import redact_url
from strategy.config import StrategySettings
from tests.support import ROOT


@pytest.mark.parametrize("settings", [ExecutorSettings, StrategySettings])
def test_every_setting_is_documented_in_env_example(settings: type) -> None:
    documented = ROOT.joinpath(".env.example").read_text()
    missing = [name.upper() for name in settings.model_fields if name.upper() not in documented]
    assert not missing


def test_endpoint_lists_must_pair_up() -> None:
    with pytest.raises(ValidationError, match="pair up"):
        ExecutorSettings(_env_file=None, solana_rpc_http=("http://a", "http://b"), solana_rpc_ws=("ws://a",))  # type: ignore[call-arg]


def test_comma_separated_endpoints_are_split_and_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOLANA_RPC_HTTP", "http://a:1, http://b:2")
    monkeypatch.setenv("SOLANA_RPC_WS", "ws://a:1,ws://b:2")
    s = ExecutorSettings(_env_file=None)  # type: ignore[call-arg]
    assert s.solana_rpc_http == ("http://a:1", "http://b:2")


def test_trading_is_disabled_unless_the_configuration_says_otherwise() -> None:
    assert ExecutorSettings(_env_file=None).trading_disabled is True  # type: ignore[call-arg]


def test_public_endpoint_gets_public_rate_limits_and_private_ones_do_not() -> None:
    public = ExecutorSettings(_env_file=None)  # type: ignore[call-arg]
    private = ExecutorSettings(_env_file=None, solana_rpc_http=("http://x",), solana_rpc_ws=("ws://x",))  # type: ignore[call-arg]
    explicit = ExecutorSettings(_env_file=None, rpc_requests_per_10s=50, rpc_method_per_10s=10)  # type: ignore[call-arg]
    assert rate_limits(public) == (100, 40)
    assert rate_limits(private)[0] > 100_000
    assert rate_limits(explicit) == (50, 10)


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("https://mainnet.helius-rpc.com/?api-key=5f0c1e2d-aaaa-bbbb-cccc-1234567890ab", "5f0c1e2d"),
        ("https://solana-mainnet.g.alchemy.com/v2/abcdefghijklmnopqrstuvwx123456", "abcdefghijklmnop"),
        ("postgresql://user:hunter2@db.example:5432/pumpflow", "hunter2"),
    ],
)
def test_credentials_never_survive_redaction(url: str, secret: str) -> None:
    assert secret not in redact_url(url)
