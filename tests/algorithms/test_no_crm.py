"""The whole flow without a subscriber (CRM) extract, an empty graph, and how CLI errors read.

Without an extract nobody is on-net: every person is treated as a possible customer,
value and churn are "unknown" with the reason, lists that need churn are empty and
say why, and nothing a person reads shows ``nan``, ``None``, ``True`` or ``False``.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bellwether.algorithms.analysis import AnalysisError, analyze
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import ConfigError, Settings, load_settings
from bellwether.graph.core.workspace import Workspace, write_json
from bellwether.loaders.synthetic import generate_operator

KEY = "no-crm-test-key-0123456789"
ENV = {"BELLWETHER_PSEUDONYM_KEY": KEY}
PYTHON_WORDS = re.compile(r"\b(?:nan|NaN|None|True|False)\b")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``bellwether ARGS`` as a user would (through ``cli.app.main``, which prints errors)."""
    import os

    return subprocess.run([sys.executable, "-m", "bellwether.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=Path(__file__).resolve().parents[2])


def _invoke(*args: str):
    from bellwether.cli.app import app

    res = CliRunner().invoke(app, list(args), env=ENV)
    assert res.exit_code == 0, f"bellwether {' '.join(args)} failed: {res.output}\n{res.exception!r}"
    return res


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    """build (CDR files and do-not-contact, no --subscribers) -> analyze -> segments -> targets -> report."""
    root = tmp_path_factory.mktemp("no_crm")
    op = root / "op"
    generate_operator(op, subscribers=800, months=2, seed=4)
    ws = root / "ws"
    _invoke("build", str(op / "cdr"), "--do-not-contact", str(op / "do_not_contact.csv"), "-w", str(ws), "-q",
            "--max-reject-ratio", "0.2")
    out = {"analyze": _invoke("analyze", "-w", str(ws), "-q", "--k", "10").output}
    run = Workspace(ws).run_dirs()[-1]
    out["segments"] = _invoke("segments", "-w", str(ws)).output
    out["targets"] = _invoke("targets", "-w", str(ws), "--list", "all").output
    out["report"] = _invoke("report", "-w", str(ws)).output
    return ws, run, out


def _report_text(path: Path) -> str:
    """The words a reader sees in the report (markup, styles and tags removed)."""
    page = re.sub(r"<style.*?</style>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "\n", page))


def test_the_run_says_there_is_no_crm_and_still_picks_seeds(flow):
    ws, run, out = flow
    m = json.loads((run / "manifest.json").read_text())
    assert m["crm"] == "absent" and "no subscriber extract" in m["notes"][0]
    assert m["metrics"]["churn"]["skipped"].startswith("no subscriber extract")
    seeds = pd.read_parquet(run / "influence_seeds.parquet")
    assert len(seeds) == 10  # every person is a candidate
    subs = pd.read_parquet(run / "subscribers.parquet")
    assert not subs["on_net"].any() and subs["churn_risk"].isna().all()
    assert "no subscriber extract" in out["analyze"]


def test_segments_are_unknown_where_they_need_the_extract(flow):
    ws, run, out = flow
    seg = pd.read_parquet(run / "segments.parquet")
    assert set(seg["value_tier"]) <= {"unknown", "off_net"} and (seg["value_tier"] == "unknown").any()
    assert (seg["cluster"] >= 0).any()  # persons are clustered on usage and network features
    profiles = pd.read_csv(run / "segment_profiles.csv", keep_default_na=False)
    assert len(profiles) and (profiles["churn_rate"] == "").all() and (profiles["mean_arpu"] == "").all()
    assert not profiles["segment"].astype(str).str.contains(PYTHON_WORDS).any()
    info = json.loads((run / "segments.json").read_text())
    assert info["crm"] == "absent" and info["note"].startswith("no subscriber extract")
    assert "no subscriber extract" in out["segments"]


def test_lists_without_churn_say_why_and_the_viral_list_is_made(flow):
    ws, run, out = flow
    lists = run / "lists"
    for name in ("retention", "community", "acquisition"):
        side = json.loads((lists / f"{name}.csv.manifest.json").read_text())
        assert side["rows"] == 0 and side["empty_because"], name
        assert f"{name} list is empty: " in out["targets"]
    assert "no churn signal" in out["targets"]
    viral = pd.read_csv(lists / "viral.csv", keep_default_na=False)
    assert len(viral) > 0 and "empty_because" not in json.loads((lists / "viral.csv.manifest.json").read_text())
    for col in ("reasons", "segment"):
        assert not viral[col].str.contains(PYTHON_WORDS).any(), viral[col].tolist()


def test_report_says_what_is_unknown_and_never_prints_python_values(flow):
    ws, run, out = flow
    path = Path(out["report"].strip())
    assert path.exists()
    text = _report_text(path)
    assert "No subscriber extract loaded" in text and "our customers: no subscriber extract" in text
    assert "no churn signal" in text
    bad = [line.strip() for line in text.splitlines() if PYTHON_WORDS.search(line)]
    assert not bad, bad


def test_status_says_no_subscriber_extract(flow):
    ws, run, out = flow
    res = _invoke("status", "-w", str(ws))
    assert "no subscriber extract loaded" in res.output and "on-net unknown" in res.output


# --- an empty graph -------------------------------------------------------------------------


def _empty_graph_workspace(root: Path) -> Workspace:
    ws = Workspace(root).create()
    g = ContactGraph.from_edges(np.empty((0, 2), dtype=np.int64), n=3)
    g.subscribers.to_parquet(ws.subscribers_path, index=False)
    g.contacts.to_parquet(ws.contacts_path, index=False)
    write_json(ws.graph_info_path, {"as_of": "2024-03-01", "window_days": 30})
    return ws


def test_analyze_on_an_empty_graph_says_what_to_run(tmp_path):
    ws = _empty_graph_workspace(tmp_path / "ws")
    with pytest.raises(AnalysisError, match="no contacts .* `bellwether build"):
        analyze(ws, progress=False)
    res = _cli("analyze", "-w", str(ws.root), "-q")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "no contacts" in lines[0] and "bellwether build" in lines[0]


# --- CLI errors -----------------------------------------------------------------------------


def test_status_of_a_missing_workspace_fails_in_one_line(tmp_path):
    res = _cli("status", "-w", str(tmp_path / "nowhere"))
    assert res.returncode == 1 and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not exist" in lines[0] and "bellwether build" in lines[0]


def test_country_code_zero_fails_in_one_line_naming_the_option(tmp_path):
    f = tmp_path / "cdr.csv"
    f.write_text("caller,callee,start_time,duration,type\n13800000001,13800000002,2024-01-01 10:00:00,60,voice\n")
    res = _cli("build", str(f), "-w", str(tmp_path / "ws"), "--country-code", "0", env=ENV)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "--country-code" in lines[0] and "country_code" in lines[0] and "'0'" in lines[0]


def test_a_failed_build_prints_its_error_once(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("caller,callee,start_time,duration,type\n"
                 "13800000001,13800000002,2024-01-01 10:00:00,60,voice\n"
                 "13800000001,13800000002,yesterday,60,voice\n"
                 "13800000001,13800000003,tomorrow,60,voice\n")
    res = _cli("build", str(f), "-w", str(tmp_path / "ws"), env=ENV)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    err = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(err) == 1
    message = err[0].removeprefix("error:").strip()
    assert (res.stdout + res.stderr).count(message) == 1, res.stdout + res.stderr


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize("name, value, option", [
    ("country_code", "0", "--country-code"), ("country_code", "0086", "--country-code"),
    ("country_code", "1234", "--country-code"), ("country_code", "8a", "--country-code"),
    ("max_reject_ratio", 1.5, "--max-reject-ratio"), ("max_reject_ratio", -0.1, "--max-reject-ratio"),
    ("window_days", 0, "--window"), ("seed", -1, "--seed"),
])
def test_bad_settings_name_the_setting_option_and_value(name, value, option):
    with pytest.raises(ConfigError) as exc:
        Settings().with_overrides(**{name: value})
    text = str(exc.value)
    assert name in text and option in text and repr(value) in text and "\n" not in text


def test_settings_are_checked_when_loaded_from_the_environment(tmp_path):
    with pytest.raises(ConfigError, match="max_reject_ratio"):
        load_settings(environ={"BELLWETHER_MAX_REJECT_RATIO": "2", "BELLWETHER_CONFIG": str(tmp_path / "none.toml")})
    cfg = tmp_path / "bellwether.toml"
    cfg.write_text("country_code = 44\nwindow_days = 7\n")
    s = load_settings(cfg, environ={})
    assert s.country_code == "44" and s.window_days == 7
    assert Settings(country_code="+86").country_code == "86"
