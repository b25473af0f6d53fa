"""Community detection through the engine dispatch: seeded, connected, canonically labelled.

The default, ``objective="auto"``, is Leiden on modularity at a resolution
chosen from the graph (:func:`bellwether.algorithms.engines.numba_leiden.adaptive_leiden_csr`):
a scan of the resolution :math:`\\gamma` from fine to coarse keeps the finest
partition whose modularity stays within 8% of the best one.  Modularity at
:math:`\\gamma = 1` has a resolution limit (Fortunato & Barthélemy 2007,
doi:10.1073/pnas.0605965104): on millions of contacts it merges small groups
joined by a single tie, for a microscopic gain, so households vanish into
blobs; the scan undoes those merges.  A fixed density (the Constant Potts Model,
CPM; Traag, Van Dooren & Nesterov 2011, doi:10.1103/PhysRevE.84.016114, the
default before) does not adapt: at :math:`\\gamma = 0.05` it returns one
community on a dense school contact graph and shatters a sparse graph with hubs
into hundreds of singletons (bench/RESULTS.md, "Communities on real graphs").
After the scan, a subscriber left alone with two or more contacts joins the
community holding most of its tie strength, and a weak structure (best modularity
below 0.3) is reported with a :class:`WeakStructureWarning` and a note in the
metrics.  ``objective="cpm"`` and ``"modularity"`` run one fixed resolution; CPM
weights are tie strength divided by its mean, so :math:`\\gamma` is a density in
"average contacts per pair".

Every run gives two nested levels: the partition above is the fine one (the close
circle: household, family, close friends) and :mod:`bellwether.algorithms.community.levels`
groups its communities into coarse ones (the wider group: workplace, class,
village).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import warnings

import numpy as np
import pandas as pd

from bellwether.algorithms.engines.numba_leiden import DEFAULT_TOLERANCE as _FAST_TOLERANCE
from bellwether.algorithms.community.levels import coarse_communities, coarse_resolution
from bellwether.algorithms.community.quality import (
    count_disconnected,
    cpm_quality,
    merge_singletons,
    modularity,
    split_disconnected,
)
from bellwether.algorithms.engines import DEFAULT_ENGINE, EngineError, check_community_options, get_engine
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = [
    "AUTO",
    "CommunityResult",
    "DEFAULT_OBJECTIVE",
    "DEFAULT_RESOLUTION",
    "DEFAULT_TOLERANCE",
    "WEAK_MODULARITY",
    "WeakStructureWarning",
    "canonical_labels",
    "community_weights",
    "detect_communities",
]

#: the adaptive objective: modularity at a resolution chosen from the graph
AUTO = "auto"
DEFAULT_OBJECTIVE = AUTO
#: default resolution of the fixed objectives (CPM: density threshold on mean-normalised weights)
DEFAULT_RESOLUTION = {"cpm": 0.05, "modularity": 1.0}
#: share of the best modularity the adaptive default may give up for a finer partition
DEFAULT_TOLERANCE = _FAST_TOLERANCE
#: below this best modularity the structure is reported as weak
WEAK_MODULARITY = 0.3


class WeakStructureWarning(UserWarning):
    """The graph has little community structure: the best partition found has modularity below 0.3."""


@dataclass
class CommunityResult:
    """A partition and how it was found.

    Attributes
    ----------
    membership : pandas.DataFrame
        Columns ``vid`` (int64), ``community`` (int64, ``0..k-1``, 0 = largest) and
        ``coarse_community`` (int64, ``0..K-1``, 0 = largest; every community lies in one).
    metrics : dict
        ``method, objective, resolution, engine, seed, n_communities, modularity``
        (weighted, :math:`\\gamma=1`), ``quality`` (the optimised objective),
        ``disconnected_split`` (communities the engine returned disconnected, split
        here), ``largest``, ``singletons``, ``median_size`` (of communities of size >= 2),
        ``coarse`` (``resolution, n_communities, modularity, largest, median_size``).
    """

    membership: pd.DataFrame
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> np.ndarray:
        return self.membership["community"].to_numpy(np.int64)

    @property
    def coarse_labels(self) -> np.ndarray:
        return self.membership["coarse_community"].to_numpy(np.int64)


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


def _auto_generic(eng, graph, w, method, seed, max_iterations, tolerance):
    """The adaptive scan with full runs of ``eng`` at each resolution (engines without a cascade)."""
    from bellwether.algorithms.engines.numba_leiden import _GAMMA_CAP, SCAN_FACTOR, choose_resolution, csr_from_edges, resolution_scale

    indptr, indices, data = csr_from_edges(graph.n_subscribers, graph.edge_array(), w)
    top = float(min(2.0 ** np.ceil(np.log2(max(resolution_scale(indptr, indices, data) / 2.0, 2.0))), _GAMMA_CAP))
    restarts = 0
    while True:
        scan, gamma = [], top
        while True:
            labels = eng.communities(graph, w, method=method, objective="modularity", resolution=gamma, seed=seed,
                                     max_iterations=max_iterations)
            scan.append((gamma, labels, modularity(graph, labels, w)))
            if gamma <= 1.0:
                break
            gamma = max(gamma / SCAN_FACTOR, 1.0)
        pick = choose_resolution(scan, tolerance)
        if pick != 0 or top >= _GAMMA_CAP or restarts >= 2:
            break
        top, restarts = min(top * 8.0, _GAMMA_CAP), restarts + 1
    return scan[pick][1], {
        "resolution": float(scan[pick][0]),
        "modularity_best": float(max(q for _, _, q in scan)),
        "scan": [{"resolution": float(g), "modularity": float(q)} for g, _, q in scan],
        "resolution_top": top,
        "restarts": restarts,
        "tolerance": float(tolerance),
    }


def detect_communities(
    graph: ContactGraph,
    *,
    method: str = "leiden",
    objective: str = DEFAULT_OBJECTIVE,
    resolution: float | None = None,
    weight: str | None = "weight",
    seed: int = DEFAULT_SEED,
    engine: str = DEFAULT_ENGINE,
    max_iterations: int | None = 2,
    tolerance: float = DEFAULT_TOLERANCE,
) -> CommunityResult:
    """Find communities with ``method`` on ``objective``; see :func:`bellwether.algorithms.community.leiden.leiden`.

    ``objective="auto"`` (the default) chooses the modularity resolution from the graph
    (``tolerance``: share of the best modularity it may give up for a finer partition), merges
    subscribers left alone with two or more contacts into the community holding most of their tie
    strength, and warns (:class:`WeakStructureWarning`, ``metrics["note"]``) when the best
    modularity is below 0.3.
    """
    auto = objective == AUTO
    if auto and resolution is not None:
        raise EngineError("Objective 'auto' chooses the resolution itself; pass objective 'modularity' or 'cpm' "
                          "to fix one.")
    check_community_options(str(engine), method, "modularity" if auto else objective)
    if resolution is None and not auto:
        resolution = DEFAULT_RESOLUTION[objective]
    eng = get_engine(engine)
    w = community_weights(graph, weight, objective)
    info: dict[str, Any] = {}
    if auto:
        fast = getattr(eng, "communities_auto", None)
        out = fast(graph, w, seed=int(seed), max_iterations=max_iterations, tolerance=float(tolerance)) \
            if fast is not None and method == "leiden" else None
        raw, info = out if out is not None else _auto_generic(eng, graph, w, method, int(seed), max_iterations,
                                                              float(tolerance))
        resolution = info["resolution"]
    else:
        raw = eng.communities(
            graph, w, method=method, objective=objective, resolution=float(resolution), seed=int(seed),
            max_iterations=max_iterations,
        )
    disconnected = count_disconnected(graph, raw)
    labels = split_disconnected(graph, raw) if disconnected else np.asarray(raw, dtype=np.int64)
    merged = 0
    if auto:
        labels, merged = merge_singletons(graph, labels, w)
    labels = canonical_labels(labels)
    quality = (
        cpm_quality(graph, labels, w, resolution=resolution)
        if objective == "cpm"
        else modularity(graph, labels, w, resolution=resolution)
    )
    q1 = modularity(graph, labels)
    metrics = {
        "method": method,
        "objective": objective,
        "resolution": float(resolution),
        "engine": eng.name,
        "seed": int(seed),
        "max_iterations": max_iterations,
        **_size_metrics(labels),
        "modularity": q1,
        "quality": float(quality),
        "disconnected_split": int(disconnected),
    }
    if auto:
        best = max(float(info.get("modularity_best", 0.0)), q1)
        metrics.update({
            "modularity_best": best,
            "tolerance": float(tolerance),
            "resolution_scan": info.get("scan", []),
            "singletons_merged": int(merged),
        })
        if graph.n_contacts and best < WEAK_MODULARITY:
            note = (f"weak community structure: the best partition found has modularity {best:.3f} "
                    f"(below {WEAK_MODULARITY}); communities are little denser than chance and should not be "
                    "used as groups for targeting without a check")
            metrics["note"] = note
            warnings.warn(note, WeakStructureWarning, stacklevel=2)
    gamma_c = coarse_resolution(float(resolution), objective)
    w_mod = community_weights(graph, weight, "modularity")
    coarse = canonical_labels(coarse_communities(graph, labels, w_mod, resolution=gamma_c, seed=int(seed))[0][labels]) \
        if len(labels) else labels
    metrics["coarse"] = {"resolution": gamma_c, **_size_metrics(coarse), "modularity": modularity(graph, coarse)}
    table = pd.DataFrame({"vid": np.arange(graph.n_subscribers, dtype=np.int64), "community": labels,
                          "coarse_community": coarse})
    return CommunityResult(table, metrics)


def _size_metrics(labels: np.ndarray) -> dict[str, Any]:
    sizes = np.bincount(labels) if len(labels) else np.zeros(0, dtype=np.int64)
    return {
        "n_communities": int(len(sizes)),
        "largest": int(sizes.max()) if len(sizes) else 0,
        "singletons": int((sizes == 1).sum()),
        "median_size": float(np.median(sizes[sizes >= 2])) if (sizes >= 2).any() else 0.0,
    }
