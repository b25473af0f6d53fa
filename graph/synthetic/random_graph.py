"""A random contact graph with every column of the graph tables filled: for load tests and load benchmarks.

Unlike :func:`bellwether.loaders.synthetic.generate_operator` it plants no structure; it exists
to exercise every column (including nulls) of :data:`bellwether.graph.schema.SUBSCRIBERS` and
:data:`bellwether.graph.schema.CONTACTS` cheaply at any size.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from bellwether.graph.contact_graph import ContactGraph

__all__ = ["random_contact_graph"]


def random_contact_graph(n: int, m: int, seed: int = 0) -> ContactGraph:
    """A graph with every SUBSCRIBERS / CONTACTS column filled (some values null), ``m`` distinct pairs."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(int(m * 1.5) + 20, 2))
    draws = draws[draws[:, 0] != draws[:, 1]]
    keys = np.unique(np.minimum(draws[:, 0], draws[:, 1]) * n + np.maximum(draws[:, 0], draws[:, 1]))
    keys = rng.permutation(keys)[:m]
    edges = np.column_stack([keys // n, keys % n])
    m = len(edges)
    churned = rng.random(n) < 0.1
    subs = pd.DataFrame({
        "on_net": rng.random(n) < 0.8,
        "kind": np.where(rng.random(n) < 0.95, "person", "service"),
        "plan": pd.array(np.where(rng.random(n) < 0.9, rng.choice(["basic", "plus", "max"], n), None), dtype="string"),
        "arpu": np.where(rng.random(n) < 0.9, rng.gamma(2.0, 15.0, n).round(2), np.nan),
        "tenure_months": rng.integers(0, 120, n).astype(np.int32),
        "region": rng.choice(["north", "south", "east", "west"], n),
        "status": np.where(churned, "churned", "active"),
        "churn_date": [date(2025, 1, 1) + timedelta(days=int(d)) if c else None
                       for c, d in zip(churned, rng.integers(0, 90, n))],
    })
    start = np.datetime64("2025-01-01T00:00:00", "s")
    first = start + rng.integers(0, 20 * 86400, m).astype("timedelta64[s]")
    last = first + rng.integers(0, 10 * 86400, m).astype("timedelta64[s]")
    calls_ab, calls_ba = rng.integers(0, 20, m).astype(np.int32), rng.integers(0, 20, m).astype(np.int32)
    sms_ab, sms_ba = rng.integers(0, 10, m).astype(np.int32), rng.integers(0, 10, m).astype(np.int32)
    tot_ab, tot_ba = calls_ab + sms_ab, calls_ba + sms_ba
    return ContactGraph.from_edges(
        edges,
        weights=rng.gamma(1.5, 2.0, m),
        n=n,
        subscribers=subs,
        calls_ab=calls_ab, calls_ba=calls_ba,
        seconds_ab=rng.integers(0, 5000, m), seconds_ba=rng.integers(0, 5000, m),
        sms_ab=sms_ab, sms_ba=sms_ba,
        first_contact=first, last_contact=last,
        active_days=rng.integers(1, 30, m).astype(np.int32),
        night_share=np.where(rng.random(m) < 0.95, rng.random(m), np.nan),
        reciprocity=1 - np.abs(tot_ab - tot_ba) / np.maximum(tot_ab + tot_ba, 1),
    )
