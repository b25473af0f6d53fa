"""Reason codes in plain words: why a subscriber or community is on a list.

Each function takes the rows of a ranked list (only the rows that are exported, so
the text is built for thousands of rows, not millions) and returns one string per
row, reasons joined by ``"; "``, strongest first.  Wording is fixed here, once, so the
same fact reads the same on every list, e.g. ``"3 close contacts churned in the last
30 days"`` or ``"leads community 17 of 42 people"``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = [
    "SEPARATOR", "churned_contacts_text", "leads_community_text", "churn_risk_text", "value_text",
    "retention_reasons", "viral_reasons", "community_reasons", "acquisition_reasons",
]

SEPARATOR = "; "


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def churned_contacts_text(n: int, days: int) -> str:
    """``"3 close contacts churned in the last 30 days"``."""
    return f"{_plural(int(n), 'close contact')} churned in the last {int(days)} days"


def leads_community_text(community: int, size: int) -> str:
    """``"leads community 17 of 42 people"``."""
    return f"leads community {int(community)} of {_plural(int(size), 'person', 'people')}"


def churn_risk_text(p: float, percentile: float) -> str:
    """``"churn risk 42%, higher than 95% of customers"``."""
    return f"churn risk {p:.0%}, higher than {math.floor(percentile * 100):.0f}% of customers"


def value_text(tier: str, arpu: float) -> str:
    """``"high value: ARPU 85.20 a month"`` (tier only when ARPU is unknown)."""
    if arpu is None or not np.isfinite(arpu):
        return f"{tier} value"
    return f"{tier} value: ARPU {arpu:.2f} a month"


def _get(df: pd.DataFrame, col: str, default) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), default, dtype=object)
    return df[col].astype(object).where(df[col].notna(), default).to_numpy(object)


def retention_reasons(df: pd.DataFrame, recency_days: int, *, risk_source: str = "churn_risk") -> list[str]:
    """Reasons for the retention list.

    Uses ``churned_contacts``, ``churn_risk``, ``risk_percentile``, ``value_tier``, ``arpu``,
    ``role``, ``community``, ``community_size``, ``community_contacts`` and ``at_risk_community``.
    The risk is named only when it is above the median; as a probability when it comes
    from a churn model, as a rank when it is the ``contagion_score`` fallback.
    """
    out = []
    cols = {c: _get(df, c, None) for c in (
        "churned_contacts", "churn_risk", "risk_percentile", "value_tier", "arpu", "role", "community",
        "community_size", "community_contacts", "at_risk_community")}
    for i in range(len(df)):
        r: list[str] = []
        cc = cols["churned_contacts"][i]
        if cc:
            r.append(churned_contacts_text(cc, recency_days))
        pct = float(cols["risk_percentile"][i] or 0.0)
        if cols["churn_risk"][i] is not None and pct >= 0.5:
            if risk_source in ("churn_risk", "churn_risk_baseline"):
                r.append(churn_risk_text(float(cols["churn_risk"][i]), pct))
            elif risk_source == "contagion_score":
                r.append(f"exposed to churn among contacts more than {math.floor(pct * 100):.0f}% of customers")
        if cols["value_tier"][i] not in (None, "unknown", "off_net"):
            r.append(value_text(cols["value_tier"][i], cols["arpu"][i]))
        role, com, size = cols["role"][i], cols["community"][i], cols["community_size"][i]
        if role == "bellwether" and com is not None and size:
            r.append(leads_community_text(com, size))
            k = cols["community_contacts"][i]
            if k:
                r.append(f"{_plural(int(k), 'contact')} in the same community may follow if they leave")
        elif role == "bridge":
            r.append("links several communities")
        if cols["at_risk_community"][i] and com is not None:
            r.append(f"community {int(com)} is losing members")
        out.append(SEPARATOR.join(r))
    return out


def viral_reasons(df: pd.DataFrame, k: int) -> list[str]:
    """Reasons for the viral seeding list (``rank``, ``marginal_gain``, ``role``, ``community``, ``community_size``, ``degree``)."""
    cols = {c: _get(df, c, None) for c in ("rank", "marginal_gain", "role", "community", "community_size", "degree")}
    out = []
    for i in range(len(df)):
        r = [f"influence seed {int(cols['rank'][i])} of {int(k)}"]
        g = cols["marginal_gain"][i]
        if g is not None and np.isfinite(g):
            r.append(f"reaches about {float(g):.0f} more subscribers than the seeds before")
        if cols["role"][i] == "bellwether" and cols["community"][i] is not None and cols["community_size"][i]:
            r.append(leads_community_text(cols["community"][i], cols["community_size"][i]))
        if cols["degree"][i]:
            r.append(f"talks with {_plural(int(cols['degree'][i]), 'contact')}")
        out.append(SEPARATOR.join(r))
    return out


def community_reasons(df: pd.DataFrame, recency_days: int) -> list[str]:
    """Reasons for community offers (``community``, ``size``, ``recent_churners``, ``internal_weight_share``, ``members``)."""
    out = []
    for row in df[["community", "size", "recent_churners", "internal_weight_share", "members"]].itertuples(index=False):
        r = [f"community {int(row.community)} of {_plural(int(row.size), 'person', 'people')}"]
        if row.recent_churners:
            r.append(f"{_plural(int(row.recent_churners), 'member')} churned in the last {int(recency_days)} days")
        if row.internal_weight_share is not None and np.isfinite(row.internal_weight_share):
            r.append(f"tight-knit: {row.internal_weight_share:.0%} of members' contact strength stays inside")
        r.append(f"offer goes to {_plural(int(row.members), 'member')}")
        out.append(SEPARATOR.join(r))
    return out


def acquisition_reasons(df: pd.DataFrame) -> list[str]:
    """Reasons for acquisition (``bellwether_ties``, ``community``, ``community_size``, ``on_net_contacts``)."""
    cols = {c: _get(df, c, None) for c in ("bellwether_ties", "community", "community_size", "on_net_contacts")}
    out = []
    for i in range(len(df)):
        r = [f"strong ties to {int(cols['bellwether_ties'][i] or 0)} of our bellwethers"]
        if cols["community"][i] is not None and cols["community_size"][i]:
            r.append(f"close to the leader of community {int(cols['community'][i])} "
                     f"({_plural(int(cols['community_size'][i]), 'person', 'people')})")
        if cols["on_net_contacts"][i]:
            r.append(f"already talks with {int(cols['on_net_contacts'][i])} of our customers")
        out.append(SEPARATOR.join(r))
    return out
