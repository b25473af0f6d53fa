"""The people behind the numbers: planted communities, roles and customer attributes.

Every person belongs to one *primary* community (the truth a community
detection method is judged against).  Three kinds of community are planted,
with the size ranges seen in mobile-phone social networks (Onnela et al. 2007,
doi:10.1073/pnas.0610245104; Blondel et al. 2008, doi:10.1088/1742-5468/2008/10/P10008):

- families of 3-8 people, with strong, reciprocal, frequent ties;
- friend groups of about 10-30;
- workplaces from 31 to a few hundred people, sizes drawn from a truncated
  power law, so community sizes are heavy-tailed overall.

Persons are laid out contiguously by community (community ``c`` occupies
``start[c]:start[c] + size[c]``); off-net *peripheral* contacts without a
planted community (``community = -1``) come last.

Roles follow operator practice (the bellwether, 头羊, whom a group follows):
each community of five or more has one bellwether, plus one per 80 members in
big ones; in families every other member is a follower, in friend groups and
workplaces about half are.  Bellwethers are more active and of higher value.

Attributes of on-net customers: a plan (prepaid or postpaid tier) chosen from a
latent value score that is partly shared within a community (families share
plans, colleagues earn alike), a log-normal ARPU around the plan's fee, a
tenure in months (prepaid customers are newer) and a region; communities are
mostly regional.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Population", "build_population", "COMMUNITY_TYPES", "ROLES", "PLANS", "REGIONS"]

COMMUNITY_TYPES = ("family", "friends", "workplace")
ROLES = ("member", "follower", "bellwether")
PLANS = ("prepaid_basic", "prepaid_data", "postpaid_58", "postpaid_88", "postpaid_128", "postpaid_188")
PLAN_SHARES = np.array([0.22, 0.13, 0.22, 0.20, 0.15, 0.08])
PLAN_MEDIAN_ARPU = np.array([22.0, 38.0, 56.0, 86.0, 126.0, 182.0])
PLAN_PREPAID = np.array([True, True, False, False, False, False])
REGIONS = ("Hangzhou", "Ningbo", "Wenzhou", "Jinhua", "Jiaxing", "Taizhou", "Shaoxing", "Huzhou")
REGION_SHARES = np.array([0.22, 0.17, 0.15, 0.11, 0.10, 0.09, 0.09, 0.07])

FAMILY_SIZES = np.arange(3, 9)
FAMILY_SIZE_P = np.array([0.34, 0.30, 0.17, 0.10, 0.06, 0.03])
PERSON_SHARE = np.array([0.45, 0.30, 0.25])  # share of persons in families, friend groups, workplaces
ON_NET_BETA = {0: (2.2, 0.8), 1: (7.4, 2.6), 2: (7.4, 2.6)}  # community on-net share ~ Beta, mean ~0.74
PERIPHERAL_SHARE = 0.05  # off-net contacts outside any planted community, per person
ACTIVITY_SIGMA = 0.9  # log-normal spread of how active a person is (drives degree, so degree assortativity)


@dataclass
class Population:
    """Persons (index ``0..n_persons-1``) and communities; attributes are meaningful where ``on_net``."""

    on_net: np.ndarray  # bool
    community: np.ndarray  # int32, -1 for peripheral contacts
    role: np.ndarray  # int8 index into ROLES
    leader: np.ndarray  # int64: the bellwether a follower follows, else -1
    region: np.ndarray  # int8 index into REGIONS
    activity: np.ndarray  # float64, mean ~1: scales how many contacts and calls a person has
    sms_share: np.ndarray  # float64: share of a person's outgoing records that are SMS
    plan: np.ndarray  # int8 index into PLANS
    arpu: np.ndarray  # float64, yuan per month
    tenure: np.ndarray  # int32 months at the start date
    comm_type: np.ndarray  # int8 index into COMMUNITY_TYPES, per community
    comm_start: np.ndarray  # int64, per community
    comm_size: np.ndarray  # int64, per community
    comm_region: np.ndarray  # int8, per community

    @property
    def n_persons(self) -> int:
        return int(self.on_net.size)

    @property
    def n_communities(self) -> int:
        return int(self.comm_size.size)


def _community_sizes(rng: np.random.Generator, kind: int, n: int) -> np.ndarray:
    if kind == 0:
        return rng.choice(FAMILY_SIZES, size=n, p=FAMILY_SIZE_P).astype(np.int64)
    if kind == 1:
        return np.minimum(10 + rng.negative_binomial(4, 0.4, size=n), 30).astype(np.int64)
    # workplaces: truncated discrete power law on [31, 400], exponent ~2.4 (pdf)
    u = rng.random(n)
    return np.minimum(np.floor(31 * u ** (-1 / 1.4)), 400).astype(np.int64)


def build_population(rng: np.random.Generator, subscribers: int) -> Population:
    """Plant communities until exactly ``subscribers`` on-net persons exist, then roles and attributes.

    Parameters
    ----------
    rng : numpy.random.Generator
    subscribers : int
        Number of on-net customers; off-net persons come on top (about a third as many).
    """
    if subscribers < 10:
        raise ValueError(f"need at least 10 subscribers, got {subscribers}")
    # --- communities: draw plenty of each kind, shuffle, cut where the on-net count is reached
    persons_needed = subscribers / 0.74 * 1.25 + 2000
    mean_size = {0: float(FAMILY_SIZES @ FAMILY_SIZE_P), 1: 16.0, 2: 70.0}
    sizes, types = [], []
    for kind in range(3):
        n = int(persons_needed * PERSON_SHARE[kind] / mean_size[kind]) + 10
        sizes.append(_community_sizes(rng, kind, n))
        types.append(np.full(n, kind, dtype=np.int8))
    sizes_a = np.concatenate(sizes)
    types_a = np.concatenate(types)
    order = rng.permutation(sizes_a.size)
    sizes_a, types_a = sizes_a[order], types_a[order]
    a = np.array([ON_NET_BETA[k][0] for k in range(3)])[types_a]
    b = np.array([ON_NET_BETA[k][1] for k in range(3)])[types_a]
    p_on = rng.beta(a, b)
    person_comm = np.repeat(np.arange(sizes_a.size), sizes_a)
    on_net = rng.random(person_comm.size) < p_on[person_comm]
    cum_on = np.cumsum(on_net)
    last = int(np.searchsorted(cum_on, subscribers))  # person index where the target is reached
    n_comm = int(person_comm[last]) + 1
    n_members = int(sizes_a[:n_comm].sum())
    on_net = on_net[:n_members]
    on_net[last + 1 :] = False  # the last community tops up with off-net members
    sizes_a, types_a = sizes_a[:n_comm], types_a[:n_comm]
    person_comm = person_comm[:n_members]
    comm_start = np.concatenate([[0], np.cumsum(sizes_a)[:-1]]).astype(np.int64)

    # --- peripheral off-net contacts
    n_periph = int(round(PERIPHERAL_SHARE * n_members))
    n_persons = n_members + n_periph
    community = np.concatenate([person_comm, np.full(n_periph, -1)]).astype(np.int32)
    on_net = np.concatenate([on_net, np.zeros(n_periph, dtype=bool)])

    # --- regions: communities are mostly regional
    comm_region = rng.choice(len(REGIONS), size=n_comm, p=REGION_SHARES).astype(np.int8)
    stay = np.array([0.95, 0.90, 0.85])[types_a]
    region = rng.choice(len(REGIONS), size=n_persons, p=REGION_SHARES).astype(np.int8)
    keep = rng.random(n_members) < stay[person_comm]
    region[:n_members][keep] = comm_region[person_comm[keep]]

    # --- roles
    n_bw = np.where(sizes_a >= 5, 1 + sizes_a // 80, 0)
    rank = _rank_within(rng, person_comm)
    role = np.zeros(n_persons, dtype=np.int8)
    is_bw = rank < n_bw[person_comm]
    role[:n_members][is_bw] = 2
    follow_p = np.array([1.0, 0.5, 0.4])[types_a]
    is_fol = (~is_bw) & (n_bw[person_comm] > 0) & (rng.random(n_members) < follow_p[person_comm])
    role[:n_members][is_fol] = 1
    # bellwether of each follower: rank r < n_bw is the r-th bellwether of the community
    bw_idx = np.flatnonzero(is_bw)
    bw_key = person_comm[bw_idx].astype(np.int64) * 1024 + rank[bw_idx]
    sort = np.argsort(bw_key, kind="stable")
    bw_sorted, key_sorted = bw_idx[sort], bw_key[sort]
    fol_idx = np.flatnonzero(is_fol)
    fc = person_comm[fol_idx]
    pick = rng.integers(0, np.maximum(n_bw[fc], 1))
    pos = np.searchsorted(key_sorted, fc.astype(np.int64) * 1024 + pick)
    leader = np.full(n_persons, -1, dtype=np.int64)
    leader[fol_idx] = bw_sorted[pos]

    # --- behaviour
    activity = rng.lognormal(0.0, ACTIVITY_SIGMA, size=n_persons)
    activity /= activity.mean()
    activity[role == 2] *= 2.2
    sms_centric = rng.random(n_persons) < 0.08
    sms_share = np.where(sms_centric, rng.beta(6, 2, size=n_persons), rng.beta(1.2, 6, size=n_persons))

    # --- customer attributes from a latent value score shared partly within the community
    eta = rng.normal(size=n_comm)
    z = 0.55 * np.concatenate([eta[person_comm], np.zeros(n_periph)]) + 0.8 * rng.normal(size=n_persons) + 0.4 * (role == 2)
    z = (z - z.mean()) / z.std()
    plan = np.searchsorted(np.quantile(z, np.cumsum(PLAN_SHARES)[:-1]), z).astype(np.int8)
    arpu = np.round(PLAN_MEDIAN_ARPU[plan] * rng.lognormal(0.05, 0.3, size=n_persons), 2)
    prepaid = PLAN_PREPAID[plan]
    tenure = np.where(prepaid, rng.exponential(14, size=n_persons), rng.exponential(50, size=n_persons))
    tenure = np.clip(np.ceil(tenure), 1, 300).astype(np.int32)

    return Population(
        on_net=on_net,
        community=community,
        role=role,
        leader=leader,
        region=region,
        activity=activity,
        sms_share=sms_share,
        plan=plan,
        arpu=arpu,
        tenure=tenure,
        comm_type=types_a,
        comm_start=comm_start,
        comm_size=sizes_a,
        comm_region=comm_region,
    )


def _rank_within(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """A random rank ``0..size-1`` of each element inside its group."""
    key = rng.random(group.size)
    order = np.lexsort((key, group))
    g_sorted = group[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, g_sorted.size]))
    rank = np.empty(group.size, dtype=np.int64)
    rank[order] = np.arange(group.size) - first
    return rank
