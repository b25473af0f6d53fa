"""ContactGraph's in-memory forms."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bellwether.graph.contact_graph import ContactGraph, id_rows


def test_the_adjacency_is_symmetric_weighted_and_32_bit_indexed():
    g = ContactGraph.from_edges([(0, 1), (1, 2), (2, 0), (3, 1)], weights=[1.0, 2.0, 3.0, 4.0])
    W = g.to_csr()
    expected = np.array([[0, 1, 3, 0], [1, 0, 2, 4], [3, 2, 0, 0], [0, 4, 0, 0]], dtype=float)
    np.testing.assert_array_equal(W.toarray(), expected)
    # 64-bit indices would double the matrix's index arrays and its COO -> CSR copies
    assert W.indices.dtype == np.int32 and W.indptr.dtype == np.int32
    np.testing.assert_array_equal(g.to_csr(None).toarray(), (expected > 0).astype(float))


def test_id_rows_matches_a_pandas_lookup_and_marks_the_absent():
    rng = np.random.default_rng(4)
    lookup = pd.Series([f"id{i:05d}" for i in rng.permutation(5000)], dtype="str")
    ids = pd.Series([f"id{i:05d}" for i in rng.integers(0, 7000, size=3000)], dtype="str")
    got = id_rows(ids, lookup)
    assert np.array_equal(got, pd.Index(lookup.astype(object)).get_indexer(ids.astype(object)))
    assert (got == -1).any() and (got >= 0).any()
    assert id_rows(np.array([3, 1]), [1, 2, 3]).tolist() == [2, 0]  # non-text ids compare as text
