"""Viral seeding list: the subscribers to seed a campaign with, from influence maximisation.

Without a segment the list is the run's influence-maximisation seeds (greedy CELF
under the independent cascade model; Kempe, Kleinberg & Tardos 2003,
doi:10.1145/956750.956769; Leskovec et al. 2007, doi:10.1145/1281192.1281239) in
seed order, minus anyone who may not be targeted.  Within a segment the seeds are
re-selected among the segment's eligible members with
``algorithms.influence.select_seeds(graph, k, candidates=...)`` (IMM; Tang, Shi &
Xiao 2015, doi:10.1145/2723372.2723734).  The expected spread of the final list comes from
``algorithms.influence.estimate_spread`` (Monte-Carlo, with a 95 % interval).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["viral_list", "list_spread"]


def list_spread(graph, vids: np.ndarray, *, n_simulations: int = 1000, seed: int = 42) -> dict[str, Any]:
    """Expected spread of a seed list as ``{"mean", "ci_low", "ci_high", "n_simulations"}`` (Monte-Carlo IC cascades)."""
    from algorithms.influence import estimate_spread

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
    seed: int = 42,
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
        Needed by ``select_seeds`` when ``reselect``.
    seed : int, default 42
        Random seed of the re-selection.

    Returns
    -------
    rows : pandas.DataFrame
        ``vid``, ``rank``, ``score`` (marginal gain), ``marginal_gain``, ``cumulative_spread``.
    method : str
        ``"run_seeds"`` or ``"select_seeds"``.
    """
    eligible = np.asarray(eligible, bool)
    k = int(k if k is not None else max(len(seeds), 1))
    if not reselect:
        s = seeds.sort_values("rank")
        s = s.loc[eligible[s["vid"].to_numpy(np.int64)]].head(k)
        rows = pd.DataFrame({
            "vid": s["vid"].to_numpy(np.int64),
            "marginal_gain": s["marginal_gain"].to_numpy(np.float64),
            "cumulative_spread": s["cumulative_spread"].to_numpy(np.float64),
        })
        method = "run_seeds"
    else:
        from algorithms.influence import select_seeds

        cand = np.flatnonzero(eligible)
        if len(cand) == 0:
            rows = pd.DataFrame({"vid": np.zeros(0, np.int64), "marginal_gain": np.zeros(0), "cumulative_spread": np.zeros(0)})
        else:
            picked = select_seeds(graph, k, candidates=cand, seed=seed, n_simulations=0).seeds.sort_values("rank")
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
