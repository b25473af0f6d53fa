"""Compiled (numba) kernels of the loader: number codes, durations and problem bits of a batch of rows; HMAC pseudonyms.

Both work row by row in one pass over Arrow buffers; tests check them against the Python reference
functions (:func:`bellwether.loaders.msisdn.normalize_msisdn`, :func:`bellwether.loaders.pseudonym.hmac_id`).
:func:`phone_codes` is the number rule alone, for the subscriber extract's ``msisdn`` column.

:func:`row_problems` reads a row's caller, callee and duration text and returns
the codes, the duration and the problem bits of :data:`bellwether.loaders.validate.FLAGS`
(``start_time`` and ``type`` come already parsed from DuckDB).

:func:`hmac64` computes HMAC-SHA256 (RFC 2104; SHA-256 of FIPS 180-4) of the
normalised text of each code and keeps the first 64 bits.  The key's two padded
blocks are compressed once (the HMAC "precomputed state" of RFC 2104 section 4),
so each number costs two SHA-256 compressions: one for the inner hash (the text
is at most 16 bytes, one block) and one for the outer hash (the 32-byte inner
digest, one block).

Kernels release the GIL; a batch is cut into pieces run on a thread pool.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
from numba import njit

from bellwether.loaders.msisdn import MAX_E164_DIGITS, MIN_E164_DIGITS, SHORT_CODE_DIGITS, _check_cc

THREADS = 2
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(THREADS, thread_name_prefix="bellwether-kernel")
    return _POOL


def _pieces(n: int, k: int) -> list[tuple[int, int]]:
    step = -(-n // k) if n else 1
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)] or [(0, 0)]


# --- Arrow strings ---------------------------------------------------------------------------

_EMPTY_U8 = np.zeros(1, np.uint8)


def string_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Offsets (int64), data bytes, validity bitmap (empty: all valid) and bit offset of a string array."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.large_string())
    n = len(arr)
    wide = pa.types.is_large_string(arr.type)
    bufs = arr.buffers()
    offs = np.frombuffer(bufs[1], np.int64 if wide else np.int32, n + 1, arr.offset * (8 if wide else 4)).astype(np.int64)
    data = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None and bufs[2].size else _EMPTY_U8
    if bufs[0] is None or arr.null_count == 0:
        return offs, data, _EMPTY_U8[:0], 0
    return offs, data, np.frombuffer(bufs[0], np.uint8), arr.offset


@njit(cache=True, inline="always")
def _valid(bits, bit0, i):
    if bits.shape[0] == 0:
        return True
    j = bit0 + i
    return (bits[j >> 3] >> (j & 7)) & 1 == 1


# --- number codes ------------------------------------------------------------------------------

@njit(cache=True, inline="always")
def _digits_value(data, lo, hi):
    """Integer value of the ASCII digits ``data[lo:hi]``."""
    v = 0
    for j in range(lo, hi):
        v = v * 10 + (data[j] - 48)
    return v


@njit(cache=True, inline="always")
def _is_space(ch):
    """ASCII whitespace trimmed around a field: space, tab, LF, VT, FF, CR."""
    return ch == 32 or (ch >= 9 and ch <= 13)


@njit(cache=True, inline="always")
def _trimmed(offs, data, bits, bit0, i):
    """Byte range ``[s, e)`` of string ``i`` without surrounding whitespace; ``s == e`` when it is empty or missing."""
    if not _valid(bits, bit0, i):
        return 0, 0
    s, e = offs[i], offs[i + 1]
    while s < e and _is_space(data[s]):
        s += 1
    while e > s and _is_space(data[e - 1]):
        e -= 1
    return s, e


@njit(cache=True, inline="always")
def _is_separator(ch):
    """Visual separators dropped inside a number: space ``-`` ``(`` ``)`` (see :data:`bellwether.loaders.msisdn.SEPARATORS`)."""
    return ch == 32 or ch == 45 or ch == 40 or ch == 41


@njit(cache=True, inline="always")
def _digits_code(data, s, e, plus, cc, cc_value, lo_digits, hi_digits, short_lo, short_hi):
    """(code, status) of the digits ``data[s:e]``, written after a ``+`` when ``plus`` (rules 2-6 of :mod:`bellwether.loaders.msisdn`)."""
    n = e - s
    if n == 0:
        return 0, 2
    ncc = cc.shape[0]
    if plus:
        ds, prepend = s, False
    elif n >= 2 and data[s] == 48 and data[s + 1] == 48:
        ds, prepend = s + 2, False
    elif short_lo <= n <= short_hi:
        return -(10 ** n + _digits_value(data, s, e)), 0
    elif data[s] == 48:
        ds, prepend = s + 1, True
    else:
        same = n >= ncc + 9
        if same:
            for k in range(ncc):
                if data[s + k] != cc[k]:
                    same = False
                    break
        ds, prepend = s, not same
    nd = e - ds + (ncc if prepend else 0)
    if nd == 0 or (not prepend and data[ds] == 48) or nd < lo_digits or nd > hi_digits:
        return 0, 2
    v = _digits_value(data, ds, e)
    if prepend:
        v += cc_value * 10 ** (e - ds)
    return v, 0


@njit(cache=True)
def _separated_code(data, s, e, plus, cc, cc_value, lo_digits, hi_digits, short_lo, short_hi):
    """(code, status) of ``data[s:e]`` holding digits and visual separators: the digits copied out, then read."""
    buf = np.empty(hi_digits + 2, np.uint8)  # the most digits a valid number has ("00" + E.164)
    k = 0
    for j in range(s, e):
        ch = data[j]
        if ch >= 48 and ch <= 57:
            if k == buf.shape[0]:
                return 0, 2
            buf[k] = ch
            k += 1
        elif not _is_separator(ch):
            return 0, 2
    return _digits_code(buf, 0, k, plus, cc, cc_value, lo_digits, hi_digits, short_lo, short_hi)


@njit(cache=True)
def _code(offs, data, bits, bit0, i, cc, cc_value, lo_digits, hi_digits, short_lo, short_hi):
    """(code, status) of row ``i``: status 0 valid, 1 empty or missing, 2 malformed (see :func:`bellwether.loaders.msisdn.normalize_msisdn`).

    Plain digits are read in place; the first non-digit sends the row to the slower
    :func:`_separated_code`.
    """
    s, e = _trimmed(offs, data, bits, bit0, i)
    if e == s:
        return 0, 1
    plus = data[s] == 43
    b = s + 1 if plus else s
    j = b
    while j < e and data[j] >= 48 and data[j] <= 57:
        j += 1
    if j < e:  # a non-digit: separators, or malformed
        return _separated_code(data, b, e, plus, cc, cc_value, lo_digits, hi_digits, short_lo, short_hi)
    return _digits_code(data, b, e, plus, cc, cc_value, lo_digits, hi_digits, short_lo, short_hi)


@njit(cache=True)
def _duration(offs, data, bits, bit0, i):
    """(seconds, status): status 0 valid, 1 empty or missing, 2 not digits or over 2**31 - 1, 3 the attempt marker ``-1``."""
    if not _valid(bits, bit0, i):
        return 0, 1
    s, e = offs[i], offs[i + 1]
    if s == e:
        return 0, 1
    if e - s == 2 and data[s] == 45 and data[s + 1] == 49:  # "-1": a call attempt that was not answered
        return 0, 3
    v = 0
    for j in range(s, e):
        ch = data[j]
        if ch < 48 or ch > 57:
            return 0, 2
        v = v * 10 + (ch - 48)
        if v > 2147483647:
            return 0, 2
    return v, 0


@njit(cache=True, nogil=True)
def _row_problems(lo, hi, c_offs, c_data, c_bits, c_bit0, e_offs, e_data, e_bits, e_bit0, d_offs, d_data, d_bits, d_bit0,
                  ts_null, ty, cc, cc_value, lo_digits, hi_digits, short_lo, short_hi, opaque, oc, oc_ok, oe, oe_ok,
                  out_c, out_e, out_d, out_flags, out_attempt):
    for i in range(lo, hi):
        if opaque:  # codes computed by the caller; an id is only ever missing, never malformed
            c, cs = oc[i], 0 if oc_ok[i] else 1
            e, es = oe[i], 0 if oe_ok[i] else 1
        else:
            c, cs = _code(c_offs, c_data, c_bits, c_bit0, i, cc, cc_value, lo_digits, hi_digits, short_lo, short_hi)
            e, es = _code(e_offs, e_data, e_bits, e_bit0, i, cc, cc_value, lo_digits, hi_digits, short_lo, short_hi)
        d, dst = _duration(d_offs, d_data, d_bits, d_bit0, i)
        t = ty[i]
        f = 0
        if cs == 1:
            f |= 1
        elif cs == 2:
            f |= 2
        if es == 1:
            f |= 4
        elif es == 2:
            f |= 8
        if ts_null[i]:
            f |= 16
        if dst == 2 or (dst == 1 and t == 0):
            f |= 32
        if t > 1:
            f |= 64
        if cs == 0 and es == 0 and c == e:
            f |= 128
        out_c[i] = c
        out_e[i] = e
        out_d[i] = 0 if t == 1 else d
        out_flags[i] = f
        out_attempt[i] = dst == 3 and t == 0


def row_problems(caller: pa.Array, callee: pa.Array, duration: pa.Array, ts_null: np.ndarray, ty: np.ndarray,
                 country_code: str, opaque_codes: tuple[pa.Array, pa.Array] | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Codes of caller and callee, duration and problem bits of a batch of raw rows.

    Parameters
    ----------
    caller, callee, duration : pyarrow string arrays
        The raw text of the fields.
    ts_null : bool array
        Whether ``start_time`` did not parse.
    ty : uint8 array
        Record type (0 voice, 1 sms), 255 where the ``type`` value is not accepted.
    country_code : str
        Country code of national numbers.
    opaque_codes : (int64 array, int64 array) or None
        For opaque ids, the codes of caller and callee (NULL where the id is empty);
        the number rules are then not applied.

    Returns
    -------
    c, e : int64 arrays
        Number codes (:func:`bellwether.loaders.msisdn.to_code`), meaningful where the matching bits are clear.
    d : int32 array
        Seconds (0 for SMS and for unanswered call attempts).
    flags : uint8 array
        Problem bits of :data:`bellwether.loaders.validate.FLAGS` (0: a valid row).
    attempt : bool array
        Voice rows whose duration is the unanswered-attempt marker ``-1``.
    """
    cc = _check_cc(country_code)
    n = len(caller)
    out_c, out_e = np.empty(n, np.int64), np.empty(n, np.int64)
    out_d, out_flags, out_attempt = np.empty(n, np.int32), np.empty(n, np.uint8), np.empty(n, np.bool_)
    if opaque_codes is None:
        empty_i, empty_b = np.zeros(0, np.int64), np.zeros(0, np.bool_)
        opaque = (False, empty_i, empty_b, empty_i, empty_b)
    else:
        oc, oe = (a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in opaque_codes)
        opaque = (True, oc.fill_null(0).to_numpy(zero_copy_only=False), oc.is_valid().to_numpy(zero_copy_only=False),
                  oe.fill_null(0).to_numpy(zero_copy_only=False), oe.is_valid().to_numpy(zero_copy_only=False))
    args = (*string_buffers(caller), *string_buffers(callee), *string_buffers(duration),
            np.ascontiguousarray(ts_null, np.bool_), np.ascontiguousarray(ty, np.uint8),
            np.frombuffer(cc.encode(), np.uint8), int(cc), MIN_E164_DIGITS, MAX_E164_DIGITS, *SHORT_CODE_DIGITS,
            *opaque, out_c, out_e, out_d, out_flags, out_attempt)
    parts = _pieces(n, THREADS) if n >= 100_000 else [(0, n)]
    if len(parts) == 1:
        _row_problems(parts[0][0], parts[0][1], *args)
    else:
        list(_pool().map(lambda p: _row_problems(p[0], p[1], *args), parts))
    return out_c, out_e, out_d, out_flags, out_attempt


@njit(cache=True, nogil=True)
def _phone_codes(lo, hi, offs, data, bits, bit0, cc, cc_value, lo_digits, hi_digits, short_lo, short_hi, out, ok):
    for i in range(lo, hi):
        code, status = _code(offs, data, bits, bit0, i, cc, cc_value, lo_digits, hi_digits, short_lo, short_hi)
        out[i] = code
        ok[i] = status == 0


def phone_codes(numbers: pa.Array | pa.ChunkedArray, country_code: str) -> pa.Array:
    """The code of each phone number (:func:`bellwether.loaders.msisdn.to_code` of its
    :func:`~bellwether.loaders.msisdn.normalize_msisdn` form), null where it is empty or malformed.

    The rule :func:`row_problems` applies to callers and callees, for a column of numbers alone
    (the subscriber extract's ``msisdn``).
    """
    if isinstance(numbers, pa.ChunkedArray):
        numbers = numbers.combine_chunks()
    cc = _check_cc(country_code)
    n = len(numbers)
    out, ok = np.empty(n, np.int64), np.empty(n, np.bool_)
    _phone_codes(0, n, *string_buffers(numbers), np.frombuffer(cc.encode(), np.uint8), int(cc),
                 MIN_E164_DIGITS, MAX_E164_DIGITS, *SHORT_CODE_DIGITS, out, ok)
    return pa.array(out, pa.int64(), mask=~ok)


# --- HMAC-SHA256 -------------------------------------------------------------------------------

_K = np.array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
], np.uint32)
_IV = np.array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19], np.uint32)


@njit(cache=True, inline="always")
def _rotr(x, n):
    return ((x >> np.uint32(n)) | (x << np.uint32(32 - n))) & np.uint32(0xFFFFFFFF)


@njit(cache=True)
def _compress(state, w, k, out):
    """SHA-256 compression of the block whose 16 big-endian words are ``w[:16]`` (``w`` has 64 slots) into ``out``."""
    for t in range(16, 64):
        x, y = w[t - 15], w[t - 2]
        s0 = _rotr(x, 7) ^ _rotr(x, 18) ^ (x >> np.uint32(3))
        s1 = _rotr(y, 17) ^ _rotr(y, 19) ^ (y >> np.uint32(10))
        w[t] = np.uint32(w[t - 16] + s0 + w[t - 7] + s1)
    a, b, c, d, e, f, g, h = state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7]
    for t in range(64):
        S1 = _rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)
        ch = (e & f) ^ (~e & g)
        t1 = np.uint32(h + S1 + ch + k[t] + w[t])
        S0 = _rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)
        mj = (a & b) ^ (a & c) ^ (b & c)
        t2 = np.uint32(S0 + mj)
        h, g, f = g, f, e
        e = np.uint32(d + t1)
        d, c, b = c, b, a
        a = np.uint32(t1 + t2)
    out[0] = np.uint32(state[0] + a)
    out[1] = np.uint32(state[1] + b)
    out[2] = np.uint32(state[2] + c)
    out[3] = np.uint32(state[3] + d)
    out[4] = np.uint32(state[4] + e)
    out[5] = np.uint32(state[5] + f)
    out[6] = np.uint32(state[6] + g)
    out[7] = np.uint32(state[7] + h)


@njit(cache=True, nogil=True)
def _hmac64(lo, hi, codes, inner, outer, k, out):
    w = np.zeros(64, np.uint32)
    mid = np.zeros(8, np.uint32)
    fin = np.zeros(8, np.uint32)
    msg = np.zeros(64, np.uint8)
    digits = np.zeros(20, np.uint8)
    for i in range(lo, hi):
        code = codes[i]
        # normalised text: "+<digits>" for a positive code, the digits after the leading 1 for a short code
        x = code if code > 0 else -code
        nd = 0
        while x > 0:
            digits[nd] = 48 + x % 10
            x //= 10
            nd += 1
        m = 0
        if code > 0:
            msg[0] = 43
            m = 1
            for j in range(nd - 1, -1, -1):
                msg[m] = digits[j]
                m += 1
        else:
            for j in range(nd - 2, -1, -1):
                msg[m] = digits[j]
                m += 1
        msg[m] = 0x80
        for j in range(m + 1, 56):
            msg[j] = 0
        bitlen = (64 + m) * 8
        for j in range(8):
            msg[63 - j] = (bitlen >> (8 * j)) & 0xFF
        for t in range(16):
            w[t] = (np.uint32(msg[4 * t]) << np.uint32(24)) | (np.uint32(msg[4 * t + 1]) << np.uint32(16)) \
                | (np.uint32(msg[4 * t + 2]) << np.uint32(8)) | np.uint32(msg[4 * t + 3])
        _compress(inner, w, k, mid)
        for t in range(8):
            w[t] = mid[t]
        w[8] = np.uint32(0x80000000)
        for t in range(9, 15):
            w[t] = 0
        w[15] = np.uint32((64 + 32) * 8)
        _compress(outer, w, k, fin)
        out[i] = (np.uint64(fin[0]) << np.uint64(32)) | np.uint64(fin[1])


def _key_states(key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """SHA-256 states after the key block XOR ipad and XOR opad (RFC 2104: K0 = key padded to 64 bytes, hashed first if longer)."""
    k0 = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    out = []
    for pad in (0x36, 0x5C):
        block = bytes(b ^ pad for b in k0)
        w = np.zeros(64, np.uint32)
        w[:16] = np.frombuffer(block, ">u4")
        state = np.zeros(8, np.uint32)
        _compress(_IV, w, _K, state)
        out.append(state)
    return out[0], out[1]


def hmac64(codes: np.ndarray, key: bytes) -> np.ndarray:
    """Pseudonyms (uint64) of number codes: the first 16 hex characters of HMAC-SHA256(key, normalised number).

    Equal to ``int(hmac_id(from_code(code), key), 16)`` (:func:`bellwether.loaders.pseudonym.hmac_id`).
    """
    codes = np.ascontiguousarray(codes, np.int64)
    inner, outer = _key_states(key)
    out = np.empty(len(codes), np.uint64)
    parts = _pieces(len(codes), THREADS) if len(codes) >= 50_000 else [(0, len(codes))]
    if len(parts) == 1:
        _hmac64(parts[0][0], parts[0][1], codes, inner, outer, _K, out)
    else:
        list(_pool().map(lambda p: _hmac64(p[0], p[1], codes, inner, outer, _K, out), parts))
    return out
