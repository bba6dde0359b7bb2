"""Progress of long command-line runs (replay, backfill): a bar with rate and ETA on a terminal,
plain structured log lines otherwise.

The arithmetic and the text are pure functions (`rate_of`, `eta_of`, `bar_line`, `fields`); the
`Progress` object only decides when to draw and where. On a TTY it redraws one line in place at
most ten times a second; elsewhere (a pipe, a log file, CI) it logs a line every few seconds, in
whatever format LOG_FORMAT selected, so a JSON log stays parseable.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable
from typing import IO, Any

import structlog

log = structlog.get_logger("executor.progress")

BAR_WIDTH = 28
RATE_WINDOW_S = 10.0


def fmt_count(n: int) -> str:
    return f"{n:,}"


def fmt_duration(seconds: float) -> str:
    """H:MM:SS or M:SS."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def rate_of(samples: deque[tuple[float, int]]) -> float:
    """Units per second over the sampled window (oldest to newest)."""
    if len(samples) < 2:
        return 0.0
    (t0, d0), (t1, d1) = samples[0], samples[-1]
    return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0


def eta_of(done: int, total: int | None, rate: float) -> float | None:
    if total is None or rate <= 0:
        return None
    return max(total - done, 0) / rate


def bar_line(label: str, done: int, total: int | None, rate: float, unit: str, width: int = BAR_WIDTH) -> str:
    """`replay [#########-------]  45.0% 450,000/1,000,000 rows  18,200 rows/s  ETA 0:30`."""
    speed = f"{fmt_count(round(rate))} {unit}/s"
    if total is None or total <= 0:
        return f"{label} {fmt_count(done)} {unit}  {speed}"
    share = min(done / total, 1.0)
    filled = round(share * width)
    eta = eta_of(done, total, rate)
    return (
        f"{label} [{'#' * filled}{'-' * (width - filled)}] {share * 100:5.1f}% "
        f"{fmt_count(done)}/{fmt_count(total)} {unit}  {speed}  ETA {fmt_duration(eta) if eta is not None else '?'}"
    )


def fields(done: int, total: int | None, rate: float, elapsed: float) -> dict[str, Any]:
    """The key-value form of one progress report, for log lines."""
    out: dict[str, Any] = {"done": done, "rate_per_s": round(rate, 1), "elapsed_s": round(elapsed, 1)}
    if total is not None:
        out["total"] = total
        out["pct"] = round(100 * done / total, 1) if total else 100.0
        eta = eta_of(done, total, rate)
        if eta is not None:
            out["eta_s"] = round(eta)
    return out


class Progress:
    """Counts work done and reports it; `close()` prints the final figures once."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        unit: str = "rows",
        stream: IO[str] | None = None,
        tty: bool | None = None,
        log_every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval = 0.1 if self.tty else log_every_s
        self.clock = clock
        self.started = clock()
        self.done = 0
        self.samples: deque[tuple[float, int]] = deque([(self.started, 0)])
        self.last_report = self.started
        self.closed = False

    def set_total(self, total: int | None) -> None:
        self.total = total

    def advance(self, n: int) -> None:
        self.update(self.done + n)

    def update(self, done: int) -> None:
        now = self.clock()
        self.done = done
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > RATE_WINDOW_S:
            self.samples.popleft()
        if now - self.last_report >= self.interval:
            self.last_report = now
            self._report(final=False)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._report(final=True)

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def _report(self, *, final: bool) -> None:
        elapsed = self.elapsed
        rate = (self.done / elapsed if elapsed > 0 else 0.0) if final else rate_of(self.samples)
        if self.tty:
            line = bar_line(self.label, self.done, self.total, rate, self.unit)
            if final:
                line += f"  in {fmt_duration(elapsed)}"
            self.stream.write("\r\x1b[2K" + line + ("\n" if final else ""))
            self.stream.flush()
        else:
            log.info(
                f"{self.label} {'done' if final else 'progress'}",
                **fields(self.done, self.total, rate, elapsed),
            )
