"""ContactGraph's in-memory forms."""

from __future__ import annotations

import numpy as np

from bellwether.graph.contact_graph import ContactGraph


def test_the_adjacency_is_symmetric_weighted_and_32_bit_indexed():
    g = ContactGraph.from_edges([(0, 1), (1, 2), (2, 0), (3, 1)], weights=[1.0, 2.0, 3.0, 4.0])
    W = g.to_csr()
    expected = np.array([[0, 1, 3, 0], [1, 0, 2, 4], [3, 2, 0, 0], [0, 4, 0, 0]], dtype=float)
    np.testing.assert_array_equal(W.toarray(), expected)
    # 64-bit indices would double the matrix's index arrays and its COO -> CSR copies
    assert W.indices.dtype == np.int32 and W.indptr.dtype == np.int32
    np.testing.assert_array_equal(g.to_csr(None).toarray(), (expected > 0).astype(float))
