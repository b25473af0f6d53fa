"""The evaluation of an analysis run against known truth.

For a run (``runs/<id>/subscribers.parquet`` and ``manifest.json``) and a truth
table (:func:`bellwether.algorithms.evaluation.truth.read_truth`):

* **communities**: NMI, AMI and ARI of the run's communities against the planted
  ones on the persons present in both, and the recovery of planted groups by size
  class (family, friends, workplace) (:mod:`~bellwether.algorithms.evaluation.partition`),
  for the fine level and the coarse one;
* **churn**: AUC and lift at 1 / 5 / 10 % of each churn score (network model,
  non-network baseline, plain spreading activation, contagion PageRank) against
  churn in ``[as_of, as_of + horizon)`` from the truth, over the subscribers the
  run scored: on-net persons not churned before ``as_of`` (persons the truth
  says churned before ``as_of``, or on ``as_of`` itself, are left out as
  neither scoreable nor in the label window) (:mod:`~bellwether.algorithms.evaluation.ranking`);
  and the two target ratios (network lift at 10 % over the baseline's, target
  1.3; network lift at 5 % over spreading activation's, target 2);
* **influence**: the expected spread of the influence seeds against the
  top-PageRank seeds, as the run's manifest recorded them (``metrics.influence``).

:func:`evaluate_run_dir` records the result in the run's manifest under
``metrics.evaluation``.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from bellwether.algorithms.churn import timeline
from bellwether.algorithms.evaluation.partition import community_agreement, read_size_classes
from bellwether.algorithms.evaluation.ranking import FRACTIONS, ranking_table
from bellwether.graph.core.workspace import read_json, write_json

__all__ = ["CHURN_SCORES", "TARGETS", "evaluate_run", "evaluate_run_dir", "churn_evaluation", "influence_summary"]

CHURN_SCORES = {
    "network_model": "churn_risk",
    "baseline": "churn_risk_baseline",
    "spreading_activation": "spreading_activation",
    "contagion_ppr": "contagion_score",
}
TARGETS = {"lift_10_network_over_baseline": 1.3, "lift_5_network_over_sa": 2.0}


def _num(x: Any) -> float | None:
    """A plain float, or None for NaN/inf (JSON has no NaN)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return _num(a / b) if a is not None and b not in (None, 0.0) else None


def churn_evaluation(run: pd.DataFrame, truth: pd.DataFrame, *, as_of: Any, horizon_days: int = 30) -> dict[str, Any]:
    """AUC and lifts of the run's churn scores against the truth's churn in ``[as_of, as_of + horizon_days)``
    (:func:`bellwether.algorithms.churn.timeline.evaluation_labels`)."""
    cut = timeline.to_day(as_of)
    cols = ["id", "on_net", "churned", *CHURN_SCORES.values()]
    r = run.loc[:, [c for c in cols if c in run.columns]].copy()
    r["id"] = r["id"].astype(str)
    t = truth.loc[:, ["id", "kind", "churn_date"]].copy()
    t["id"] = t["id"].astype(str)
    both = r.merge(t, on="id", how="inner")
    d = pd.to_datetime(both["churn_date"]).to_numpy("datetime64[ns]").astype("datetime64[D]")
    keep = (both["on_net"].fillna(False).to_numpy(bool) & ~both["churned"].fillna(False).to_numpy(bool)
            & (both["kind"].astype(str).to_numpy() == "person") & ~(d < cut))
    scored = np.zeros(len(both), bool)
    for col in CHURN_SCORES.values():
        if col in both:
            scored |= both[col].notna().to_numpy()
    keep &= scored
    y = timeline.evaluation_labels(d[keep], cut, horizon_days)
    table = ranking_table(y, {name: both.loc[keep, col].to_numpy(np.float64) if col in both else np.full(int(keep.sum()), np.nan)
                              for name, col in CHURN_SCORES.items()})
    methods = {row["score"]: {k: _num(v) for k, v in row.items() if k != "score"} for row in table.to_dict("records")}
    ratios = {
        "lift_10_network_over_baseline": _ratio(methods["network_model"]["lift_10"], methods["baseline"]["lift_10"]),
        "lift_5_network_over_sa": _ratio(methods["network_model"]["lift_5"], methods["spreading_activation"]["lift_5"]),
    }
    return {
        "label_window": f"[{cut}, {cut + horizon_days * timeline.DAY})",
        "horizon_days": int(horizon_days),
        "population": int(keep.sum()),
        "churners": int(y.sum()),
        "base_rate": _num(y.mean()) if len(y) else None,
        "fractions": [float(q) for q in FRACTIONS],
        "methods": methods,
        "ratios": ratios,
        "targets": dict(TARGETS),
        "targets_met": {k: (v is not None and v >= TARGETS[k]) for k, v in ratios.items()},
    }


def influence_summary(influence: dict[str, Any] | None) -> dict[str, Any] | None:
    """Expected spread of the influence seeds and of the top-PageRank seeds, from the run's influence metrics."""
    if not influence or "skipped" in influence:
        return None
    seeds = _num(influence.get("expected_spread"))
    pagerank = _num(influence.get("pagerank_spread"))
    out = {
        "k": influence.get("k"),
        "seeds_expected_spread": seeds,
        "pagerank_seeds_expected_spread": pagerank,
        "ratio_vs_pagerank": _num(influence.get("spread_ratio_vs_pagerank")) or _ratio(seeds, pagerank),
        # the largest ratio any k seeds could show (upper bound on the optimum's spread / PageRank's)
        "ceiling_vs_pagerank": _num(influence.get("ceiling_ratio_vs_pagerank")),
        # the seeds' reach as a share of the most any k seeds could reach (data-dependent bound, Leskovec et al. 2007)
        "share_of_upper_bound": _num(influence.get("share_of_upper_bound")),
    }
    if "degree_spread" in influence:
        out["degree_seeds_expected_spread"] = _num(influence.get("degree_spread"))
    return out


def evaluate_run(
    run: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    as_of: Any,
    horizon_days: int = 30,
    influence: dict[str, Any] | None = None,
    size_classes: dict[str, tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """Evaluate a run's subscribers table against the truth (plain types, JSON-ready).

    Parameters
    ----------
    run : pandas.DataFrame
        Run subscribers (:data:`bellwether.graph.schema.RUN_SUBSCRIBERS`).
    truth : pandas.DataFrame
        :func:`~bellwether.algorithms.evaluation.truth.read_truth` output.
    as_of : date-like
        The run's ``as_of``.
    horizon_days : int, default 30
        Churn label window ``[as_of, as_of + horizon_days)``.
    influence : dict, optional
        The run's influence metrics (``expected_spread``, ``pagerank_spread``...).
    size_classes : dict, optional
        Planted size range per group type for the recovery by class
        (:func:`~bellwether.algorithms.evaluation.partition.read_size_classes`).

    Returns
    -------
    dict
        ``as_of``, ``communities`` (:func:`~bellwether.algorithms.evaluation.partition.community_agreement` of
        the fine level, with the same for the coarse level under ``coarse`` when the run has one),
        ``churn`` (:func:`churn_evaluation`) and ``influence`` (:func:`influence_summary`, or None).
    """
    comm = community_agreement(run, truth, size_classes=size_classes) if "community" in run.columns else None
    if comm is not None and "coarse_community" in run.columns and run["coarse_community"].notna().any():
        coarse = run.drop(columns="community").rename(columns={"coarse_community": "community"})
        comm["coarse"] = community_agreement(coarse, truth, size_classes=size_classes)
    for level in (comm, (comm or {}).get("coarse")):
        for key in ("nmi", "ami", "ari", "nmi_with_contacts"):
            if level is not None and key in level:
                level[key] = _num(level[key])
    return {
        "as_of": str(timeline.to_day(as_of)),
        "truth_rows": int(len(truth)),
        "communities": comm,
        "churn": churn_evaluation(run, truth, as_of=as_of, horizon_days=horizon_days),
        "influence": influence_summary(influence),
    }


def evaluate_run_dir(
    run_dir: str | Path,
    truth: pd.DataFrame,
    *,
    horizon_days: int | None = None,
    truth_path: str | None = None,
    record: bool = True,
) -> dict[str, Any]:
    """Evaluate the run in ``run_dir`` and (``record``) store the result in its manifest under ``metrics.evaluation``.

    ``horizon_days`` defaults to the run's churn horizon (``parameters.horizon_days``, then
    ``metrics.churn.horizon_days``, then 30).
    """
    run_dir = Path(run_dir)
    manifest = read_json(run_dir / "manifest.json")
    if "as_of" not in manifest:
        raise ValueError(f"{run_dir / 'manifest.json'} has no as_of.")
    metrics = manifest.get("metrics") or {}
    if horizon_days is None:
        horizon_days = int((manifest.get("parameters") or {}).get("horizon_days")
                           or (metrics.get("churn") or {}).get("horizon_days") or 30)
    run = pq.read_table(run_dir / "subscribers.parquet").to_pandas()
    result = evaluate_run(run, truth, as_of=manifest["as_of"], horizon_days=horizon_days,
                          influence=metrics.get("influence"), size_classes=read_size_classes(truth_path))
    result["run_id"] = manifest.get("run_id", run_dir.name)
    result["evaluated"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if truth_path is not None:
        result["truth"] = str(truth_path)
    if record:
        manifest.setdefault("metrics", {})["evaluation"] = result
        write_json(run_dir / "manifest.json", manifest)
    return result
