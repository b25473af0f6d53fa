"""The do-not-contact list is fail-closed: every layout read, one bad entry refuses the file, new files merge."""

from __future__ import annotations

import gzip
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bellwether.cli.app import app
from bellwether.graph.core.workspace import Workspace
from bellwether.loaders.do_not_contact import read_do_not_contact, read_do_not_contact_counts, read_stored
from bellwether.loaders.errors import LoadError
from bellwether.loaders.load import LoadOptions, load
from bellwether.loaders.pseudonym import hmac_id

KEY = b"dnc-test-key-0123456789"
NUMBERS = [f"138{i:08d}" for i in range(1, 6)]
IDS = {hmac_id("+86" + n, KEY) for n in NUMBERS}


def dashed(n: str) -> str:
    return f"{n[:3]}-{n[3:7]}-{n[7:]}"


def spaced(n: str) -> str:
    return f"+86 {n[:3]} {n[3:7]} {n[7:]}"


LAYOUTS = {
    "plain one column": ("dnc.csv", "msisdn\n" + "\n".join(NUMBERS) + "\n"),
    "one column, no header": ("dnc.csv", "\n".join(NUMBERS) + "\n"),
    "dashes and spaces": ("dnc.csv", "msisdn\n" + "\n".join(dashed(n) if i % 2 else spaced(n) for i, n in enumerate(NUMBERS))),
    "semicolons": ("dnc.csv", "name;MSISDN;since\n" + "".join(f"x;{dashed(n)};2024-01-01\n" for n in NUMBERS)),
    "tabs around numbers": ("dnc.csv", "id,msisdn\n" + "".join(f"{i},\t{n} \n" for i, n in enumerate(NUMBERS))),
    "tab-delimited": ("dnc.csv", "msisdn\tnote\n" + "".join(f"{spaced(n)}\t\n" for n in NUMBERS)),
    "pipes, CRLF, BOM, blank lines": ("dnc.csv", "\ufeffmsisdn|note\r\n" + "".join(f"{n}|a\r\n\r\n" for n in NUMBERS)),
    "quoted with parentheses": ("dnc.csv", "msisdn,note\n" + "".join(f'"(0086) {n[:3]} {n[3:]}","a, b"\n' for n in NUMBERS)),
    "one column of tab-led numbers": ("dnc.csv", "".join(f"\t{n}\n" for n in NUMBERS)),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_gives_the_same_ids(tmp_path, layout):
    name, text = LAYOUTS[layout]
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    assert read_do_not_contact(p, KEY) == IDS


def test_gzip_and_parquet(tmp_path):
    gz = tmp_path / "dnc.csv.gz"
    gz.write_bytes(gzip.compress(("msisdn\n" + "\n".join(map(dashed, NUMBERS))).encode()))
    assert read_do_not_contact(gz, KEY) == IDS
    for col, values in (("msisdn", pa.array(map(spaced, NUMBERS))), ("number", pa.array([int(n) for n in NUMBERS]))):
        pq.write_table(pa.table({col: values}), tmp_path / "dnc.parquet")
        assert read_do_not_contact(tmp_path / "dnc.parquet", KEY) == IDS
    pq.write_table(pa.table({"msisdn": pa.array([float(n) for n in NUMBERS])}), tmp_path / "dnc.parquet")
    with pytest.raises(LoadError, match="never floating point"):
        read_do_not_contact(tmp_path / "dnc.parquet", KEY)


def test_one_unusable_entry_refuses_the_file_with_masked_lines(tmp_path):
    p = tmp_path / "dnc.csv"
    p.write_text("msisdn\n" + "\n".join([NUMBERS[0], "138-1234-567x", "", "  ", NUMBERS[1], "13912345678 ext. 4",
                                         "1381234", "call me", NUMBERS[2], "12", "+86 139 9999 8888 / 7777", "x"]) + "\n")
    with pytest.raises(LoadError) as e:
        read_do_not_contact(p, KEY)
    msg = str(e.value)
    assert msg.startswith(str(p)) and "6 of 10" in msg
    assert all(f"line {k}:" in msg for k in (3, 7, 9, 11, 12)) and "and 1 more" in msg  # the first five
    assert "digits with an optional leading '+'" in msg and "left unchanged" in msg
    assert not re.search(r"\d{5}", msg.replace(str(p), "")), msg  # values masked
    assert read_do_not_contact_counts(p, KEY) == ({hmac_id("+86" + n, KEY) for n in NUMBERS[:3]} | {hmac_id("+861381234", KEY)}, 6)


def test_a_file_without_a_number_column_or_entries_is_refused(tmp_path):
    p = tmp_path / "dnc.csv"
    p.write_text("name,phone\nann,13800000001\n")
    with pytest.raises(LoadError, match="no 'msisdn' column"):
        read_do_not_contact(p, KEY)
    p.write_text("note\tmsisdn\n0\t\t13800000001\n")  # a stray tab: three fields under a header of two
    with pytest.raises(LoadError, match="line 2: wrong number of fields"):
        read_do_not_contact(p, KEY)
    with pytest.raises(LoadError, match="does not exist"):
        read_do_not_contact(tmp_path / "nope.csv", KEY)


def test_opaque_ids_are_trimmed_tokens(tmp_path):
    p = tmp_path / "dnc.csv"
    p.write_text("id\n u-17 \n\tABC-9\n138-1234\n")
    assert read_do_not_contact(p, KEY, id_kind="opaque") == {hmac_id(t, KEY) for t in ("u-17", "ABC-9", "138-1234")}
    assert read_do_not_contact(p, None, id_kind="opaque") == {"u-17", "ABC-9", "138-1234"}


def _load(ws, path, **kw):
    return load(ws, [], do_not_contact=path, options=LoadOptions(key=KEY, **kw)).inputs[-1]


def test_new_files_merge_replace_only_when_asked_and_bad_files_change_nothing(tmp_path):
    ws = Workspace(tmp_path / "ws")
    first, second, bad = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "bad.csv"
    first.write_text("msisdn\n" + "\n".join(f"139{i:08d}" for i in range(400)) + "\n")
    second.write_text("msisdn;note\n" + "\n".join(f"{dashed(n)};x" for n in NUMBERS) + "\n")
    bad.write_text("msisdn\n" + "\n".join(map(dashed, NUMBERS)) + "\n138-1234-56x8\n")
    assert _load(ws, first).status == "loaded" and len(read_stored(ws.do_not_contact_path)) == 400
    r = _load(ws, bad)
    assert r.status == "failed" and "bad.csv" in r.message and "line 7" in r.message
    assert len(read_stored(ws.do_not_contact_path)) == 400  # unchanged
    assert _load(ws, second).status == "loaded" and len(read_stored(ws.do_not_contact_path)) == 405  # merged
    assert _load(ws, second).status == "skipped"
    assert _load(ws, second, replace_do_not_contact=True).status == "loaded"
    assert read_stored(ws.do_not_contact_path) == IDS
    entry = json.loads(ws.manifest_path.read_text())["do_not_contact"]
    assert entry["ids"] == 5 and [f["mode"] for f in entry["files"]] == ["merged", "merged", "replaced"]
    assert [f["ids"] for f in entry["files"]] == [400, 5, 5] and entry["files"][2]["removed"] == 400
    assert all(len(f["sha256"]) == 64 and f["loaded_at"] for f in entry["files"])


def test_build_fails_on_a_bad_do_not_contact_file_and_keeps_the_list(tmp_path):
    cdr = tmp_path / "cdr.csv"
    cdr.write_text("caller,callee,start_time,duration,type\n" + "".join(
        f"{NUMBERS[i % 5]},{NUMBERS[(i + 1) % 5]},2024-01-0{1 + i % 5} 10:00:00,30,voice\n" for i in range(20)))
    good, bad = tmp_path / "dnc.csv", tmp_path / "dnc2.csv"
    good.write_text("msisdn\n" + "\n".join(NUMBERS[:2]) + "\n")
    bad.write_text("msisdn\n" + dashed(NUMBERS[2]) + "\n138 1234 5678 9x\n")
    ws = tmp_path / "ws"
    env = {"BELLWETHER_PSEUDONYM_KEY": KEY.decode()}

    def build(*args):
        return CliRunner().invoke(app, ["build", str(cdr), "--workspace", str(ws), *args], env=env)

    assert build("--do-not-contact", str(good)).exit_code == 0
    r = build("--do-not-contact", str(bad))
    said = r.output + str(r.exception)  # the CLI's entry point prints the error as one line
    assert r.exit_code != 0 and "dnc2.csv" in said and "line 3" in said
    assert "138 1234 5678" not in said and "12345678" not in said
    assert read_stored(Workspace(ws).do_not_contact_path) == {hmac_id("+86" + n, KEY) for n in NUMBERS[:2]}
    assert build("--do-not-contact", str(good), "--replace-do-not-contact").exit_code == 0
