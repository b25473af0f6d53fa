"""The pseudonyms of valid rows inside the Spark task of the load (pure).

Phone numbers get the keyed pseudonym of the loader (:func:`bellwether.loaders.kernels.hmac64`, the
same HMAC as the DuckDB path, so ids agree across engines); an opaque id's code already is its
pseudonym (:func:`bellwether.loaders.validate.opaque_code_sql`).  Spark has no unsigned 64-bit type:
ids travel as ``long`` holding the same 64 bits and are read back as ``uint64`` when the records file
is written (:func:`bellwether.loaders.spark.load.merge_parts`).
"""

from __future__ import annotations

import numpy as np


def pseudonyms(c: np.ndarray, e: np.ndarray, ok: np.ndarray, key: bytes, id_kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Caller and callee pseudonyms (int64 bit patterns of the uint64 ids) of the rows where ``ok``; 0 elsewhere."""
    from bellwether.loaders.kernels import hmac64

    caller, callee = np.zeros(len(c), np.int64), np.zeros(len(e), np.int64)
    if id_kind == "phone":
        caller[ok] = hmac64(np.ascontiguousarray(c[ok], np.int64), key).view(np.int64)
        callee[ok] = hmac64(np.ascontiguousarray(e[ok], np.int64), key).view(np.int64)
    else:
        caller[ok], callee[ok] = c[ok], e[ok]
    return caller, callee
