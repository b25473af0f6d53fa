"""Who is in contact with whom, how often, and in which direction.

A tie joins persons ``a`` and ``b`` with a expected volume ``rate`` (records
per 30 days, both directions together) and the share ``p_ab`` of records that
``a`` initiates.  Its ``context`` (family, friends, workplace, outside,
peripheral) decides its rhythm and call lengths downstream.

- Families: every pair is tied, strongly (about 2.5 records a month) and
  reciprocally, so small groups are recoverable.
- Friend groups and workplaces: each member starts a Poisson number of ties to
  random members (more if active), so degrees inside vary.
- Followers are tied to their bellwether; the follower initiates about three
  quarters of that tie's records (followers call the bellwether more than they
  are called back) and the tie is stronger than an ordinary one.
- Outside ties leave the community (the *mixing*, about 0.1-0.2 of tie weight):
  partners mostly in the same region and chosen in proportion to activity
  (preferential attachment), which gives the heavy-tailed contact counts of
  call graphs (Onnela et al. 2007, doi:10.1073/pnas.0610245104); bellwethers
  have more of them.  A share of outside ties is one-sided.
- Peripheral off-net contacts have one or a few weak ties to our customers.

Ties between two off-net persons are dropped: the operator cannot see them.
Volumes scale with ``(activity_a * activity_b) ** 0.25`` and a log-normal
factor, so tie strength is heavy-tailed too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .population import Population

__all__ = ["Ties", "build_ties", "CONTEXTS"]

CONTEXTS = ("family", "friends", "workplace", "outside", "peripheral")
BASE_RATE = np.array([3.6, 0.8, 0.55, 0.3, 0.35])  # records per 30 days, by context
INTRA_STARTS = {1: 3.0, 2: 2.8}  # mean ties started per member (friends, workplace)
OUTSIDE_STARTS = 1.8  # mean outside ties started per person (bellwethers: +2.5)
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


def _family_pairs(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    a_parts, b_parts = [], []
    fam = pop.comm_type == 0
    for s in np.unique(pop.comm_size[fam]):
        starts = pop.comm_start[fam & (pop.comm_size == s)]
        ii, jj = np.triu_indices(int(s), k=1)
        a_parts.append((starts[:, None] + ii[None, :]).ravel())
        b_parts.append((starts[:, None] + jj[None, :]).ravel())
    if not a_parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(a_parts), np.concatenate(b_parts)


def _random_intra_pairs(rng: np.random.Generator, pop: Population) -> tuple[np.ndarray, np.ndarray]:
    n_members = int(pop.comm_size.sum())
    comm = pop.community[:n_members].astype(np.int64)
    ctype = pop.comm_type[comm]
    lam = np.zeros(n_members)
    for kind, mean in INTRA_STARTS.items():
        lam[ctype == kind] = mean
    k = rng.poisson(lam * pop.activity[:n_members] ** 0.7)
    size = pop.comm_size[comm]
    k = np.minimum(k, size - 1)
    src = np.repeat(np.arange(n_members, dtype=np.int64), k)
    c = comm[src]
    pos = src - pop.comm_start[c]
    off = rng.integers(1, pop.comm_size[c])
    dst = pop.comm_start[c] + (pos + off) % pop.comm_size[c]
    return src, dst


def _outside_pairs(rng: np.random.Generator, pop: Population) -> tuple[np.ndarray, np.ndarray]:
    n_members = int(pop.comm_size.sum())
    lam = OUTSIDE_STARTS * pop.activity[:n_members] ** 0.8 + 2.5 * (pop.role[:n_members] == 2)
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
        (*_family_pairs(pop), 0),
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

    rate = BASE_RATE[context] * (pop.activity[a] * pop.activity[b]) ** 0.25 * rng.lognormal(-0.18, 0.6, size=m)
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
