"""Every benchmark script still imports against the library (they run rarely; a rename must not break them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_bench_script_imports():
    names = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(names) > 10
    code = "import importlib, sys\nfor n in sys.argv[1:]:\n    importlib.import_module('bench.' + n)\n"
    # a separate process: the tests themselves never import bench/
    done = subprocess.run([sys.executable, "-c", code, *names], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
