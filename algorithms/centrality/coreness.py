"""k-core number of every subscriber."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bellwether.algorithms.engines import DEFAULT_ENGINE, get_engine
from bellwether.graph.contact_graph import ContactGraph

__all__ = ["coreness"]


def coreness(graph: ContactGraph, *, engine: str = DEFAULT_ENGINE) -> pd.DataFrame:
    """k-core number (Seidman 1983, doi:10.1016/0378-8733(83)90028-X; Batagelj & Zaversnik 2003, arXiv:cs/0310049).

    The coreness of :math:`v` is the largest :math:`k` such that :math:`v` belongs to a
    subgraph in which every subscriber has at least :math:`k` contacts.  Unweighted;
    0 for subscribers without contacts.

    Returns
    -------
    pandas.DataFrame
        ``vid``, ``coreness`` (int64).

    Examples
    --------
    >>> g = ContactGraph.from_edges([(0, 1), (1, 2), (0, 2), (2, 3)])
    >>> coreness(g)["coreness"].tolist()
    [2, 2, 2, 1]
    """
    k = get_engine(engine).coreness(graph)
    return pd.DataFrame({"vid": np.arange(graph.n_subscribers, dtype=np.int64), "coreness": k})
