"""Louvain community detection (Blondel et al. 2008, doi:10.1088/1742-5468/2008/10/P10008)."""

from __future__ import annotations

import pandas as pd

from bellwether.algorithms.community.detect import detect_communities
from bellwether.algorithms.engines import DEFAULT_ENGINE
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["louvain"]


def louvain(
    graph: ContactGraph,
    *,
    objective: str = "modularity",
    resolution: float | None = None,
    weight: str | None = "weight",
    seed: int = DEFAULT_SEED,
    engine: str = DEFAULT_ENGINE,
    max_iterations: int | None = 2,
) -> pd.DataFrame:
    r"""Partition subscribers with Louvain: local moving then aggregation, repeated.

    Louvain may return internally disconnected communities (Traag et al. 2019,
    doi:10.1038/s41598-019-41695-z); they are split into their connected
    components here, so the output holds connected communities only.
    Parameters and output as :func:`bellwether.algorithms.community.leiden.leiden`;
    the igraph engine supports ``objective="modularity"`` only.

    Examples
    --------
    >>> g = ContactGraph.from_edges([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)])
    >>> louvain(g)["community"].tolist()
    [0, 0, 0, 1, 1, 1]
    """
    return detect_communities(
        graph, method="louvain", objective=objective, resolution=resolution, weight=weight,
        seed=seed, engine=engine, max_iterations=max_iterations,
    ).membership
