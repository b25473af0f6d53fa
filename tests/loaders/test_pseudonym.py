"""Pseudonyms: HMAC-SHA256 in Python and in DuckDB agree; key resolution refuses clearly."""

import hashlib
import hmac
import re

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

from bellwether.graph.core.settings import Settings
from bellwether.loaders.errors import PseudonymKeyError
from bellwether.loaders.pseudonym import hmac_id, hmac_sql, pseudonymize, resolve_key

KEY = b"test-key-0123456789"


def test_id_is_truncated_hmac_sha256_of_e164():
    assert hmac_id("+8613812345678", KEY) == hmac.new(KEY, b"+8613812345678", hashlib.sha256).hexdigest()[:16]


def test_pseudonymize_normalises_first():
    a, b, c, d = pseudonymize(["13812345678", "008613812345678", "10086", "x1"], KEY)
    assert a == b == hmac_id("+8613812345678", KEY)
    assert c == hmac_id("10086", KEY) and d is None


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(alphabet="+0123456789", min_size=1, max_size=16), min_size=1, max_size=20),
       st.binary(min_size=16, max_size=100))
def test_sql_hmac_matches_python(texts, key):
    con = duckdb.connect()
    got = [r[0] for r in con.execute(f"SELECT {hmac_sql('x', key)} FROM (SELECT unnest(?::VARCHAR[]) AS x)", [texts]).fetchall()]
    assert got == [hmac_id(t, key) for t in texts]


def test_no_key_refuses_and_says_how():
    with pytest.raises(PseudonymKeyError) as e:
        resolve_key(Settings())
    msg = str(e.value)
    assert "BELLWETHER_PSEUDONYM_KEY" in msg and "--key-file" in msg and "--no-pseudonymize" in msg


def test_key_sources(tmp_path):
    f = tmp_path / "key.txt"
    f.write_text("file-key-0123456789abcdef\n")
    assert resolve_key(Settings(pseudonym_key_file=str(f))) == b"file-key-0123456789abcdef"
    assert resolve_key(Settings(pseudonym_key="env-key-0123456789", pseudonym_key_file=str(f))) == b"env-key-0123456789"
    with pytest.raises(PseudonymKeyError, match="at least 16"):
        resolve_key(Settings(pseudonym_key="short"))
    with pytest.raises(PseudonymKeyError, match="Cannot read"):
        resolve_key(Settings(pseudonym_key_file=str(tmp_path / "missing")))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(st.integers(10**7, 10**15 - 1), st.integers(3, 6).flatmap(
    lambda k: st.integers(0, 10**k - 1).map(lambda v: -(10**k + v)))), min_size=1, max_size=30),
       st.binary(min_size=16, max_size=100))
def test_compiled_hmac_matches_python(codes, key):
    """The loader's compiled HMAC (two SHA-256 compressions per number from the key's precomputed states) equals hmac_id."""
    import numpy as np

    from bellwether.loaders.kernels import hmac64
    from bellwether.loaders.msisdn import from_code

    got = hmac64(np.array(codes, np.int64), key)
    assert [f"{int(k):016x}" for k in got] == [hmac_id(from_code(c), key) for c in codes]


# --- masking: nothing raw in the quarantine -------------------------------------------------

MASK_CASES = [
    ("13812345678,10086,2026-01-05 10:00:00,5,voice", "*********78,***86,2026-01-05 10:00:00,5,voice"),
    ("+86 138-1234-5678", "+** ***-****-**78"),
    ("(010) 1234.5678 at 2026/01/05 23:59", "(***) ****.**78 at 2026/01/05 23:59"),
    ("0086 (138) 1234 5678", "**** (***) **** **78"),
    ("1234", "1234"),
    ("12-34-5", "**-*4-5"),
    ("１３８１２３４５６７８", "*********７８"),
]


@pytest.mark.parametrize("text,masked", MASK_CASES)
def test_mask_text_masks_numbers_with_separators_and_keeps_dates(text, masked):
    from bellwether.loaders.errors import mask_text

    assert mask_text(text) == masked


_mask_texts = st.one_of(
    st.text(alphabet="0123456789 ().+/-:,ax\t\x01\x02", max_size=40),
    st.text(max_size=30),
    st.lists(st.sampled_from(["2026-01-05", "2026/13/05", "10:00:00", "23:59", "24:00", "138-1234-5678", "+86 ", "(010) ",
                              "1234.5678", ",", " ", "x", "12", "１２３４５", "\x01", "19991231", "2012-12-12345"]),
             max_size=12).map("".join),
    st.text(alphabet="0123456789-x ", min_size=200, max_size=400),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), _mask_texts), min_size=1, max_size=20))
def test_sql_masking_matches_python(values):
    from bellwether.loaders.errors import mask_number, mask_number_sql, mask_text, mask_text_sql, mask_value, mask_value_sql

    con = duckdb.connect()
    rows = con.execute(f"SELECT {mask_text_sql('v')}, {mask_number_sql('v')}, {mask_value_sql('v')}, "
                       f"{mask_value_sql('v', True)} FROM (SELECT unnest(?::VARCHAR[]) AS v)", [values]).fetchall()
    assert rows == [(mask_text(v), mask_number(v), mask_value(v), mask_value(v, True)) for v in values]


RAW = ["138-2468-1357", "+86 139 8642 9753", "(0086) 135.7913.2468", "0086 137 1593 5782", "136 9517 5384",
       "+86 (138) 7531-9642", "139.4826.3715", "135-8264-9173", "137 3692 5814", "(010) 6284 7395"]


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _strings(value):
    """Every string and number inside a JSON value, hex digests left out (hashes and pseudonyms, not numbers)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif value is not None and not re.fullmatch(r"[0-9a-f]{16}|[0-9a-f]{64}", str(value)):
        yield str(value)


def test_no_raw_number_in_any_form_reaches_the_workspace(tmp_path):
    """Bad rows hold numbers with separators in every column, one value of 1 MB: the workspace holds none of them."""
    import json

    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from bellwether.cli.app import app

    good = [f"{RAW[i]},{RAW[(i + 3) % 10]},2026-01-0{1 + i % 9} 1{i % 10}:00:00,{60 + i},voice" for i in range(10)] * 20
    bad = [
        "138-2468-135x,139 8642 9753,2026-01-05 10:00:00,5,voice",  # bad number with separators
        "+86 139 8642 9753,(0086) 135.7913.2468,+86 137-1593-5782,5,voice",  # a number in the time column
        "139.4826.3715,135-8264-9173,2026-01-05 10:00:00,(010) 6284 7395,voice",  # ... in the duration column
        "137 3692 5814,136 9517 5384,2026-01-05 10:00:00,5,+86 (138) 7531-9642",  # ... in the type column
        "138-2468-1357,138 2468 1357,2026-01-05 10:00:00,5,voice",  # self contact written two ways
        "136 9517 5384,,2026-01-05 10:00:00,5,voice",  # missing callee
        "135.7913.2468,139 8642 9753,2026-01-05 10:00:00",  # wrong field count
        "135.7913.2468,139 8642 9753,2026-01-05 10:00:00,5,voice,137 1593 5782",  # wrong field count
        '"137 3692 5814,139.4826.3715,2026-01-05 10:00:00,5,voice',  # unbalanced quote
        "136 9517 5384,139.4826.3715,2026-01-05 10:00:00,5," + "x 138-2468-1357 " * 70_000,  # a 1 MB type value
    ]
    cdr = tmp_path / "in" / "cdr.csv"
    cdr.parent.mkdir()
    cdr.write_text("caller,callee,start_time,duration,type\n" + "\n".join(good + bad) + "\n")
    crm = tmp_path / "in" / "crm.csv"
    crm.write_text("msisdn,plan,arpu,tenure_months,region,status,churn_date\n" + "".join(
        f"{RAW[i]},gold,{i}.5,{i},north,active,\n" for i in range(8)) + "138-2468-13x7,gold,(010) 6284 7395,1,n,active,\n"
        "135-8264-9173,gold,5,136 9517 5384,n,active,137-1593-5782\n")
    dnc = tmp_path / "in" / "dnc.csv"
    dnc.write_text("msisdn\n" + RAW[0] + "\n" + RAW[1] + "\n")
    ws = tmp_path / "ws"
    r = CliRunner().invoke(app, ["build", str(cdr), "--subscribers", str(crm), "--do-not-contact", str(dnc),
                                 "--workspace", str(ws), "--max-reject-ratio", "0.5"], env={"BELLWETHER_PSEUDONYM_KEY": KEY.decode()})
    assert r.exit_code == 0, r.output + str(r.exception)
    assert list((ws / "quarantine").glob("*.parquet"))
    grams = {d[i:i + 5] for raw in RAW for d in (_digits(raw),) for i in range(len(d) - 4)}
    found = []
    texts = [r.output]
    for p in ws.rglob("*"):
        if not p.is_file():
            continue
        if p.suffix == ".parquet":
            t = pq.read_table(p)
            texts += t.column_names
            for col in t.columns:
                if col.type in (pa.string(), pa.large_string()):
                    texts += [v for v in col.to_pylist() if v and not re.fullmatch(r"[0-9a-f]{16}", v)]
        elif p.suffix == ".json":
            texts += list(_strings(json.loads(p.read_text())))
        else:
            texts.append(p.read_bytes().decode("utf-8", "replace"))
    for text in texts:
        joined = re.sub(r"[ ().+/-]", "", text)  # a number written with separators is found too
        found += [g for g in grams if g in joined]
    assert not found, sorted(set(found))
    q = pq.read_table(list((ws / "quarantine").glob("*.parquet"))).to_pandas()
    assert q["value"].str.len().max() <= 65 and q["value"].str.endswith("…").any()
    assert any("2026-01-05 10:00:00" in v for v in q["value"])  # dates and times stay readable
