"""Generate the Python gRPC/protobuf code for proto/pumpflow/v1 into pumpflow/v1.

`python -m scripts.protogen pumpflow/v1` writes the files; `--check` generates into a scratch
directory and exits 1 (naming the stale files) when the committed copy differs.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE = Path("pumpflow/v1")
HEADER = '"""Generated from proto/pumpflow/v1 by `make proto`. Do not edit."""\n'


def generate(out_root: Path) -> Path:
    sources = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PACKAGE).glob("*.proto"))
    include = str(Path(protoc.__file__).parent / "_proto")
    bindir = Path(sys.executable).parent
    args = [
        "protoc",
        f"--plugin=protoc-gen-mypy={bindir / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={bindir / 'protoc-gen-mypy_grpc'}",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--grpc_python_out={out_root}",
        f"--mypy_out={out_root}",
        f"--mypy_grpc_out={out_root}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    out = out_root / PACKAGE
    (out / "__init__.py").write_text(HEADER)
    (out / "py.typed").write_text("")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("target", type=Path, help="output package directory (pumpflow/v1)")
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        target = ROOT / opts.target
        names = sorted(p.name for p in fresh.iterdir())
        if opts.check:
            stale = [
                n
                for n in names
                if not (target / n).exists() or not filecmp.cmp(fresh / n, target / n, shallow=False)
            ]
            extra = sorted(p.name for p in target.glob("*_pb2*") if p.name not in names)
            if stale or extra:
                print(
                    f"generated code in {opts.target} is stale: {', '.join(stale + extra)}; run `make proto`"
                )
                return 1
            print(f"{opts.target}: generated code is current")
            return 0
        target.mkdir(parents=True, exist_ok=True)
        for n in names:
            shutil.copyfile(fresh / n, target / n)
        print(f"wrote {len(names)} files to {opts.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
