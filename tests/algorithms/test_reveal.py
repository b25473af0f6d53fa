"""`bellwether targets --reveal`: from the pseudonyms of one list back to phone numbers, audited.

On a generated operator (generate -> build -> analyze -> targets): the numbers written
are the CRM numbers of the listed ids; a do-not-contact entry added after the export is
held back at reveal; the reveal refuses without the key, the CRM extract or a readable
do-not-contact list (one line, nothing written); the audit record says who revealed
what; and no raw number appears anywhere under the workspace afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bellwether.algorithms.targets.reveal import RevealRefused, read_audit, reveal
from bellwether.graph.exports import read_sidecar, read_table
from bellwether.graph.core.workspace import Workspace
from bellwether.loaders.do_not_contact import read_stored, write_do_not_contact
from bellwether.loaders.msisdn import normalize_msisdn
from bellwether.loaders.pseudonym import hmac_id, key_fingerprint
from bellwether.loaders.synthetic import generate_operator

KEY = "reveal-test-key-0123456789"
ENV = {"BELLWETHER_PSEUDONYM_KEY": KEY}
NO_KEY = {"BELLWETHER_PSEUDONYM_KEY": "", "BELLWETHER_PSEUDONYM_KEY_FILE": ""}


def _invoke(*args: str, env: dict[str, str] | None = None):
    from bellwether.cli.app import app

    res = CliRunner().invoke(app, list(args), env=env if env is not None else ENV)
    assert res.exit_code == 0, f"bellwether {' '.join(args)} failed: {res.output}\n{res.exception!r}"
    return res


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``bellwether ARGS`` as a user would (errors printed by ``cli.app.main``)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BELLWETHER_PSEUDONYM")}
    return subprocess.run([sys.executable, "-m", "bellwether.cli", *args], capture_output=True, text=True, env={**clean, **env},
                          cwd=Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def op(tmp_path_factory):
    """generate -> build (CRM + do-not-contact) -> analyze -> targets; returns (root, operator dir, workspace)."""
    root = tmp_path_factory.mktemp("reveal")
    gen = root / "op"
    generate_operator(gen, subscribers=1200, months=2, seed=5)
    ws = root / "ws"
    _invoke("build", str(gen / "cdr"), "--subscribers", str(gen / "subscribers.csv"), "--do-not-contact",
            str(gen / "do_not_contact.csv"), "-w", str(ws), "-q", "--max-reject-ratio", "0.2")
    _invoke("analyze", "-w", str(ws), "-q", "--k", "20")
    _invoke("targets", "-w", str(ws), "--list", "all", "--top", "100", "-q")
    return root, gen, Workspace(ws)


@pytest.fixture()
def own(op, tmp_path):
    """A copy of the operator's workspace that a test may change."""
    _, gen, ws = op
    copy = Workspace(tmp_path / "ws")
    shutil.copytree(ws.root, copy.root, symlinks=True)
    return gen, copy


def _crm_numbers(gen: Path) -> dict[str, str]:
    """Pseudonym -> E.164 number of every CRM row, computed here independently of the reveal."""
    crm = pd.read_csv(gen / "subscribers.csv", dtype=str)
    out = {}
    for raw in crm["msisdn"]:
        norm = normalize_msisdn(raw, "86")
        out[hmac_id(norm, KEY.encode())] = norm
    return out


def _list(ws: Workspace, name: str) -> pd.DataFrame:
    return read_table(ws.run_dirs()[-1] / "lists" / f"{name}.csv")


def test_reveal_writes_the_crm_numbers_of_the_listed_ids(op, tmp_path):
    root, gen, ws = op
    out = tmp_path / "campaign.csv"
    res = _invoke("targets", "-w", str(ws.root), "--reveal", "--list", "retention", "--subscribers",
                  str(gen / "subscribers.csv"), "--out", str(out))
    assert "written to" in res.output and "Audited" in res.output
    listed = _list(ws, "retention")
    written = pd.read_csv(out, dtype={"msisdn": str})
    assert len(listed) > 20 and len(written) == len(listed)  # every listed customer is in the extract
    assert "id" not in written.columns and list(written.columns)[:3] == ["list", "rank", "msisdn"]
    numbers = _crm_numbers(gen)
    by_rank = listed.set_index("rank")["id"]
    assert [numbers[by_rank[r]] for r in written["rank"]] == written["msisdn"].tolist()
    assert written["msisdn"].str.fullmatch(r"\+86\d{11}").all()
    assert written["reasons"].tolist() == listed["reasons"].tolist()
    assert (out.stat().st_mode & 0o077) == 0  # readable by its owner only


def test_a_do_not_contact_entry_added_after_export_is_held_back(own, tmp_path):
    gen, ws = own
    listed = _list(ws, "retention")
    numbers = _crm_numbers(gen)
    late_ids = listed["id"].iloc[[0, 3]].tolist()  # added to the stored list after the export
    write_do_not_contact(read_stored(ws.do_not_contact_path) | set(late_ids), ws.do_not_contact_path)
    late_file = tmp_path / "dnc_today.csv"  # and one more given at reveal time, as a raw number
    late_file.write_text("msisdn\n" + numbers[listed["id"].iloc[5]].replace("+86", "") + "\n")
    res = reveal(ws, "retention", gen / "subscribers.csv", tmp_path / "c.csv", key=KEY.encode(),
                 do_not_contact=late_file)
    written = pd.read_csv(res.path, dtype={"msisdn": str})
    held = {numbers[i] for i in [*late_ids, listed["id"].iloc[5]]}
    assert not held & set(written["msisdn"])
    assert len(written) == len(listed) - 3
    assert res.record["held_back_do_not_contact"] == 3 and res.record["do_not_contact"]["file_ids"] == 1


def test_a_number_the_extract_marks_churned_is_held_back(own, tmp_path):
    gen, ws = own
    listed = _list(ws, "retention")
    numbers = _crm_numbers(gen)
    crm = pd.read_csv(gen / "subscribers.csv", dtype=str)
    gone = numbers[listed["id"].iloc[1]]
    crm.loc[crm["msisdn"].map(lambda x: normalize_msisdn(x, "86")) == gone, "status"] = "churned"
    crm.to_csv(tmp_path / "crm_today.csv", index=False)
    res = reveal(ws, "retention", tmp_path / "crm_today.csv", tmp_path / "c.csv", key=KEY.encode())
    assert res.record["held_back_churned"] == 1
    assert gone not in set(pd.read_csv(res.path, dtype={"msisdn": str})["msisdn"])


def test_acquisition_prospects_have_no_crm_number(op, tmp_path):
    _, gen, ws = op
    res = reveal(ws, "acquisition", gen / "subscribers.csv", tmp_path / "a.csv", key=KEY.encode())
    listed = _list(ws, "acquisition")
    assert len(listed) > 0 and res.record["rows_written"] == 0 and res.record["no_crm_number"] == len(listed)


def _nothing_written(ws: Workspace, out: Path, before: int) -> None:
    assert not out.exists() and len(read_audit(ws)) == before
    assert not list(out.parent.glob(f".{out.name}*"))


def test_refusals_say_what_is_missing_and_write_nothing(own, tmp_path):
    gen, ws = own
    out = tmp_path / "c.csv"
    crm = gen / "subscribers.csv"
    before = len(read_audit(ws))
    cases = [
        (dict(subscribers=crm, key=None), ["pseudonymisation key"]),
        (dict(subscribers=crm, key=b"another-key-0123456789"), ["not the one the workspace was loaded with"]),
        (dict(subscribers=None, key=KEY.encode()), ["subscriber (CRM) extract"]),
        (dict(subscribers=tmp_path / "nope.csv", key=KEY.encode()), ["nope.csv does not exist"]),
        (dict(subscribers=None, key=None), ["pseudonymisation key", "subscriber (CRM) extract"]),
    ]
    for kwargs, words in cases:
        with pytest.raises(RevealRefused) as exc:
            reveal(ws, "retention", kwargs["subscribers"], out, key=kwargs["key"])
        text = str(exc.value)
        assert "\n" not in text and text.startswith("cannot reveal: missing ") and "Nothing was written" in text
        assert all(w in text for w in words), text
        _nothing_written(ws, out, before)
    with pytest.raises(RevealRefused, match="outside the workspace"):
        reveal(ws, "retention", crm, ws.root / "campaign.csv", key=KEY.encode())
    assert not (ws.root / "campaign.csv").exists()
    with pytest.raises(RevealRefused, match="no exported 'community' list|has no exported"):
        shutil.rmtree(ws.run_dirs()[-1] / "lists")
        reveal(ws, "community", crm, out, key=KEY.encode())
    _nothing_written(ws, out, before)


@pytest.mark.parametrize("damage", ["unreadable", "never_loaded"])
def test_refused_without_a_readable_do_not_contact_list(own, tmp_path, damage):
    gen, ws = own
    out = tmp_path / "c.csv"
    before = len(read_audit(ws))
    if damage == "unreadable":
        ws.do_not_contact_path.write_bytes(b"not parquet")
        words = "readable do-not-contact list"
    else:  # a workspace that never loaded a list
        ws.do_not_contact_path.unlink()
        m = json.loads(ws.manifest_path.read_text())
        m.pop("do_not_contact", None)
        ws.manifest_path.write_text(json.dumps(m))
        words = "none was ever loaded"
    with pytest.raises(RevealRefused, match=words):
        reveal(ws, "retention", gen / "subscribers.csv", out, key=KEY.encode())
    _nothing_written(ws, out, before)
    bad = tmp_path / "bad_dnc.csv"
    bad.write_text("msisdn\n12ab\n")
    with pytest.raises(RevealRefused, match="readable do-not-contact file"):
        reveal(ws, "retention", gen / "subscribers.csv", out, key=KEY.encode(), do_not_contact=bad)
    _nothing_written(ws, out, before)
    if damage == "never_loaded":  # a do-not-contact file given at reveal time is enough
        empty = tmp_path / "dnc.csv"
        empty.write_text("msisdn\n")
        assert reveal(ws, "retention", gen / "subscribers.csv", out, key=KEY.encode(), do_not_contact=empty).record["rows_written"]


def test_the_cli_refuses_in_one_line(op, tmp_path):
    _, gen, ws = op
    out = tmp_path / "c.csv"
    res = _cli("targets", "-w", str(ws.root), "--reveal", "--list", "retention", "--out", str(out), env=NO_KEY)
    assert res.returncode == 1 and "Traceback" not in res.stderr and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "pseudonymisation key" in lines[0] and "subscriber (CRM) extract" in lines[0]
    assert not out.exists()
    res = _cli("targets", "-w", str(ws.root), "--reveal", "--subscribers", str(gen / "subscribers.csv"), "--out",
               str(out), env=ENV)
    assert res.returncode == 1 and "name one list" in res.stderr and not out.exists()


def test_the_audit_record_says_who_revealed_what(own, tmp_path):
    gen, ws = own
    out = tmp_path / "campaign.csv"
    before = len(read_audit(ws))
    res = reveal(ws, "retention", gen / "subscribers.csv", out, key=KEY.encode())
    log = read_audit(ws)
    assert len(log) == before + 1 and log[-1] == json.loads(json.dumps(res.record, default=str))
    r = log[-1]
    side = read_sidecar(ws.run_dirs()[-1] / "lists" / "retention.csv")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["at"])
    assert r["user"] and r["host"]
    assert r["run"] == ws.run_dirs()[-1].name and r["list"] == "retention"
    assert r["list_version"] == side["list_version"] and r["list_rows"] == side["rows"]
    assert r["output"] == str(out.resolve()) and r["rows_written"] == len(pd.read_csv(out))
    numbers = _crm_numbers(gen)
    revealed = sorted(i for i in _list(ws, "retention")["id"] if i in numbers)
    assert r["ids_sha256"] == hashlib.sha256("\n".join(revealed).encode()).hexdigest()
    assert r["held_back_do_not_contact"] == 0 and r["no_crm_number"] == 0 and r["held_back_churned"] == 0
    assert r["subscriber_extract"]["rows"] == len(numbers) and r["key_fingerprint"] == key_fingerprint(KEY.encode())
    assert r["do_not_contact"]["stored_ids"] == len(read_stored(ws.do_not_contact_path))
    # bellwether status shows the last reveals
    s = _invoke("status", "-w", str(ws.root), "--json")
    status = json.loads(s.output)
    assert status["reveals_total"] == len(log) and status["reveals"][-1]["ids_sha256"] == r["ids_sha256"]
    text = _invoke("status", "-w", str(ws.root)).output
    assert "phone numbers revealed" in text and side["list_version"] in text and "retention list" in text


def test_no_raw_number_is_left_in_the_workspace(op, tmp_path):
    root, gen, ws = op
    for name in ("retention", "viral", "acquisition"):
        reveal(ws, name, gen / "subscribers.csv", tmp_path / f"{name}.csv", key=KEY.encode())
        _invoke("targets", "-w", str(ws.root), "--reveal", "--list", name, "--subscribers",
                str(gen / "subscribers.csv"), "--out", str(tmp_path / f"cli_{name}.csv"))
    assert sum(len(pd.read_csv(tmp_path / f"{n}.csv")) for n in ("retention", "viral")) > 0
    crm = pd.read_csv(gen / "subscribers.csv", dtype=str)["msisdn"]
    dnc = pd.read_csv(gen / "do_not_contact.csv", dtype=str)["msisdn"]
    raw = {str(x).strip() for x in pd.concat([crm, dnc])}
    e164 = {normalize_msisdn(x, "86") for x in raw}
    national = {x.removeprefix("+86") for x in e164}
    numbers = {d for d in raw | national | {x.lstrip("+") for x in e164} if d and len(d) >= 7}
    found: list[tuple[str, str]] = []
    files = [p for p in ws.root.rglob("*") if p.is_file()]
    assert any(p.name == "reveals.jsonl" for p in files)
    for p in files:
        data = p.read_bytes()
        hits = {m.decode() for m in re.findall(rb"\d{7,}", data)} & numbers
        found += [(str(p.relative_to(ws.root)), h) for h in hits]
        if p.suffix == ".parquet":  # compressed pages: look at the decoded text columns too
            try:
                table = pq.read_table(p)
            except (OSError, pa.ArrowException):
                continue
            for col in table.column_names:
                if pa.types.is_string(table.schema.field(col).type) or pa.types.is_large_string(table.schema.field(col).type):
                    values = {str(v) for v in table.column(col).to_pylist() if v is not None}
                    text = {d for v in values for d in re.findall(r"\d{7,}", v)}
                    found += [(f"{p.relative_to(ws.root)}:{col}", h) for h in (text | values) & (numbers | e164)]
    assert not found, found[:10]
