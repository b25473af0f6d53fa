"""Tie strength: the ``weight`` of a contact.

Default formula (all parameters in :class:`TieStrength`)::

    weight = (log1p(minutes) + sms_factor * log1p(sms) + call_factor * log1p(calls))
             * (1 - reciprocity_factor + reciprocity_factor * reciprocity)

with ``minutes = (seconds_ab + seconds_ba) / 60``, ``sms = sms_ab + sms_ba``,
``calls = calls_ab + calls_ba`` and ``reciprocity = 1 - |n_ab - n_ba| / (n_ab + n_ba)``
over events of both kinds.  Defaults: ``sms_factor=0.5``, ``call_factor=0.1``,
``reciprocity_factor=0.5`` (so a one-sided tie keeps half its weight).

Why: time spent talking is the usual measure of tie strength in call graphs
(Onnela et al. 2007, "Structure and tie strengths in mobile communication
networks", PNAS 104(18):7332, doi:10.1073/pnas.0610245104); strength grows less
than linearly with volume (the logarithm), and mutual ties are stronger than
one-sided ones (Granovetter 1973, "The strength of weak ties", AJS 78(6):1360,
doi:10.1086/225469).  The small call term keeps every contact's weight above 0
(a pair with only zero-second calls still has a tie).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TieStrength:
    sms_factor: float = 0.5
    call_factor: float = 0.1
    reciprocity_factor: float = 0.5

    def __post_init__(self) -> None:
        if min(self.sms_factor, self.call_factor) < 0 or not 0 <= self.reciprocity_factor <= 1:
            raise ValueError("tie-strength factors must be >= 0 and reciprocity_factor in [0, 1]")

    def sql(self) -> str:
        """DuckDB expression over the contact columns (``calls_ab`` ... ``reciprocity``)."""
        return (f"((ln(1 + (seconds_ab + seconds_ba) / 60.0) + {self.sms_factor!r} * ln(1 + sms_ab + sms_ba) "
                f"+ {self.call_factor!r} * ln(1 + calls_ab + calls_ba)) "
                f"* ({1 - self.reciprocity_factor!r} + {self.reciprocity_factor!r} * reciprocity))")

    def compute(self, seconds, sms, calls, reciprocity) -> np.ndarray:
        """The same formula in numpy (totals over both directions).

        >>> round(float(TieStrength().compute(600, 0, 1, 1.0)), 4)
        2.4672
        """
        base = (np.log1p(np.asarray(seconds, float) / 60.0) + self.sms_factor * np.log1p(np.asarray(sms, float))
                + self.call_factor * np.log1p(np.asarray(calls, float)))
        return base * (1 - self.reciprocity_factor + self.reciprocity_factor * np.asarray(reciprocity, float))


DEFAULT = TieStrength()
