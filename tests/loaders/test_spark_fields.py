"""The Spark load splits CSV lines into fields exactly as the DuckDB reader of the loader does (no Spark needed)."""

from __future__ import annotations

import random

import duckdb
import pyarrow as pa

from bellwether.loaders.spark.fields import split_lines


def _duckdb_fields(path, n_fields: int):
    """DuckDB's rows and per-line errors (min error type and message, as :func:`bellwether.loaders.cdr_csv.structural_rejects`)."""
    con = duckdb.connect()
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n_fields)) + "}"
    got = con.execute(f"""SELECT * FROM read_csv('{path}', columns={cols}, header=true, auto_detect=false, delim=',',
        quote='"', escape='"', strict_mode=true, null_padding=false, store_rejects=true, rejects_table='r_errors',
        rejects_scan='r_scans', compression='none')""").fetchall()
    errors = con.execute("SELECT line, min(error_type), min(error_message) FROM r_errors GROUP BY line ORDER BY line").fetchall()
    return got, errors


def test_split_lines_agrees_with_duckdb_on_random_lines(tmp_path):
    rng = random.Random(11)

    def field(junk: bool) -> str:
        plain = "".join(rng.choice("a1é x") for _ in range(rng.randrange(0, 5)))
        return rng.choice([plain, plain, f'"{plain}"', f'"{plain},{plain}"', f'"{plain}""{plain}"', f' "{plain}" ']
                          + ([f'"{plain}"x{plain}'] if junk else []))

    lines = []
    while len(lines) < 3000:  # 1 to 5 fields of 3, a trailing delimiter now and then; never blank (the scan skips those)
        k = rng.choice([1, 2, 3, 3, 3, 4, 5])
        # text after a closing quote only in lines of the right length: with a wrong count as well, which of
        # the two DuckDB reports depends on its parser state (the line is quarantined either way, the reason
        # may differ between the engines)
        junk = rng.randrange(k) if k == 3 else -1  # at most one such field: after the first, DuckDB's count drifts
        s = ",".join(field(i == junk) for i in range(k)) + rng.choice(["", "", ","])
        if s.strip():
            lines.append(s)
    f = tmp_path / "f.csv"
    f.write_text("c0,c1,c2\n" + "\n".join(lines) + "\n", encoding="utf-8")
    rows, errors = _duckdb_fields(f, 3)
    ok, columns, mine = split_lines(pa.array(range(2, len(lines) + 2), pa.int64()),
                                    pa.array([s.encode() for s in lines], pa.binary()), ",", 3)
    def key(line, error_type, message):  # the message matters for a field count (its note), else only the type
        return line, error_type, message if "COLUMNS" in error_type else ""

    assert sorted(key(ln, t, m) for ln, t, _, m in mine) == [key(*e) for e in errors]
    assert list(zip(*[c.to_pylist() for c in columns])) == rows
    assert len(ok) == len(rows) > 300 and len(errors) > 300
