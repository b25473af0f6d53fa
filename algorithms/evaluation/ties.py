"""Tie measures of a contact network, for judging how realistic a synthetic operator is.

A *tie* is an unordered pair with at least one event (call or SMS) in a window; its weight is the
number of events.  :func:`tie_measures` gives events per tie (median, mean), the share of
single-event ties, reciprocity, the share of events on the top 10% of ties, active days per tie,
degree (median, p90, max/mean), degree assortativity and the Spearman correlation of tie weight
with neighbourhood overlap (Onnela et al. 2007, PNAS 104:7332:
``O_ij = n_ij / ((k_i - 1) + (k_j - 1) - n_ij)``); :func:`community_measures` the planted groups seen
in the ties.  :func:`generated_ties` reads a generated operator's CDR files into ties
(``bench/realism.py`` sets them beside the real Copenhagen export).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import scipy.sparse as sp
from scipy.stats import spearmanr

__all__ = ["WINDOW_DAYS", "community_measures", "generated_ties", "tie_measures", "ties_from_events"]

#: the window of a month of ties, as the Copenhagen export's (27.97 days)
WINDOW_DAYS = 28


def ties_from_events(src: np.ndarray, dst: np.ndarray, day: np.ndarray) -> pd.DataFrame:
    """One row per unordered pair: ``lo, hi, events, ab`` (events lo->hi), ``ba``, ``days`` (distinct active days)."""
    src, dst, day = (np.asarray(x, dtype=np.int64) for x in (src, dst, day))
    keep = src != dst
    src, dst, day = src[keep], dst[keep], day[keep]
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    df = pd.DataFrame({"lo": lo, "hi": hi, "ab": (src == lo).astype(np.int64), "day": day})
    g = df.groupby(["lo", "hi"], sort=True)
    out = g.agg(events=("ab", "size"), ab=("ab", "sum"), days=("day", "nunique")).reset_index()
    out["ba"] = out["events"] - out["ab"]
    return out[["lo", "hi", "events", "ab", "ba", "days"]]


def _national(col: pa.Array) -> pa.Array:
    """The generator's written numbers in one form: +86 / 0086 / bare 86 prefixes removed."""
    s = pc.utf8_trim_whitespace(col)
    s = pc.replace_substring_regex(s, pattern=r"^(\+86|0086)", replacement="")
    return pc.replace_substring_regex(s, pattern=r"^86(\d{11})$", replacement=r"\1")


def generated_ties(outdir: str | Path, days: int = WINDOW_DAYS, scope: str = "on_net") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ties in the first ``days`` days of a generated operator's CDR files, and the truth table indexed like the ties.

    ``scope``: ``"on_net"`` (both ends customers, the default, see the module docstring) or
    ``"persons"`` (both ends persons, off-net included).  Exact duplicate rows and rows that
    do not parse are dropped, as the loader would.  Returns ``(ties, nodes)`` where ``ties``
    uses integer node ids and ``nodes`` has ``msisdn, on_net, community`` per id.
    """
    outdir = Path(outdir)
    truth = pd.read_csv(outdir / "truth.csv", dtype={"msisdn": str}, keep_default_na=False)
    truth = truth[truth["kind"] == "person"]
    if scope == "on_net":
        truth = truth[truth["on_net"].astype(str).str.lower() == "true"]
    elif scope != "persons":
        raise ValueError(f"scope must be 'on_net' or 'persons', got {scope!r}")
    nodes = truth[["msisdn", "on_net", "community"]].reset_index(drop=True)
    ids = pa.array(nodes["msisdn"].to_numpy(), pa.string())
    parts = []
    opts = pcsv.ConvertOptions(column_types={"caller": pa.string(), "callee": pa.string(), "start_time": pa.string(),
                                             "duration": pa.string(), "type": pa.string()})
    parse = pcsv.ParseOptions(invalid_row_handler=lambda row: "skip")
    for path in sorted((outdir / "cdr").glob("cdr_*.csv")):
        t = pcsv.read_csv(path, convert_options=opts, parse_options=parse)
        t = t.drop_null()
        t = pa.table({
            "a": _national(t["caller"]), "b": _national(t["callee"]), "start_time": t["start_time"],
            "duration": t["duration"], "type": t["type"],
        })
        parts.append(t)
    t = pa.concat_tables(parts).to_pandas()
    t = t.drop_duplicates()
    ts = pd.to_datetime(t["start_time"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    start = ts.min().normalize()
    day = (ts - start).dt.days
    a = pc.index_in(pa.array(t["a"].to_numpy(), pa.string()), value_set=ids).to_numpy(zero_copy_only=False)
    b = pc.index_in(pa.array(t["b"].to_numpy(), pa.string()), value_set=ids).to_numpy(zero_copy_only=False)
    ok = ~pd.isna(a) & ~pd.isna(b) & ts.notna().to_numpy() & (day < days).to_numpy()
    ties = ties_from_events(a[ok].astype(np.int64), b[ok].astype(np.int64), day[ok].to_numpy())
    return ties, nodes


def _graph(ties: pd.DataFrame) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    nodes, inv = np.unique(np.concatenate([ties["lo"].to_numpy(), ties["hi"].to_numpy()]), return_inverse=True)
    m = len(ties)
    u, v = inv[:m], inv[m:]
    n = nodes.size
    A = sp.csr_matrix((np.ones(2 * m), (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n))
    return A, u, v, np.asarray(A.sum(axis=1)).ravel()


def tie_measures(ties: pd.DataFrame) -> dict[str, float]:
    """The judged measures of one tie table (``lo, hi, events, ab, ba, days``); see the module docstring."""
    import igraph as ig

    w = ties["events"].to_numpy()
    top = np.sort(w)[::-1][: max(1, int(np.ceil(0.1 * w.size)))]
    A, u, v, deg = _graph(ties)
    g = ig.Graph(n=deg.size, edges=np.column_stack([u, v]).tolist(), directed=False)
    common = np.asarray(A[u].multiply(A[v]).sum(axis=1)).ravel()
    denom = (deg[u] - 1) + (deg[v] - 1) - common
    has = denom > 0
    overlap = np.where(has, common / np.where(has, denom, 1), np.nan)
    rho = spearmanr(w[has], overlap[has]).statistic if has.sum() > 2 else float("nan")
    return {
        "ties": float(w.size),
        "nodes": float(deg.size),
        "events": float(w.sum()),
        "events per tie, median": float(np.median(w)),
        "events per tie, mean": float(w.mean()),
        "share of single-event ties": float(np.mean(w == 1)),
        "reciprocity (ties with events both ways)": float(np.mean((ties["ab"] > 0) & (ties["ba"] > 0))),
        "share of events on the top 10% of ties": float(top.sum() / w.sum()),
        "active days per tie, median": float(np.median(ties["days"])),
        "degree, median": float(np.median(deg)),
        "degree, p90": float(np.percentile(deg, 90)),
        "degree, max / mean": float(deg.max() / deg.mean()),
        "degree assortativity": float(g.assortativity_degree(directed=False)),
        "weight-overlap Spearman": float(rho),
    }


def community_measures(ties: pd.DataFrame, nodes: pd.DataFrame) -> dict[str, float]:
    """Planted communities seen in the ties: sizes (members with a tie), internal density by size class, events inside."""
    comm = nodes["community"].to_numpy()
    cu, cv = comm[ties["lo"].to_numpy()], comm[ties["hi"].to_numpy()]
    inside = (cu == cv) & (cu >= 0)
    seen = np.unique(np.concatenate([ties["lo"], ties["hi"]]))
    members = pd.Series(comm[seen])
    members = members[members >= 0]
    size = members.value_counts()
    internal = pd.Series(cu[inside]).value_counts().reindex(size.index, fill_value=0)
    pairs = size * (size - 1) / 2
    dens = (internal / pairs.where(pairs > 0)).dropna()
    out = {
        "community size (members with a tie), median": float(size.median()),
        "community size, max": float(size.max()),
        "share of events inside communities": float(ties["events"].to_numpy()[inside].sum() / ties["events"].sum()),
    }
    for name, lo, hi in (("3-8", 3, 8), ("9-30", 9, 30), ("31+", 31, 10**9)):
        sel = (size.loc[dens.index] >= lo) & (size.loc[dens.index] <= hi)
        out[f"internal density, communities of {name}"] = float(dens[sel].mean()) if sel.any() else float("nan")
    return out
