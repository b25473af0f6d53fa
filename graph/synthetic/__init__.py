"""Synthetic contact graphs for tests and benchmarks, built in memory (no records, no workspace).

* :mod:`.random_graph`: every column of the graph tables filled, no structure (load tests);
* :mod:`.planted`: planted communities with heavy-tailed degrees (community and centrality quality);
* :mod:`.planted_churn`: a planted churn contagion with its true hazards (churn quality).

The synthetic *operator* (call records, CRM extract, truth) is :mod:`bellwether.loaders.synthetic`.
"""
