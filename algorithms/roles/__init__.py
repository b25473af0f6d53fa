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

__all__ = [
    "PILLARS", "ROLES", "SCORE_WEIGHTS", "assign_roles", "bellwether_scores", "followed_after",
    "participation_coefficient", "score_components",
]
