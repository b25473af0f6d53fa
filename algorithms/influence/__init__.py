"""Influence maximisation: choose k seed subscribers that maximise the expected Independent Cascade spread.

Arc probabilities come from tie strength (:mod:`.probabilities`), spreads are
estimated by vectorised Monte-Carlo cascades (:mod:`.cascade`), seeds are
chosen by IMM over reverse-reachable sets (:mod:`.rr_sets`, :mod:`.imm`), and
compared with top-k PageRank and degree seeds (:mod:`.baselines`).

Examples
--------
>>> from bellwether.graph.contact_graph import ContactGraph
>>> from bellwether.algorithms.influence import select_seeds, estimate_spread
>>> g = ContactGraph.from_edges([(0, 1), (0, 2), (0, 3), (3, 4)])
>>> result = select_seeds(g, k=1, n_simulations=200)
>>> result.seeds["vid"].tolist()
[0]
>>> estimate_spread(g, [0], probabilities=1.0)
(5.0, 5.0, 5.0)
"""

from bellwether.algorithms.influence.baselines import pagerank_scores, top_k_degree, top_k_pagerank
from bellwether.algorithms.influence.cascade import cascade_sizes, estimate_spread, spread_interval
from bellwether.algorithms.influence.imm import InfluenceResult, node_selection, run_imm, select_seeds
from bellwether.algorithms.influence.probabilities import arcs, edge_probabilities
from bellwether.algorithms.influence.rr_sets import RRSets, sample_rr_sets

__all__ = [
    "InfluenceResult",
    "RRSets",
    "arcs",
    "cascade_sizes",
    "edge_probabilities",
    "estimate_spread",
    "node_selection",
    "pagerank_scores",
    "run_imm",
    "sample_rr_sets",
    "select_seeds",
    "spread_interval",
    "top_k_degree",
    "top_k_pagerank",
]
