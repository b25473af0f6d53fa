"""MSISDN normalisation: examples, idempotence, and the SQL expression and the compiled kernel agreeing with the Python function."""

import duckdb
import pytest
from hypothesis import given, settings, strategies as st

from bellwether.loaders.msisdn import WHITESPACE, trim_sql, from_code, is_short_code, normalize_msisdn, to_code


@pytest.mark.parametrize("raw", ["13812345678", "+8613812345678", "008613812345678", "8613812345678", " 13812345678 ",
                                 "138-1234-5678", "138 1234 5678", "+86 138-1234-5678", "(0086) 138 1234-5678",
                                 "\t13812345678", "13812345678\r\n", "\x0b\x0c 138 1234 5678\t", "+(86) 138 1234 5678"])
def test_mixed_formats_give_one_e164(raw):
    assert normalize_msisdn(raw, "86") == "+8613812345678"


@pytest.mark.parametrize("raw,expected", [
    ("10086", "10086"), ("95588", "95588"), ("123", "123"), ("01012345678", "+861012345678"),
    ("+14155550123", "+14155550123"), ("", None), (None, None), ("12", None), ("138-1234-5678", "+8613812345678"),
    ("+0123456789", None), ("13812345678.0", None), ("138.1234.5678", None), ("abc", None), ("+", None), ("1" * 16, None), ("++8613812345678", None),
    ("(010) 1234 5678", "+861012345678"), ("100-86", "10086"), ("1-2", None), ("-", None), ("+-", None), ("()", None),
    ("138\t1234\t5678", None), ("138/1234/5678", None), ("138_1234_5678", None), ("1+3812345678", None),
    ("-+8613812345678", None), ("138-1234-567x", None), ("1-3-8-1-2-3-4-5-6-7-8-9-0-1-2-3-4", None), ("\t \r\n", None),
])
def test_examples(raw, expected):
    assert normalize_msisdn(raw, "86") == expected


def test_short_codes_are_flagged():
    assert is_short_code(normalize_msisdn("10086"))
    assert not is_short_code(normalize_msisdn("13812345678"))


def _insert(text: str, marks: list[tuple[int, str]]) -> str:
    """``text`` with each ``(position, mark)`` inserted (positions taken modulo the length)."""
    for pos, mark in marks:
        k = pos % (len(text) + 1)
        text = text[:k] + mark + text[k:]
    return text


_prefixed = st.builds(lambda p, n: p + n, st.sampled_from(["", "+86", "0086", "86", "0", "+", "00"]),
                      st.integers(10**9, 10**11).map(str))
_marks = st.lists(st.tuples(st.integers(0, 20), st.sampled_from([" ", "-", ".", "(", ")", " - ", "/", "\t", "+", "x"])),
                  max_size=4)
_space = st.text(alphabet=WHITESPACE, max_size=3)
numbers = st.one_of(
    st.text(alphabet="+0123456789 ", max_size=18),
    st.text(alphabet="+0123456789 -.()\t\r\n\x0b\x0c/_", max_size=20),
    _prefixed,
    st.builds(lambda a, n, m, z: a + _insert(n, m) + z, _space, _prefixed, _marks, _space),
    st.builds(lambda n, m: _insert(n, m), st.integers(0, 10**6).map(str), _marks),
    st.text(max_size=6),
)


@given(numbers)
def test_idempotent_and_code_round_trip(raw):
    n = normalize_msisdn(raw, "86")
    if n is not None:
        assert normalize_msisdn(n, "86") == n
        assert from_code(to_code(n)) == n


@settings(max_examples=60, deadline=None)
@given(st.lists(numbers, min_size=1, max_size=40), st.sampled_from(["86", "1", "44"]))
def test_the_subscriber_extracts_sql_function_matches_python(raws, cc):
    """The compiled rule as the SQL function the subscriber extract is read with (after the same trim)."""
    from bellwether.loaders.load import _phone_code_function

    con = duckdb.connect()
    fn = _phone_code_function(con, cc)
    got = [r[0] for r in con.execute(f"SELECT {fn}(x) FROM (SELECT {trim_sql('y')} AS x FROM (SELECT unnest(?::VARCHAR[]) AS y))", [raws]).fetchall()]
    want = [None if normalize_msisdn(r, cc) is None else to_code(normalize_msisdn(r, cc)) for r in raws]
    assert got == want


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), numbers), min_size=1, max_size=40), st.sampled_from(["86", "1", "44"]))
def test_compiled_codes_match_python(raws, cc):
    """The loader's compiled pass gives the same codes as normalize_msisdn, and tells empty from malformed."""
    import numpy as np
    import pyarrow as pa

    from bellwether.loaders.kernels import row_problems

    arr = pa.array(raws, pa.string())
    n = len(raws)
    c, e, _, flags, _ = row_problems(arr, arr, pa.array(["1"] * n), np.zeros(n, bool), np.zeros(n, np.uint8), cc)
    for r, code, f in zip(raws, c, flags):
        norm = normalize_msisdn(r, cc)
        if norm is None:
            assert f & 3 == (1 if r is None or r.strip(WHITESPACE) == "" else 2), r
        else:
            assert f & 3 == 0 and code == to_code(norm), r
