"""docs/strategy.md stays true: the tutorial runs as written (write, test, run) in under 30 lines,
and the built-in parameter tables match the code."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from strategy.sdk import canonical_decimal
from strategy.signals import BUILTINS
from tests.strategy.dbkit import store_golden

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "strategy.md"
FENCE = re.compile(r"^```(\w+)( file=(\S+))?\n(.*?)^```\n", re.M | re.S)
_OPS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}


def tutorial() -> list[tuple[str, str | None, str]]:
    """(language, file name or None, body) of every fenced block in the tutorial section."""
    text = DOC.read_text()
    section = text.split("## Tutorial", 1)[1].split("\n## ", 1)[0]
    return [(m.group(1), m.group(3), m.group(4)) for m in FENCE.finditer(section)]


def render_builtin_params() -> str:
    """The parameter tables of the built-ins, as the doc shows them."""

    def fmt(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | Decimal):
            return canonical_decimal(v)
        return f'"{v}"'

    out: list[str] = []
    for sid, cls in BUILTINS.items():
        reasons = ", ".join(f"`{r}`" for r in cls.reasons)
        out.append(f"`{sid}` (version {cls.version}; reasons {reasons})\n")
        out.append("| parameter | default | bounds | meaning |")
        out.append("|---|---|---|---|")
        for p in cls.params_type().describe():
            bounds = ", ".join(f"{_OPS[k]} {canonical_decimal(x)}" for k, x in p.bounds.items()) or "—"
            out.append(f"| `{p.name}` | {fmt(p.default)} | {bounds} | {p.doc} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def test_builtin_parameter_tables_in_the_doc_match_the_code() -> None:
    text = DOC.read_text()
    shown = text.split("<!-- builtin-params:begin -->\n", 1)[1].split("<!-- builtin-params:end -->", 1)[0]
    assert shown == render_builtin_params()


def test_the_tutorial_is_under_30_lines() -> None:
    lines = [line for _, _, body in tutorial() for line in body.splitlines() if line.strip()]
    assert len(lines) < 30, len(lines)


def test_the_tutorial_runs_as_written(tmp_path: Path, db_url: str) -> None:
    blocks = tutorial()
    for _, name, body in blocks:
        if name:
            (tmp_path / name).write_text(body)
    (commands,) = [body for lang, _, body in blocks if lang == "sh"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": db_url}
    env.pop("STRATEGY_SIGNALS_FILE", None)
    asyncio.run(store_golden(db_url))
    ran = 0
    for line in commands.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or ("strategy" in words and "run" in words):
            continue  # the live service needs a running executor; replay below covers the signal
        if words[0] == "pytest":
            argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *words[1:]]
        else:
            assert words[0] == "python", line
            argv = [sys.executable, *words[1:]]
        done = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        if "strategy.replay" in words:
            summary = json.loads(done.stdout)
            assert summary["signals"][0].startswith("big_inflow=big_inflow@1")
            assert summary["intents"] > 0
            assert summary["parity"]["ok"] is True
            assert set(summary["intents_by_signal_reason"]) == {"big_inflow:BIG_INFLOW"}
        ran += 1
    assert ran == 2
