"""Pseudonyms: HMAC-SHA256 in Python and in DuckDB agree; key resolution refuses clearly."""

import hashlib
import hmac

import duckdb
import pytest
from hypothesis import given, settings, strategies as st

from graph.settings import Settings
from loaders.errors import PseudonymKeyError
from loaders.pseudonym import hmac_id, hmac_sql, pseudonymize, resolve_key

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

    from loaders.kernels import hmac64
    from loaders.msisdn import from_code

    got = hmac64(np.array(codes, np.int64), key)
    assert [f"{int(k):016x}" for k in got] == [hmac_id(from_code(c), key) for c in codes]
