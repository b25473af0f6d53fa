r"""Bellwether score and roles: who leads, who follows, who bridges, on one scale for the whole base.

In operator practice every group has a *bellwether* (头羊): the member the
others turn to, whose choice of plan or operator the group tends to follow;
*followers* are the members who keep calling the bellwether; *bridges* link
groups.  We measure these from the contact graph alone.

The score
---------
``bellwether_score`` is one number per subscriber on a **global** scale: the
share of all subscribers in the graph it ranks above (a percentile in
:math:`[0, 1]`, 1 for the single best), so a score means the same in a family
of four and in a workplace of three hundred, and "the top 2 % of the base" is
``bellwether_score >= 0.98``.  It ranks a composite of three *pillars*, each the
mean of global percentile ranks :math:`p(\cdot)` (share of subscribers with a
lower value, ties averaged) of two or three measures (:data:`PILLARS`):

=========  ==================================================================  ==========================
pillar     measures                                                            idea
=========  ==================================================================  ==========================
position   :math:`k^{in}_v`: contacts in its own community; :math:`s^{in}_v`:  leaders are embedded in
           tie strength to them; :math:`k^{core}_v`: k-core number            the group they lead
reach      :math:`k_v`: contacts (degree); :math:`\mathrm{PR}_v`: weighted     influence reaches past
           PageRank; :math:`c^{out}_v`: number of *other* communities it has   the group; brokers bring
           contacts in                                                         news into it
followed   :math:`a_v`: contact events others initiated towards :math:`v`;     a group follows the one
           :math:`f_v`: contacts who initiate most of their contact with       it turns to
           :math:`v` (who "turn to" :math:`v`); optionally :math:`F_v`,
           contacts who adopted after :math:`v` (:func:`followed_after`)
=========  ==================================================================  ==========================

.. math::

    x_v = \tfrac13\,\mathrm{position}_v + \tfrac13\,\mathrm{reach}_v + \tfrac13\,\mathrm{followed}_v,
    \qquad
    \mathrm{bellwether\_score}_v = \frac{\#\{u \prec v\} + \tfrac12(\#\{u \equiv v\} + 1)}{n}

where :math:`\prec` orders subscribers by (two or more contacts, :math:`x`,
PageRank, strength) and :math:`\equiv` is equality in all four: a subscriber
with one contact ranks below everyone with two or more, whatever its composite,
and a subscriber without contacts scores 0.  Percentile means lie on a grid of
multiples of :math:`1/2n`, so unrelated subscribers can share a composite;
PageRank and strength tell them apart, and values are rounded to
:math:`10^{-10}` of their maximum first so that floating-point noise does not.
Two subscribers tie only in numerically equal positions (a ring, two
interchangeable clique members), never because the scale saturates.

Why this form:

- *Global, not within-community, percentiles.*  The score used to be a rank
  within the community, so every group's leader scored 1 (the leader of a pair
  tied with the hub of a workplace), the score could not rank the base, and a
  role rule on it was a count of communities.  Percentiles of each measure over
  the whole graph put heavy-tailed measures on one scale (no measure dominates
  the mean) and keep groups comparable; the community still shapes the score
  through :math:`k^{in}, s^{in}, c^{out}`, and ``community_rank`` still says
  who leads each group.
- *Position* follows the two-step flow of communication: opinion leaders
  belong to the groups they lead and are more active and more central in them
  than their followers (Katz & Lazarsfeld 1955, *Personal Influence*, Free
  Press); the k-shell, more than degree alone, locates the nodes from which
  spreading reaches most of a network (Kitsak et al. 2010, "Identification of
  influential spreaders in complex networks", Nature Physics 6:888,
  doi:10.1038/nphys1746).
- *Reach*: on an operator's call graph, Kiss & Bichler (2008,
  "Identification of influencers - measuring influence in customer networks",
  Decision Support Systems 46(1):233, doi:10.1016/j.dss.2008.06.007) found the
  plain number of contacts (out-degree) better than almost every other
  centrality at picking customers from whom a marketing message spreads, with
  only their PageRank variant (SenderRank) comparable; so both are here.  Ties
  into several other groups are brokerage across structural holes, where new
  ideas and offers enter a group (Burt 1992, *Structural Holes*, Harvard
  University Press; Burt 2004, AJS 110(2):349, doi:10.1086/421787).
- *Followed*: the direction of contact says who turns to whom (the follower
  role uses the same evidence).  Without direction columns (``calls_ab/ba``,
  ``sms_ab/ba``) the pillar falls back to strength and degree.
- Counts of people (:math:`k, k^{in}, f`) sit beside volumes
  (:math:`s^{in}, a`, PageRank): heavy users are not leaders for volume alone.
  On the Copenhagen calls and SMS, the score computed from one channel follows
  a person's degree in the other channel (Spearman 0.65) almost as well as
  degree itself (0.68), where the old score reached 0.16-0.33; on the synthetic
  operator it finds the planted bellwethers better than degree or PageRank
  alone (``bench/eval_bellwether_real.py``, ``bench/RESULTS.md``).
- Equal pillar weights: there is no labelled data to fit them on, and each
  pillar carries a different idea; :data:`SCORE_WEIGHTS` changes them.
- At most one contact cannot lead a group, so the score cannot put such a
  subscriber above anyone with two contacts, and the role rule requires
  ``min_contacts`` (3) as well.

Being followed over time (a hook)
---------------------------------
The strongest evidence of a bellwether is contacts who *adopt after* them (a
plan, a device, an operator).  The records hold no adoption events for
customers: the CRM extract gives churn dates, and a churn cascade only says who
a past churner was followed by, while churners are no longer customers to
rank.  So the score does not use it by default.  When an operator has such
events (plan upgrades, product take-up), :func:`followed_after` counts, for each
subscriber, the contacts who did the same within a window after them; pass the
result as ``followed=`` (or a ``followed`` column) to :func:`bellwether_scores`
and it joins the *followed* pillar as a third measure.

Roles
-----
One role each (:func:`assign_roles`, first match wins): ``isolate`` (no
contacts); ``bellwether`` (leads its community of 4 or more by
``community_rank``, several in big communities, *and* scores in the top 10 % of
the base, *and* has at least three contacts: a few percent of subscribers, not
one per community, which made 18 % of the demo's customers bellwethers);
``follower`` (initiates most of a strong tie to a bellwether of its own
community); ``bridge`` (participation coefficient at least 0.5); ``member``.

Speed: a handful of ``bincount``/sort/rank passes over the contacts,
:math:`O(m \log m)`: about 4 s for the score and 1.5 s for the roles at a
million subscribers and 2.9 million contacts on two shared cores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bellwether.algorithms.centrality.initiative import edge_events
from bellwether.graph.contact_graph import ContactGraph

__all__ = [
    "PILLARS", "ROLES", "SCORE_WEIGHTS", "bellwether_scores", "score_components", "assign_roles",
    "participation_coefficient", "followed_after",
]

ROLES = ("bellwether", "follower", "bridge", "member", "isolate")
#: weights of the three pillars of the composite behind ``bellwether_score`` (normalised to sum 1)
SCORE_WEIGHTS = {"position": 1.0, "reach": 1.0, "followed": 1.0}
#: the measures (columns of :func:`score_components`) averaged, as global percentiles, in each pillar
PILLARS = {
    "position": ("internal_contacts", "internal_strength", "coreness"),
    "reach": ("degree", "pagerank", "other_communities"),
    "followed": ("attention", "turned_to_by"),
}


def _arcs(graph: ContactGraph, weights: np.ndarray, events: bool = True):
    """Both directions of every contact: (src, dst, weight, events src->dst, events dst->src)."""
    e = graph.edge_array()
    src = np.concatenate([e[:, 0], e[:, 1]])
    dst = np.concatenate([e[:, 1], e[:, 0]])
    w = np.concatenate([weights, weights])
    ev = edge_events(graph) if events else None
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
    w = graph.weights() if weights is None else np.asarray(weights, dtype=np.float64)
    src, dst, aw, _, _ = _arcs(graph, w, events=False)
    return _participation(lab, src, dst, aw)


def _participation(lab: np.ndarray, src: np.ndarray, dst: np.ndarray, aw: np.ndarray) -> np.ndarray:
    n = len(lab)
    if len(src) == 0:
        return np.zeros(n)
    k = int(lab.max()) + 1
    key, inv = np.unique(src * k + lab[dst], return_inverse=True)
    s_vc = np.bincount(inv, weights=aw)
    owner = key // k
    s_v = np.bincount(src, weights=aw, minlength=n)
    frac2 = np.bincount(owner, weights=(s_vc / np.where(s_v[owner] > 0, s_v[owner], 1.0)) ** 2, minlength=n)
    return np.where(s_v > 0, 1.0 - frac2, 0.0)


def followed_after(graph: ContactGraph, event_day, window_days: int = 30) -> np.ndarray:
    r"""For each subscriber, the contacts whose event followed its own within ``window_days``.

    .. math:: F_v = \#\{u \sim v : t_v < t_u \le t_v + W\}

    ``event_day`` holds one date per subscriber (NaT/None when there was no
    event): an adoption (plan, device, product) or a churn.  Subscribers without
    an event get 0.  This is the "being followed" evidence the score can take
    (``bellwether_scores(..., followed=F)``) when the records have such events;
    only dates before ``as_of`` may be passed.

    Examples
    --------
    >>> g = ContactGraph.from_edges([(0, 1), (0, 2), (0, 3)])
    >>> followed_after(g, ["2025-01-01", "2025-01-10", "2025-03-01", None]).tolist()
    [1, 0, 0, 0]
    """
    n = graph.n_subscribers
    t = pd.to_datetime(pd.Series(list(event_day) if not isinstance(event_day, pd.Series) else event_day),
                       errors="coerce").to_numpy("datetime64[D]")
    if len(t) != n:
        raise ValueError(f"event_day has {len(t)} entries for {n} subscribers")
    e = graph.edge_array()
    src = np.concatenate([e[:, 0], e[:, 1]])
    dst = np.concatenate([e[:, 1], e[:, 0]])
    ts, td = t[src], t[dst]
    ok = ~np.isnat(ts) & ~np.isnat(td)
    lag = (td[ok] - ts[ok]).astype(np.int64)
    hit = (lag > 0) & (lag <= window_days)
    return np.bincount(src[ok][hit], minlength=n).astype(np.int64)


def _snap(values: np.ndarray) -> np.ndarray:
    """Round to 1e-10 of the largest magnitude, so that floating-point noise (PageRank iterations,
    sums in another order) does not order subscribers in equivalent positions."""
    x = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    m = float(np.abs(x).max()) if len(x) else 0.0
    return np.round(x / m, 10) * m if m > 0 else x


def _pct(values: np.ndarray) -> np.ndarray:
    """Global percentile rank in (0, 1] of the snapped values; ties share the average rank."""
    return pd.Series(_snap(values)).rank(method="average", pct=True).to_numpy(np.float64, copy=True)


def _pct_lex(*keys: np.ndarray) -> np.ndarray:
    """Percentile rank in (0, 1] of rows ordered by ``keys`` (first key first).

    Rows equal in every key share their average rank."""
    n = len(keys[0])
    order = np.lexsort(tuple(np.asarray(k) for k in reversed(keys)))
    new = np.zeros(n, dtype=bool)
    if n:
        new[0] = True
        for k in keys:
            ks = np.asarray(k)[order]
            new[1:] |= ks[1:] != ks[:-1]
    group = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    last = np.r_[first[1:], n] - 1
    avg = (first + last) / 2.0 + 1.0  # average 1-based rank of each group
    out = np.empty(n, dtype=np.float64)
    out[order] = avg[group] / max(n, 1)
    return out


def score_components(graph: ContactGraph, table: pd.DataFrame, *, weight: str | None = "weight",
                     followed=None) -> pd.DataFrame:
    """The raw measures behind :func:`bellwether_scores`, one row per subscriber in vid order.

    ``table`` needs ``community, degree, strength, pagerank`` and may have ``coreness``
    and ``events_in`` (computed here when absent) and ``followed`` (see
    :func:`followed_after`).  Returns ``vid, degree, internal_contacts, internal_strength,
    coreness, pagerank, other_communities, attention, turned_to_by`` and, when given, ``followed``.
    Without direction columns ``attention`` is strength and ``turned_to_by`` degree.
    """
    n = len(table)
    comm = table["community"].to_numpy(np.int64)
    deg = table["degree"].to_numpy(np.int64)
    w = graph.weights(weight)
    src, dst, aw, out_ev, in_ev = _arcs(graph, w)
    same = comm[src] == comm[dst]
    k_in = np.bincount(src[same], minlength=n)
    s_in = np.bincount(src[same], weights=aw[same], minlength=n)
    if "coreness" in table:
        core = table["coreness"].to_numpy(np.float64)
    else:
        from bellwether.algorithms.centrality import coreness

        core = coreness(graph)["coreness"].to_numpy(np.float64)
    other = np.zeros(n, dtype=np.int64)
    if (~same).any():
        k = int(comm.max()) + 1
        key = np.sort(src[~same] * k + comm[dst[~same]])  # sort + boundaries: faster than np.unique's hashing
        key = key[np.r_[True, key[1:] != key[:-1]]]
        other = np.bincount(key // k, minlength=n)
    if out_ev is None:
        attention = table["strength"].to_numpy(np.float64)
        turned = deg.astype(np.float64)
    else:
        attention = (table["events_in"].to_numpy(np.float64) if "events_in" in table
                     else np.bincount(src, weights=in_ev, minlength=n))
        attention = np.nan_to_num(attention, nan=0.0)
        turned = np.bincount(dst[out_ev > in_ev], minlength=n).astype(np.float64)
    out = pd.DataFrame({
        "vid": np.arange(n, dtype=np.int64), "degree": deg, "internal_contacts": k_in, "internal_strength": s_in,
        "coreness": core, "pagerank": table["pagerank"].to_numpy(np.float64), "other_communities": other,
        "attention": attention, "turned_to_by": turned,
    })
    if followed is None and "followed" in table and table["followed"].notna().any():
        followed = table["followed"].to_numpy(np.float64)
    if followed is not None:
        out["followed"] = np.nan_to_num(np.asarray(followed, dtype=np.float64), nan=0.0)
    return out


def bellwether_scores(
    graph: ContactGraph,
    table: pd.DataFrame,
    *,
    score_weights: dict[str, float] | None = None,
    followed=None,
    weight: str | None = "weight",
) -> pd.DataFrame:
    r"""The ``bellwether_score`` of every subscriber on one global scale, and its rank in its community.

    The definition and its references are in the module docstring
    (:mod:`bellwether.algorithms.roles.bellwether`): the global percentile of an equal-weight
    composite of *position* (contacts and tie strength inside its community,
    k-core), *reach* (degree, PageRank, other communities contacted) and
    *followed* (contact events received, contacts who turn to the subscriber, and
    ``followed`` when given); fewer than two contacts rank below everyone with two
    or more; no contacts score 0.

    Parameters
    ----------
    table : pandas.DataFrame
        ``vid, community, degree, strength, pagerank`` and optionally ``coreness``,
        ``events_in``, ``followed``, in vid order.
    score_weights : dict, optional
        Override :data:`SCORE_WEIGHTS` (keys ``position, reach, followed``).
    followed : array, optional
        Contacts who adopted after the subscriber (:func:`followed_after`); joins the
        *followed* pillar.

    Returns
    -------
    pandas.DataFrame
        ``vid``, ``bellwether_score`` (float in [0, 1]: share of subscribers ranked
        below, 1 for the best), ``community_rank`` (1 = highest score in its community;
        ties by PageRank, then vid).
    """
    sw = dict(SCORE_WEIGHTS if score_weights is None else score_weights)
    unknown = set(sw) - set(PILLARS)
    if unknown:
        raise ValueError(f"Unknown score weight(s) {sorted(unknown)}; the pillars are {list(PILLARS)}.")
    n = len(table)
    comm = table["community"].to_numpy(np.int64)
    pr = table["pagerank"].to_numpy(np.float64)
    vid = np.arange(n, dtype=np.int64)
    if n == 0:
        return pd.DataFrame({"vid": vid, "bellwether_score": np.zeros(0), "community_rank": np.zeros(0, np.int64)})
    c = score_components(graph, table, weight=weight, followed=followed)
    pillars = {}
    for name, cols in PILLARS.items():
        cols = cols + (("followed",) if name == "followed" and "followed" in c else ())
        pillars[name] = np.mean([_pct(c[col].to_numpy(np.float64)) for col in cols], axis=0)
    total = sum(sw.get(p, 0.0) for p in PILLARS)
    composite = sum(sw.get(p, 0.0) * pillars[p] for p in PILLARS) / total
    deg = c["degree"].to_numpy(np.int64)
    # fewer than two contacts rank below everyone with two or more; equal composites (percentiles are
    # multiples of 1/2n, so their means can coincide) are told apart by PageRank, then strength
    score = _pct_lex(deg >= 2, np.round(composite, 12), _snap(pr), _snap(table["strength"].to_numpy(np.float64)))
    score[deg == 0] = 0.0
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
    min_community_size: int = 4,
    min_contacts: int = 3,
    min_score: float = 0.9,
    max_bellwether_share: float = 0.05,
    far_above_median: float = 3.0,
    bridge_participation: float = 0.5,
) -> pd.DataFrame:
    r"""Give every subscriber one role: bellwether, follower, bridge, member or isolate.

    Rules, applied in this order (first match wins):

    ``isolate``
        No contacts.
    ``bellwether``
        All of: (i) leads its community: ``community_rank == 1``, or, in
        communities of 40 or more, ``community_rank`` at most
        :math:`\lfloor 0.05\,|C| \rfloor` (``max_bellwether_share``) with a PageRank at
        least ``far_above_median`` (3) times the community's median: big circles
        have several leaders, each standing out from the crowd; (ii) the community
        has at least ``min_community_size`` (4) members: a pair or a trio is not a
        group with a leader; (iii) ``bellwether_score >= min_score`` (0.9): among
        the top 10 % of the whole base, so the leader of a weak group is not a
        bellwether just for leading it; (iv) at least ``min_contacts`` (3)
        contacts.  By (iii) bellwethers are at most 10 % of subscribers (one
        more on a tiny graph); measured: 5-6 % on the Copenhagen calls and SMS,
        7 % of the synthetic operator's customers (5.9 % planted), 3 % on a
        planted graph of a million (``bench/RESULTS.md``).
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
        In vid order: ``community, degree, pagerank, bellwether_score, community_rank``.

    Returns
    -------
    pandas.DataFrame
        ``vid``, ``role``, ``participation``.
    """
    n = len(table)
    comm = table["community"].to_numpy(np.int64)
    deg = table["degree"].to_numpy(np.int64)
    score = table["bellwether_score"].to_numpy(np.float64)
    rank = table["community_rank"].to_numpy(np.int64)
    size = np.bincount(comm)[comm] if n else np.zeros(0, dtype=np.int64)
    w = graph.weights(weight)

    pr = table["pagerank"].to_numpy(np.float64)
    cap = np.maximum(1, np.floor(max_bellwether_share * size)).astype(np.int64)
    leads = rank == 1
    if (cap > 1).any():  # big communities: more leaders, each standing out from the crowd
        med = pd.Series(pr).groupby(comm).transform("median").to_numpy()
        leads |= (rank <= cap) & (pr >= far_above_median * med)
    bell = leads & (size >= min_community_size) & (score >= min_score) & (deg >= max(min_contacts, 2))

    src, dst, aw, out_ev, in_ev = _arcs(graph, w)
    follower = np.zeros(n, dtype=bool)
    if len(src):
        to_bell = bell[dst] & ~bell[src] & (comm[src] == comm[dst])
        s_v = np.bincount(src, weights=aw, minlength=n)
        if out_ev is not None:
            mean_w = s_v / np.maximum(deg, 1)
            ok = to_bell & (aw >= mean_w[src]) & (out_ev > in_ev)
            follower[src[ok]] = True

    part = _participation(comm, src, dst, aw)
    bridge = (part >= bridge_participation) & (deg >= 2)

    role = np.full(n, "member", dtype=object)
    role[bridge] = "bridge"
    role[follower] = "follower"
    role[bell] = "bellwether"
    role[deg == 0] = "isolate"
    return pd.DataFrame({"vid": np.arange(n, dtype=np.int64), "role": role, "participation": part})
