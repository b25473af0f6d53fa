"""Community detection through the engine dispatch: seeded, connected, canonically labelled.

The defaults are chosen for contact graphs, where most communities are small
(households of 2-6, circles of friends or colleagues of 10-100).  Modularity
has a resolution limit (Fortunato & Barthélemy 2007, doi:10.1073/pnas.0605965104):
on a graph of millions of contacts it merges any two small groups joined by a
single tie, so households vanish into larger blobs.  The Constant Potts Model
(CPM; Traag, Van Dooren & Nesterov 2011, doi:10.1103/PhysRevE.84.016114) is
free of that limit: a set of subscribers stays a community when its internal
weight density exceeds the resolution :math:`\\gamma`, whatever the size of the
graph.  We therefore default to Leiden on CPM, with tie strength divided by
its mean so that :math:`\\gamma` is a density in "average contacts per pair"
and does not depend on how the loader scales tie strength.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from algorithms.community.quality import count_disconnected, cpm_quality, modularity, split_disconnected
from algorithms.engines import check_community_options, get_engine
from graph.contact_graph import ContactGraph

__all__ = [
    "CommunityResult",
    "DEFAULT_OBJECTIVE",
    "DEFAULT_RESOLUTION",
    "canonical_labels",
    "community_weights",
    "detect_communities",
]

DEFAULT_OBJECTIVE = "cpm"
#: default resolution per objective (CPM: density threshold on mean-normalised weights)
DEFAULT_RESOLUTION = {"cpm": 0.05, "modularity": 1.0}


@dataclass
class CommunityResult:
    """A partition and how it was found.

    Attributes
    ----------
    membership : pandas.DataFrame
        Columns ``vid`` (int64) and ``community`` (int64, ``0..k-1``, 0 = largest).
    metrics : dict
        ``method, objective, resolution, engine, seed, n_communities, modularity``
        (weighted, :math:`\\gamma=1`), ``quality`` (the optimised objective),
        ``disconnected_split`` (communities the engine returned disconnected, split
        here), ``largest``, ``singletons``, ``median_size`` (of communities of size >= 2).
    """

    membership: pd.DataFrame
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> np.ndarray:
        return self.membership["community"].to_numpy(np.int64)


def community_weights(graph: ContactGraph, weight: str | None = "weight", objective: str = "cpm") -> np.ndarray:
    """Edge weights handed to the engine: ``weight`` column, divided by its mean for CPM."""
    w = graph.weights(weight)
    if objective == "cpm" and len(w):
        mean = float(w.mean())
        if mean > 0:
            w = w / mean
    return w


def canonical_labels(membership) -> np.ndarray:
    """Relabel communities ``0..k-1`` by size (largest first), ties by smallest member ``vid``.

    Engines label communities arbitrarily; canonical labels make two equal
    partitions produce equal tables.
    """
    lab = np.asarray(membership, dtype=np.int64)
    if len(lab) == 0:
        return lab
    uniq, dense = np.unique(lab, return_inverse=True)
    sizes = np.bincount(dense)
    first = np.full(len(uniq), len(lab), dtype=np.int64)
    np.minimum.at(first, dense, np.arange(len(lab)))
    order = np.lexsort((first, -sizes))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[dense]


def detect_communities(
    graph: ContactGraph,
    *,
    method: str = "leiden",
    objective: str = DEFAULT_OBJECTIVE,
    resolution: float | None = None,
    weight: str | None = "weight",
    seed: int = 42,
    engine: str = "igraph",
    max_iterations: int | None = 2,
) -> CommunityResult:
    """Find communities with ``method`` on ``objective``; see :func:`algorithms.community.leiden.leiden`."""
    check_community_options(str(engine), method, objective)
    if resolution is None:
        resolution = DEFAULT_RESOLUTION[objective]
    eng = get_engine(engine)
    w = community_weights(graph, weight, objective)
    raw = eng.communities(
        graph, w, method=method, objective=objective, resolution=float(resolution), seed=int(seed),
        max_iterations=max_iterations,
    )
    disconnected = count_disconnected(graph, raw)
    labels = canonical_labels(split_disconnected(graph, raw) if disconnected else raw)
    sizes = np.bincount(labels) if len(labels) else np.zeros(0, dtype=np.int64)
    quality = (
        cpm_quality(graph, labels, w, resolution=resolution)
        if objective == "cpm"
        else modularity(graph, labels, w, resolution=resolution)
    )
    metrics = {
        "method": method,
        "objective": objective,
        "resolution": float(resolution),
        "engine": eng.name,
        "seed": int(seed),
        "max_iterations": max_iterations,
        "n_communities": int(len(sizes)),
        "modularity": modularity(graph, labels),
        "quality": float(quality),
        "disconnected_split": int(disconnected),
        "largest": int(sizes.max()) if len(sizes) else 0,
        "singletons": int((sizes == 1).sum()),
        "median_size": float(np.median(sizes[sizes >= 2])) if (sizes >= 2).any() else 0.0,
    }
    table = pd.DataFrame({"vid": np.arange(graph.n_subscribers, dtype=np.int64), "community": labels})
    return CommunityResult(table, metrics)
