"""Viral seeding list: the subscribers to seed a campaign with, from influence maximisation.

Without a segment the list is the run's influence-maximisation seeds (greedy CELF
under the independent cascade model; Kempe, Kleinberg & Tardos 2003,
doi:10.1145/956750.956769; Leskovec et al. 2007, doi:10.1145/1281192.1281239) in
seed order, minus anyone who may not be targeted.  Within a segment the seeds are
re-selected among the segment's eligible members with
``bellwether.algorithms.influence.select_seeds(graph, k, candidates=...)`` (IMM; Tang, Shi &
Xiao 2015, doi:10.1145/2723372.2723734).  The expected spread of the final list comes from
``bellwether.algorithms.influence.estimate_spread`` (Monte-Carlo, with a 95 % interval).

The run's ``marginal_gain`` and ``cumulative_spread`` describe the run's seed list; once
seeds are held back (do-not-contact, churned, already on the retention list) they no
longer add up.  So the list's spread accounting is done again on the seeds actually
kept (:func:`seed_accounting`): reverse-reachable sets are drawn afresh
(:func:`bellwether.algorithms.influence.sample_rr_sets`, as many as the run used), the greedy
maximum coverage (:func:`bellwether.algorithms.influence.node_selection`) orders the kept seeds,
and a second, independent draw of RR sets gives each its marginal gain (counting on the
sets that chose the order would overstate the reach by the greedy's own selection
bias).  ``cumulative_spread`` is the running sum of the gains, so row ``k`` is the
estimated reach of the first ``k`` rows; the last row agrees with the Monte-Carlo
``expected_spread`` of the sidecar within the sampling error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["viral_list", "list_spread", "seed_accounting"]

#: RR sets drawn for the accounting when the run does not say how many it used.
DEFAULT_RR_SETS = 100_000
MAX_RR_SETS = 2_000_000


def seed_accounting(graph, candidates: np.ndarray, k: int, *, seed: int = DEFAULT_SEED, n_rr_sets: int = DEFAULT_RR_SETS,
                    probability: str | float = "tie_strength") -> pd.DataFrame:
    """Order up to ``k`` of ``candidates`` by greedy coverage of fresh RR sets and account their spread.

    Returns ``vid``, ``marginal_gain`` (estimated extra subscribers reached by adding the
    seed to the rows above it) and ``cumulative_spread`` (their running sum: the
    estimated spread of the first rows), in pick order.
    """
    from bellwether.algorithms.influence import arcs, edge_probabilities, node_selection, sample_rr_sets
    from bellwether.algorithms.influence.rr_sets import reverse_index

    cand = np.unique(np.asarray(candidates, dtype=np.int64))
    if len(cand) == 0 or k <= 0:
        return pd.DataFrame({"vid": np.zeros(0, np.int64), "marginal_gain": np.zeros(0), "cumulative_spread": np.zeros(0)})
    n = graph.n_subscribers
    source, target = arcs(graph)
    probs = edge_probabilities(graph, probability)
    count = int(min(max(int(n_rr_sets), 1000), MAX_RR_SETS))
    index = reverse_index(source, target, probs, n)
    rr = sample_rr_sets(index, count, np.random.default_rng([seed, 11]))
    order = node_selection(rr, min(int(k), len(cand)), candidates=cand, tiebreak=np.bincount(source, minlength=n)).seeds
    gain = n * _new_coverage(sample_rr_sets(index, count, np.random.default_rng([seed, 12])), order) / count
    return pd.DataFrame({"vid": order.astype(np.int64), "marginal_gain": gain, "cumulative_spread": np.cumsum(gain)})


def _new_coverage(rr, order: np.ndarray) -> np.ndarray:
    """RR sets of ``rr`` each vertex of ``order`` covers that the vertices before it did not."""
    import scipy.sparse as sp

    inc = sp.csr_array((np.ones(len(rr.nodes), dtype=np.int8), rr.nodes, rr.ptr), shape=(rr.count, rr.n)).tocsc()
    covered = np.zeros(rr.count, dtype=bool)
    out = np.zeros(len(order), dtype=np.float64)
    for i, v in enumerate(order):
        sets = inc.indices[inc.indptr[v]: inc.indptr[v + 1]]
        new = sets[~covered[sets]]
        covered[new] = True
        out[i] = len(new)
    return out


def list_spread(graph, vids: np.ndarray, *, n_simulations: int = 1000, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Expected spread of a seed list as ``{"mean", "ci_low", "ci_high", "n_simulations"}`` (Monte-Carlo IC cascades)."""
    from bellwether.algorithms.influence import estimate_spread

    if len(vids) == 0:
        return {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0, "n_simulations": 0}
    mean, lo, hi = estimate_spread(graph, [int(v) for v in vids], n_simulations=n_simulations, seed=seed)
    return {"mean": float(mean), "ci_low": float(lo), "ci_high": float(hi), "n_simulations": int(n_simulations)}


def viral_list(
    table: pd.DataFrame,
    seeds: pd.DataFrame,
    eligible: np.ndarray,
    *,
    k: int | None = None,
    reselect: bool = False,
    graph=None,
    seed: int = DEFAULT_SEED,
    n_rr_sets: int = DEFAULT_RR_SETS,
    probability: str | float = "tie_strength",
) -> tuple[pd.DataFrame, str]:
    """Return the ranked seed list and the selection method.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per vertex in ``vid`` order.
    seeds : pandas.DataFrame
        The run's INFLUENCE_SEEDS table.
    eligible : bool array
        Who may be on the list (already restricted to the segment when one is given).
    k : int, optional
        List length; default the number of run seeds.
    reselect : bool, default False
        Select new seeds among ``eligible`` (for a segment) instead of filtering the run's seeds.
    graph : ContactGraph, optional
        The contact graph (for the spread accounting and the re-selection).
    seed : int, default 42
        Random seed of the re-selection and the accounting.
    n_rr_sets : int
        RR sets drawn by :func:`seed_accounting` (the run's own count gives the run's precision).
    probability : str or float, default "tie_strength"
        Arc probability model of the run's influence step.

    Returns
    -------
    rows : pandas.DataFrame
        ``vid``, ``rank``, ``score`` (marginal gain), ``marginal_gain``, ``cumulative_spread``
        (accounted on the listed seeds only).
    method : str
        ``"run_seeds"`` (the run's seeds that may be contacted, re-accounted) or ``"select_seeds"``.
    """
    eligible = np.asarray(eligible, bool)
    k = int(k if k is not None else max(len(seeds), 1))
    if not reselect:
        vids = seeds["vid"].to_numpy(np.int64)
        kept = vids[eligible[vids]]
        if graph is None and len(kept):
            raise ValueError("viral_list needs the contact graph to account the spread of the kept seeds")
        rows = seed_accounting(graph, kept, k, seed=seed, n_rr_sets=n_rr_sets, probability=probability)
        method = "run_seeds"
    else:
        from bellwether.algorithms.influence import select_seeds

        cand = np.flatnonzero(eligible)
        if len(cand) == 0:
            rows = pd.DataFrame({"vid": np.zeros(0, np.int64), "marginal_gain": np.zeros(0), "cumulative_spread": np.zeros(0)})
        else:
            picked = select_seeds(graph, k, candidates=cand, seed=seed, n_simulations=0,
                                  probability=probability).seeds.sort_values("rank")
            rows = pd.DataFrame({
                "vid": picked["vid"].to_numpy(np.int64),
                "marginal_gain": picked["marginal_gain"].to_numpy(np.float64),
                "cumulative_spread": picked["cumulative_spread"].to_numpy(np.float64),
            })
        method = "select_seeds"
        rows = rows.loc[eligible[rows["vid"].to_numpy()]].head(k).reset_index(drop=True)
    rows.insert(1, "rank", np.arange(1, len(rows) + 1, dtype=np.int64))
    gain = rows["marginal_gain"].to_numpy(np.float64)
    # score: marginal gain when known, else the reverse rank (higher is better)
    rows.insert(2, "score", np.where(np.isfinite(gain), gain, (len(rows) - rows["rank"].to_numpy() + 1).astype(np.float64)))
    return rows.reset_index(drop=True), method
