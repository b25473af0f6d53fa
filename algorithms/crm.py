"""Is there subscriber (CRM) data, and who counts as "our customer" for the analysis?

``bellwether build`` marks a subscriber ``on_net`` when it is in the subscriber
extract (CRM).  Without an extract nobody is on-net, yet the contact graph still
says who talks to whom; so the analysis then treats every *person* (not a
service number) as a possible customer: they are the influence-seed candidates
and the people the lists may name.  What needs the extract (plan, ARPU, tenure,
value tiers, churn dates and everything scored from them) is reported as
unknown, with :data:`CRM_ABSENT_NOTE` saying why.

The answer is computed once per step from the subscribers table
(:func:`crm_status`) and recorded in the run manifest as ``"crm": "present"``
or ``"absent"``; later steps read it back from there.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

__all__ = ["CRM_ABSENT_NOTE", "NO_CHURN_WITHOUT_CRM", "NO_PROSPECTS_WITHOUT_CRM", "crm_status", "customers", "persons", "crm_of_run"]

REBUILD_HINT = "`bellwether build CDR_FILES --subscribers CRM_FILE`"
CRM_ABSENT_NOTE = f"no subscriber extract loaded: value and churn need one ({REBUILD_HINT})"
NO_CHURN_WITHOUT_CRM = f"no churn signal: churn dates come from a subscriber extract and none was loaded ({REBUILD_HINT})"
NO_PROSPECTS_WITHOUT_CRM = ("without a subscriber extract our customers are unknown, "
                            f"so other operators' numbers cannot be told apart ({REBUILD_HINT})")


def crm_status(subscribers: pd.DataFrame) -> str:
    """``"present"`` when any subscriber is on-net (in the CRM extract), else ``"absent"``."""
    if "on_net" not in subscribers or not len(subscribers):
        return "absent"
    return "present" if bool(subscribers["on_net"].fillna(False).to_numpy(bool).any()) else "absent"


def persons(subscribers: pd.DataFrame) -> np.ndarray:
    """Boolean mask of people (``kind`` is not ``"service"``; a missing kind counts as a person)."""
    if "kind" not in subscribers:
        return np.ones(len(subscribers), dtype=bool)
    return (subscribers["kind"].fillna("person") != "service").to_numpy(dtype=bool)


def customers(subscribers: pd.DataFrame, crm: str | None = None) -> np.ndarray:
    """Boolean mask of the subscribers treated as ours: on-net with a CRM extract, every person without.

    ``crm`` is :func:`crm_status` of the table (computed when not given).
    """
    crm = crm or crm_status(subscribers)
    if crm == "present":
        return subscribers["on_net"].fillna(False).to_numpy(bool)
    return persons(subscribers)


def crm_of_run(manifest: Mapping[str, Any], subscribers: pd.DataFrame) -> str:
    """The run's ``crm`` entry; runs written before it existed are judged from their subscribers."""
    value = manifest.get("crm")
    return value if value in ("present", "absent") else crm_status(subscribers)
