"""Put the segment dimensions together for one run and write them next to the run's tables.

``runs/<id>/segments.parquet``
    One row per subscriber: ``vid, id, value_tier, behaviour, usage_mix, cluster,
    cluster_label, role, community, at_risk_community``.
``runs/<id>/segment_profiles.parquet`` / ``.csv`` (+ sidecar manifests)
    :func:`bellwether.algorithms.segments.profiles.segment_profiles`, small groups held back.
``runs/<id>/segments.json``
    Parameters, ARPU cut points and the description of every cluster.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bellwether.algorithms.segments.behaviour import behaviour
from bellwether.algorithms.segments.clusters import kmeans_clusters
from bellwether.algorithms.segments.network import network_segments
from bellwether.algorithms.segments.profiles import MIN_GROUP_SIZE, PROFILE_DIMENSIONS, segment_profiles
from bellwether.algorithms.segments.run_tables import RunTables
from bellwether.algorithms.segments.usage import usage_features, usage_mix
from bellwether.algorithms.segments.value import tier_cut_points, value_tiers
from bellwether.graph.exports import export_table
from bellwether.graph.core.workspace import write_json

__all__ = ["SEGMENT_COLUMNS", "SegmentOptions", "Segments", "segment_run", "write_segments", "read_segments"]

SEGMENT_COLUMNS = (
    "vid", "id", "value_tier", "behaviour", "usage_mix", "cluster", "cluster_label", "role", "community",
    "at_risk_community",
)
OFF_NET_CLUSTER = -1
OFF_NET_LABEL = "off-net number"


@dataclass(frozen=True)
class SegmentOptions:
    """Every knob of the segmentation, with its default (recorded in ``segments.json``)."""

    quantiles: tuple[float, ...] = (0.5, 0.8)
    tier_labels: tuple[str, ...] = ("low", "mid", "high")
    silent_days: int = 30
    new_months: int = 3
    voice_min: float = 0.7
    sms_min: float = 0.7
    strong_quantile: float = 0.75
    k: int = 5
    seed: int | None = None  # None: the run's seed
    sample: int | None = 200_000
    min_recent_churners: int = 2
    min_lift: float = 2.0
    min_group_size: int = MIN_GROUP_SIZE


@dataclass
class Segments:
    """Result of :func:`segment_run`.

    ``table`` has :data:`SEGMENT_COLUMNS`; ``features`` the usage features per subscriber
    (same rows); ``clusters`` one row per cluster; ``profiles`` the segment profiles and
    ``suppressed_profiles`` how many small segments were left out of them.
    """

    table: pd.DataFrame
    features: pd.DataFrame
    clusters: pd.DataFrame
    profiles: pd.DataFrame
    suppressed_profiles: int
    info: dict[str, Any] = field(default_factory=dict)


def segment_run(run: RunTables, options: SegmentOptions | None = None) -> Segments:
    """Compute every segment dimension for every subscriber of ``run``.

    Off-net numbers get value tier ``off_net`` and cluster ``-1`` ("off-net number");
    clustering uses on-net persons only, so numbers of other operators (without ARPU or
    tenure) do not shape the customer clusters.

    Without a subscriber (CRM) extract (``run.crm == "absent"``) every person is treated
    as a customer (:attr:`RunTables.customers`): their value tier is ``unknown``, they are
    clustered on usage and network features alone, and the profiles' churn rate and
    on-net share are null (unknown), with the reason in ``info["note"]``.
    """
    o = options or SegmentOptions()
    seed = run.seed if o.seed is None else o.seed
    subs = run.subscribers
    n = len(subs)
    on_net = subs["on_net"].to_numpy(bool, na_value=False)
    ours = run.customers
    no_crm = run.crm == "absent"
    feats = usage_features(n, run.contacts, on_net, strong_quantile=o.strong_quantile)
    if no_crm:  # nobody is known to be on-net: the share is unknown, not 0
        feats["on_net_share"] = np.nan
    arpu = subs["arpu"].to_numpy(np.float64, na_value=np.nan) if "arpu" in subs else np.full(n, np.nan)
    tenure = subs["tenure_months"].to_numpy(np.float64, na_value=np.nan) if "tenure_months" in subs else np.full(n, np.nan)
    tenure = np.where(ours, tenure, np.nan)  # off-net numbers have no tenure with us: never "new"
    churned = subs["churned"].to_numpy(bool, na_value=False)

    feats["arpu"] = arpu
    feats["tenure_months"] = tenure
    feats["pagerank"] = subs["pagerank"].to_numpy(np.float64, na_value=np.nan)

    kind = subs["kind"].astype(object).to_numpy() if "kind" in subs else np.full(n, "person", dtype=object)
    clusterable = ours & (kind != "service")
    cluster = np.full(n, OFF_NET_CLUSTER, dtype=np.int64)
    labels = np.full(n, OFF_NET_LABEL, dtype=object)
    if "kind" in subs:
        labels[(kind == "service") & (on_net | no_crm)] = "service number"
    c, clusters = kmeans_clusters(feats.loc[clusterable].reset_index(drop=True), k=o.k, seed=seed, sample=o.sample)
    cluster[clusterable] = c
    if len(clusters):
        labels[clusterable] = clusters["cluster_label"].to_numpy(object)[c]

    net = network_segments(subs, run.communities, min_recent_churners=o.min_recent_churners, min_lift=o.min_lift)
    table = pd.DataFrame(
        {
            "vid": subs["vid"].to_numpy(np.int64),
            "id": subs["id"].to_numpy(object),
            "value_tier": value_tiers(arpu, ours, quantiles=o.quantiles, labels=o.tier_labels),
            "behaviour": behaviour(churned, tenure, feats["last_contact"].to_numpy(), run.as_of,
                                   silent_days=o.silent_days, new_months=o.new_months),
            "usage_mix": usage_mix(feats["voice_share"].to_numpy(), voice_min=o.voice_min, sms_min=o.sms_min),
            "cluster": cluster,
            "cluster_label": labels,
            "role": net["role"].to_numpy(object),
            "community": net["community"].to_numpy(),
            "at_risk_community": net["at_risk_community"].to_numpy(bool),
        }
    )
    prof_input = table.assign(
        on_net=ours, churned=churned, arpu=arpu, on_net_share=feats["on_net_share"].to_numpy(),
        churn_risk=subs["churn_risk"].to_numpy(np.float64, na_value=np.nan),
        churned_after=subs["churned_after"].to_numpy() if "churned_after" in subs else pd.NA,
    )
    profiles, n_small = segment_profiles(prof_input, dimensions=PROFILE_DIMENSIONS, min_group_size=o.min_group_size)
    if no_crm:  # no churn dates: a churn rate of 0 would be a claim, not a measurement
        profiles["churn_rate"] = np.nan
    cut_points = tier_cut_points(arpu[ours], o.quantiles)
    info = {
        "run_id": run.run_id,
        "as_of": str(run.as_of.date()),
        "crm": run.crm,
        "note": run.crm_note,
        "options": {**asdict(o), "seed": seed},
        "arpu_cut_points": [float(x) for x in cut_points] if np.isfinite(cut_points).all() else None,
        "clusters": clusters.to_dict(orient="records"),
        "rows": n,
    }
    return Segments(table, feats, clusters, profiles, n_small, info)


def write_segments(run: RunTables, seg: Segments) -> dict[str, Path]:
    """Write ``segments.parquet``, ``segment_profiles.parquet``/``.csv`` and ``segments.json`` into the run folder."""
    out = run.run_dir
    t = seg.table.copy()
    t["community"] = t["community"].astype("Int64")
    seg_path = out / "segments.parquet"
    pq.write_table(pa.Table.from_pandas(t, preserve_index=False), seg_path)
    extra = {"run_id": run.run_id, "min_group_size": seg.info["options"]["min_group_size"]}
    suppressed = {"group_smaller_than_min_size": seg.suppressed_profiles}
    p1 = export_table(seg.profiles, out, "segment_profiles", "parquet", suppressed=suppressed, extra=extra)
    p2 = export_table(seg.profiles, out, "segment_profiles", "csv", suppressed=suppressed, extra=extra)
    info_path = out / "segments.json"
    write_json(info_path, seg.info)
    return {"segments": seg_path, "profiles_parquet": p1.path, "profiles_csv": p2.path, "info": info_path}


def read_segments(run: RunTables) -> pd.DataFrame | None:
    """Return ``runs/<id>/segments.parquet`` when it exists (None otherwise)."""
    p = run.run_dir / "segments.parquet"
    if not p.exists():
        return None
    t = pq.read_table(p).to_pandas()
    return t.sort_values("vid", kind="stable").reset_index(drop=True)
