"""Communities, centralities, bellwether score and role of every subscriber of a graph, in one call."""

from __future__ import annotations

import pandas as pd

from bellwether.algorithms.centrality import centrality_table
from bellwether.algorithms.community import detect_communities
from bellwether.algorithms.engines import DEFAULT_ENGINE
from bellwether.algorithms.roles.bellwether import assign_roles, bellwether_scores
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["role_table"]


def role_table(graph: ContactGraph, *, seed: int = DEFAULT_SEED, engine=DEFAULT_ENGINE) -> pd.DataFrame:
    """The columns ``analyze`` computes for roles, on a graph with no workspace (notebooks, benchmarks).

    The default communities (:func:`bellwether.algorithms.community.detect_communities`, fine level
    in ``community``), :func:`bellwether.algorithms.centrality.centrality_table` without ``reach``,
    then :func:`bellwether_scores` and :func:`assign_roles`.  Community labels are the detection's
    own (``analyze`` also matches them to the previous run's ids).  ``attrs["communities"]`` holds
    the method, objective and resolution used.
    """
    found = detect_communities(graph, seed=seed, engine=engine)
    table = centrality_table(graph, engine=engine, with_reach=False)
    table.insert(1, "community", found.labels)
    table.attrs["communities"] = {k: found.metrics[k] for k in ("method", "objective", "resolution")}
    scores = bellwether_scores(graph, table)
    table["bellwether_score"] = scores["bellwether_score"].to_numpy()
    table["community_rank"] = scores["community_rank"].to_numpy()
    table["role"] = assign_roles(graph, table)["role"].to_numpy()
    return table
