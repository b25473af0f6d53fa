"""Customer segments: value tiers, behaviour, usage mix, k-means clusters, network roles, profiles."""

from bellwether.algorithms.segments.behaviour import BEHAVIOUR_LABELS, behaviour
from bellwether.algorithms.segments.build import SEGMENT_COLUMNS, SegmentOptions, Segments, read_segments, segment_run, write_segments
from bellwether.algorithms.segments.clusters import CLUSTER_FEATURES, describe_clusters, kmeans_clusters
from bellwether.algorithms.segments.network import at_risk_communities, network_segments
from bellwether.algorithms.segments.profiles import MIN_GROUP_SIZE, PROFILE_DIMENSIONS, segment_profiles
from bellwether.algorithms.segments.run_tables import RunTables, load_run
from bellwether.algorithms.segments.usage import USAGE_MIX_LABELS, usage_features, usage_mix
from bellwether.algorithms.segments.value import tier_cut_points, value_tiers

__all__ = [
    "BEHAVIOUR_LABELS", "CLUSTER_FEATURES", "MIN_GROUP_SIZE", "PROFILE_DIMENSIONS", "SEGMENT_COLUMNS",
    "USAGE_MIX_LABELS", "RunTables", "SegmentOptions", "Segments", "at_risk_communities", "behaviour",
    "describe_clusters", "kmeans_clusters", "load_run", "network_segments", "read_segments", "segment_profiles",
    "segment_run", "tier_cut_points", "usage_features", "usage_mix", "value_tiers", "write_segments",
]
