"""Every centrality ``analyze`` records, as one table: the centrality step as a pure function."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bellwether.algorithms.centrality.coreness import coreness
from bellwether.algorithms.centrality.initiative import contact_flows
from bellwether.algorithms.centrality.pagerank import pagerank
from bellwether.algorithms.centrality.reach import reach
from bellwether.algorithms.centrality.strength import degree_strength
from bellwether.algorithms.engines import DEFAULT_ENGINE
from bellwether.graph.contact_graph import ContactGraph

__all__ = ["CENTRALITY_COLUMNS", "centrality_table"]

CENTRALITY_COLUMNS = ("degree", "strength", "pagerank", "coreness", "initiative", "events_in", "reach")


def centrality_table(graph: ContactGraph, *, engine=DEFAULT_ENGINE, with_reach: bool = True) -> pd.DataFrame:
    """Degree and strength, weighted PageRank, coreness, initiative and incoming events, two-hop reach.

    One row per ``vid`` (column ``vid`` first, then :data:`CENTRALITY_COLUMNS`); each measure is the
    function of the same name in :mod:`bellwether.algorithms.centrality`, run on ``engine``.
    ``with_reach=False`` leaves ``reach`` out (it is the slowest on dense graphs).
    """
    ds = degree_strength(graph, engine=engine)
    flows = contact_flows(graph)
    table = pd.DataFrame({
        "vid": np.arange(graph.n_subscribers, dtype=np.int64),
        "degree": ds["degree"].to_numpy(),
        "strength": ds["strength"].to_numpy(),
        "pagerank": pagerank(graph, engine=engine)["pagerank"].to_numpy(),
        "coreness": coreness(graph, engine=engine)["coreness"].to_numpy(),
        "initiative": flows["initiative"].to_numpy(),
        "events_in": flows["events_in"].to_numpy(),
    })
    if with_reach:
        table["reach"] = reach(graph, engine=engine)["reach"].to_numpy()
    return table
