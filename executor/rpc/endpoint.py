"""RPC endpoints and keeping their credentials out of logs, errors and metric labels.

Provider API keys travel inside URLs (`/v2/<key>`, `?api-key=<key>`, `user:pass@`). An `Endpoint`
carries the raw URLs for the sockets and a `label` (redacted `host:port`) for everything a human or
Prometheus sees; its `repr` shows only redacted URLs. `scrub()` removes an endpoint's secrets from
any text (exception messages from httpx/websockets), and `install_log_redaction()` puts a filter on
the third-party loggers that print request lines (httpx at INFO, websockets at DEBUG).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from pumpflow.redact import redact_url

_MASK = "***"
_URL = re.compile(r"\b(?:https?|wss?)://[^\s\"'<>]+")
# Every secret of every endpoint built in this process; the log filter replaces them anywhere.
_KNOWN_SECRETS: set[str] = set()


def url_secrets(url: str) -> frozenset[str]:
    """The parts of `url` that `redact_url` hides: user info, key-like path segments, query values."""
    parts = urlsplit(url)
    found: set[str] = set()
    for value in (parts.username, parts.password):
        if value:
            found.add(value)
    redacted_path = urlsplit(redact_url(url)).path.split("/")
    for raw, shown in zip(parts.path.split("/"), redacted_path, strict=False):
        if shown == _MASK and raw and raw != _MASK:
            found.add(raw)
    for _, value in parse_qsl(parts.query, keep_blank_values=False):
        if len(value) >= 4:
            found.add(value)
    return frozenset(found)


def host_label(url: str) -> str:
    """`host:port` of a URL (port omitted when the URL has none), never including user info."""
    parts = urlsplit(url)
    host = parts.hostname or "unknown"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


@dataclass(frozen=True, repr=False)
class Endpoint:
    """One RPC node: HTTP JSON-RPC URL, WebSocket PubSub URL, and a log/metric-safe label.

    `label` defaults to the redacted `host:port` of the HTTP URL; pass one to disambiguate endpoints
    on the same host (`endpoints_from_urls` does that for you).
    """

    http_url: str
    ws_url: str
    label: str = ""
    secrets: frozenset[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if urlsplit(self.http_url).scheme not in ("http", "https") or not urlsplit(self.http_url).hostname:
            raise ValueError(
                f"an endpoint HTTP URL must be http(s)://host..., got {redact_url(self.http_url)!r}"
            )
        if urlsplit(self.ws_url).scheme not in ("ws", "wss") or not urlsplit(self.ws_url).hostname:
            raise ValueError(
                f"an endpoint WebSocket URL must be ws(s)://host..., got {redact_url(self.ws_url)!r}"
            )
        secrets = url_secrets(self.http_url) | url_secrets(self.ws_url)
        object.__setattr__(self, "secrets", secrets)
        if not self.label:
            object.__setattr__(self, "label", host_label(self.http_url))
        if any(secret in self.label for secret in secrets):
            raise ValueError("an endpoint label must not contain the endpoint's credentials")
        _KNOWN_SECRETS.update(secrets)

    def __repr__(self) -> str:
        return (
            f"Endpoint(http_url={redact_url(self.http_url)!r}, ws_url={redact_url(self.ws_url)!r}, "
            f"label={self.label!r})"
        )

    def scrub(self, text: str) -> str:
        """`text` with this endpoint's URLs redacted and its secrets masked."""
        text = text.replace(self.http_url, redact_url(self.http_url))
        text = text.replace(self.ws_url, redact_url(self.ws_url))
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, _MASK)
        return text


def endpoints_from_urls(http_urls: Sequence[str], ws_urls: Sequence[str]) -> list[Endpoint]:
    """Pair HTTP and WebSocket URLs in order; labels are `host:port`, suffixed `#2`, `#3` on repeats."""
    if len(http_urls) != len(ws_urls):
        raise ValueError(f"{len(http_urls)} HTTP URLs but {len(ws_urls)} WebSocket URLs; they pair in order")
    if not http_urls:
        raise ValueError("at least one RPC endpoint is needed")
    seen: dict[str, int] = {}
    out: list[Endpoint] = []
    for http_url, ws_url in zip(http_urls, ws_urls, strict=True):
        base = host_label(http_url)
        seen[base] = seen.get(base, 0) + 1
        label = base if seen[base] == 1 else f"{base}#{seen[base]}"
        out.append(Endpoint(http_url, ws_url, label))
    return out


def check_unique_labels(endpoints: Iterable[Endpoint]) -> None:
    labels = [e.label for e in endpoints]
    if len(set(labels)) != len(labels):
        raise ValueError(f"endpoint labels must be unique, got {labels}")


def scrub_text(text: str) -> str:
    """`text` with every URL redacted and every known endpoint secret masked."""
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    for secret in sorted(_KNOWN_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with `scrub_text` (formats it once, then drops the args)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format string is not ours to fix; keep the record
            return True
        scrubbed = scrub_text(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


# websockets logs the request line (path included) at DEBUG; it gets this logger, filtered.
WS_LOGGER = logging.getLogger("executor.rpc.websockets")


# Filters do not propagate to child loggers, so each logger that may print a URL is listed.
_REDACTED_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.proxy",
    "websockets",
    "websockets.client",
    WS_LOGGER.name,
)


def install_log_redaction() -> None:
    """Attach `RedactingFilter` to the httpx and websockets loggers (idempotent)."""
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
