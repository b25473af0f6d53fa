"""The wheel: everything installs under the ``bellwether`` namespace, ships its Cypher library, and runs."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE_FOLDERS = ("graph", "loaders", "algorithms", "cli")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_listed():
    """pyproject lists the packages by hand (the namespace mapping needs it): none may be forgotten."""
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    on_disk = {"bellwether." + ".".join(init.parent.relative_to(ROOT).parts)
               for folder in CODE_FOLDERS for init in (ROOT / folder).rglob("__init__.py")}
    cypher = {"bellwether." + ".".join(d.relative_to(ROOT).parts)
              for d in [ROOT / "cypher", *(ROOT / "cypher").rglob("*")] if d.is_dir()}
    assert on_disk | cypher == listed


def _build_wheel(dest: Path) -> Path:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(dest)],
                           capture_output=True, text=True, timeout=600, cwd=dest.parent)
    assert built.returncode == 0, built.stderr
    return next(dest.glob("bellwether-*.whl"))


@pytest.mark.slow
def test_wheel_installs_only_the_bellwether_namespace(tmp_path):
    wheel = _build_wheel(tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"bellwether"}
    shipped = sorted(n.removeprefix("bellwether/cypher/") for n in names
                     if n.startswith("bellwether/cypher/") and n.endswith(".cypher"))
    assert shipped == sorted(p.relative_to(ROOT / "cypher").as_posix() for p in (ROOT / "cypher").rglob("*.cypher"))


@pytest.mark.slow
def test_wheel_in_a_clean_venv_runs_the_demo(tmp_path):
    """Install the wheel (dependencies from the index, pinned by constraints.txt) into a fresh venv,
    then run ``bellwether demo -n 2000`` from outside the checkout."""
    wheel = _build_wheel(tmp_path / "dist")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"), str(wheel)],
                               capture_output=True, text=True, timeout=1200, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr[-4000:]
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("LC_") or k == "LANG"})
    demo = subprocess.run([str(venv / "bin" / "bellwether"), "demo", "-n", "2000", "--out", str(tmp_path / "demo")],
                          capture_output=True, text=True, timeout=900, cwd=tmp_path, env=env)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-4000:]
    runs = list((tmp_path / "demo" / "workspace" / "runs").glob("*/report.html"))
    assert len(runs) == 1
    where = subprocess.run([str(python), "-c", "import bellwether.graph.cypher_library as c; print(c.CYPHER_DIR); "
                            "print(c.default_library().get('load.contacts').name)"],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert where.returncode == 0, where.stderr
    cypher_dir, name = where.stdout.split()
    assert Path(cypher_dir).parent == venv.joinpath("lib", f"python{sys.version_info[0]}.{sys.version_info[1]}",
                                                    "site-packages", "bellwether") and name == "load.contacts"
    for name in CODE_FOLDERS:  # nothing installed under the generic names
        generic = subprocess.run([str(python), "-c", f"import {name}"], capture_output=True, cwd=tmp_path, env=env)
        assert generic.returncode != 0, name
