"""PubSub over WebSocket: node-wide subscription registry and notification frames (agave shapes).

Pure logic: a connection is anything hashable with `send(frame: bytes)`. Identical subscriptions
share one id node-wide and ids count up from 0, as in agave's `SubscriptionControl`; a node
restart (`reset`) forgets everything and starts again from 0.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from sim import params as P
from sim.errors import (
    RpcError,
    invalid_params,
    invalid_request,
    invalid_subscription_id,
    mentions_count,
    mentions_invalid,
    method_not_found,
    parse_error,
)


class Sink(Hashable, Protocol):
    def send(self, frame: bytes) -> None: ...


@dataclass(slots=True, eq=False)
class Subscription:
    id: int
    kind: str  # logs | account | slot | signature
    commitment: str
    target: str | None  # mentions address / account / signature; None for logs "all" and slot
    encoding: str = "binary"
    data_slice: tuple[int, int] | None = None
    sinks: set[Sink] = field(default_factory=set)


_UNSUBSCRIBE = {
    "logsUnsubscribe": "logs",
    "accountUnsubscribe": "account",
    "slotUnsubscribe": "slot",
    "signatureUnsubscribe": "signature",
}
_KNOWN_UNSUPPORTED = {
    "programSubscribe",
    "programUnsubscribe",
    "rootSubscribe",
    "rootUnsubscribe",
    "slotsUpdatesSubscribe",
    "slotsUpdatesUnsubscribe",
    "blockSubscribe",
    "blockUnsubscribe",
    "voteSubscribe",
    "voteUnsubscribe",
}


class Registry:
    """All live subscriptions of the node."""

    def __init__(self, max_subscriptions: int = 1_000_000) -> None:
        self.max_subscriptions = max_subscriptions
        self.reset()

    def reset(self) -> None:
        self.next_id = 0
        self.by_key: dict[tuple[Any, ...], Subscription] = {}
        self.by_id: dict[int, Subscription] = {}
        self.logs_all: dict[str, list[Subscription]] = {
            c: [] for c in ("processed", "confirmed", "finalized")
        }
        self.logs_mentions: dict[str, dict[str, list[Subscription]]] = {
            c: {} for c in ("processed", "confirmed", "finalized")
        }
        self.accounts: dict[str, list[Subscription]] = {}
        self.slots: list[Subscription] = []
        self.signatures: dict[str, list[Subscription]] = {}

    @property
    def has_logs(self) -> bool:
        return any(self.logs_all.values()) or any(self.logs_mentions.values())

    def subscribe(
        self, sink: Sink, key: tuple[Any, ...], make: Callable[[int], Subscription]
    ) -> Subscription:
        sub = self.by_key.get(key)
        if sub is None:
            if len(self.by_id) >= self.max_subscriptions:
                raise RpcError(
                    -32603, "Internal Error: Subscription refused. Node subscription limit reached"
                )
            sub = make(self.next_id)
            self.next_id += 1
            self.by_key[key] = sub
            self.by_id[sub.id] = sub
            self._index(sub, add=True)
        sub.sinks.add(sink)
        return sub

    def unsubscribe(self, sink: Sink, kind: str, sub_id: int) -> bool:
        sub = self.by_id.get(sub_id)
        if sub is None or sub.kind != kind or sink not in sub.sinks:
            return False
        sub.sinks.discard(sink)
        if not sub.sinks:
            self._remove(sub)
        return True

    def drop_sink(self, sink: Sink) -> None:
        for sub in [s for s in self.by_id.values() if sink in s.sinks]:
            sub.sinks.discard(sink)
            if not sub.sinks:
                self._remove(sub)

    def remove(self, sub: Subscription) -> None:
        if self.by_id.get(sub.id) is sub:
            self._remove(sub)

    def _remove(self, sub: Subscription) -> None:
        self.by_id.pop(sub.id, None)
        self.by_key = {k: v for k, v in self.by_key.items() if v is not sub}
        self._index(sub, add=False)

    def _index(self, sub: Subscription, *, add: bool) -> None:
        lst: list[Subscription]
        if sub.kind == "logs" and sub.target is None:
            lst = self.logs_all[sub.commitment]
        elif sub.kind == "logs":
            assert sub.target is not None
            lst = self.logs_mentions[sub.commitment].setdefault(sub.target, [])
        elif sub.kind == "account":
            assert sub.target is not None
            lst = self.accounts.setdefault(sub.target, [])
        elif sub.kind == "signature":
            assert sub.target is not None
            lst = self.signatures.setdefault(sub.target, [])
        else:
            lst = self.slots
        if add:
            lst.append(sub)
        elif sub in lst:
            lst.remove(sub)
            if not lst and sub.kind != "slot" and sub.target is not None:
                self._drop_empty(sub)

    def _drop_empty(self, sub: Subscription) -> None:
        assert sub.target is not None
        if sub.kind == "logs":
            self.logs_mentions[sub.commitment].pop(sub.target, None)
        elif sub.kind == "account":
            self.accounts.pop(sub.target, None)
        elif sub.kind == "signature":
            self.signatures.pop(sub.target, None)

    def logs_targets(self, commitment: str, keys: tuple[str, ...]) -> list[Subscription]:
        out = list(self.logs_all[commitment])
        mentions = self.logs_mentions[commitment]
        if mentions:
            seen: set[str] = set()
            for key in keys:
                if key in mentions and key not in seen:
                    seen.add(key)
                    out.extend(mentions[key])
        return out


# --- frames ---------------------------------------------------------------------------------


def logs_frame(sub_id: int, slot: int, value: bytes) -> bytes:
    return (
        b'{"jsonrpc":"2.0","method":"logsNotification","params":{"result":{"context":{"slot":%d},"value":'
        % slot
        + value
        + b'},"subscription":%d}}' % sub_id
    )


def account_frame(sub_id: int, slot: int, value: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "jsonrpc": "2.0",
            "method": "accountNotification",
            "params": {"result": {"context": {"slot": slot}, "value": value}, "subscription": sub_id},
        }
    )


def slot_frame(sub_id: int, slot: int, parent: int, root: int) -> bytes:
    return (
        b'{"jsonrpc":"2.0","method":"slotNotification","params":{"result":{"parent":%d,"root":%d,"slot":%d},"subscription":%d}}'
        % (
            parent,
            root,
            slot,
            sub_id,
        )
    )


def signature_frame(sub_id: int, slot: int, err: Any) -> bytes:
    return orjson.dumps(
        {
            "jsonrpc": "2.0",
            "method": "signatureNotification",
            "params": {"result": {"context": {"slot": slot}, "value": {"err": err}}, "subscription": sub_id},
        }
    )


def reply(req_id: Any, result: Any) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "result": result, "id": req_id})


def error_reply(req_id: Any, err: RpcError) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "error": err.to_json(), "id": req_id})


# --- request handling -----------------------------------------------------------------------


class PubSubHandler:
    """Turns one WebSocket text message into reply frames and registry changes."""

    def __init__(self, registry: Registry, on_subscribed: Callable[[Subscription, Sink], None]) -> None:
        self.registry = registry
        self.on_subscribed = on_subscribed

    def handle(self, sink: Sink, text: bytes | str) -> list[bytes]:
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [error_reply(None, parse_error())]
        if isinstance(msg, list):
            if not msg:
                return [error_reply(None, invalid_request())]
            out: list[bytes] = []
            for item in msg:
                out.extend(self._one(sink, item))
            return out
        return self._one(sink, msg)

    def _one(self, sink: Sink, msg: Any) -> list[bytes]:
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0" or not isinstance(msg.get("method"), str):
            return [error_reply(msg.get("id") if isinstance(msg, dict) else None, invalid_request())]
        req_id = msg.get("id")
        method: str = msg["method"]
        params = msg.get("params")
        try:
            result: Any
            sub: Subscription | None = None
            if method in _UNSUBSCRIBE:
                sub_id = P.positional(params, "subscription id", 0)
                if isinstance(sub_id, bool) or not isinstance(sub_id, int):
                    raise invalid_params(f"invalid type: {P.json_type(sub_id)}, expected u64")
                if not self.registry.unsubscribe(sink, _UNSUBSCRIBE[method], sub_id):
                    raise invalid_subscription_id()
                result = True
            elif method == "logsSubscribe":
                sub = self._logs(sink, params)
            elif method == "accountSubscribe":
                sub = self._account(sink, params)
            elif method == "slotSubscribe":
                sub = self.registry.subscribe(
                    sink, ("slot",), lambda i: Subscription(i, "slot", "processed", None)
                )
            elif method == "signatureSubscribe":
                sub = self._signature(sink, params)
            elif method in _KNOWN_UNSUPPORTED:
                raise method_not_found()
            else:
                raise method_not_found()
            if sub is not None:
                result = sub.id
        except RpcError as err:
            return [] if req_id is None else [error_reply(req_id, err)]
        frames = [] if req_id is None else [reply(req_id, result)]
        if sub is not None:
            self.on_subscribed(sub, sink)
        return frames

    def _logs(self, sink: Sink, params: Any) -> Subscription:
        flt = P.positional(params, "filter", 0)
        cfg = P.config(params, 1)
        commitment = P.commitment(cfg)
        target: str | None
        if flt in ("all", "allWithVotes"):
            target = None
        elif isinstance(flt, dict) and set(flt) == {"mentions"}:
            mentions = flt["mentions"]
            if not isinstance(mentions, list):
                raise invalid_params(f"invalid type: {P.json_type(mentions)}, expected a sequence")
            if len(mentions) != 1:
                raise mentions_count()
            try:
                target = P.pubkey(mentions[0])
            except RpcError:
                raise mentions_invalid() from None
        else:
            raise invalid_params("unknown variant, expected `all`, `allWithVotes` or `mentions`")
        return self.registry.subscribe(
            sink, ("logs", target, commitment), lambda i: Subscription(i, "logs", commitment, target)
        )

    def _account(self, sink: Sink, params: Any) -> Subscription:
        raw = P.positional(params, "pubkey", 0)
        try:
            address = P.pubkey(raw)
        except RpcError:
            raise invalid_params_request("pubkey") from None
        cfg = P.config(params, 1)
        commitment = P.commitment(cfg)
        encoding = cfg.get("encoding") or "binary"
        if encoding not in ("binary", "base58", "base64", "base64+zstd", "jsonParsed"):
            raise invalid_params(f"unknown variant `{encoding}`")
        if encoding in ("base64+zstd", "jsonParsed"):
            encoding = "base64"
        ds = cfg.get("dataSlice")
        data_slice = (int(ds["offset"]), int(ds["length"])) if isinstance(ds, dict) else None
        key = ("account", address, commitment, encoding, data_slice)
        return self.registry.subscribe(
            sink, key, lambda i: Subscription(i, "account", commitment, address, encoding, data_slice)
        )

    def _signature(self, sink: Sink, params: Any) -> Subscription:
        raw = P.positional(params, "signature", 0)
        try:
            sig = P.signature(raw)
        except RpcError:
            raise invalid_params_request("signature") from None
        cfg = P.config(params, 1)
        commitment = P.commitment(cfg)
        return self.registry.subscribe(
            sink, ("signature", sig, commitment), lambda i: Subscription(i, "signature", commitment, sig)
        )


def invalid_params_request(what: str) -> RpcError:
    return RpcError(-32602, f"Invalid Request: Invalid {what} provided")
