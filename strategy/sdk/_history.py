"""Per-(mint, venue) bucket history: a mutable store owned by the runner, read-only views for signals.

The store keeps one bucket per minute (a re-emitted bucket with a higher `bucket_version` replaces
the stored one; an equal or lower version is ignored) and forgets minutes older than the retention
window. History starts at the first bucket the runner saw for the (mint, venue): a bucket for an
even older minute arriving later is ignored, so a run started mid-stream and a run started earlier
hold the same buckets for every minute both cover (the basis of warm-up invariance). A `MintHistory`
view is what `ctx.history(mint)` returns: the buckets known so far, never anything later than the
event being handled, cut to the signal's declared `history_buckets`.
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from typing import Final, Literal, TypeAlias, overload

from strategy.sdk._events import FeatureBucket, Venue
from strategy.sdk._math import curvature, second_diff, slope

__all__ = ["BucketField", "FlowField", "LevelField", "MintHistory"]

#: Integer flow fields. A minute without a bucket had no trades, so these read as 0 there.
FlowField: TypeAlias = Literal[
    "trades",
    "buys",
    "sells",
    "uniq_signers",
    "uniq_buyers",
    "uniq_sellers",
    "buy_sol",
    "sell_sol",
    "net_inflow_sol",
]
#: Decimal level fields. A minute without a bucket has no value for these (no gap filling).
LevelField: TypeAlias = Literal[
    "avg_trade_sol",
    "trade_sol_stddev",
    "whale_share_top5",
    "price_open",
    "price_high",
    "price_low",
    "price_close",
]
BucketField: TypeAlias = FlowField | LevelField

_FLOW: Final = frozenset(FlowField.__args__)  # type: ignore[attr-defined]
_LEVEL: Final = frozenset(LevelField.__args__)  # type: ignore[attr-defined]
MINUTE: Final = 60


def _check_field(name: str, allowed: frozenset[str]) -> None:
    if name not in allowed:
        raise ValueError(f"unknown bucket field {name!r}; expected one of {sorted(allowed)}")


class BucketStore:
    """Mutable per-(mint, venue) bucket store; runner-internal."""

    __slots__ = ("_by_minute", "_floor", "_minutes", "_views", "venue")

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self._floor: int | None = None
        self._minutes: list[int] = []
        self._by_minute: dict[int, FeatureBucket] = {}
        self._views: dict[int, MintHistory] = {}

    def upsert(self, bucket: FeatureBucket, retain_minutes: int) -> bool:
        """Insert or replace the bucket for its minute; return False when it was stale or too old."""
        minute = bucket.minute_start
        current = self._by_minute.get(minute)
        if current is not None and current.bucket_version >= bucket.bucket_version:
            return False
        if self._floor is not None and minute < self._floor:
            return False
        if self._minutes and minute <= self._minutes[-1] - retain_minutes * MINUTE:
            return False
        if self._floor is None:
            self._floor = minute
        if current is None:
            bisect.insort(self._minutes, minute)
        self._by_minute[minute] = bucket
        newest = self._minutes[-1]
        cut = bisect.bisect_right(self._minutes, newest - retain_minutes * MINUTE)
        for old in self._minutes[:cut]:
            del self._by_minute[old]
        del self._minutes[:cut]
        self._views.clear()
        return True

    @property
    def newest_minute(self) -> int:
        """Start of the newest stored minute (-1 when empty)."""
        return self._minutes[-1] if self._minutes else -1

    def view(self, mint: str, limit_minutes: int) -> MintHistory:
        """A read-only view of the newest `limit_minutes` minutes."""
        cached = self._views.get(limit_minutes)
        if cached is not None:
            return cached
        if self._minutes:
            newest = self._minutes[-1]
            start = bisect.bisect_right(self._minutes, newest - limit_minutes * MINUTE)
            buckets = tuple(self._by_minute[m] for m in self._minutes[start:])
        else:
            buckets = ()
        view = MintHistory(mint, self.venue, buckets)
        self._views[limit_minutes] = view
        return view


class MintHistory:
    """Read-only bucket history of one mint on one venue, oldest first, one bucket per minute.

    Windows are counted in *minutes*, ending at the newest known minute (or `end_offset` minutes
    before it, to ask "what did this look like one minute ago"). A window never reaches before the
    oldest retained bucket, so a series can be shorter than asked; check `minutes_covered` or the
    signal's warm-up.
    """

    __slots__ = ("_buckets", "_index", "mint", "venue")

    def __init__(self, mint: str, venue: Venue, buckets: tuple[FeatureBucket, ...]) -> None:
        self.mint = mint
        self.venue = venue
        self._buckets = buckets
        self._index = {b.minute_start: b for b in buckets}

    def __len__(self) -> int:
        return len(self._buckets)

    def __repr__(self) -> str:
        return f"MintHistory(mint={self.mint!r}, venue={self.venue.value}, buckets={len(self._buckets)})"

    @property
    def buckets(self) -> tuple[FeatureBucket, ...]:
        """Every retained bucket, oldest first."""
        return self._buckets

    @property
    def last(self) -> FeatureBucket | None:
        """The newest bucket, or None before the first one."""
        return self._buckets[-1] if self._buckets else None

    @property
    def minutes_covered(self) -> int:
        """Minutes from the oldest to the newest retained bucket, inclusive (0 when empty)."""
        if not self._buckets:
            return 0
        return (self._buckets[-1].minute_start - self._buckets[0].minute_start) // MINUTE + 1

    def bucket_at(self, minute_start: int) -> FeatureBucket | None:
        """The bucket of a given minute, or None when that minute had none."""
        return self._index.get(minute_start)

    def _window(self, n: int, end_offset: int) -> tuple[int, int] | None:
        if n < 1:
            raise ValueError("window length n must be >= 1")
        if end_offset < 0:
            raise ValueError("end_offset must be >= 0")
        if not self._buckets:
            return None
        end = self._buckets[-1].minute_start - end_offset * MINUTE
        first = self._buckets[0].minute_start
        if end < first:
            return None
        return max(first, end - (n - 1) * MINUTE), end

    def series(self, field: FlowField, n: int, *, end_offset: int = 0) -> tuple[int, ...]:
        """Per-minute values of an integer flow field over the window, 0 for minutes without trades.

        `history.series("net_inflow_sol", 3)` is the net inflow (lamports) of the last three
        minutes, oldest first.
        """
        _check_field(field, _FLOW)
        window = self._window(n, end_offset)
        if window is None:
            return ()
        start, end = window
        out: list[int] = []
        for minute in range(start, end + 1, MINUTE):
            bucket = self._index.get(minute)
            out.append(0 if bucket is None else getattr(bucket, field))
        return tuple(out)

    def points(self, field: BucketField, n: int, *, end_offset: int = 0) -> tuple[tuple[int, Decimal], ...]:
        """`(x, value)` for each bucket inside the window; `x` is minutes since the window start.

        No gap filling: minutes without a bucket are simply absent, which suits level fields such as
        prices. Values are Decimals (integer fields are converted exactly).
        """
        if field not in _FLOW:
            _check_field(field, _LEVEL)
        window = self._window(n, end_offset)
        if window is None:
            return ()
        start, end = window
        return tuple(
            ((b.minute_start - start) // MINUTE, Decimal(getattr(b, field)))
            for b in self._buckets
            if start <= b.minute_start <= end
        )

    def total(self, field: FlowField, n: int, *, end_offset: int = 0) -> int:
        """Sum of an integer flow field over the window."""
        return sum(self.series(field, n, end_offset=end_offset))

    @overload
    def second_diff(self, field: FlowField, *, end_offset: int = 0) -> int | None: ...
    @overload
    def second_diff(self, field: LevelField, *, end_offset: int = 0) -> Decimal | None: ...
    def second_diff(self, field: BucketField, *, end_offset: int = 0) -> int | Decimal | None:
        """Second difference over the last three minutes, or None with fewer than three minutes.

        Flow fields are gap-filled with 0; a level field needs a bucket in each of the three minutes.
        """
        if field in _FLOW:
            values = self.series(field, 3, end_offset=end_offset)  # type: ignore[arg-type]
            return second_diff(values) if len(values) == 3 else None
        pts = self.points(field, 3, end_offset=end_offset)
        if len(pts) < 3:
            return None
        return second_diff([v for _, v in pts])

    def slope(self, field: BucketField, n: int, *, end_offset: int = 0) -> Decimal | None:
        """Least-squares slope per minute over the window, or None with fewer than two points.

        Flow fields use every minute (gap-filled with 0); level fields use the buckets present.
        """
        xs, ys = self._xy(field, n, end_offset)
        return slope(ys, xs) if len(set(xs)) >= 2 else None

    def curvature(self, field: BucketField, n: int, *, end_offset: int = 0) -> Decimal | None:
        """Second derivative per minute² of the least-squares parabola, or None with < 3 points."""
        xs, ys = self._xy(field, n, end_offset)
        return curvature(ys, xs) if len(set(xs)) >= 3 else None

    def _xy(self, field: BucketField, n: int, end_offset: int) -> tuple[list[int], list[Decimal]]:
        if field in _FLOW:
            values = self.series(field, n, end_offset=end_offset)  # type: ignore[arg-type]
            return list(range(len(values))), [Decimal(v) for v in values]
        pts = self.points(field, n, end_offset=end_offset)
        return [x for x, _ in pts], [v for _, v in pts]
