"""Who initiates contact: outgoing and incoming events per subscriber, and the initiative share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bellwether.graph.contact_graph import ContactGraph

__all__ = ["contact_flows", "EVENT_COLUMNS"]

#: contact columns counting events initiated by ``a`` (first) and by ``b`` (second)
EVENT_COLUMNS = (("calls_ab", "calls_ba"), ("sms_ab", "sms_ba"))


def edge_events(graph: ContactGraph) -> tuple[np.ndarray, np.ndarray] | None:
    """Events initiated by ``a`` and by ``b`` on each contact, or None when the graph has no direction columns."""
    cols = graph.contacts.columns
    present = [(ab, ba) for ab, ba in EVENT_COLUMNS if ab in cols and ba in cols]
    if not present:
        return None
    ab = sum(graph.contacts[c].fillna(0).to_numpy(np.float64) for c, _ in present)
    ba = sum(graph.contacts[c].fillna(0).to_numpy(np.float64) for _, c in present)
    return np.asarray(ab, dtype=np.float64), np.asarray(ba, dtype=np.float64)


def contact_flows(graph: ContactGraph) -> pd.DataFrame:
    r"""Events a subscriber initiated and received, and the initiative share.

    For subscriber :math:`v`, with events counted over calls and SMS,

    .. math:: \mathrm{out}_v = \sum_{u \sim v} n_{v \to u}, \qquad
              \mathrm{in}_v = \sum_{u \sim v} n_{u \to v}, \qquad
              \mathrm{initiative}_v = \frac{\mathrm{out}_v}{\mathrm{out}_v + \mathrm{in}_v}

    (bandicoot's ``percent_initiated_interactions``, de Montjoye et al. 2013,
    doi:10.1007/978-3-642-37210-0_6).  ``initiative`` is NaN for a subscriber
    without events, and for everyone when the contacts carry no
    ``calls_ab/calls_ba/sms_ab/sms_ba`` columns.

    Returns
    -------
    pandas.DataFrame
        ``vid``, ``events_out``, ``events_in`` (float64), ``initiative`` (float64 in [0, 1] or NaN).

    Examples
    --------
    >>> g = ContactGraph.from_edges([(0, 1)], calls_ab=[3], calls_ba=[1], sms_ab=[0], sms_ba=[0])
    >>> contact_flows(g)["initiative"].tolist()
    [0.75, 0.25]
    """
    n = graph.n_subscribers
    ev = edge_events(graph)
    vid = np.arange(n, dtype=np.int64)
    if ev is None:
        nan = np.full(n, np.nan)
        return pd.DataFrame({"vid": vid, "events_out": nan, "events_in": nan, "initiative": nan})
    ab, ba = ev
    e = graph.edge_array()
    out = np.bincount(e[:, 0], weights=ab, minlength=n) + np.bincount(e[:, 1], weights=ba, minlength=n)
    inc = np.bincount(e[:, 0], weights=ba, minlength=n) + np.bincount(e[:, 1], weights=ab, minlength=n)
    total = out + inc
    share = np.divide(out, total, out=np.full(n, np.nan), where=total > 0)
    return pd.DataFrame({"vid": vid, "events_out": out, "events_in": inc, "initiative": share})
