"""Lines of a CSV file into text fields, the way the DuckDB reader of the loader splits them.

The DuckDB loader reads CSV with ``quote='"'``, ``escape='"'``, ``strict_mode`` and every column
as text (:func:`bellwether.loaders.cdr_csv.csv_relation`).  A Spark task sees one physical line at
a time (a record never spans lines, :mod:`bellwether.loaders.lines`), and :func:`split_line` reads
it by the same rules:

- a field is unquoted (taken as it is; a ``"`` inside it is kept, and up to the next ``"`` a delimiter
  belongs to the value) or, after optional spaces, quoted:
  ``""`` inside stands for ``"``, and only spaces may follow the closing quote before the delimiter;
  anything else there is DuckDB's ``UNQUOTED VALUE`` error;
- an empty field, quoted or not, is NULL;
- bytes that are not UTF-8 are DuckDB's ``INVALID ENCODING`` error (shown with ``?`` for each bad byte);
- empty fields after the last column are ignored (``a,b,c,,""`` is three fields);
- a line with another number of fields than the header is ``MISSING COLUMNS`` / ``TOO MANY COLUMNS``
  (which wins over ``UNQUOTED VALUE``, as the loader keeps the smallest error type of a line).

:func:`split_lines` splits a batch: lines without a quote are split by Arrow in one call, the few
with quotes one by one.  Errors come back as (line, DuckDB error type, text, DuckDB message), which
:func:`bellwether.loaders.cdr_csv.structural_reject` turns into quarantine rows as for the DuckDB reader.
"""

from __future__ import annotations

import codecs

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _question_marks(exc: UnicodeDecodeError):
    return "?" * (exc.end - exc.start), exc.end


codecs.register_error("bellwether-question-marks", _question_marks)


class LineError(Exception):
    """A line the CSV rules cannot split (DuckDB's error type and message)."""

    def __init__(self, error_type: str, message: str, fields: list | None = None):
        super().__init__(message)
        self.error_type, self.message, self.fields = error_type, message, fields or []


def decode_line(raw: bytes) -> tuple[str, bool]:
    """The line as text and whether it was valid UTF-8 (invalid bytes shown as ``?``)."""
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", "bellwether-question-marks"), False


def split_line(text: str, delimiter: str) -> list[str | None]:
    """The fields of one line (see the module docstring).

    Raises :class:`LineError` for text after a closing quote or a quote never closed, with the
    fields as DuckDB counts them then (such a value runs to the next delimiter, or the end of the line).

    >>> split_line('a,"b c",,  "d" ', ",")
    ['a', 'b c', None, 'd']
    """
    out: list[str | None] = []
    i, n = 0, len(text)
    unquoted = False
    while True:
        j = i
        while j < n and text[j] == " ":
            j += 1
        if j < n and text[j] == '"':
            buf, k = [], j + 1
            while True:
                q = text.find('"', k)
                if q < 0:  # no closing quote: the value runs to the end of the line
                    out.append(None)
                    raise LineError("UNQUOTED VALUE", "Value with unterminated quote found.", out)
                buf.append(text[k:q])
                if q + 1 < n and text[q + 1] == '"':
                    buf.append('"')
                    k = q + 2
                    continue
                k = q + 1
                break
            while k < n and text[k] == " ":
                k += 1
            if k < n and not text.startswith(delimiter, k):  # text after the closing quote: the value runs to the delimiter
                unquoted = True
                d = text.find(delimiter, k)
                k = n if d < 0 else d
            value = "".join(buf)
            out.append(value or None)
            if k >= n:
                break
            i = k + len(delimiter)
        else:
            d = _unquoted_end(text, i, delimiter)
            value = text[i:] if d < 0 else text[i:d]
            out.append(value or None)
            if d < 0:
                break
            i = d + len(delimiter)
    if unquoted:
        raise LineError("UNQUOTED VALUE", "Value with unterminated quote found.", out)
    return out


def _unquoted_end(text: str, i: int, delimiter: str) -> int:
    """Where the unquoted field starting at ``i`` ends (its delimiter), or -1 at the end of the line.

    A ``"`` inside an unquoted field is kept, and up to the next ``"`` a delimiter is part of the value.
    """
    inside = False
    j, n = i, len(text)
    while j < n:
        if text[j] == '"':
            inside = not inside
        elif not inside and text.startswith(delimiter, j):
            return j
        j += 1
    return -1


def _count_message(expected: int, found: int) -> str:
    """DuckDB's message for a line of ``found`` fields: it stops counting at the first field too many."""
    return f"Expected Number of Columns: {expected} Found: {min(found, expected + 1)}"


def split_lines(lines: pa.Array, raw: pa.Array, delimiter: str, expected: int,
                ) -> tuple[np.ndarray, list[pa.Array], list[tuple[int, str, str, str]]]:
    """Split a batch of lines into ``expected`` text columns.

    Parameters
    ----------
    lines : int64 array
        Physical line numbers.
    raw : binary array
        The lines' bytes without the line break (a trailing CR already removed).

    Returns
    -------
    ok : int64 array
        Positions in the batch of the lines split into ``expected`` fields.
    columns : list of string arrays
        The fields of those lines, one array per column (NULL for an empty field).
    errors : list of (line, error type, text, message)
        The lines that could not be split, as DuckDB's ``store_rejects`` reports them.
    """
    n = len(raw)
    try:
        text = raw.cast(pa.string())
        valid = np.ones(n, bool)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pieces = [decode_line(b) for b in raw.to_pylist()]
        text = pa.array([p[0] for p in pieces], pa.string())
        valid = np.array([p[1] for p in pieces], bool)
    parts = pc.split_pattern(text, delimiter)
    counts = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    # lines with quotes or extra fields (which may be empty) are read one by one
    quoted = pc.match_substring(text, '"').to_numpy(zero_copy_only=False) | (counts > expected)
    line_no = lines.to_numpy(zero_copy_only=False)
    errors: list[tuple[int, str, str, str]] = []
    ok_plain = valid & ~quoted & (counts == expected)
    for i in np.flatnonzero(~valid).tolist():
        errors.append((int(line_no[i]), "INVALID ENCODING", text[i].as_py(),
                       "Invalid unicode (byte sequence mismatch) detected. This file is not utf-8 encoded."))
    for i in np.flatnonzero(valid & ~quoted & (counts != expected)).tolist():
        kind = "MISSING COLUMNS" if counts[i] < expected else "TOO MANY COLUMNS"
        errors.append((int(line_no[i]), kind, text[i].as_py(), _count_message(expected, int(counts[i]))))
    quoted_rows: dict[int, list[str | None]] = {}
    for i in np.flatnonzero(valid & quoted).tolist():
        t = text[i].as_py()
        error = None
        try:
            fields = split_line(t, delimiter)
        except LineError as exc:
            fields, error = exc.fields, exc
        if len(fields) > expected and all(f is None for f in fields[expected:]):
            fields = fields[:expected]
        if error is not None and len(fields) == expected:  # DuckDB reports a wrong field count first (the smaller type)
            errors.append((int(line_no[i]), error.error_type, t, error.message))
            continue
        if len(fields) != expected:
            kind = "MISSING COLUMNS" if len(fields) < expected else "TOO MANY COLUMNS"
            errors.append((int(line_no[i]), kind, t, _count_message(expected, len(fields))))
            continue
        quoted_rows[i] = fields
    ok = np.flatnonzero(ok_plain | np.isin(np.arange(n), list(quoted_rows))).astype(np.int64)
    plain_parts = parts.filter(pa.array(ok_plain))
    columns = []
    for k in range(expected):
        col = pc.list_element(plain_parts, k) if len(plain_parts) else pa.array([], pa.string())
        col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        columns.append(col)
    if quoted_rows:  # merge the quoted lines back in batch order
        plain_idx = np.flatnonzero(ok_plain)
        order = np.argsort(np.concatenate([plain_idx, np.array(list(quoted_rows), np.int64)]), kind="stable")
        merged = []
        for k in range(expected):
            extra = pa.array([f[k] for f in quoted_rows.values()], pa.string())
            merged.append(pa.concat_arrays([columns[k].cast(pa.string()), extra]).take(pa.array(order)))
        columns = merged
    return ok, [c.cast(pa.string()) for c in columns], errors
