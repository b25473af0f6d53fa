"""What the graph build says and refuses: default as_of, window and CRM counts, empty graphs, staleness, publication, lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bellwether.graph.build import build_graph, default_as_of, ensure_graph, graph_is_current
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.workspace import Workspace, WorkspaceError, write_json
from bellwether.loaders.load import LoadOptions, load

ROOT = Path(__file__).resolve().parents[2]
KEY = "window-test-key-0123456789"


def manifest_input(last_record: str, days: dict[str, int] | None = None) -> dict:
    e = {"status": "loaded", "sha256": last_record, "records_file": "x.parquet", "first_record": "2026-01-01 00:00:00",
         "last_record": last_record}
    return e | ({"days": days} if days is not None else {})


def test_default_as_of_ignores_a_few_stray_records(tmp_path):
    ws = Workspace(tmp_path / "ws").create()
    days = {f"2026-01-{d:02d}": 1000 for d in range(1, 31)}
    stray = {"2026-01-31": 30, "2031-05-05": 3}  # 30 + 30 = 60 >= 5% of the median (1000) counts; 3 does not
    write_json(ws.manifest_path, {"inputs": {
        "a": manifest_input("2031-05-05 10:00:00", days | stray),
        "b": manifest_input("2026-01-31 08:00:00", {"2026-01-31": 30}),  # the histograms of two inputs add up
        "c": manifest_input("2026-01-20 23:00:00"),  # loaded before histograms: counts by last_record
        "d": {**manifest_input("2040-01-01 00:00:00"), "status": "failed"},
    }})
    assert default_as_of(ws) == date(2026, 2, 1)
    write_json(ws.manifest_path, {"inputs": {"a": manifest_input("2031-05-05 10:00:00", days | {"2031-05-05": 3, "2026-01-31": 49})}})
    assert default_as_of(ws) == date(2026, 1, 31)  # 49 < 50: the partial last day does not count
    write_json(ws.manifest_path, {"inputs": {"c": manifest_input("2026-01-20 23:00:00")}})
    assert default_as_of(ws) == date(2026, 1, 21)


def write_cdr(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("caller,callee,start_time,duration,type\n" + "".join(f"{a},{b},{t},60,voice\n" for a, b, t in rows))
    return path


@pytest.fixture()
def loaded(tmp_path):
    """Records before the window (one file wholly), in it, and at as_of; a CRM extract mostly of unknown numbers."""
    n = lambda i: f"+86138{i:08d}"  # noqa: E731
    old = write_cdr(tmp_path / "old.csv", [(n(1), n(2), f"2024-01-0{d} 10:00:00") for d in (1, 2, 3)])
    new = write_cdr(tmp_path / "new.csv", [(n(3), n(4), f"2024-01-{d} 10:00:00") for d in (15, 16, 17, 18, 19)]
                    + [(n(3), n(5), "2024-02-01 00:00:00"), (n(4), n(5), "2024-02-01 09:00:00"),
                       (n(6), n(7), "2024-01-05 12:00:00")])
    crm = tmp_path / "crm.csv"
    crm.write_text("msisdn,plan\n" + "".join(f"{n(i)},basic\n" for i in (3, 1, 8, 9)))  # 3 in the window, 1 before it
    return old, new, crm


def test_graph_json_counts_the_window_and_the_crm_and_the_cli_says_so(loaded, tmp_path):
    old, new, crm = loaded
    ws = tmp_path / "ws"
    env = {**os.environ, "BELLWETHER_PSEUDONYM_KEY": KEY}
    r = subprocess.run([sys.executable, "-m", "bellwether.cli", "build", str(old), str(new), "--subscribers", str(crm), "-w", str(ws),
                        "-q", "--as-of", "2024-02-01", "--window", "20"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    info = json.loads((ws / "graph" / "graph.json").read_text())
    assert (info["records_before_window"], info["records_in_window"], info["records_after_as_of"]) == (4, 5, 2)
    assert (info["crm_subscribers"], info["crm_without_contacts"]) == (4, 3)
    assert "window 2024-01-12 to 2024-02-01 (exclusive) left out 4 records before it and 2 on or after as_of" in r.stdout
    assert "warning: 3 of 4 CRM subscribers have no contact in the window" in r.stderr


def test_empty_graph_is_refused_and_the_previous_graph_kept(loaded, tmp_path):
    old, new, crm = loaded
    ws = Workspace(tmp_path / "ws")
    load(ws, [old, new], subscribers=crm, options=LoadOptions(key=KEY.encode()))
    build_graph(ws, as_of="2024-02-01", window_days=20, progress=False, load=False)
    published = ws.graph_files().dir
    with pytest.raises(WorkspaceError) as exc:
        build_graph(ws, as_of="2023-06-01", progress=False)
    msg = str(exc.value)
    assert "\n" not in msg and "[2023-05-02, 2023-06-01)" in msg and "0 before it, 11 on or after as_of" in msg
    assert "--as-of" in msg
    assert ws.graph_files().dir == published and ws.graph_info()["as_of"] == "2024-02-01"
    assert [p for p in ws.root.glob("graph-*")] == [published]


def test_ensure_graph_builds_only_when_inputs_or_parameters_change(loaded, tmp_path):
    old, new, crm = loaded
    ws = Workspace(tmp_path / "ws")
    load(ws, [old], options=LoadOptions(key=KEY.encode()))
    assert not graph_is_current(ws, as_of="2024-02-01")
    assert ensure_graph(ws, as_of="2024-02-01", window_days=40, progress=False)
    assert not ensure_graph(ws, as_of="2024-02-01", window_days=40, progress=False)
    assert ensure_graph(ws, as_of="2024-02-01", window_days=35, progress=False)  # another window
    load(ws, [new], options=LoadOptions(key=KEY.encode()))
    assert not graph_is_current(ws, as_of="2024-02-01", window_days=35)  # another input
    assert ensure_graph(ws, as_of="2024-02-01", window_days=35, progress=False)
    assert graph_is_current(ws, as_of="2024-02-01", window_days=35)


def test_legacy_graph_directory_is_migrated_and_save_publishes(loaded, tmp_path):
    old, new, _ = loaded
    ws = Workspace(tmp_path / "ws")
    load(ws, [old, new], options=LoadOptions(key=KEY.encode()))
    g = build_graph(ws, as_of="2024-02-01", progress=False)
    target = ws.graph_dir.resolve()
    ws.graph_dir.unlink()
    target.rename(ws.graph_dir)  # the layout of older workspaces: a real graph/ directory
    assert ContactGraph.load(ws).n_contacts == g.n_contacts
    build_graph(ws, as_of="2024-02-01", window_days=20, progress=False, load=False)
    assert ws.graph_dir.is_symlink() and len(list(ws.root.glob("graph-legacy-*"))) == 1  # kept for one more build
    g.save(ws)  # e.g. `bellwether neo4j pull`: published the same way, under the lock
    assert ws.graph_dir.is_symlink() and not list(ws.root.glob("graph-legacy-*"))
    assert ContactGraph.load(ws).n_contacts == g.n_contacts and not ws.service_numbers_path.exists()


def test_lock_is_reentrant_and_records_its_holder(tmp_path):
    ws = Workspace(tmp_path / "ws")
    with ws.lock("outer"):
        holder = json.loads(ws.lock_path.read_text())
        assert holder["pid"] == os.getpid() and holder["command"] == "outer"
        with ws.lock("inner"):  # the same process: no deadlock, no error
            pass
        code = ("import sys; from bellwether.graph.core.workspace import Workspace\n"
                f"with Workspace({str(ws.root)!r}).lock('other'): pass")
        r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
        assert r.returncode == 1 and f"in use by `outer` (pid {os.getpid()}" in r.stderr
    assert ws.lock_path.read_text() == ""
    with ws.lock("again"):  # released on exit
        pass
