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
    "SEPARATOR", "percent_text", "churned_contacts_text", "leads_community_text", "churn_risk_text", "value_text",
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


def _finite(x) -> bool:
    try:
        return x is not None and np.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def percent_text(p: float) -> str:
    """A probability in words: ``"42%"``, ``"4.1%"``, ``"under 0.1%"``."""
    p = float(p)
    if p >= 0.1:
        return f"{p:.0%}"
    if p >= 0.001:
        return f"{p * 100:.1f}%"
    return "under 0.1%" if p > 0 else "0%"


def _higher_than(pct: float) -> str:
    """``", higher than 95% of customers"`` for the upper half, else nothing."""
    return f", higher than {math.floor(pct * 100):.0f}% of customers" if pct >= 0.5 else ""


def retention_reasons(df: pd.DataFrame, recency_days: int, *, ranking: str = "expected_value_saved",
                      horizon_days: int | None = None, as_of: str | None = None) -> list[str]:
    """Reasons for the retention list, what drove the rank first.

    Ranked by expected value saved, the rank is risk × value: the factor in which the
    customer stands out more (its percentile among the ranked customers) comes first,
    the churned contacts that explain a risk right after it.  Ranked by exposure, the
    ties to churned contacts come first, then value.  Then the customer's place in the
    network.  Uses ``churn_risk``, ``risk_percentile``, ``arpu``, ``monthly_value``,
    ``value_percentile``, ``exposure``, ``exposure_percentile``, ``churned_ties``,
    ``churned_contacts``, ``role``, ``community``, ``community_size``,
    ``community_contacts`` and ``at_risk_community``.
    """
    out = []
    cols = {c: _get(df, c, None) for c in (
        "churn_risk", "risk_percentile", "arpu", "monthly_value", "value_percentile", "exposure", "exposure_percentile",
        "churned_ties", "churned_contacts", "role", "community", "community_size", "community_contacts",
        "at_risk_community")}
    within = f" within {int(horizon_days)} days" if horizon_days else ""
    before = f" before {as_of}" if as_of else " before the analysis date"
    for i in range(len(df)):
        c = {k: v[i] for k, v in cols.items()}
        recent = int(c["churned_contacts"] or 0)
        recent_text = churned_contacts_text(recent, recency_days) if recent else None
        vpct = float(c["value_percentile"] or 0.0)
        if _finite(c["arpu"]):
            value = f"ARPU {float(c['arpu']):.2f} a month" + (f", more than {math.floor(vpct * 100):.0f}% of customers" if vpct >= 0.5 else "")
        elif _finite(c["monthly_value"]):
            value = f"ARPU unknown: valued at the median {float(c['monthly_value']):.2f} a month"
        else:
            value = None
        if ranking == "exposure":
            ties = int(c["churned_ties"] or 0)
            epct = float(c["exposure_percentile"] or 0.0)
            first = [f"tied to {_plural(ties, 'contact')} who churned{before}"
                     + (f", more strongly than {math.floor(epct * 100):.0f}% of exposed customers" if epct >= 0.5 else "")]
            if recent_text:
                first.append(recent_text)
            r = first + ([value] if value else [])
        else:
            rpct = float(c["risk_percentile"] or 0.0)
            risk = [f"churn risk {percent_text(c['churn_risk'] or 0.0)}{within}{_higher_than(rpct)}"]
            if recent_text:
                risk.append(recent_text)
            r = (risk + [value]) if (value is None or rpct >= vpct) else ([value] + risk)
        role, com, size = c["role"], c["community"], c["community_size"]
        if role == "bellwether" and com is not None and size:
            r.append(leads_community_text(com, size))
            k = c["community_contacts"]
            if k:
                r.append(f"{_plural(int(k), 'contact')} in the same community may follow if they leave")
        elif role == "bridge":
            r.append("links several communities")
        if c["at_risk_community"] is not None and bool(c["at_risk_community"]) and com is not None:
            r.append(f"community {int(com)} is losing members")
        out.append(SEPARATOR.join(x for x in r if x))
    return out


def viral_reasons(df: pd.DataFrame, k: int) -> list[str]:
    """Reasons for the viral seeding list (``rank``, ``marginal_gain``, ``role``, ``community``, ``community_size``, ``degree``)."""
    cols = {c: _get(df, c, None) for c in ("rank", "marginal_gain", "role", "community", "community_size", "degree")}
    out = []
    for i in range(len(df)):
        r = []
        g = cols["marginal_gain"][i]
        if _finite(g):
            n = int(round(float(g)))
            r.append(f"reaches about {_plural(n, 'subscriber')}" if int(cols["rank"][i]) == 1
                     else f"reaches about {n} more {'subscriber' if n == 1 else 'subscribers'} than the seeds above")
        r.append(f"influence seed {int(cols['rank'][i])} of {int(k)}")
        if cols["role"][i] == "bellwether" and cols["community"][i] is not None and cols["community_size"][i]:
            r.append(leads_community_text(cols["community"][i], cols["community_size"][i]))
        if cols["degree"][i]:
            r.append(f"talks with {_plural(int(cols['degree'][i]), 'contact')}")
        out.append(SEPARATOR.join(r))
    return out


_ROLE_TEXT = {
    "bellwether": "the community's bellwether: approach first, the group follows",
    "follower": "follows the community's bellwether",
    "bridge": "links this community to others",
}


def community_reasons(df: pd.DataFrame, recency_days: int) -> list[str]:
    """Reasons for a member of a community offer (``community``, ``size``, ``recent_churners``,
    ``internal_weight_share``, ``members``, ``offer``, ``role``): the group's churn first, then the member's role."""
    out = []
    role = _get(df, "role", None)
    for i, row in enumerate(df[["community", "size", "recent_churners", "internal_weight_share", "members",
                                "offer"]].itertuples(index=False)):
        r = []
        if row.recent_churners:
            r.append(f"{_plural(int(row.recent_churners), 'member')} of community {int(row.community)} "
                     f"({_plural(int(row.size), 'person', 'people')}) churned in the last {int(recency_days)} days")
        else:
            r.append(f"community {int(row.community)} of {_plural(int(row.size), 'person', 'people')}")
        if _finite(row.internal_weight_share):
            r.append(f"tight-knit: {float(row.internal_weight_share):.0%} of members' contact strength stays inside")
        if role[i] in _ROLE_TEXT:
            r.append(_ROLE_TEXT[role[i]])
        r.append(f"group offer {int(row.offer)} goes to {_plural(int(row.members), 'member')}")
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
