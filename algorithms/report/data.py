"""The numbers behind the report: what each exported list is expected to achieve, distributions, both
community levels, the contagion curve, lift, influence and ego networks.

Pure functions on arrays and tables; :func:`report_data` gathers them for one run.
Nothing here draws; :mod:`bellwether.algorithms.report.html` turns the result into HTML and SVG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bellwether.algorithms.evaluation.ranking import auc, decile_lift, gains_curve
from bellwether.algorithms.segments.profiles import MIN_GROUP_SIZE
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = [
    "wilson_interval", "log_bins", "contagion_curve", "ego_network",
    "force_layout", "list_action", "coarse_table", "ReportData", "report_data",
]

LIST_ORDER = ("retention", "viral", "community", "acquisition")


def wilson_interval(k: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion ``k / n`` (Wilson 1927, doi:10.1080/01621459.1927.10502953).

    .. math:: \\frac{\\hat p + \\frac{z^2}{2n} \\pm z\\sqrt{\\frac{\\hat p(1-\\hat p)}{n} + \\frac{z^2}{4n^2}}}{1 + \\frac{z^2}{n}}

    Unlike the normal interval it stays inside [0, 1] and behaves for small ``n`` and
    rates near 0.  Returns NaN where ``n == 0``.

    Examples
    --------
    >>> lo, hi = wilson_interval(np.array([0]), np.array([10]))
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.0, 0.278)
    """
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    return np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)


def log_bins(values: np.ndarray, *, per_decade: int = 5, positive_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Histogram on logarithmic bins (``per_decade`` bins per factor 10) of the positive ``values``."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)] if positive_only else v[np.isfinite(v)]
    if len(v) == 0:
        return np.array([1.0, 10.0]), np.array([0])
    lo, hi = math.floor(math.log10(v.min()) * per_decade), math.ceil(math.log10(v.max()) * per_decade + 1e-9)
    hi = max(hi, lo + 1)
    edges = 10.0 ** (np.arange(lo, hi + 1) / per_decade)
    counts, _ = np.histogram(v, bins=edges)
    return edges, counts


def contagion_curve(
    churned_contacts: np.ndarray,
    churned_after: np.ndarray,
    population: np.ndarray,
    *,
    max_k: int = 5,
    min_group_size: int = MIN_GROUP_SIZE,
) -> pd.DataFrame:
    """Churn rate after ``as_of`` by the number of contacts who churned before it, with Wilson 95 % bands.

    Parameters
    ----------
    churned_contacts : int array
        Per subscriber, contacts who churned before ``as_of``.
    churned_after : bool array
        Churned after ``as_of`` (the label).
    population : bool array
        Who counts: on-net customers still active at ``as_of`` with a known label.
    max_k : int, default 5
        Counts of ``max_k`` and more share the last point (``"5+"``).
    min_group_size : int, default 10
        Points with fewer subscribers are left out (small groups are not reported).

    Returns
    -------
    pandas.DataFrame
        ``k``, ``label``, ``n``, ``churners``, ``rate``, ``ci_low``, ``ci_high``.

    References
    ----------
    Dasgupta et al. 2008, doi:10.1145/1353343.1353424, Fig. 3: the probability of
    churning rises with the number of churned neighbours.
    """
    pop = np.asarray(population, bool)
    k = np.minimum(np.asarray(churned_contacts, dtype=np.int64)[pop], max_k)
    y = np.asarray(churned_after, dtype=bool)[pop]
    n = np.bincount(k, minlength=max_k + 1)
    c = np.bincount(k, weights=y.astype(np.float64), minlength=max_k + 1)
    lo, hi = wilson_interval(c, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, c / np.where(n > 0, n, 1), np.nan)
    t = pd.DataFrame({
        "k": np.arange(max_k + 1), "label": [str(i) for i in range(max_k)] + [f"{max_k}+"], "n": n,
        "churners": c.astype(np.int64), "rate": rate, "ci_low": lo, "ci_high": hi,
    })
    return t.loc[t["n"] >= min_group_size].reset_index(drop=True)


def ego_network(contacts: pd.DataFrame, center: int, *, max_neighbours: int = 24) -> dict[str, np.ndarray]:
    """The ego network of ``center``: its strongest ``max_neighbours`` contacts and the ties among them.

    Returns ``vids`` (center first), ``edges`` (local indices) and ``weights``.
    """
    a = contacts["a_vid"].to_numpy(np.int64)
    b = contacts["b_vid"].to_numpy(np.int64)
    w = contacts["weight"].to_numpy(np.float64)
    touch = (a == center) | (b == center)
    nb = np.where(a[touch] == center, b[touch], a[touch])
    nw = w[touch]
    keep = np.argsort(-nw, kind="stable")[:max_neighbours]
    vids = np.concatenate([[center], nb[keep]]).astype(np.int64)
    inside = np.isin(a, vids) & np.isin(b, vids)
    local = {int(v): i for i, v in enumerate(vids)}
    ea, eb = a[inside], b[inside]
    edges = np.array([[local[int(x)], local[int(y)]] for x, y in zip(ea, eb)], dtype=np.int64).reshape(-1, 2)
    return {"vids": vids, "edges": edges, "weights": w[inside]}


def showcase_bellwethers(score: np.ndarray, ids: np.ndarray, eligible: np.ndarray, n: int) -> np.ndarray:
    """Vertex numbers of the ``n`` bellwethers the report shows: the ``eligible`` ones by ``bellwether_score``
    (highest first), equal scores by id, so the pick never depends on row order."""
    idx = np.flatnonzero(np.asarray(eligible, dtype=bool))
    order = np.lexsort((np.asarray(ids).astype(str)[idx], -np.asarray(score, dtype=np.float64)[idx]))
    return idx[order][:n]


def force_layout(n: int, edges: np.ndarray, *, seed: int = DEFAULT_SEED, iterations: int = 150) -> np.ndarray:
    """Fruchterman–Reingold layout (doi:10.1002/spe.4380211102) with node 0 pinned at the centre.

    Starts from a circle (seeded jitter), so the same input gives the same drawing.
    Positions are scaled into ``[-1, 1]^2``.
    """
    if n <= 1:
        return np.zeros((n, 2))
    rng = np.random.default_rng(seed)
    ang = np.linspace(0, 2 * np.pi, n - 1, endpoint=False)
    pos = np.vstack([[0.0, 0.0], np.column_stack([np.cos(ang), np.sin(ang)])]) + rng.normal(0, 0.02, (n, 2))
    pos[0] = 0
    k = 1.0 / math.sqrt(n)
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    temp = 0.1
    for _ in range(iterations):
        d = pos[:, None, :] - pos[None, :, :]
        dist = np.sqrt((d**2).sum(-1)) + 1e-9
        force = (d / dist[..., None] * (k * k / dist)[..., None]).sum(1)  # repulsion
        if len(e):
            de = pos[e[:, 0]] - pos[e[:, 1]]
            de_len = np.sqrt((de**2).sum(-1)) + 1e-9
            pull = de / de_len[:, None] * (de_len**2 / k)[:, None]
            np.add.at(force, e[:, 0], -pull)
            np.add.at(force, e[:, 1], pull)
        length = np.sqrt((force**2).sum(-1)) + 1e-9
        pos += force / length[:, None] * np.minimum(length, temp)[:, None]
        pos[0] = 0
        temp *= 0.97
    scale = np.abs(pos).max()
    return pos / scale if scale > 0 else pos


def _number(x: Any) -> float | None:
    """``x`` as a finite float, or None (missing, text, NaN)."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _list_column(folder: Path | None, file_name: str, column: str) -> np.ndarray | None:
    """One numeric column of an exported list file (None when the file or the column cannot be read)."""
    if folder is None or not file_name:
        return None
    from bellwether.graph.exports import read_table

    try:
        rows = read_table(folder / file_name)
    except Exception:  # noqa: BLE001 (an unreadable export only loses the figure it would give)
        return None
    if column not in rows:
        return None
    return pd.to_numeric(rows[column], errors="coerce").to_numpy(np.float64)


def _list_impact(name: str, sidecar: dict[str, Any], rows: int, folder: Path | None, file_name: str) -> dict[str, Any]:
    """What list ``name`` is expected to achieve, as numbers (the words are the renderer's).

    - retention ranked by expected value saved: ``kind="value_saved"``, ``total`` (the sidecar's
      ``expected_value_saved_total``, else the sum of the list's ``expected_value_saved`` column),
      ``unit`` (``money`` or ``customers``: no ARPU known), ``value_months``, ``response_rate``;
      ranked by exposure: ``kind="exposure"``;
    - viral: ``kind="reach"``, the Monte-Carlo expected reach of the kept seeds ``mean`` with
      ``ci_low`` / ``ci_high`` (sidecar ``expected_spread``), else the last ``cumulative_spread`` of the list;
    - community: ``kind="members"``, ``members`` offered and the number of group ``offers``;
    - acquisition: ``kind="prospects"``, off-net numbers to approach.
    """
    if name == "retention":
        if sidecar.get("ranking", "expected_value_saved") != "expected_value_saved":
            return {"kind": "exposure"}
        total = _number(sidecar.get("expected_value_saved_total"))
        if total is None and rows:
            col = _list_column(folder, file_name, "expected_value_saved")
            total = float(np.nansum(col)) if col is not None and np.isfinite(col).any() else None
        assumptions = sidecar.get("assumptions") or {}
        return {"kind": "value_saved", "total": total, "unit": sidecar.get("value_unit", "money"),
                "value_months": _number(assumptions.get("value_months")),
                "response_rate": _number(assumptions.get("response_rate"))}
    if name == "viral":
        spread = sidecar.get("expected_spread") if isinstance(sidecar.get("expected_spread"), dict) else {}
        mean = _number(spread.get("mean"))
        if mean is None and rows:
            col = _list_column(folder, file_name, "cumulative_spread")
            mean = float(col[np.isfinite(col)][-1]) if col is not None and np.isfinite(col).any() else None
        return {"kind": "reach", "mean": mean if rows else 0.0, "ci_low": _number(spread.get("ci_low")),
                "ci_high": _number(spread.get("ci_high"))}
    if name == "community":
        offers = _number(sidecar.get("offers"))
        if offers is None and rows:
            col = _list_column(folder, file_name, "offer")
            offers = float(len(np.unique(col[np.isfinite(col)]))) if col is not None else None
        return {"kind": "members", "members": rows, "offers": None if offers is None else int(offers)}
    if name == "acquisition":
        return {"kind": "prospects", "prospects": rows}
    return {"kind": "rows"}


def list_action(sidecar: dict[str, Any], folder: str | Path | None = None) -> dict[str, Any]:
    """One exported list as the report's "what to do" entry, from its sidecar manifest.

    Returns ``name``, ``rows`` (people on the list), ``file`` (the file name only, never a
    path), ``held_back`` (rows held back in all) and ``held_reasons`` (``(reason, rows)``,
    most first), ``empty_because`` and ``notice`` (texts or None), ``version``, and
    ``impact`` (:func:`_list_impact`).  ``folder`` is the list's directory, read only when
    the sidecar lacks a figure the list's rows give.
    """
    name = str(sidecar.get("name") or sidecar.get("list") or "list")
    file_name = Path(str(sidecar.get("path") or "")).name
    rows = int(_number(sidecar.get("rows")) or 0)
    held = {str(k): int(v) for k, v in (sidecar.get("suppressed") or {}).items() if _number(v)}
    reasons = sorted(held.items(), key=lambda kv: (-kv[1], kv[0]))
    total = _number(sidecar.get("suppressed_total"))
    return {
        "name": name, "rows": rows, "file": file_name, "version": sidecar.get("list_version"),
        "held_back": int(total) if total is not None else sum(held.values()), "held_reasons": reasons,
        "empty_because": sidecar.get("empty_because") or None, "notice": sidecar.get("notice") or None,
        "impact": _list_impact(name, sidecar, rows, Path(folder) if folder is not None else None, file_name),
    }


def coarse_table(run, communities: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """The run's coarse communities (wider groups): ``coarse_communities.parquet`` when written, else
    derived from the ``coarse_community`` column of its subscribers (``community``, ``size`` and
    ``fine_communities``, the close circles inside); None for runs made before the coarse level existed."""
    path = Path(run.run_dir) / "coarse_communities.parquet"
    if path.exists():
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pandas()
    subs = run.subscribers
    if "coarse_community" not in subs or not subs["coarse_community"].notna().any():
        return None
    known = subs.loc[subs["coarse_community"].notna(), ["coarse_community", "community"]]
    g = known.groupby("coarse_community")
    out = pd.DataFrame({"size": g.size(), "fine_communities": g["community"].nunique()})
    out = out.rename_axis("community").reset_index()
    out["community"] = out["community"].astype(np.int64)
    return out.sort_values(["size", "community"], ascending=[False, True]).reset_index(drop=True)


def _followers(contacts: pd.DataFrame, subs: pd.DataFrame, v: int) -> int:
    """Contacts of ``v`` in its own community whose role is ``follower`` (the people this bellwether leads)."""
    if "role" not in subs:
        return 0
    a = contacts["a_vid"].to_numpy(np.int64)
    b = contacts["b_vid"].to_numpy(np.int64)
    nb = np.unique(np.concatenate([b[a == v], a[b == v]]))
    role = subs["role"].astype(object).to_numpy()[nb]
    com = subs["community"].to_numpy(np.float64, na_value=np.nan)
    return int(((role == "follower") & (com[nb] == com[v])).sum())


@dataclass
class ReportData:
    """Everything the HTML report shows, computed from one run."""

    summary: dict[str, Any]
    degree_hist: tuple[np.ndarray, np.ndarray]
    weight_hist: tuple[np.ndarray, np.ndarray]
    community_hist: tuple[np.ndarray, np.ndarray]
    top_communities: pd.DataFrame
    small_communities: int
    contagion: pd.DataFrame | None
    lift: dict[str, Any] | None
    influence: dict[str, Any]
    egos: list[dict[str, Any]]
    profiles: pd.DataFrame
    suppressed_profiles: int
    lists: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    coarse_hist: tuple[np.ndarray, np.ndarray] | None = None
    top_coarse: pd.DataFrame | None = None
    small_coarse: int = 0


def _load_inputs(load: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Input files (CDR, subscriber extract, do-not-contact; file names only) and rejected rows per reason from
    the load manifest.

    Accepts inputs as a list of records or as a mapping keyed by content hash, with
    per-file ``rejects``; a top-level ``rejects`` mapping is added as well.
    """
    rows: list[dict[str, Any]] = []
    rejects: dict[str, int] = {}

    def take(kind: str, item: Any) -> None:
        if not isinstance(item, dict):
            return
        rows.append({
            "kind": kind, "file": Path(str(item.get("name") or item.get("path") or item.get("file") or "")).name,
            "rows": item.get("rows", item.get("ids")), "kept": item.get("records", item.get("ids")),
            "rejected": item.get("rejected_rows", sum((item.get("rejects") or {}).values()) if isinstance(item.get("rejects"), dict) else None),
            "duplicates": item.get("duplicates", 0),
            "sha256": str(item.get("sha256", ""))[:16],
        })
        for reason, count in (item.get("rejects") or {}).items():
            rejects[reason] = rejects.get(reason, 0) + int(count)

    for kind, key in (("records", "inputs"), ("subscribers", "subscribers"), ("do-not-contact", "do_not_contact")):
        block = load.get(key)
        if isinstance(block, list):
            for item in block:
                take(kind, item)
        elif isinstance(block, dict) and ("path" in block or "name" in block or "sha256" in block):
            take(kind, block)
        elif isinstance(block, dict):
            for item in block.values():
                take(kind, item)
    if isinstance(load.get("rejects"), dict):
        for reason, count in load["rejects"].items():
            rejects[reason] = rejects.get(reason, 0) + int(count)
    for r in rows:  # drop columns no input has
        for col in [c for c in r if all(x.get(c) in (None, "") for x in rows)]:
            r.pop(col, None)
    return rows, rejects


def _scalars(d: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Short scalar entries of nested dicts as ``("a b", value)`` pairs (long texts and lists left out)."""
    out: list[tuple[str, Any]] = []
    if not isinstance(d, dict):
        return out
    for k, v in d.items():
        name = f"{prefix}{k}".replace("_", " ")
        if isinstance(v, dict):
            out.extend(_scalars(v, name + " "))
        elif isinstance(v, (int, float, bool)) or (isinstance(v, str) and len(v) <= 40):
            out.append((name, v))
    return out


def _coarse_count(run, manifest: dict[str, Any]) -> int | None:
    """Number of coarse communities (wider groups): ``metrics.communities.coarse.n_communities``, else counted
    from the subscribers' ``coarse_community``; None for runs made before the coarse level existed."""
    coarse = ((manifest.get("metrics") or {}).get("communities") or {}).get("coarse") or {}
    n = _number(coarse.get("n_communities"))
    if n is not None:
        return int(n)
    subs = run.subscribers
    if "coarse_community" in subs and subs["coarse_community"].notna().any():
        return int(subs["coarse_community"].nunique())
    return None


def _summary(run) -> dict[str, Any]:
    """Run facts, parameters, versions, timings, metrics, inputs and counts of ``run`` (a :class:`RunTables`)."""
    m = run.manifest
    load = run.load_manifest
    inputs, rejects = _load_inputs(load)
    return {
        "run_id": run.run_id,
        "created": m.get("created"),
        "as_of": str(run.as_of.date()),
        "engine": m.get("engine"),
        "seed": m.get("seed"),
        "graph": _scalars(m.get("graph") or run.graph_info),
        "parameters": m.get("parameters", {}),
        "versions": m.get("versions", {}),
        "timings": m.get("timings", {}),
        "metrics": m.get("metrics", {}),
        "inputs": inputs,
        "rejects": rejects,
        "subscribers": int(len(run.subscribers)),
        "on_net": int(run.subscribers["on_net"].to_numpy(bool, na_value=False).sum()) if run.crm == "present" else None,
        "crm": run.crm,
        "crm_note": run.crm_note,
        "contacts": int(len(run.contacts)),
        "communities": int(len(run.communities)),
        "coarse_communities": _coarse_count(run, m),
        "has_labels": run.has_labels,
    }


def report_data(run, segments, *, n_egos: int = 4, max_neighbours: int = 24, min_group_size: int = MIN_GROUP_SIZE,
                top_communities: int = 15, lists: list[dict[str, Any]] | None = None,
                profiles: pd.DataFrame | None = None, suppressed_profiles: int = 0) -> ReportData:
    """Gather every table and series of the report for ``run`` (a :class:`RunTables`) and its segments.

    ``segments`` is the run's segments table (or None), ``profiles`` its segment profiles,
    ``lists`` the sidecar manifests of exported lists (each also made into a "what to do"
    entry, :func:`list_action`).  Both community levels are gathered; the coarse one
    (:func:`coarse_table`) is None for runs made before it existed.
    """
    subs = run.subscribers
    contacts = run.contacts
    n = len(subs)
    degree = subs["degree"].to_numpy(np.float64, na_value=0) if "degree" in subs else np.bincount(
        np.concatenate([contacts["a_vid"], contacts["b_vid"]]), minlength=n)

    com = run.communities
    big = com.loc[com["size"] >= min_group_size].sort_values(["size", "community"], ascending=[False, True])
    cols = [c for c in ("community", "size", "coarse_community", "churn_rate", "recent_churners", "mean_arpu",
                        "internal_weight_share", "on_net_share", "bellwether") if c in big.columns]
    coarse = coarse_table(run)
    coarse_big = None if coarse is None else coarse.loc[coarse["size"] >= min_group_size].sort_values(
        ["size", "community"], ascending=[False, True])
    coarse_cols = [] if coarse is None else [c for c in (
        "community", "size", "fine_communities", "churn_rate", "recent_churners", "mean_arpu", "internal_weight_share",
        "bellwether") if c in coarse.columns]

    # contagion: churned contacts before as_of (all of them, from the graph)
    churned = subs["churned"].to_numpy(bool, na_value=False)
    a = contacts["a_vid"].to_numpy(np.int64)
    b = contacts["b_vid"].to_numpy(np.int64)
    churned_nb = (np.bincount(a, weights=churned[b].astype(float), minlength=n)
                  + np.bincount(b, weights=churned[a].astype(float), minlength=n)).astype(np.int64)
    label = subs["churned_after"]
    known = label.notna().to_numpy()
    y = label.fillna(False).to_numpy(bool)
    contagion = lift = None
    if run.has_labels:
        contagion = contagion_curve(churned_nb, y, known, min_group_size=min_group_size)
        lift = {"base_rate": float(y[known].mean()), "population": int(known.sum()), "models": {}}
        for name, col in (("network model", "churn_risk"), ("baseline (no network features)", "churn_risk_baseline")):
            if col in subs and subs[col].notna().any():
                s = subs[col].to_numpy(np.float64, na_value=np.nan)[known]
                lift["models"][name] = {"gains": gains_curve(y[known], s), "deciles": decile_lift(y[known], s),
                                        "auc": auc(y[known], s)}

    infl = dict(run.manifest.get("metrics", {}).get("influence", {}))
    seeds = run.seeds.sort_values("rank")
    influence = {"metrics": infl, "curve": seeds[["rank", "cumulative_spread"]].reset_index(drop=True)}

    egos = []
    on = run.customers  # on-net, or every person when there is no subscriber extract
    bell = (subs["role"].astype(object).to_numpy() == "bellwether") & on & ~churned
    score = subs["bellwether_score"].to_numpy(np.float64, na_value=-np.inf)
    seg = segments.set_index("vid") if segments is not None else None
    for v in showcase_bellwethers(score, subs["id"].to_numpy(), bell, n_egos):
        ego = ego_network(contacts, int(v), max_neighbours=max_neighbours)
        vids = ego["vids"]
        kinds = np.where(~on[vids], "off-net", np.where(churned[vids], "churned", "customer")).astype(object)
        kinds[0] = "bellwether"
        cval = subs["community"].iloc[int(v)]
        size = com.set_index("community")["size"].get(cval, np.nan) if pd.notna(cval) else np.nan
        wider = subs["coarse_community"].iloc[int(v)] if "coarse_community" in subs else None
        wider_size = (coarse.set_index("community")["size"].get(wider, np.nan)
                      if coarse is not None and wider is not None and pd.notna(wider) else np.nan)
        egos.append({
            "vid": int(v), "id": str(subs["id"].iloc[int(v)]), "community": None if pd.isna(cval) else int(cval),
            "community_size": None if pd.isna(size) else int(size), "degree": int(degree[int(v)]),
            "coarse_community": None if wider is None or pd.isna(wider) else int(wider),
            "coarse_size": None if pd.isna(wider_size) else int(wider_size),
            "bellwether_score": float(score[int(v)]), "score_rank": int((score > score[int(v)]).sum()) + 1,
            "followers": _followers(contacts, subs, int(v)),
            "kinds": kinds, "edges": ego["edges"], "weights": ego["weights"],
            "positions": force_layout(len(vids), ego["edges"], seed=run.seed),
            "segment": None if seg is None else str(seg["cluster_label"].get(int(v), "")),
            "churned_neighbours": int((kinds == "churned").sum()),
        })
    return ReportData(
        summary=_summary(run),
        degree_hist=log_bins(degree),
        weight_hist=log_bins(contacts["weight"].to_numpy(np.float64)),
        community_hist=log_bins(com["size"].to_numpy(np.float64)),
        top_communities=big[cols].head(top_communities).reset_index(drop=True),
        small_communities=int((com["size"] < min_group_size).sum()),
        contagion=contagion,
        lift=lift,
        influence=influence,
        egos=egos,
        profiles=profiles if profiles is not None else pd.DataFrame(),
        suppressed_profiles=int(suppressed_profiles),
        lists=list(lists or []),
        actions=[list_action(x, Path(run.run_dir) / "lists") for x in lists or []],
        coarse_hist=None if coarse is None else log_bins(coarse["size"].to_numpy(np.float64)),
        top_coarse=None if coarse_big is None else coarse_big[coarse_cols].head(top_communities).reset_index(drop=True),
        small_coarse=0 if coarse is None else int((coarse["size"] < min_group_size).sum()),
    )
