"""Who is in contact with whom, how often, and in which direction.

A tie joins persons ``a`` and ``b`` with an expected volume ``rate`` (records
per 30 days, both directions together) and the share ``p_ab`` of sessions that
``a`` starts.  Its ``context`` (family, friends, workplace, outside,
peripheral) decides its rhythm and call lengths downstream.

Calibrated against real call + SMS data (``python -m bench.realism``: the
Copenhagen Networks Study, and the stylised facts of operator networks in
Onnela et al. 2007, doi:10.1073/pnas.0610245104): people keep few ties and use
them repeatedly, so a month's ties carry a median of about 7 records, few are
one-offs, most are used both ways, and tie volumes are heavy-tailed (the top
tenth of ties carries about 60% of the traffic).

- Rates: a log-normal around a median per context (``BASE_RATE``, sigma
  ``RATE_SIGMA``), times ``(activity_a * activity_b) ** 0.25``.  Ties inside a
  family or friend group are stronger than those that leave it (weak ties
  bridge groups), but the spread within a context is wider than the gap
  between contexts, so weight correlates only mildly with neighbourhood
  overlap, as in real data.
- Families up to 4 people: every pair is tied; larger families: a ring plus
  random pairs, mean degree about 3.
- Friend groups and workplaces: each member starts a Poisson number of ties
  (more if active); most partners are members of similar activity (and so
  similar degree), the rest uniform.  Together with the heavy-tailed activity
  this gives the positive degree assortativity of social networks.
- Followers are tied to their bellwether; the follower starts about three
  quarters of that tie's sessions (followers call the bellwether more than they
  are called back) and the tie is stronger than an ordinary one.
- Outside ties leave the community (the *mixing*, about 0.2 of records):
  partners mostly in the same region, most of similar activity, the rest
  chosen in proportion to activity; bellwethers have more of them.  A share of
  outside ties is one-sided.
- Peripheral off-net contacts have one or a few weak ties to our customers.

Ties between two off-net persons are dropped: the operator cannot see them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .population import Population

__all__ = ["Ties", "build_ties", "CONTEXTS"]

CONTEXTS = ("family", "friends", "workplace", "outside", "peripheral")
BASE_RATE = np.array([9.0, 6.0, 4.0, 2.0, 1.5])  # median records per 30 days of a tie, by context
RATE_SIGMA = 1.6  # log-normal spread of tie rates around the context median
FAMILY_DEGREE = 3.0  # families above 4 people: pairs beyond a ring tied so the mean degree is about this
INTRA_STARTS = {1: 1.4, 2: 1.3}  # mean ties started per member (friends, workplace)
OUTSIDE_STARTS = 0.8  # mean outside ties started per person (bellwethers: +1.5)
BELLWETHER_OUTSIDE = 1.5  # extra outside ties started by a bellwether
START_EXPONENT = 1.2  # ties a person starts grow as activity ** START_EXPONENT ...
START_ACTIVITY_CAP = 8.0  # ... up to this activity (a few people are 10-20x as active as the mean)
NEAR_ACTIVITY = 0.9  # share of friend / workplace / outside partners chosen close in activity rank
SAME_REGION = 0.8
BELLWETHER_BOOST = 1.6
FOLLOWER_SHARE = (8.0, 3.0)  # Beta parameters of the share a follower initiates (mean 0.73)


@dataclass
class Ties:
    a: np.ndarray  # int64 person
    b: np.ndarray  # int64 person
    rate: np.ndarray  # float64 records per 30 days, both directions
    p_ab: np.ndarray  # float64 share initiated by a
    context: np.ndarray  # int8 index into CONTEXTS
    leader_tie: np.ndarray  # bool: a tie between a follower and its bellwether

    @property
    def size(self) -> int:
        return int(self.a.size)


def _family_pairs(rng: np.random.Generator, pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Families up to 4 people: every pair; larger ones: a ring plus random pairs, mean degree about FAMILY_DEGREE."""
    a_parts, b_parts = [], []
    fam = pop.comm_type == 0
    for s in np.unique(pop.comm_size[fam]):
        s = int(s)
        starts = pop.comm_start[fam & (pop.comm_size == s)]
        ii, jj = np.triu_indices(s, k=1)
        ring = (jj == ii + 1) | ((ii == 0) & (jj == s - 1))
        extra = 1.0 if s <= 4 else min(1.0, (FAMILY_DEGREE - 2.0) * s / 2.0 / max(ii.size - s, 1))
        keep = ring[None, :] | (rng.random((starts.size, ii.size)) < extra)
        a_parts.append((starts[:, None] + ii[None, :])[keep])
        b_parts.append((starts[:, None] + jj[None, :])[keep])
    if not a_parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(a_parts), np.concatenate(b_parts)


def _near_in_rank(rng: np.random.Generator, rank: np.ndarray, size: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """A rank ``1 + Exp(scale)`` steps above or below ``rank`` inside ``[0, size)`` (reflected at the ends)."""
    off = 1 + np.floor(rng.exponential(np.maximum(scale, 1e-9))).astype(np.int64)
    off = np.minimum(off, np.maximum(size - 1, 1))
    up = rng.random(rank.size) < 0.5
    r = np.where(up, rank + off, rank - off)
    r = np.where(r >= size, rank - off, r)
    r = np.where(r < 0, rank + off, r)
    return np.clip(r, 0, size - 1)


def _random_intra_pairs(rng: np.random.Generator, pop: Population) -> tuple[np.ndarray, np.ndarray]:
    n_members = int(pop.comm_size.sum())
    comm = pop.community[:n_members].astype(np.int64)
    ctype = pop.comm_type[comm]
    lam = np.zeros(n_members)
    for kind, mean in INTRA_STARTS.items():
        lam[ctype == kind] = mean
    k = rng.poisson(lam * np.minimum(pop.activity[:n_members], START_ACTIVITY_CAP) ** START_EXPONENT)
    size = pop.comm_size[comm]
    k = np.minimum(k, size - 1)
    src = np.repeat(np.arange(n_members, dtype=np.int64), k)
    c = comm[src]
    # members sorted by activity inside each community (communities are contiguous blocks)
    by_act = np.lexsort((pop.activity[:n_members], comm))
    rank = np.empty(n_members, dtype=np.int64)
    rank[by_act] = np.arange(n_members) - pop.comm_start[comm[by_act]]
    pos = src - pop.comm_start[c]
    off = rng.integers(1, pop.comm_size[c])
    uniform = pop.comm_start[c] + (pos + off) % pop.comm_size[c]
    near_rank = _near_in_rank(rng, rank[src], pop.comm_size[c], 0.04 * pop.comm_size[c])
    near = by_act[pop.comm_start[c] + near_rank]
    dst = np.where(rng.random(src.size) < NEAR_ACTIVITY, near, uniform)
    return src, dst


def _outside_pairs(rng: np.random.Generator, pop: Population) -> tuple[np.ndarray, np.ndarray]:
    n_members = int(pop.comm_size.sum())
    act = np.minimum(pop.activity[:n_members], START_ACTIVITY_CAP)
    lam = OUTSIDE_STARTS * act**START_EXPONENT + BELLWETHER_OUTSIDE * (pop.role[:n_members] == 2)
    k = rng.poisson(lam)
    src = np.repeat(np.arange(n_members, dtype=np.int64), k)
    # partners drawn in proportion to activity, within the source's region or anywhere
    weight = pop.activity[:n_members]
    by_region = np.argsort(pop.region[:n_members], kind="stable")
    cum = np.cumsum(weight[by_region])
    reg_sorted = pop.region[:n_members][by_region]
    n_regions = int(pop.region.max()) + 1
    reg_end = np.searchsorted(reg_sorted, np.arange(n_regions), side="right")
    reg_begin = np.searchsorted(reg_sorted, np.arange(n_regions), side="left")
    lo = np.where(reg_begin > 0, cum[np.maximum(reg_begin - 1, 0)], 0.0)
    hi = np.where(reg_end > 0, cum[np.maximum(reg_end - 1, 0)], 0.0)
    r = pop.region[src]
    local = rng.random(src.size) < SAME_REGION
    u = rng.random(src.size)
    target = np.where(local, lo[r] + u * (hi[r] - lo[r]), u * cum[-1])
    dst = by_region[np.minimum(np.searchsorted(cum, target, side="right"), n_members - 1)]
    # or, mostly, someone of similar activity in the same region (people of a feather: degree assortativity)
    by_ra = np.lexsort((weight, pop.region[:n_members]))
    rank = np.empty(n_members, dtype=np.int64)
    rank[by_ra] = np.arange(n_members) - reg_begin[pop.region[:n_members][by_ra]]
    n_reg = (reg_end - reg_begin)[r]
    near_rank = _near_in_rank(rng, rank[src], n_reg, 0.01 * n_reg)
    near = by_ra[reg_begin[r] + near_rank]
    dst = np.where(rng.random(src.size) < NEAR_ACTIVITY, near, dst)
    keep = pop.community[dst] != pop.community[src]
    return src[keep], dst[keep]


def _peripheral_pairs(rng: np.random.Generator, pop: Population) -> tuple[np.ndarray, np.ndarray]:
    periph = np.flatnonzero(pop.community < 0)
    on = np.flatnonzero(pop.on_net)
    k = rng.geometric(0.6, size=periph.size)
    src = np.repeat(periph, k)
    dst = on[rng.integers(0, on.size, size=src.size)]
    return src, dst


def _canonical(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return lo * n + hi


def build_ties(rng: np.random.Generator, pop: Population) -> Ties:
    """All person-to-person ties the operator can see (at least one end on-net); see the module docstring."""
    n = pop.n_persons
    parts = [
        (*_family_pairs(rng, pop), 0),
        (*_random_intra_pairs(rng, pop), -1),  # context from community type
        (*_outside_pairs(rng, pop), 3),
        (*_peripheral_pairs(rng, pop), 4),
    ]
    keys, ctx = [], []
    for a, b, c in parts:
        keep = a != b
        a, b = a[keep], b[keep]
        keys.append(_canonical(a, b, n))
        if c == -1:
            ctx.append(pop.comm_type[pop.community[a]].astype(np.int8))
        else:
            ctx.append(np.full(a.size, c, dtype=np.int8))
    key = np.concatenate(keys)
    context = np.concatenate(ctx)
    # one tie per pair: keep the first occurrence (family < intra < outside < peripheral)
    key, first = np.unique(key, return_index=True)
    context = context[first]

    # follower -> bellwether ties, added or reinforced
    fol = np.flatnonzero(pop.leader >= 0)
    lead = pop.leader[fol]
    fkey = _canonical(fol, lead, n)
    pos = np.searchsorted(key, fkey)
    pos_c = np.minimum(pos, key.size - 1)
    exists = key[pos_c] == fkey
    new_key = fkey[~exists]
    new_ctx = pop.comm_type[pop.community[fol[~exists]]].astype(np.int8)
    key = np.concatenate([key, new_key])
    context = np.concatenate([context, new_ctx])
    order = np.argsort(key, kind="stable")
    key, context = key[order], context[order]

    a = key // n
    b = key % n
    visible = pop.on_net[a] | pop.on_net[b]
    a, b, key, context = a[visible], b[visible], key[visible], context[visible]
    m = a.size

    rate = BASE_RATE[context] * (pop.activity[a] * pop.activity[b]) ** 0.25 * rng.lognormal(0.0, RATE_SIGMA, size=m)
    p_ab = rng.beta(4.0, 4.0, size=m)
    one_sided = (context >= 3) & (rng.random(m) < 0.15)
    p_ab[one_sided] = np.where(rng.random(int(one_sided.sum())) < 0.5, 0.97, 0.03)

    # leader ties: orient so that a is the follower
    fkey_vis = np.searchsorted(key, fkey)
    fkey_vis_c = np.minimum(fkey_vis, max(m - 1, 0))
    present = (m > 0) & (key[fkey_vis_c] == fkey) if m else np.zeros(fkey.size, bool)
    idx = fkey_vis_c[present]
    follower = fol[present]
    leader_tie = np.zeros(m, dtype=bool)
    leader_tie[idx] = True
    share = rng.beta(*FOLLOWER_SHARE, size=idx.size)
    rate[idx] *= BELLWETHER_BOOST
    # a < b by construction; the follower's share goes to whichever end it is
    p_ab[idx] = np.where(a[idx] == follower, share, 1.0 - share)
    return Ties(a=a, b=b, rate=rate, p_ab=p_ab, context=context, leader_tie=leader_tie)
