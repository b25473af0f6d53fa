"""Weighted PageRank on the undirected contact graph."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bellwether.algorithms.engines import DEFAULT_ENGINE, get_engine
from bellwether.graph.contact_graph import ContactGraph

__all__ = ["pagerank"]


def pagerank(
    graph: ContactGraph,
    *,
    damping: float = 0.85,
    weight: str | None = "weight",
    engine: str = DEFAULT_ENGINE,
) -> pd.DataFrame:
    r"""Weighted PageRank (Brin & Page 1998, doi:10.1016/S0169-7552(98)00110-X).

    .. math:: \pi_v = \frac{1-d}{n} + d \sum_{u \sim v} \frac{w_{uv}}{s_u}\, \pi_u
              \;+\; \frac{d}{n} \sum_{u:\, s_u = 0} \pi_u

    with :math:`d` = ``damping``, :math:`s_u` the strength of :math:`u`;
    subscribers without contacts spread their rank uniformly.  On an
    undirected graph PageRank is close to strength for large :math:`d` but
    rewards contacts with well-connected subscribers.  Scores sum to 1.

    Parameters
    ----------
    graph : ContactGraph
    damping : float, default 0.85
        Higher values follow ties further before a random restart.
    weight : str or None, default "weight"
    engine : str, default "numba" (igraph's PageRank, as engine "igraph")

    Returns
    -------
    pandas.DataFrame
        ``vid``, ``pagerank``.

    Examples
    --------
    >>> g = ContactGraph.from_edges([(0, 1), (0, 2), (0, 3)])
    >>> int(pagerank(g)["pagerank"].idxmax())
    0
    """
    pr = get_engine(engine).pagerank(graph, graph.weights(weight), damping=damping)
    return pd.DataFrame({"vid": np.arange(graph.n_subscribers, dtype=np.int64), "pagerank": pr})
