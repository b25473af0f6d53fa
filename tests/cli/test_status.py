"""`bellwether status --json` reports loads, rejects and the graph."""

import json

from typer.testing import CliRunner

from bellwether.cli.app import app
from bellwether.cli.status import workspace_status
from bellwether.graph.core.workspace import Workspace

KEY = "status-test-key-0123456789"


def test_status_json(tmp_path):
    f = tmp_path / "cdr.csv"
    f.write_text("caller,callee,start_time,duration,type\n"
                 "13800000001,13800000002,2024-01-01 10:00:00,60,voice\n"
                 "13800000001,13800000002,2024-01-01 10:00:00,60,voice\n"
                 "13800000002,13800000003,2024-01-02 23:30:00,0,sms\n"
                 "13800000002,13800000003,yesterday,0,sms\n"
                 "13800000003,95588,2024-01-02 12:00:00,30,voice\n")
    crm = tmp_path / "subs.csv"
    crm.write_text("msisdn,plan\n13800000001,gold\n13800000009,basic\n")
    ws = tmp_path / "ws"
    r = CliRunner().invoke(app, ["build", str(f), "--subscribers", str(crm), "-w", str(ws), "--max-reject-ratio", "0.5", "--json"],
                           env={"BELLWETHER_PSEUDONYM_KEY": KEY})
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["status", "-w", str(ws), "--json"])
    assert r.exit_code == 0
    s = json.loads(r.output)
    assert s == workspace_status(Workspace(ws))
    assert s["records"] == 3 and s["rows"] == 5 and s["rejected_rows"] == 1 and s["rejects"] == {"bad_time": 1}
    assert s["duplicates"] == 1 and s["pseudonymized"] is True
    g = s["graph"]
    assert g["as_of"] == "2024-01-03" and g["window_days"] == 30
    assert g["subscribers"] == 4 and g["on_net"] == 2 and g["off_net"] == 2 and g["contacts"] == 2 and g["service_numbers"] == 1
    assert [e["name"] for e in s["inputs"]] == ["cdr.csv"] and s["subscriber_extracts"][0]["records"] == 2
