"""A synthetic telecom operator: CDRs, subscriber extract, do-not-contact list and ground truth.

The generator plants what Bellwether looks for (communities from families to
workplaces, bellwethers with their followers, churn that spreads along strong
ties) inside traffic that looks like an operator's: heavy-tailed contact
counts, daily and weekly rhythm, log-normal call lengths, off-net and service
numbers, mixed number formats, duplicates and a few bad rows.

Examples
--------
>>> from bellwether.loaders.synthetic import generate_operator
>>> summary = generate_operator("/tmp/op", subscribers=2000, months=2, seed=7)  # doctest: +SKIP
>>> summary["suggested_as_of"]  # doctest: +SKIP
'2026-02-01'
"""

from .churn import ChurnModel
from .generate import GeneratorError, generate_operator

__all__ = ["generate_operator", "ChurnModel", "GeneratorError"]
