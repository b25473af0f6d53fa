"""Communities: Leiden (default: modularity at a resolution chosen from the graph) and Louvain through the engine dispatch,
two nested levels (fine and coarse), quality checks, stable ids across runs, and the community table."""

from bellwether.algorithms.community.detect import (
    AUTO,
    DEFAULT_OBJECTIVE,
    DEFAULT_TOLERANCE,
    WeakStructureWarning,
    DEFAULT_RESOLUTION,
    CommunityResult,
    canonical_labels,
    community_weights,
    detect_communities,
)
from bellwether.algorithms.community.leiden import leiden
from bellwether.algorithms.community.levels import coarse_communities, coarse_resolution
from bellwether.algorithms.community.louvain import louvain
from bellwether.algorithms.community.quality import count_disconnected, cpm_quality, merge_singletons, modularity, split_disconnected
from bellwether.algorithms.community.stable_ids import match_community_ids
from bellwether.algorithms.community.table import community_table

__all__ = [
    "AUTO",
    "DEFAULT_OBJECTIVE",
    "DEFAULT_TOLERANCE",
    "WeakStructureWarning",
    "DEFAULT_RESOLUTION",
    "CommunityResult",
    "canonical_labels",
    "coarse_communities",
    "coarse_resolution",
    "community_table",
    "community_weights",
    "count_disconnected",
    "cpm_quality",
    "detect_communities",
    "leiden",
    "louvain",
    "match_community_ids",
    "merge_singletons",
    "modularity",
    "split_disconnected",
]
