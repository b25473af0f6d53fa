"""Centrality of subscribers: degree and strength, weighted PageRank, k-core, initiative, two-hop reach."""

from algorithms.centrality.coreness import coreness
from algorithms.centrality.initiative import contact_flows
from algorithms.centrality.pagerank import pagerank
from algorithms.centrality.reach import reach
from algorithms.centrality.strength import degree_strength

__all__ = ["contact_flows", "coreness", "degree_strength", "pagerank", "reach"]
