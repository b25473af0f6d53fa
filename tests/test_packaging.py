"""The wheel: an installed (non-editable) bellwether finds its Cypher library and runs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_the_cypher_library(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(tmp_path / "dist")],
                           capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("bellwether-*.whl"))
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    shipped = sorted(p.relative_to(site / "graph" / "cypher").as_posix() for p in (site / "graph" / "cypher").rglob("*.cypher"))
    assert shipped == sorted(p.relative_to(ROOT / "cypher").as_posix() for p in (ROOT / "cypher").rglob("*.cypher"))
    # run from outside the checkout, with only the unpacked wheel on the path for the project's packages
    code = ("import graph.cypher_library as c; lib = c.default_library(); "
            "print(c.CYPHER_DIR); print(len(lib)); print(lib.get('load.contacts').name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert out.returncode == 0, out.stderr
    where, count, name = out.stdout.split()
    assert Path(where) == site / "graph" / "cypher" and int(count) > 20 and name == "load.contacts"
