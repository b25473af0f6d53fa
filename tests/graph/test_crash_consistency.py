"""`bellwether build` survives kill -9 at any point and lets one writer in at a time.

Each crash test starts from a workspace holding the graph of month 1, runs the build
of months 1-2 with ``BELLWETHER_CRASH_AT`` set (the process dies at that write
boundary, :mod:`bellwether.graph.core.faults`), checks the published graph is still all of the old
graph or all of the new one, re-runs the build, and checks the graph tables equal
those of a clean build in a separate workspace.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from bellwether.graph.core.faults import ENV
from bellwether.graph.core.workspace import Workspace, read_json

ROOT = Path(__file__).resolve().parents[2]
KEY = "crash-test-key-0123456789"
BEFORE_SWAP = ["graph.subscribers_written", "graph.contacts_written", "graph.service_numbers_written", "graph.before_swap",
               "load.records_written", "load.manifest_written", "graph.legacy_moved"]
AFTER_SWAP = ["graph.after_swap", "graph.before_cleanup"]


def cli(*args: str, crash: str | None = None, popen: bool = False):
    """Run `bellwether ARGS` in a fresh interpreter (optionally dying at crash point ``crash``)."""
    env = {**os.environ, "BELLWETHER_PSEUDONYM_KEY": KEY}
    env.pop(ENV, None)
    if crash:
        env[ENV] = crash
    cmd = [sys.executable, "-m", "bellwether.cli", *args]
    if popen:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


def build(ws: Path, data: Path, *extra: str, cdr: Path | None = None, **kw):
    """`bellwether build` of ``cdr`` (default: every month) and the subscriber extract into ``ws``."""
    return cli("build", str(cdr or data / "cdr"), "--subscribers", str(data / "subscribers.csv"), "-w", str(ws), "-q",
               *extra, **kw)


def tables(ws: Path) -> dict[str, pd.DataFrame]:
    """The published graph tables, rows sorted, read from one resolved graph directory."""
    files = Workspace(ws).graph_files()
    out = {}
    for name in ("subscribers", "contacts", "service_numbers"):
        df = pd.read_parquet(getattr(files, f"{name}_path"))
        out[name] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


def assert_same(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)


def graph_dirs(ws: Path) -> list[Path]:
    return sorted(p for p in ws.glob("graph-*") if p.is_dir())


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data")
    r = cli("generate", str(out), "--subscribers", "300", "--months", "2", "--seed", "5", "-q")
    assert r.returncode == 0, r.stderr
    assert len(list((out / "cdr").glob("*.csv"))) == 2
    return out


@pytest.fixture(scope="module")
def month1(data, tmp_path_factory) -> Path:
    """A workspace with the graph of the first month only."""
    ws = tmp_path_factory.mktemp("month1") / "ws"
    r = build(ws, data, cdr=sorted((data / "cdr").glob("*.csv"))[0])
    assert r.returncode == 0, r.stderr
    return ws


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory) -> Path:
    """A workspace built cleanly from both months."""
    ws = tmp_path_factory.mktemp("reference") / "ws"
    r = build(ws, data)
    assert r.returncode == 0, r.stderr
    return ws


def to_legacy(ws: Path) -> None:
    """Turn the symlinked graph into the real ``graph/`` directory of older workspaces."""
    target = (ws / "graph").resolve()
    (ws / "graph").unlink()
    target.rename(ws / "graph")


@pytest.mark.parametrize("point", BEFORE_SWAP + AFTER_SWAP)
def test_rerun_after_kill_at_a_write_boundary_gives_the_clean_graph(point, data, month1, reference, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(month1, ws, symlinks=True)
    if point == "graph.legacy_moved":
        to_legacy(ws)
    r = build(ws, data, crash=point)
    assert r.returncode == 137, (r.returncode, r.stderr)
    if point == "graph.legacy_moved":
        assert not (ws / "graph").exists()  # killed between moving the old directory and linking it
    else:  # all of the old graph or all of the new one, never a mix
        assert_same(tables(ws), tables(month1 if point in BEFORE_SWAP else reference))
    r = build(ws, data)
    assert r.returncode == 0, r.stderr
    assert_same(tables(ws), tables(reference))
    info = Workspace(ws).graph_info()
    assert info["source_digest"] == read_json(reference / "graph" / "graph.json")["source_digest"]
    assert (ws / "graph").is_symlink()
    dirs = graph_dirs(ws)  # the published graph, at most the one it replaced, no partial leftover
    assert len(dirs) <= 2 and all((d / "graph.json").exists() for d in dirs), dirs
    assert (ws / "graph").resolve() in dirs


def test_rerun_without_change_skips_the_build(data, reference, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(reference, ws, symlinks=True)
    published = (ws / "graph").resolve()
    r = build(ws, data)
    assert r.returncode == 0, r.stderr
    assert (ws / "graph").resolve() == published
    r = build(ws, data, "--window", "20")  # other parameters: another graph
    assert r.returncode == 0, r.stderr
    assert (ws / "graph").resolve() != published and Workspace(ws).graph_info()["window_days"] == 20


def test_second_build_fails_at_once_naming_the_holder(data, reference, tmp_path):
    ws = tmp_path / "ws"
    with Workspace(ws).lock("bellwether build"):
        r = build(ws, data)
        assert r.returncode == 1
        message = r.stderr.strip()
        assert "\n" not in message and f"pid {os.getpid()}" in message and "`bellwether build`" in message
        assert "wait for it to finish" in message
        assert not (ws / "manifest.json").exists()  # nothing was loaded
    r = build(ws, data)
    assert r.returncode == 0, r.stderr
    assert_same(tables(ws), tables(reference))


def test_two_builds_at_once_lose_no_data(data, reference, tmp_path):
    ws = tmp_path / "ws"
    months = sorted((data / "cdr").glob("*.csv"))
    procs = [cli("build", str(m), "--subscribers", str(data / "subscribers.csv"), "-w", str(ws), "-q", popen=True)
             for m in months]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    for month, (code, err) in zip(months, results):
        if code:  # the one that found the workspace busy: told so, and it can simply be run again
            assert code == 1 and "is in use by `bellwether build`" in err, err
            r = cli("build", str(month), "--subscribers", str(data / "subscribers.csv"), "-w", str(ws), "-q")
            assert r.returncode == 0, r.stderr
    assert_same(tables(ws), tables(reference))


@pytest.mark.slow
def test_random_kills_converge_to_the_clean_graph(data, month1, reference, tmp_path):
    """kill -9 at random moments of several builds; every state is the old or the new graph; a re-run converges."""
    rng = random.Random(20240601)
    old, new = tables(month1), tables(reference)
    for attempt in range(4):
        ws = tmp_path / f"ws{attempt}"
        shutil.copytree(month1, ws, symlinks=True)
        for _ in range(3):
            p = build(ws, data, popen=True)
            time.sleep(rng.uniform(0.3, 2.5))
            os.kill(p.pid, signal.SIGKILL)
            p.communicate()
            now = tables(ws)
            same_as_new = all(now[k].equals(new[k]) for k in new)
            if not same_as_new:
                assert_same(now, old)
        r = build(ws, data)
        assert r.returncode == 0, r.stderr
        assert_same(tables(ws), new)
        assert len(graph_dirs(ws)) <= 2
