"""The physical-line scan of text inputs (loaders.lines) against a plain Python reading of the bytes."""

from __future__ import annotations

import gzip

from hypothesis import HealthCheck, given, settings, strategies as st

from bellwether.loaders.lines import clean_copy, scan_file


def reference(data: bytes) -> tuple[int, list[int], list[int], list[int]]:
    """Lines, blank lines, lines with an odd number of quotes, lines with a CR that does not end them."""
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts = parts[:-1]
    blank, odd, cr = [], [], []
    last = len(parts)
    for i, line in enumerate(parts, start=1):
        ended = i < last or data.endswith(b"\n")
        if ended and line in (b"", b"\r"):
            blank.append(i)
        if line.count(b'"') % 2:
            odd.append(i)
        body = line[:-1] if line.endswith(b"\r") else line  # a CR ending a line (or the file) is a line end
        if b"\r" in body:
            cr.append(i)
    return len(parts), blank, odd, cr


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=80).map(lambda b: bytes(b'\n\r,a"'[x % 5] for x in b)), chunk=st.sampled_from([1, 2, 3, 7, 1 << 20]))
def test_scan_matches_a_plain_reading_wherever_the_reads_split(tmp_path, data, chunk):
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    scan, _ = scan_file(path, chunk=chunk)
    lines, blank, odd, cr = reference(data)
    assert (scan.lines, scan.blank, scan.unbalanced) == (lines, blank, odd)
    assert sorted(set(scan.stray_cr)) == cr


def test_gzip_is_told_by_content_and_hash_is_of_the_bytes(tmp_path):
    import hashlib

    data = b'a,b\n1,"2\n\n3,4'
    plain, packed = tmp_path / "p.csv.gz", tmp_path / "z.csv"  # names lie on purpose
    plain.write_bytes(data)
    packed.write_bytes(gzip.compress(data))
    for path in (plain, packed):
        scan, sha = scan_file(path)
        assert (scan.lines, scan.blank, scan.unbalanced, scan.gzip) == (4, [3], [2], path == packed)
        assert sha == hashlib.sha256(path.read_bytes()).hexdigest()


def test_clean_copy_blanks_broken_lines_and_keeps_numbering(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(b'h\n1\n"2\n3\n')
    kept = clean_copy(src, {3}, out)
    assert out.read_bytes() == b"h\n1\n\n3\n" and kept == {3: b'"2\n'}
