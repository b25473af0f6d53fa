"""Centrality of subscribers: degree and strength, weighted PageRank, k-core, initiative, two-hop reach."""

from bellwether.algorithms.centrality.coreness import coreness
from bellwether.algorithms.centrality.initiative import contact_flows
from bellwether.algorithms.centrality.pagerank import pagerank
from bellwether.algorithms.centrality.reach import reach
from bellwether.algorithms.centrality.strength import degree_strength

__all__ = ["contact_flows", "coreness", "degree_strength", "pagerank", "reach"]
