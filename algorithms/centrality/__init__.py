"""Centrality of subscribers: degree and strength, weighted PageRank, k-core, initiative, two-hop reach;
:func:`centrality_table` gives them all as the table ``analyze`` records."""

from bellwether.algorithms.centrality.coreness import coreness
from bellwether.algorithms.centrality.initiative import contact_flows
from bellwether.algorithms.centrality.pagerank import pagerank
from bellwether.algorithms.centrality.reach import reach
from bellwether.algorithms.centrality.strength import degree_strength
from bellwether.algorithms.centrality.table import CENTRALITY_COLUMNS, centrality_table

__all__ = ["CENTRALITY_COLUMNS", "centrality_table", "contact_flows", "coreness", "degree_strength", "pagerank", "reach"]
