"""Roles of subscribers in their communities: bellwether score, bellwether, follower, bridge, member, isolate."""

from algorithms.roles.bellwether import (
    ROLES,
    SCORE_WEIGHTS,
    assign_roles,
    bellwether_scores,
    participation_coefficient,
)

__all__ = ["ROLES", "SCORE_WEIGHTS", "assign_roles", "bellwether_scores", "participation_coefficient"]
