"""Physical lines of a text input: how many, which are blank, which cannot be one record.

A CDR line is one record; no CDR or CRM field holds a line break.  A CSV reader
that honours quotes across lines would read an unclosed ``"`` on line 401 as the
start of a field running to the next quote, possibly the end of the file, and the
lines in between would vanish.  So before any parsing, one pass over the bytes
(:func:`scan_file`, compiled, run beside the content hash in the same read) finds:

- lines with an odd number of ``"`` (an unbalanced quote; a field spanning lines
  shows up as two such lines): quarantined as ``unbalanced_quote``;
- lines holding a carriage return that does not end the line: quarantined as
  ``bad_row``;
- blank lines (empty, or only ``\\r``): skipped and counted.

When broken lines exist, or lines end now with CR LF and now with LF alone (files
joined from two systems), :func:`clean_copy` writes a copy of the input in which
broken lines are blank (line numbers unchanged) and every line ends with LF, for the CSV reader, under the workspace's
scratch directory, removed after the load.  The number of physical lines is what
the loader's line accounting must add up to.

Compression is decided by content (the gzip magic bytes), not by the file name.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numba import njit
from numba.typed import List

CHUNK = 1 << 23
GZIP_MAGIC = b"\x1f\x8b"
STRAY_CR = "carriage return inside the line"


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


@dataclass
class LineScan:
    """Physical lines of a text file (1-based line numbers)."""

    lines: int = 0
    blank: list[int] = field(default_factory=list)
    unbalanced: list[int] = field(default_factory=list)
    stray_cr: list[int] = field(default_factory=list)
    gzip: bool = False
    crlf: int = 0  # lines ended by CR LF
    lf: int = 0  # lines ended by LF (CR LF included)

    @property
    def mixed_endings(self) -> bool:
        """Some lines end with CR LF and others with LF alone (the CSV reader needs one style)."""
        return 0 < self.crlf < self.lf

    @property
    def broken(self) -> dict[int, str]:
        """Lines that cannot be a record, with the quarantine reason (an unbalanced quote wins)."""
        out = {n: "bad_row" for n in self.stray_cr}
        out.update({n: "unbalanced_quote" for n in self.unbalanced})
        return out


@njit(cache=True, nogil=True)
def _scan(a, state, blank, odd, cr):
    """Scan bytes ``a`` continuing ``state`` = [line, line length, quote parity, previous byte was CR, CR seen in line,
    lines ended by CR LF]."""
    line, length, parity, prev_cr, has_cr, crlf = state[0], state[1], state[2], state[3], state[4], state[5]
    for i in range(a.shape[0]):
        b = a[i]
        if prev_cr == 1 and b != 10:
            has_cr = 1
        if b == 10:
            if parity == 1:
                odd.append(line)
            if has_cr == 1:
                cr.append(line)
            if length == 0 or (length == 1 and prev_cr == 1):
                blank.append(line)
            if prev_cr == 1:
                crlf += 1
            line += 1
            length = 0
            parity = 0
            has_cr = 0
            prev_cr = 0
            continue
        length += 1
        if b == 34:
            parity ^= 1
        prev_cr = 1 if b == 13 else 0
    state[0], state[1], state[2], state[3], state[4], state[5] = line, length, parity, prev_cr, has_cr, crlf


def _empty_list():
    out = List()
    out.append(np.int64(0))
    out.pop()
    return out


def scan_file(path: Path, with_hash: bool = True, chunk: int = CHUNK) -> tuple[LineScan, str]:
    """Scan a (possibly gzip-compressed) text file once; return its :class:`LineScan` and SHA-256 of its bytes.

    Raises OSError, EOFError or zlib.error for an unreadable or truncated file.
    """
    gz = is_gzip(path)
    h = hashlib.sha256()
    state = np.array([1, 0, 0, 0, 0, 0], np.int64)
    blank, odd, cr = _empty_list(), _empty_list(), _empty_list()
    inflate = zlib.decompressobj(wbits=31) if gz else None
    with open(path, "rb", buffering=0) as fh:
        while raw := fh.read(chunk):
            if with_hash:
                h.update(raw)
            if inflate is None:
                _scan(np.frombuffer(raw, np.uint8), state, blank, odd, cr)
                continue
            data = inflate.decompress(raw)
            while inflate.eof and inflate.unused_data:  # concatenated gzip members
                rest = inflate.unused_data
                inflate = zlib.decompressobj(wbits=31)
                data += inflate.decompress(rest)
            _scan(np.frombuffer(data, np.uint8), state, blank, odd, cr)
    if inflate is not None and not inflate.eof:
        raise EOFError("compressed file ended before the end-of-stream marker")
    line, length, parity, prev_cr, has_cr, crlf = (int(v) for v in state)
    odd_l, cr_l = list(odd), list(cr)
    if length > 0:  # a last line without a final newline
        if parity:
            odd_l.append(line)
        if has_cr:
            cr_l.append(line)
    lines = line if length > 0 else line - 1
    return LineScan(lines, list(blank), odd_l, cr_l, gz, crlf, line - 1), h.hexdigest()


def open_bytes(path: Path):
    """Open a file for binary reading, decompressing gzip content."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def clean_copy(path: Path, broken: set[int], out: Path) -> dict[int, bytes]:
    """Copy ``path`` to plain-text ``out`` with the ``broken`` lines left blank and every line ended by LF alone.

    Returns the original bytes of the broken lines.
    """
    kept: dict[int, bytes] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_bytes(path) as src, open(out, "wb") as dst:
        for n, line in enumerate(src, start=1):
            if n in broken:
                kept[n] = line
                dst.write(b"\n")
            elif line.endswith(b"\r\n"):
                dst.write(line[:-2] + b"\n")
            else:
                dst.write(line)
    return kept
