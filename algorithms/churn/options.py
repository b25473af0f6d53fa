"""How churned contacts count: the one set of parameters of the churn model's network features.

The single-machine features (:func:`bellwether.algorithms.churn.features.churn_features`), the
churn scores (:func:`bellwether.algorithms.churn.score_churn`) and their Spark form
(:mod:`bellwether.algorithms.spark.measures`) all take a :class:`NetworkOptions`, so the two
engines cannot drift apart in a default.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["NetworkOptions"]


@dataclass(frozen=True)
class NetworkOptions:
    """Parameters of the churned-neighbour features.

    Attributes
    ----------
    recency_days : int, default 30
        Churners of ``[as_of - recency_days, as_of)`` seed spreading activation and the contagion
        PageRank and are counted in ``churned_contacts``.
    decay_days : float, default 30
        Recency decay ``exp(-days_since_churn / decay_days)`` of a churner's weight; larger lets
        older churners count more.
    silent_days : int, default 7
        A contact whose last event is at least this many days before ``as_of`` is silent.
    strong_quantile : float, default 0.75
        Ties at or above this quantile of tie strength are strong ties.
    spreading_factor, sa_threshold : float, default 0.6, 0.01
        Spreading activation (Dasgupta et al. 2008, :mod:`bellwether.algorithms.churn.spreading_activation`).
    damping : float, default 0.85
        Damping of the personalised PageRank from recent churners.
    weight : str or None, default "weight"
        Contact column used as tie strength (None: every tie 1).
    """

    recency_days: int = 30
    decay_days: float = 30.0
    silent_days: int = 7
    strong_quantile: float = 0.75
    spreading_factor: float = 0.6
    sa_threshold: float = 0.01
    damping: float = 0.85
    weight: str | None = "weight"

    def __post_init__(self) -> None:
        checks = {
            "recency_days": self.recency_days > 0, "decay_days": self.decay_days > 0, "silent_days": self.silent_days >= 0,
            "strong_quantile": 0.0 <= self.strong_quantile <= 1.0, "spreading_factor": 0.0 < self.spreading_factor <= 1.0,
            "sa_threshold": self.sa_threshold >= 0.0, "damping": 0.0 < self.damping < 1.0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"Churn network options out of range: {', '.join(f'{n}={getattr(self, n)!r}' for n in bad)}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for a run manifest."""
        return asdict(self)
