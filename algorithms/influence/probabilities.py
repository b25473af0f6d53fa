"""Per-arc activation probabilities of the Independent Cascade model, from tie strength.

Every undirected contact ``(a, b)`` gives two directed arcs.  Arrays over arcs
have length ``2 m``: arc ``i < m`` is ``a_vid[i] -> b_vid[i]`` and arc ``m + i``
is ``b_vid[i] -> a_vid[i]`` (see :func:`arcs`).  The probability ``p_uv`` of
arc ``u -> v`` is the chance that ``u``, once convinced, convinces ``v``.

Models (the ``probability`` argument)
-------------------------------------
``"tie_strength"`` (default)
    ``p_uv = 1 - exp(-scale * w_uv / S_v)`` where ``w_uv`` is the directed tie
    strength (below) and ``S_v = sum_u w_uv`` is everything ``v`` hears from all
    contacts.  This is the weighted-cascade idea of Kempe, Kleinberg & Tardos
    (2003): a subscriber is swayed by a contact in proportion to that contact's
    share of their attention, so a tie counts for more in a small circle than
    in a large one.  The exponential form is the probability that at least one
    of a Poisson number (mean ``scale * share``) of "persuasive moments" occurs,
    so it stays below ``1 - exp(-scale)`` and is close to ``scale * share`` for
    small shares.  Why normalise by the receiver: the sum of the probabilities
    into any vertex is at most ``scale``, so a reverse cascade is a sub-critical
    branching process whatever the degrees; the expected spread then grows
    with the graph instead of saturating the giant component (a single global
    ``p`` on a heavy-tailed million-vertex graph is either negligible or
    super-critical), and reverse-reachable sets stay small, which keeps
    sampling fast.  ``scale = 1`` (default) matches the weighted-cascade mean
    rate; on the synthetic contact graphs of ``bench/bench_influence.py`` it
    gives a mean spread of a few subscribers per seed for ordinary subscribers
    and hundreds for hubs.
``"weighted_cascade"``
    ``p_uv = w_uv / S_v`` exactly (Kempe et al. 2003, with weights); with unit
    weights this is ``1 / in-degree(v)``.
``"uniform:<p>"`` or a float ``p``
    The same ``p`` on every arc (for tests and comparisons).

Directed tie strength
---------------------
``w_uv = weight * ((1 - direction) + 2 * direction * s_uv)`` where ``s_uv`` is
the share of the pair's activity initiated by ``u`` towards ``v`` (calls + SMS +
minutes of calls, from the ``calls_ab, calls_ba, sms_ab, sms_ba, seconds_ab,
seconds_ba`` columns), Laplace-smoothed: ``s_uv = (x_uv + 1) / (x_uv + x_vu + 2)``.
With ``direction = 0.5`` (default) a one-sided relationship gives
``1.5 w`` towards the listener and ``0.5 w`` back: a call is a conversation, so
both sides hear each other, but the one who keeps calling is the one being
listened to.  The two directions average to ``weight``.  Without the columns
``w_uv = w_vu = weight``.

References
----------
.. [1] D. Kempe, J. Kleinberg, E. Tardos, "Maximizing the spread of influence
   through a social network", KDD 2003, doi:10.1145/956750.956769.
"""

from __future__ import annotations

import numpy as np

from bellwether.graph.contact_graph import ContactGraph

__all__ = ["arcs", "directed_strength", "edge_probabilities", "MODELS"]

MODELS = ("tie_strength", "weighted_cascade", "uniform")

_DIRECTION_COLUMNS = ("calls_ab", "calls_ba", "sms_ab", "sms_ba", "seconds_ab", "seconds_ba")


def arcs(graph: ContactGraph) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(source, target)`` vertex numbers of the ``2 m`` directed arcs (a->b first, then b->a)."""
    e = graph.edge_array()
    return np.concatenate([e[:, 0], e[:, 1]]), np.concatenate([e[:, 1], e[:, 0]])


def directed_strength(graph: ContactGraph, *, weight: str = "weight", direction: float = 0.5) -> np.ndarray:
    """Return the directed tie strength ``w_uv`` of every arc (how much ``v`` hears from ``u``).

    See the module docstring for the formula; ``direction`` in ``[0, 1]`` is how
    much the direction of initiated activity matters (0 = symmetric).
    """
    if not 0.0 <= direction <= 1.0:
        raise ValueError(f"direction must be in [0, 1], got {direction}")
    w = graph.weights(weight) if weight in graph.contacts.columns else np.ones(graph.n_contacts)
    w = np.nan_to_num(np.clip(w, 0.0, None), nan=0.0)
    cols = graph.contacts.columns
    if direction == 0.0 or not any(c in cols for c in _DIRECTION_COLUMNS):
        return np.concatenate([w, w])

    def col(name: str) -> np.ndarray:
        if name not in cols:
            return np.zeros(graph.n_contacts)
        return np.nan_to_num(graph.contacts[name].to_numpy(np.float64, na_value=0.0), nan=0.0)

    x_ab = col("calls_ab") + col("sms_ab") + col("seconds_ab") / 60.0
    x_ba = col("calls_ba") + col("sms_ba") + col("seconds_ba") / 60.0
    s_ab = (x_ab + 1.0) / (x_ab + x_ba + 2.0)
    base = 1.0 - direction
    return np.concatenate([w * (base + 2.0 * direction * s_ab), w * (base + 2.0 * direction * (1.0 - s_ab))])


def _parse(probability: str | float) -> tuple[str, float | None]:
    if isinstance(probability, (int, float, np.floating)) and not isinstance(probability, bool):
        return "uniform", float(probability)
    name = str(probability)
    if name.startswith("uniform"):
        _, _, value = name.partition(":")
        if not value:
            raise ValueError("uniform model needs a probability, e.g. 'uniform:0.05'")
        return "uniform", float(value)
    try:
        return "uniform", float(name)
    except ValueError:
        pass
    if name not in MODELS:
        raise ValueError(f"unknown probability model {name!r}; expected one of {MODELS} or a number")
    return name, None


def edge_probabilities(
    graph: ContactGraph,
    probability: str | float = "tie_strength",
    *,
    scale: float = 1.0,
    direction: float = 0.5,
    weight: str = "weight",
) -> np.ndarray:
    """Return the Independent Cascade activation probability of every directed arc.

    Parameters
    ----------
    graph : ContactGraph
    probability : str or float, default "tie_strength"
        ``"tie_strength"``, ``"weighted_cascade"``, ``"uniform:<p>"`` or a number
        ``p``; see the module docstring.
    scale : float, default 1.0
        ``"tie_strength"`` only: rate ``lambda``; the probabilities into one
        subscriber sum to at most ``scale``.  Higher means larger cascades.
    direction : float, default 0.5
        Weight of the direction of initiated activity in ``w_uv`` (0 = symmetric).
    weight : str, default "weight"
        Contacts column holding the tie strength (ones if absent).

    Returns
    -------
    numpy.ndarray
        ``float64`` array of length ``2 * graph.n_contacts``, in the order of :func:`arcs`.
    """
    model, p = _parse(probability)
    m = graph.n_contacts
    if model == "uniform":
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"uniform probability must be in [0, 1], got {p}")
        return np.full(2 * m, p)
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    w = directed_strength(graph, weight=weight, direction=direction)
    _, target = arcs(graph)
    incoming = np.bincount(target, weights=w, minlength=graph.n_subscribers)
    denom = incoming[target]
    share = np.divide(w, denom, out=np.zeros_like(w), where=denom > 0)
    if model == "weighted_cascade":
        return np.clip(share, 0.0, 1.0)
    return -np.expm1(-scale * share)
