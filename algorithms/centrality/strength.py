"""Degree and strength: how many contacts a subscriber has, and how strong they are in total."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bellwether.algorithms.engines import DEFAULT_ENGINE, get_engine
from bellwether.graph.contact_graph import ContactGraph

__all__ = ["degree_strength"]


def degree_strength(graph: ContactGraph, *, weight: str | None = "weight", engine: str = DEFAULT_ENGINE) -> pd.DataFrame:
    r"""Degree :math:`k_v = |\{u : u \sim v\}|` and strength :math:`s_v = \sum_{u \sim v} w_{uv}`.

    Strength (Barrat et al. 2004, doi:10.1073/pnas.0400087101) is the
    weighted degree: total tie strength of the subscriber's contacts.

    Returns
    -------
    pandas.DataFrame
        ``vid``, ``degree`` (int64), ``strength`` (float64).

    Examples
    --------
    >>> g = ContactGraph.from_edges([(0, 1), (0, 2)], weights=[2.0, 0.5])
    >>> degree_strength(g)["strength"].tolist()
    [2.5, 2.0, 0.5]
    """
    eng = get_engine(engine)
    return pd.DataFrame(
        {
            "vid": np.arange(graph.n_subscribers, dtype=np.int64),
            "degree": eng.degree(graph),
            "strength": eng.strength(graph, graph.weights(weight)),
        }
    )
