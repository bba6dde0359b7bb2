"""The determinism guard: signal code (and the pure runner around it) cannot read clocks, randomness,
the environment or do I/O. Checked on the AST, like a linter run as a test, and through ruff's
nested configs (TID251) in strategy/sdk and strategy/signals."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUARDED = sorted(
    [
        *(ROOT / "strategy" / "sdk").rglob("*.py"),
        *(ROOT / "strategy" / "signals").rglob("*.py"),
        ROOT / "strategy" / "runner.py",
        ROOT / "strategy" / "events.py",
        ROOT / "strategy" / "signal_config.py",
    ]
)
BANNED_MODULES = {
    "time": "wall clock",
    "random": "randomness",
    "secrets": "randomness",
    "uuid": "random ids",
    "os": "environment and file-system access",
    "asyncio": "async I/O",
    "asyncpg": "database I/O",
    "grpc": "network I/O",
    "socket": "network I/O",
    "threading": "threads",
    "subprocess": "processes",
    "httpx": "network I/O",
}
BANNED_ATTRIBUTES = {"now", "utcnow", "today", "fromtimestamp", "getenv", "environ", "urandom"}
BANNED_BUILTINS = {"hash", "id", "open", "input", "print", "eval", "exec", "breakpoint"}


def violations(source: str, filename: str = "<source>") -> list[str]:
    """Every banned import, attribute and builtin call in `source`, as `file:line: what`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root in BANNED_MODULES:
                    found.append(f"{filename}:{node.lineno}: import {alias.name} ({BANNED_MODULES[root]})")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            root = node.module.split(".")[0]
            if root in BANNED_MODULES:
                found.append(
                    f"{filename}:{node.lineno}: from {node.module} import ... ({BANNED_MODULES[root]})"
                )
        elif isinstance(node, ast.Attribute) and node.attr in BANNED_ATTRIBUTES:
            found.append(f"{filename}:{node.lineno}: .{node.attr} (clock/environment)")
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BANNED_BUILTINS
        ):
            found.append(f"{filename}:{node.lineno}: {node.func.id}() (hash-seed dependent or I/O)")
    return found


def test_the_guard_covers_the_sdk_the_builtins_and_the_pure_runner() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in GUARDED}
    assert {"strategy/sdk/_signal.py", "strategy/signals/composite.py", "strategy/runner.py"} <= names


@pytest.mark.parametrize("path", GUARDED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_guarded_module_uses_no_clock_randomness_environment_or_io(path: Path) -> None:
    assert violations(path.read_text(), path.relative_to(ROOT).as_posix()) == []


def test_the_guard_catches_every_kind_of_violation() -> None:
    bad = """
import time, random
from uuid import uuid4
from datetime import datetime
import os.path
def on_bucket(b, ctx):
    t = datetime.now()
    k = hash(b.mint)
    e = os.environ["X"]
    print(t, k, e, uuid4(), random.random(), time.time())
"""
    found = violations(bad)
    for needle in (
        "import time",
        "import random",
        "from uuid",
        "import os.path",
        ".now",
        "hash()",
        ".environ",
        "print()",
    ):
        assert any(needle in v for v in found), needle


@pytest.mark.parametrize("package", ["sdk", "signals"])
def test_ruff_nested_config_bans_clock_and_environment_in(package: str) -> None:
    probe = "import os\nimport time\n\nx = time.time()\ny = os.environ['A']\n"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "ruff"),
            "check",
            "--no-cache",
            "--select",
            "TID251",
            "--stdin-filename",
            f"strategy/{package}/_probe.py",
            "-",
        ],
        cwd=ROOT,
        input=probe,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "`time` is banned" in done.stdout
    assert "`os.environ` is banned" in done.stdout
