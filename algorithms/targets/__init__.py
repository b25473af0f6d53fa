"""Target lists: retention, viral seeding, community offers and acquisition, with reasons and suppression."""

from algorithms.targets.acquisition import acquisition_list
from algorithms.targets.build import (
    LEADING_COLUMNS, LIST_NAMES, TargetError, TargetList, TargetOptions, build_lists, limit_rows, marketing_table,
    parse_segment_filter, segment_mask, write_lists,
)
from algorithms.targets.community_offers import community_offers
from algorithms.targets.retention import retention_list, retention_scores
from algorithms.targets.suppression import PRIORITY, churned_mask, eligibility, final_check
from algorithms.targets.viral import list_spread, viral_list

__all__ = [
    "LEADING_COLUMNS", "LIST_NAMES", "PRIORITY", "TargetError", "TargetList", "TargetOptions", "acquisition_list",
    "build_lists", "churned_mask", "community_offers", "list_spread", "eligibility", "final_check",
    "limit_rows", "marketing_table", "parse_segment_filter", "retention_list", "retention_scores", "segment_mask",
    "viral_list", "write_lists",
]
