"""Bellwether score and roles: who leads each community, who follows, who bridges.

In operator practice every group has a *bellwether* (头羊): the member the
others turn to, whose choice of plan or operator the group tends to follow;
*followers* are the members who keep calling the bellwether; *bridges* link
groups.  We measure these from the contact graph alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from algorithms.centrality.initiative import edge_events
from graph.contact_graph import ContactGraph

__all__ = ["ROLES", "SCORE_WEIGHTS", "bellwether_scores", "assign_roles", "participation_coefficient"]

ROLES = ("bellwether", "follower", "bridge", "member", "isolate")
#: weights of the within-community percentile ranks combined into ``bellwether_score``
SCORE_WEIGHTS = {"pagerank": 0.4, "strength": 0.3, "attention": 0.3}


def _arcs(graph: ContactGraph, weights: np.ndarray):
    """Both directions of every contact: (src, dst, weight, events src->dst, events dst->src)."""
    e = graph.edge_array()
    src = np.concatenate([e[:, 0], e[:, 1]])
    dst = np.concatenate([e[:, 1], e[:, 0]])
    w = np.concatenate([weights, weights])
    ev = edge_events(graph)
    if ev is None:
        return src, dst, w, None, None
    ab, ba = ev
    return src, dst, w, np.concatenate([ab, ba]), np.concatenate([ba, ab])


def participation_coefficient(graph: ContactGraph, membership, weights=None) -> np.ndarray:
    r"""Participation coefficient (Guimerà & Amaral 2005, doi:10.1038/nature03288), weighted.

    .. math:: P_v = 1 - \sum_c \left(\frac{s_{v,c}}{s_v}\right)^2

    with :math:`s_{v,c}` the tie strength from :math:`v` to members of community
    :math:`c`.  0 when all ties stay in one community (or there are none),
    approaching 1 when they spread evenly over many communities.
    """
    lab = np.asarray(membership, dtype=np.int64)
    n = len(lab)
    w = graph.weights() if weights is None else np.asarray(weights, dtype=np.float64)
    src, dst, aw, _, _ = _arcs(graph, w)
    if len(src) == 0:
        return np.zeros(n)
    k = int(lab.max()) + 1
    key, inv = np.unique(src * k + lab[dst], return_inverse=True)
    s_vc = np.bincount(inv, weights=aw)
    owner = key // k
    s_v = np.bincount(src, weights=aw, minlength=n)
    frac2 = np.bincount(owner, weights=(s_vc / np.where(s_v[owner] > 0, s_v[owner], 1.0)) ** 2, minlength=n)
    return np.where(s_v > 0, 1.0 - frac2, 0.0)


def _pct_in_group(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Percentile rank of each value within its group, in (0, 1]; ties share the average rank."""
    s = pd.Series(values)
    return s.groupby(groups).rank(method="average", pct=True).to_numpy(np.float64)


def bellwether_scores(
    graph: ContactGraph,
    table: pd.DataFrame,
    *,
    score_weights: dict[str, float] | None = None,
) -> pd.DataFrame:
    r"""Combine centralities into a ``bellwether_score`` and rank members within their community.

    .. math:: b_v = 0.4\, p_c(\mathrm{PR}_v) + 0.3\, p_c(s_v) + 0.3\, p_c(a_v)

    where :math:`p_c(x_v)` is the percentile rank of :math:`x_v` among the
    members of :math:`v`'s community (in :math:`(0, 1]`, ties averaged),
    :math:`\mathrm{PR}` is weighted PageRank, :math:`s` strength, and
    :math:`a_v` the *attention received*: contact events other subscribers
    initiated towards :math:`v` (strength when the contacts carry no direction).

    Why this form: (i) percentile ranks put heavy-tailed measures on one scale,
    so no single measure dominates the mean; (ii) ranking *within* the community
    makes the score mean "leads its own group" (a household head competes with
    the household, not with a hub elsewhere), which is what marketing acts on;
    (iii) PageRank rewards ties to well-connected members (influence flows
    through them), strength rewards volume, and attention received separates
    the subscriber others turn to from one who merely calls a lot.

    Parameters
    ----------
    table : pandas.DataFrame
        ``vid, community, pagerank, strength`` and optionally ``events_in``, in vid order.
    score_weights : dict, optional
        Override :data:`SCORE_WEIGHTS` (keys ``pagerank, strength, attention``).

    Returns
    -------
    pandas.DataFrame
        ``vid``, ``bellwether_score`` (float in (0, 1]), ``community_rank``
        (1 = highest score; ties by PageRank, then vid).
    """
    sw = dict(SCORE_WEIGHTS if score_weights is None else score_weights)
    comm = table["community"].to_numpy(np.int64)
    pr = table["pagerank"].to_numpy(np.float64)
    strength = table["strength"].to_numpy(np.float64)
    attention = table["events_in"].to_numpy(np.float64) if "events_in" in table else np.full(len(table), np.nan)
    if np.isnan(attention).all():
        attention = strength
    attention = np.nan_to_num(attention, nan=0.0)
    total = sum(sw.values())
    score = (
        sw["pagerank"] * _pct_in_group(pr, comm)
        + sw["strength"] * _pct_in_group(strength, comm)
        + sw["attention"] * _pct_in_group(attention, comm)
    ) / total
    vid = np.arange(len(table), dtype=np.int64)
    order = np.lexsort((vid, -pr, -score, comm))
    sorted_comm = comm[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_comm[1:] != sorted_comm[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - start + 1
    return pd.DataFrame({"vid": vid, "bellwether_score": score, "community_rank": rank})


def assign_roles(
    graph: ContactGraph,
    table: pd.DataFrame,
    *,
    weight: str | None = "weight",
    min_community_size: int = 3,
    large_community: int = 30,
    far_above_median: float = 3.0,
    max_bellwether_share: float = 0.05,
    bridge_participation: float = 0.5,
) -> pd.DataFrame:
    r"""Give every subscriber one role: bellwether, follower, bridge, member or isolate.

    Rules, applied in this order (first match wins):

    ``isolate``
        No contacts.
    ``bellwether``
        ``community_rank == 1`` in a community of at least ``min_community_size``
        (3) members; and, in communities of at least ``large_community`` (30)
        members, any member whose PageRank is at least ``far_above_median`` (3)
        times the community median and who ranks in the community's top
        ``max_bellwether_share`` (5 %, at least one): big circles have several
        leaders, but never more than a small share of them.
    ``follower``
        Has a contact with a bellwether of its own community that is strong for
        the follower (weight at least the follower's mean tie weight) and that
        the follower initiates more than the bellwether does (events
        :math:`v \to b > b \to v`).  Without direction columns
        (``calls_ab/ba``, ``sms_ab/ba``) nobody is a follower: the role is about
        who initiates.
    ``bridge``
        Participation coefficient (:func:`participation_coefficient`) at least
        ``bridge_participation`` (0.5, i.e. at most about half of its tie strength
        stays in one community) and at least two contacts.
    ``member``
        Everyone else.

    Betweenness is deliberately not used: exact betweenness is
    :math:`O(nm)` (Brandes 2001, doi:10.1080/0022250X.2001.9990249), hours on
    a national graph, and the participation coefficient captures "ties spread
    across communities" locally.

    Parameters
    ----------
    table : pandas.DataFrame
        In vid order: ``community, degree, strength, pagerank, bellwether_score, community_rank``.

    Returns
    -------
    pandas.DataFrame
        ``vid``, ``role``, ``participation``.
    """
    n = len(table)
    comm = table["community"].to_numpy(np.int64)
    deg = table["degree"].to_numpy(np.int64)
    pr = table["pagerank"].to_numpy(np.float64)
    rank = table["community_rank"].to_numpy(np.int64)
    size = np.bincount(comm)[comm] if n else np.zeros(0, dtype=np.int64)
    w = graph.weights(weight)

    bell = (rank == 1) & (size >= min_community_size)
    big = size >= large_community
    if big.any():
        med = pd.Series(pr).groupby(comm).transform("median").to_numpy()
        cap = np.maximum(1, np.floor(max_bellwether_share * size)).astype(np.int64)
        bell |= big & (pr >= far_above_median * med) & (rank <= cap)
    bell &= deg > 0

    src, dst, aw, out_ev, in_ev = _arcs(graph, w)
    follower = np.zeros(n, dtype=bool)
    if len(src):
        to_bell = bell[dst] & ~bell[src] & (comm[src] == comm[dst])
        s_v = np.bincount(src, weights=aw, minlength=n)
        if out_ev is not None:
            mean_w = s_v / np.maximum(deg, 1)
            ok = to_bell & (aw >= mean_w[src]) & (out_ev > in_ev)
            follower[src[ok]] = True

    part = participation_coefficient(graph, comm, w)
    bridge = (part >= bridge_participation) & (deg >= 2)

    role = np.full(n, "member", dtype=object)
    role[bridge] = "bridge"
    role[follower] = "follower"
    role[bell] = "bellwether"
    role[deg == 0] = "isolate"
    return pd.DataFrame({"vid": np.arange(n, dtype=np.int64), "role": role, "participation": part})
