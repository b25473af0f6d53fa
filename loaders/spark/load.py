"""One CDR input through Spark, then the loader's own accounting, quarantine and manifest.

:func:`spark_cdr_loader` gives :func:`bellwether.loaders.load.load` a reader of one CDR input
(``load(..., load_cdr=spark_cdr_loader(spark))``); everything around it (key and workspace checks,
manifest, subscriber extract, do-not-contact list) is the loader's.  For one CSV input:

1. on the driver, the loader's line scan and content hash (:func:`bellwether.loaders.lines.scan_file`);
   an input already loaded with this hash is skipped;
2. Spark reads the file's lines (split on LF only, as the scan counts them), numbers them
   (lines per partition first, then each partition from its offset) and checks them in tasks
   (:func:`bellwether.loaders.spark.rows.check_lines`);
   and pseudonymised (:mod:`.records`) in one pass, written once as Parquet under the scratch directory;
3. counts per problem, per day, attempts, and the rows with problems come back to the driver
   (:class:`bellwether.loaders.validate.Staged`), where :func:`bellwether.loaders.load.finish_cdr`
   writes the quarantine and decides whether the input fails, exactly as for the DuckDB reader;
4. the distinct valid records are written by Spark as part files and merged into
   ``records/<hash16>.parquet`` (:func:`merge_parts`).

Supported: generic CSV (plain or gzip, with or without a header, any delimiter, layout files),
phone or opaque ids, with a pseudonymisation key.  Parquet CDR files, bandicoot directories and
``--no-pseudonymize`` are refused with a message naming the default engine.  Paths are local (or on
a file system every Spark worker mounts at the same path).
"""

from __future__ import annotations

import shutil
import time
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bellwether.loaders import cdr_csv
from bellwether.loaders.errors import LoadError
from bellwether.loaders.layout import file_layout
from bellwether.loaders.lines import scan_file
from bellwether.loaders.load import InputResult, LoadOptions, finish_cdr, skipped_result
from bellwether.loaders.spark.rows import BAD, CHECKED_SCHEMA, SET_ASIDE, VALID, LineSpec, check_lines
from bellwether.loaders.validate import CDR_COLUMNS, N_FLAG_VALUES, OPTIONAL_CDR_COLUMNS, Staged

_EPOCH = datetime(1970, 1, 1)
DEFAULT_ENGINE_HINT = "load it with the default engine (bellwether build without --engine spark)"


def supported(path: Path, opts: LoadOptions) -> None:
    """Raise :class:`LoadError` for what the Spark load does not read, saying what to do instead."""
    if opts.fmt == "bandicoot":
        raise LoadError(f"{path}: bandicoot directories are not read by the Spark engine; {DEFAULT_ENGINE_HINT}.")
    if path.name.endswith(".parquet"):
        raise LoadError(f"{path}: Parquet CDR files are not read by the Spark engine yet; {DEFAULT_ENGINE_HINT}.")
    if not opts.pseudonymize or opts.key is None:
        raise LoadError(f"{path}: the Spark engine loads pseudonymised ids only; {DEFAULT_ENGINE_HINT} "
                        "for --no-pseudonymize.")


def readable_path(path: Path, gzip_content: bool, scratch: Path, tag: str) -> Path:
    """A path Spark decompresses as the content says: Spark tells gzip by the ``.gz`` name, the loader by the bytes.

    When name and content disagree, a symbolic link with the right name under ``scratch`` is returned.
    """
    if gzip_content == path.name.endswith(".gz"):
        return path
    scratch.mkdir(parents=True, exist_ok=True)
    link = scratch / f"{tag}.csv{'.gz' if gzip_content else ''}"
    link.unlink(missing_ok=True)
    link.symlink_to(path.resolve())
    return link


def line_spec(path: Path, opts: LoadOptions, label: str, broken: dict[int, str]) -> LineSpec:
    """How the tasks read ``path``: header and delimiter (read on the driver), column positions, rules."""
    lay = file_layout(path, opts.mapping, opts.constants, opts.names, opts.delimiter, opts.files)
    header, delim = cdr_csv.read_header(path, lay.delimiter, lay.names)
    constants = dict(lay.constants)
    cols = cdr_csv.resolve_columns(path, header, lay.mapping, [c for c in CDR_COLUMNS if c not in constants],
                                   OPTIONAL_CDR_COLUMNS + tuple(constants))
    header_lines = 0 if lay.names else 1
    return LineSpec(label=label, delimiter=delim, n_fields=len(header), key=opts.key or b"",
                    columns={c: (header.index(cols[c]) if cols.get(c) else None) for c in CDR_COLUMNS},
                    constants=constants, header_lines=header_lines, rules=opts.rules(),
                    opaque_key=opts.key if opts.id_kind == "opaque" else None,
                    broken={n: r for n, r in broken.items() if n > header_lines})


def partition_offsets(counts: dict[int, int]) -> dict[int, int]:
    """The line number before each partition's first line, from the lines per partition.

    >>> partition_offsets({1: 5, 0: 3, 2: 4})
    {0: 0, 1: 3, 2: 8}
    """
    out, seen = {}, 0
    for p in sorted(counts):
        out[p] = seen
        seen += counts[p]
    return out


def staged_from(hist_rows, day_rows, bad: pa.Table) -> Staged:
    """The loader's :class:`Staged` from the collected counts.

    ``hist_rows``: (kind, flags, attempt, keep, rows); ``day_rows``: (day number, rows, first second, last second)
    of the kept rows; ``bad``: the rows with problems (``flags, line, bad_file, raw_*``).
    """
    out = Staged()
    out.histogram = np.zeros(N_FLAG_VALUES, np.int64)
    for kind, flags, attempt, keep, n in hist_rows:
        if kind == SET_ASIDE:
            continue
        out.rows += n
        out.histogram[flags] += n
        if kind == VALID and attempt:
            out.attempts += n
            if not keep:
                out.dropped += n
    out.valid = int(out.histogram[0])
    if day_rows:
        out.first = _EPOCH + timedelta(seconds=int(min(r[2] for r in day_rows)))
        out.last = _EPOCH + timedelta(seconds=int(max(r[3] for r in day_rows)))
        out.days = {str(np.datetime64(int(d), "D")): int(n) for d, n, _, _ in sorted(day_rows)}
    if bad.num_rows:
        out.bad = [bad]
    return out


def _records_batch(b: pa.RecordBatch) -> pa.Table:
    """A batch of Spark's records part files in the stored types: ids ``uint64`` (same bits), ``start_time`` seconds."""
    cols = {name: b.column(name) for name in b.schema.names}
    for name in ("caller", "callee"):
        cols[name] = pa.Array.from_buffers(pa.uint64(), len(b), cols[name].buffers(), offset=cols[name].offset)
    cols["start_time"] = cols["start_time"].cast(pa.timestamp("s"))
    return pa.table(cols)


def merge_parts(parts: Path, out: Path) -> int:
    """Write the Parquet part files under ``parts`` as one records file ``out`` (the layout of :data:`bellwether.graph.schema.RECORDS`).

    Timestamps are stored in microseconds, as DuckDB writes them.
    """
    n, writer = 0, None
    try:
        for f in sorted(parts.glob("*.parquet")):
            for b in pq.ParquetFile(f).iter_batches(1 << 20):
                t = _records_batch(b)
                if writer is None:
                    writer = pq.ParquetWriter(out, t.schema, compression="snappy", coerce_timestamps="us")
                writer.write_table(t.cast(writer.schema))
                n += len(b)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # no record: an empty file of the same columns
        pq.write_table(pa.table({"caller": pa.array([], pa.uint64()), "callee": pa.array([], pa.uint64()),
                                 "start_time": pa.array([], pa.timestamp("s")), "duration": pa.array([], pa.int32()),
                                 "type": pa.array([], pa.string()), "caller_service": pa.array([], pa.bool_()),
                                 "callee_service": pa.array([], pa.bool_()), "source": pa.array([], pa.string())}),
                       out, coerce_timestamps="us")
    return n


def spark_cdr_loader(spark) -> Callable[..., InputResult]:
    """A reader of one CDR input for :func:`bellwether.loaders.load.load` that runs on ``spark`` (see the module docstring)."""
    from pyspark.sql import functions as F

    def load_cdr(con, ws, path: Path, opts: LoadOptions, manifest: dict, tag: str, scratch: Path) -> InputResult:
        t0 = time.perf_counter()
        label = str(path)
        supported(path, opts)
        try:
            scan, sha = scan_file(path)
        except (OSError, EOFError, zlib.error) as exc:
            raise LoadError(f"Cannot read {path}: {exc}") from None
        prior = manifest["inputs"].get(sha)
        if prior and prior.get("status") == "loaded":
            return skipped_result(label, sha, prior, t0)
        spec = line_spec(path, opts, label, scan.broken)
        src = cdr_csv.RawSource(sql="", label=label, header_lines=spec.header_lines)
        src.attach_scan(scan)
        lines = (spark.read.option("lineSep", "\n").option("wholetext", "false")
                 .text(str(readable_path(path, scan.gzip, scratch, tag))).select(F.col("value").cast("binary")))
        counts = dict(lines.groupBy(F.spark_partition_id()).count().collect())
        spec = LineSpec(**{**spec.__dict__, "offsets": partition_offsets(counts)})
        stage = scratch / f"{tag}-checked"
        lines.mapInArrow(check_lines(spec), CHECKED_SCHEMA).write.mode("overwrite").parquet(str(stage))
        checked = spark.read.parquet(str(stage))
        try:
            hist = checked.groupBy("kind", "flags", "attempt", "keep").count().collect()
            kept = checked.filter((F.col("kind") == VALID) & F.col("keep"))
            days = kept.groupBy(F.floor(F.col("ts") / 86400)).agg(F.count("*"), F.min("ts"), F.max("ts")).collect()
            bad = (checked.filter(F.col("kind") == BAD)
                   .select(F.col("flags").cast("long"), "line", F.lit(label).alias("bad_file"),
                           *[f"raw_{c}" for c in CDR_COLUMNS]).toArrow())
            src.structural = [{"file": label, "line": r.line, "column": "", "value": r.value, "reason": r.reason,
                               "note": r.note}
                              for r in checked.filter(F.col("kind") == SET_ASIDE).orderBy("line").collect()]
            staged = staged_from([tuple(r) for r in hist], [tuple(r) for r in days], bad)

            def write_records(out: Path) -> int:
                parts = scratch / f"{tag}-records"
                service = (F.col("c") < 0, F.col("e") < 0) if opts.id_kind == "phone" else (F.lit(False), F.lit(False))
                (kept.select("caller", "callee", "ts", "d", "ty", "c", "e").distinct()
                 .select("caller", "callee", F.col("ts").alias("start_time"), F.col("d").alias("duration"),
                         F.when(F.col("ty") == 0, "voice").otherwise("sms").alias("type"),
                         service[0].alias("caller_service"), service[1].alias("callee_service"), F.lit(sha).alias("source"))
                 .write.mode("overwrite").parquet(str(parts)))
                try:
                    return merge_parts(parts, out)
                finally:
                    shutil.rmtree(parts, ignore_errors=True)

            return finish_cdr(con, ws, path, opts, manifest, tag, sha, path.stat().st_size, src, staged, opts.rules(),
                              t0, write_records)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    return load_cdr
