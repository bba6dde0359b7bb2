"""executor.decode is a pure library: no I/O, clocks or environment; only telemetry is impure."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "executor" / "decode"
BANNED = {
    "asyncio",
    "asyncpg",
    "httpx",
    "websockets",
    "grpc",
    "os",
    "time",
    "socket",
    "structlog",
    "prometheus_client",
    "subprocess",
    "random",
}
ADAPTERS = {"telemetry.py", "cli.py"}  # telemetry: metrics/logs; cli: reads a file or stdin


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_pure_modules_import_no_io_clock_or_environment_module() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name == "telemetry.py":
            continue
        roots = {name.split(".")[0] for name in imported_modules(path)}
        assert not roots & BANNED, (path.name, roots & BANNED)


def test_no_module_but_the_adapters_imports_the_telemetry_adapter() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name not in ADAPTERS:
            assert "executor.decode.telemetry" not in imported_modules(path), path.name


def test_no_floats_in_the_decoder() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        floats = [
            n.lineno for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, float)
        ]
        calls = [
            n.lineno
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "float"
        ]
        assert not floats and not calls, path.name
