"""The Spark task giving each distinct valid row its pseudonyms: the records of :data:`bellwether.graph.schema.RECORDS` (pure).

Phone numbers get the keyed pseudonym of the loader (:func:`bellwether.loaders.kernels.hmac64`, the
same HMAC as the DuckDB path, so ids agree across engines); an opaque id's code already is its
pseudonym.  Spark has no unsigned 64-bit type: ids travel as ``long`` holding the same 64 bits and
are read back as ``uint64`` when the records file is written (:func:`bellwether.loaders.spark.load.merge_parts`).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pyarrow as pa

RECORD_PARTS_SCHEMA = ("caller long, callee long, start_time long, duration int, type string, "
                       "caller_service boolean, callee_service boolean, source string")


def pseudonymise(batch: pa.RecordBatch, key: bytes, id_kind: str, source: str) -> pa.RecordBatch:
    """Records of a batch of distinct valid rows ``c, e, ts, d, ty`` (ids as signed 64-bit bit patterns)."""
    from bellwether.loaders.kernels import hmac64

    c = batch.column("c").to_numpy(zero_copy_only=False).astype(np.int64)
    e = batch.column("e").to_numpy(zero_copy_only=False).astype(np.int64)
    ty = batch.column("ty").to_numpy(zero_copy_only=False)
    if id_kind == "phone":
        caller, callee = hmac64(c, key).view(np.int64), hmac64(e, key).view(np.int64)
        cs, es = c < 0, e < 0
    else:
        caller, callee = c, e
        cs = es = np.zeros(len(c), bool)
    n = len(c)
    return pa.RecordBatch.from_arrays([
        pa.array(caller), pa.array(callee), batch.column("ts").cast(pa.int64()), batch.column("d").cast(pa.int32()),
        pa.array(np.where(ty == 0, "voice", "sms").astype(object), pa.string()), pa.array(cs), pa.array(es),
        pa.array([source] * n, pa.string())],
        names=["caller", "callee", "start_time", "duration", "type", "caller_service", "callee_service", "source"])


def pseudonymise_rows(key: bytes, id_kind: str, source: str):
    """The ``mapInArrow`` function of :func:`pseudonymise`."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            if b.num_rows:
                yield pseudonymise(b, key, id_kind, source)

    return run
