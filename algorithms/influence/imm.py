"""Influence maximisation with IMM (Tang, Shi & Xiao 2015) and the seed table the lists use.

IMM chooses ``k`` seeds whose Independent Cascade spread is at least
``(1 - 1/e - epsilon)`` times the best possible, with probability at least
``1 - 1/n^ell``, in near-linear time.  It has two phases:

1. *Sampling* estimates a lower bound ``LB`` of the optimum ``OPT``: for
   ``x = n/2, n/4, ...`` it draws ``theta_i = lambda' / x`` RR sets, runs the
   greedy coverage, and stops as soon as the estimated spread of the greedy
   seeds reaches ``(1 + epsilon') x``, with ``epsilon' = sqrt(2) epsilon`` and
   ``lambda' = (2 + 2/3 epsilon') (ln C(n,k) + ell ln n + ln log2 n) n / epsilon'^2``
   (the martingale concentration bound, Theorem 2 and Lemma 6 of the paper).
2. *Node selection* draws ``theta = lambda* / LB`` RR sets with
   ``lambda* = 2 n ((1 - 1/e) alpha + beta)^2 / epsilon^2``,
   ``alpha = sqrt(ell ln n + ln 2)``,
   ``beta = sqrt((1 - 1/e)(ln C(n,k) + ell ln n + ln 2))`` (equation 6), and
   returns the greedy maximum coverage of those sets.

``ell`` is raised to ``ell (1 + ln 2 / ln n)`` so that both phases together
fail with probability at most ``1/n^ell``.  The RR sets of phase 2 are drawn
afresh rather than reusing phase 1's: Chen (2018) showed that reuse breaks the
independence the martingale argument needs; fresh sets restore the guarantee
at the cost of drawing the phase-1 sets once more.  When seeds are limited to
``candidates``, ``C(n,k)`` becomes ``C(|candidates|, k)`` (the union bound runs
over the seed sets that can actually be chosen) while ``n`` stays the number of
subscribers who can be influenced.

The greedy coverage keeps an inverted index (vertex -> RR sets containing it)
and exact coverage counts: after each pick only the sets it newly covers are
visited and their members' counts decremented, so all ``k`` rounds together
cost ``O(sum of RR-set sizes + k n)``.  Ties go to the vertex with more
contacts, then to the lower vertex number.

References
----------
.. [1] Y. Tang, Y. Shi, X. Xiao, "Influence maximization in near-linear time:
   a martingale approach", SIGMOD 2015, doi:10.1145/2723372.2723734.
.. [2] W. Chen, "An issue in the martingale analysis of the influence
   maximization algorithm IMM", CSoNet 2018, doi:10.1007/978-3-030-04648-4_24.
.. [3] D. Kempe, J. Kleinberg, E. Tardos, KDD 2003, doi:10.1145/956750.956769.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from bellwether.algorithms.influence import _kernels
from bellwether.algorithms.influence.baselines import degrees, top_k_degree, top_k_pagerank
from bellwether.algorithms.influence.cascade import ArcIndex, _expand, cascade_sizes, forward_index, spread_interval
from bellwether.algorithms.influence.probabilities import arcs, edge_probabilities
from bellwether.algorithms.influence.rr_sets import RRSets, reverse_index, sample_rr_sets
from bellwether.graph import schema
from bellwether.graph.contact_graph import ContactGraph, index_dtype
from bellwether.graph.core.memory import release_free_memory
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["InfluenceResult", "Coverage", "run_imm", "imm_sample_sizes", "node_selection", "select_seeds"]


@dataclass
class InfluenceResult:
    """Seeds chosen by :func:`select_seeds` and how good they are.

    Attributes
    ----------
    seeds : pandas.DataFrame
        Columns of :data:`bellwether.graph.schema.INFLUENCE_SEEDS`, one row per seed in pick order.
    metrics : dict
        Plain Python numbers: parameters, RR-set counts, Monte-Carlo spreads with
        95% intervals for the IMM, PageRank and degree seeds, ratios, seconds.
    """

    seeds: pd.DataFrame
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class Coverage:
    """Result of the greedy maximum coverage: seeds in pick order and newly covered RR sets per pick."""

    seeds: np.ndarray
    gains: np.ndarray
    n_sets: int
    upper_bound: int | None = None  # RR sets any k candidates can cover at most (node_selection(bound=True))

    @property
    def covered(self) -> int:
        return int(self.gains.sum())


def node_selection(
    rr: RRSets, k: int, *, candidates: np.ndarray | None = None, tiebreak: np.ndarray | None = None,
    bound: bool = False,
) -> Coverage:
    """Greedy maximum coverage of the RR sets ``rr`` by ``k`` vertices (Algorithm 1 of Tang et al. 2015).

    With ``bound``, also the data-dependent upper bound on the coverage of *any* ``k``
    candidates (Leskovec et al. 2007, "Cost-effective outbreak detection in networks",
    Theorem 4): for a monotone submodular function and every greedy prefix ``S_i``,
    ``OPT <= f(S_i) + (sum of the k largest marginal gains over S_i)``; the minimum
    over ``i = 0..k`` is kept.  Times ``n / count`` it bounds the spread any seed
    set can reach, the ceiling for comparisons against other seed choices.

    Parameters
    ----------
    rr : RRSets
    k : int
        Number of seeds; fewer are returned only if fewer candidates exist.
    candidates : numpy.ndarray of int, optional
        Vertex numbers allowed as seeds (default: all).
    tiebreak : numpy.ndarray, optional
        Non-negative per-vertex score preferred among equal coverage (e.g. degree).
    bound : bool, default False
        Compute :attr:`Coverage.upper_bound` (one partial sort of the gains per pick).

    Returns
    -------
    Coverage
        Seeds in pick order with the number of RR sets each newly covers.
    """
    n, theta = rr.n, rr.count
    nodes = rr.nodes
    node_ptr, sets_of = _inverted_index(rr)
    counts = np.diff(node_ptr).astype(np.float64)
    if tiebreak is not None:
        tb = np.asarray(tiebreak, dtype=np.float64)
        counts += 0.5 * tb / (tb.max() + 1.0) if len(tb) else 0.0
    # lower vertex number wins exact ties: argmax returns the first maximum
    if candidates is not None:
        allowed = np.zeros(n, dtype=bool)
        allowed[np.asarray(candidates, dtype=np.int64)] = True
        counts[~allowed] = -np.inf
    covered = np.zeros(theta, dtype=bool)
    seeds, gains = [], []
    best_bound = None

    def tighten() -> None:  # f(S_i) + the k largest marginal gains (the tiebreak adds < 0.5 to a count)
        nonlocal best_bound
        open_ = np.floor(counts[np.isfinite(counts)])
        top = np.partition(open_, len(open_) - k)[len(open_) - k:] if len(open_) > k else open_
        b = int(sum(gains) + top.sum())
        best_bound = b if best_bound is None else min(best_bound, b)

    for _ in range(k):
        if bound:
            tighten()
        v = int(np.argmax(counts))
        if counts[v] == -np.inf:
            break
        s = sets_of[node_ptr[v] : node_ptr[v + 1]]
        new = s[~covered[s]]
        covered[new] = True
        seeds.append(v)
        gains.append(len(new))
        if len(new):
            _, entry = _expand(rr.ptr, new.astype(np.int64))
            counts -= np.bincount(nodes[entry], minlength=n)
        counts[v] = -np.inf
    if bound:
        tighten()
    return Coverage(np.asarray(seeds, dtype=np.int64), np.asarray(gains, dtype=np.int64), theta, best_bound)


def _inverted_index(rr: RRSets) -> tuple[np.ndarray, np.ndarray]:
    """``(node_ptr, sets_of)``: the RR sets holding vertex ``v`` are ``sets_of[node_ptr[v]:node_ptr[v + 1]]``, in order.

    The compiled counting sort holds one 32-bit set number per entry; without it, scipy's CSR -> CSC
    transpose, which also needs a data array and copies of the pointers (32-bit positions when they fit:
    scipy widens every index array to the widest one it is given).
    """
    if _kernels.available() and index_dtype(rr.count) is np.int32:
        return _kernels.transpose(rr.ptr, rr.nodes, rr.n)
    index = index_dtype(rr.total_size, rr.count, rr.n)
    incidence = sp.csr_array(
        (np.ones(len(rr.nodes), dtype=np.int8), rr.nodes.astype(index, copy=False), rr.ptr.astype(index)),
        shape=(rr.count, rr.n),
    ).tocsc()
    return incidence.indptr, incidence.indices


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def imm_sample_sizes(n: int, k: int, epsilon: float, ell: float, n_candidates: int | None = None) -> dict[str, float]:
    """The constants of IMM: adjusted ``ell``, ``epsilon'``, ``lambda'`` and ``lambda*`` (Tang et al. 2015, eq. 6, 9)."""
    nc = n if n_candidates is None else n_candidates
    n_eff = max(n, 2)
    log_n = math.log(n_eff)
    ell = ell * (1.0 + math.log(2.0) / log_n)
    log_cnk = _log_comb(nc, min(k, nc))
    eps_p = math.sqrt(2.0) * epsilon
    lam_p = (2.0 + 2.0 / 3.0 * eps_p) * (log_cnk + ell * log_n + math.log(max(math.log2(n_eff), 1.0))) * n / eps_p**2
    e1 = 1.0 - 1.0 / math.e
    alpha = math.sqrt(ell * log_n + math.log(2.0))
    beta = math.sqrt(e1 * (log_cnk + ell * log_n + math.log(2.0)))
    lam_star = 2.0 * n * (e1 * alpha + beta) ** 2 / epsilon**2
    return {"ell": ell, "epsilon_prime": eps_p, "lambda_prime": lam_p, "lambda_star": lam_star}


def run_imm(
    index: ArcIndex,
    k: int,
    *,
    epsilon: float = 0.3,
    ell: float = 1.0,
    rng: np.random.Generator,
    candidates: np.ndarray | None = None,
    tiebreak: np.ndarray | None = None,
    reuse_rr_sets: bool = False,
) -> tuple[Coverage, dict[str, float]]:
    """Run IMM on the reversed-arc index ``index``; return the greedy coverage and run figures.

    Parameters
    ----------
    index : ArcIndex
        Reversed arcs (:func:`bellwether.algorithms.influence.rr_sets.reverse_index`).
    k, epsilon, ell
        Seeds, approximation slack (``1 - 1/e - epsilon``) and failure exponent (``1/n^ell``).
    rng : numpy.random.Generator
    candidates : numpy.ndarray of int, optional
        Vertices allowed as seeds.
    tiebreak : numpy.ndarray, optional
        See :func:`node_selection`.
    reuse_rr_sets : bool, default False
        Reuse the sampling-phase RR sets in node selection, as in the original
        paper (faster, but see Chen 2018); the default draws fresh ones.

    Returns
    -------
    (Coverage, dict)
        The coverage of the final RR sets and ``n_rr_sets``, ``n_rr_sets_total``,
        ``lower_bound``, ``mean_rr_set_size``, ``rr_spread`` (``n`` times the covered fraction) and
        ``rr_spread_upper_bound`` (the same for the bound of :func:`node_selection` on any ``k`` candidates).
    """
    if not 0.0 < epsilon < 1.0 - 1.0 / math.e:
        raise ValueError(f"epsilon must be in (0, 1 - 1/e), got {epsilon}")
    if ell <= 0:
        raise ValueError(f"ell must be positive, got {ell}")
    n = index.n
    nc = n if candidates is None else len(candidates)
    c = imm_sample_sizes(n, k, epsilon, ell, nc)
    eps_p = c["epsilon_prime"]
    rr = RRSets.empty(n)
    total = 0
    hint = 8.0
    lb = 1.0
    for i in range(1, max(int(math.ceil(math.log2(max(n, 2)))), 1)):
        x = n / 2.0**i
        theta_i = int(math.ceil(c["lambda_prime"] / x))
        if theta_i > rr.count:
            rr = rr.extend(sample_rr_sets(index, theta_i - rr.count, rng, mean_size_hint=hint))
            hint = rr.total_size / max(rr.count, 1)
        cov = node_selection(rr, k, candidates=candidates, tiebreak=tiebreak)
        est = n * cov.covered / rr.count
        if est >= (1.0 + eps_p) * x:
            lb = est / (1.0 + eps_p)
            break
    total = rr.count
    theta = int(math.ceil(c["lambda_star"] / lb))
    if reuse_rr_sets:
        if theta > rr.count:
            rr = rr.extend(sample_rr_sets(index, theta - rr.count, rng, mean_size_hint=hint))
            total = rr.count
    else:
        rr = cov = None  # the fresh sets replace the sampling phase's: hold one collection at a time
        release_free_memory()  # and the heap they leave is handed back before the fresh ones are drawn
        rr = sample_rr_sets(index, theta, rng, mean_size_hint=hint)
        total += rr.count
    cov = node_selection(rr, k, candidates=candidates, tiebreak=tiebreak, bound=True)
    info = {
        "n_rr_sets": rr.count,
        "n_rr_sets_total": total,
        "lower_bound": lb,
        "mean_rr_set_size": rr.total_size / max(rr.count, 1),
        "rr_spread": n * cov.covered / max(rr.count, 1),
        "rr_spread_upper_bound": n * cov.upper_bound / max(rr.count, 1),
    }
    return cov, info


def _reversed_arcs(graph: ContactGraph, probability: str | float) -> ArcIndex:
    """The reversed-arc index of ``graph`` under the ``probability`` model (the arc arrays are let go on return)."""
    source, target = arcs(graph)
    return reverse_index(source, target, edge_probabilities(graph, probability), graph.n_subscribers)


def _seed_table(graph: ContactGraph, cov: Coverage) -> pd.DataFrame:
    n, theta = graph.n_subscribers, max(cov.n_sets, 1)
    gain = n * cov.gains.astype(np.float64) / theta
    ids = graph.subscribers["id"].to_numpy(dtype=object)[cov.seeds] if len(cov.seeds) else np.zeros(0, dtype=object)
    table = pa.table(
        {
            "rank": pa.array(np.arange(1, len(cov.seeds) + 1), pa.int64()),
            "vid": pa.array(cov.seeds, pa.int64()),
            "id": pa.array(ids.tolist(), pa.string()),
            "marginal_gain": pa.array(gain, pa.float64()),
            "cumulative_spread": pa.array(np.cumsum(gain), pa.float64()),
        },
        schema=schema.INFLUENCE_SEEDS,
    )
    return table.to_pandas()


def select_seeds(
    graph: ContactGraph,
    k: int = 50,
    *,
    epsilon: float = 0.3,
    ell: float = 1.0,
    seed: int = DEFAULT_SEED,
    candidates: np.ndarray | None = None,
    n_simulations: int = 1000,
    probability: str | float = "tie_strength",
) -> InfluenceResult:
    """Choose ``k`` seed subscribers that maximise the expected Independent Cascade spread (IMM).

    Parameters
    ----------
    graph : ContactGraph
    k : int, default 50
        Number of seeds (fewer if fewer candidates exist).
    epsilon : float, default 0.3
        The seeds' spread is at least ``(1 - 1/e - epsilon)`` of the optimum; smaller
        means more RR sets (about ``1/epsilon^2``) and a tighter guarantee.
    ell : float, default 1.0
        The guarantee holds with probability at least ``1 - 1/n^ell``.
    seed : int, default 42
        Random seed; the same seed gives the same seeds and metrics.
    candidates : numpy.ndarray of int, optional
        Vertex numbers that may be seeds (e.g. on-net, contactable, not churned);
        everyone can still be influenced.
    n_simulations : int, default 1000
        Monte-Carlo cascades used to evaluate the IMM, PageRank and degree seeds
        (0 skips the evaluation; spreads are then NaN).
    probability : str or float, default "tie_strength"
        Arc probability model, see :func:`~bellwether.algorithms.influence.probabilities.edge_probabilities`.

    Returns
    -------
    InfluenceResult
        ``seeds`` (INFLUENCE_SEEDS columns; ``marginal_gain`` and
        ``cumulative_spread`` are RR-set estimates) and ``metrics`` (k, epsilon,
        n_rr_sets, expected_spread, ci_low, ci_high, pagerank_spread,
        pagerank_ci_low, pagerank_ci_high, degree_spread, degree_ci_low,
        degree_ci_high, spread_ratio_vs_pagerank, spread_ratio_vs_degree, seconds, ...).

    Examples
    --------
    >>> from bellwether.graph.contact_graph import ContactGraph
    >>> g = ContactGraph.from_edges([(0, 1), (0, 2), (0, 3), (0, 4)])
    >>> select_seeds(g, k=1, n_simulations=100).seeds["vid"].tolist()
    [0]
    """
    t0 = time.perf_counter()
    n = graph.n_subscribers
    if n == 0:
        raise ValueError("the graph has no subscribers")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if candidates is not None:
        candidates = np.unique(np.asarray(candidates, dtype=np.int64).ravel())
        if len(candidates) and (candidates[0] < 0 or candidates[-1] >= n):
            raise ValueError("candidates must be vertex numbers 0..n-1")
        if not len(candidates):
            raise ValueError("candidates is empty")
    k = min(k, n if candidates is None else len(candidates))
    rng = np.random.default_rng(seed)
    # only the reversed-arc index is held while the RR sets are sampled; the forward one is made afterwards
    cov, info = run_imm(
        _reversed_arcs(graph, probability), k, epsilon=epsilon, ell=ell, rng=rng,
        candidates=candidates, tiebreak=degrees(graph),
    )
    seconds_select = time.perf_counter() - t0
    seeds = _seed_table(graph, cov)

    metrics: dict[str, Any] = {
        "k": int(len(cov.seeds)),
        "epsilon": float(epsilon),
        "ell": float(ell),
        "probability": str(probability),
        "n_subscribers": int(n),
        "n_candidates": int(n if candidates is None else len(candidates)),
        "n_rr_sets": int(info["n_rr_sets"]),
        "n_rr_sets_total": int(info["n_rr_sets_total"]),
        "mean_rr_set_size": float(info["mean_rr_set_size"]),
        "lower_bound": float(info["lower_bound"]),
        "rr_spread": float(info["rr_spread"]),
        "spread_upper_bound": float(info["rr_spread_upper_bound"]),
        # how much of the most any k seeds could reach the chosen seeds reach (both estimated on the same RR sets)
        "share_of_upper_bound": float(info["rr_spread"] / info["rr_spread_upper_bound"]) if info["rr_spread_upper_bound"] else float("nan"),
        "n_simulations": int(n_simulations),
        "seconds_select": float(seconds_select),
    }
    nan = float("nan")
    spreads = {"": (nan, nan, nan), "pagerank_": (nan, nan, nan), "degree_": (nan, nan, nan)}
    if n_simulations > 0:
        forward = forward_index(graph, edge_probabilities(graph, probability))
        baseline = {
            "": cov.seeds,
            "pagerank_": top_k_pagerank(graph, len(cov.seeds), candidates),
            "degree_": top_k_degree(graph, len(cov.seeds), candidates),
        }
        for prefix, vids in baseline.items():
            sizes = cascade_sizes(forward, vids, n_simulations, np.random.default_rng([seed, 1]))
            spreads[prefix] = spread_interval(sizes)
        metrics["pagerank_overlap"] = int(len(np.intersect1d(cov.seeds, baseline["pagerank_"])))
        metrics["degree_overlap"] = int(len(np.intersect1d(cov.seeds, baseline["degree_"])))
    for prefix, (mean, lo, hi) in spreads.items():
        metrics[f"{prefix or 'expected_'}spread"] = float(mean)
        metrics[f"{prefix}ci_low"] = float(lo)
        metrics[f"{prefix}ci_high"] = float(hi)
    metrics["spread_ratio_vs_pagerank"] = float(spreads[""][0] / spreads["pagerank_"][0]) if n_simulations > 0 else nan
    # no seed set reaches more than spread_upper_bound (RR-set estimate): the best ratio any choice could show
    metrics["ceiling_ratio_vs_pagerank"] = (float(info["rr_spread_upper_bound"] / spreads["pagerank_"][0])
                                            if n_simulations > 0 else nan)
    metrics["spread_ratio_vs_degree"] = float(spreads[""][0] / spreads["degree_"][0]) if n_simulations > 0 else nan
    metrics["seconds_evaluate"] = float(time.perf_counter() - t0 - seconds_select)
    metrics["seconds"] = float(time.perf_counter() - t0)
    return InfluenceResult(seeds, metrics)
