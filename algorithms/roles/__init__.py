"""Roles of subscribers in their communities: bellwether score, bellwether, follower, bridge, member, isolate."""

from bellwether.algorithms.roles.bellwether import (
    PILLARS,
    ROLES,
    SCORE_WEIGHTS,
    assign_roles,
    bellwether_scores,
    followed_after,
    participation_coefficient,
    score_components,
)
from bellwether.algorithms.roles.table import role_table

__all__ = [
    "PILLARS", "ROLES", "SCORE_WEIGHTS", "assign_roles", "bellwether_scores", "followed_after",
    "participation_coefficient", "role_table", "score_components",
]
