"""Small analysable graphs for tests: a planted community graph with CRM columns, saved as a workspace graph."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.workspace import Workspace, write_json
from bellwether.graph.synthetic.planted import planted_edges

AS_OF = "2024-03-01"


def small_graph(n: int = 1500, seed: int = 0) -> ContactGraph:
    e, w, _ = planted_edges(n, 12.0, 0.2, seed=seed)
    rng = np.random.default_rng(seed)
    churn = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    who = rng.choice(n, 150, replace=False)
    churn[who] = np.datetime64("2024-02-20") + rng.integers(-50, 50, len(who)).astype("timedelta64[D]")
    subs = pd.DataFrame(
        {
            "arpu": rng.gamma(2.0, 30.0, n),
            "status": np.where(np.isnat(churn), "active", "churned"),
            "churn_date": pd.Series(churn).dt.date,
            "tenure_months": rng.integers(1, 120, n).astype("int32"),
            "plan": rng.choice(["basic", "plus"], n),
            "region": rng.choice(["north", "south"], n),
        }
    )
    m = len(e)
    g = ContactGraph.from_edges(
        e, w, n=n, subscribers=subs,
        calls_ab=rng.poisson(3, m), calls_ba=rng.poisson(3, m), sms_ab=rng.poisson(1, m), sms_ba=rng.poisson(1, m),
        seconds_ab=rng.poisson(200, m), seconds_ba=rng.poisson(200, m), active_days=rng.integers(1, 30, m),
        night_share=rng.random(m), reciprocity=rng.random(m),
        first_contact=np.datetime64("2024-01-31T00:00:00") + rng.integers(0, 86400 * 15, m).astype("timedelta64[s]"),
        last_contact=np.datetime64("2024-02-15T00:00:00") + rng.integers(0, 86400 * 14, m).astype("timedelta64[s]"),
    )
    g.info = {"as_of": AS_OF, "window_days": 30}
    return g


def save(ws: Workspace, g: ContactGraph) -> None:
    ws.create()
    g.subscribers.to_parquet(ws.subscribers_path, index=False)
    g.contacts.to_parquet(ws.contacts_path, index=False)
    write_json(ws.graph_info_path, g.info)
