"""Target lists: retention, viral seeding, community offers and acquisition, with reasons and suppression;
the audited reveal of one list's phone numbers for a campaign (:mod:`bellwether.algorithms.targets.reveal`)."""

from bellwether.algorithms.targets.acquisition import acquisition_list
from bellwether.algorithms.targets.build import (
    COLUMN_NOTES, LEADING_COLUMNS, LIST_COLUMNS, LIST_NAMES, TargetError, TargetList, TargetOptions, build_lists,
    limit_rows, marketing_table, parse_segment_filter, round_columns, segment_mask, write_lists,
)
from bellwether.algorithms.targets.community_offers import community_offers, fit_offers, offer_members
from bellwether.algorithms.targets.retention import churn_exposure, retention_list, retention_scores
from bellwether.algorithms.targets.reveal import RevealRefused, read_audit, reveal
from bellwether.algorithms.targets.suppression import PRIORITY, churned_mask, eligibility, final_check
from bellwether.algorithms.targets.viral import list_spread, seed_accounting, viral_list

__all__ = [
    "COLUMN_NOTES", "LEADING_COLUMNS", "LIST_COLUMNS", "LIST_NAMES", "PRIORITY", "RevealRefused", "TargetError",
    "TargetList", "TargetOptions", "acquisition_list", "build_lists", "churn_exposure", "churned_mask",
    "community_offers", "eligibility", "final_check", "fit_offers", "limit_rows", "list_spread", "marketing_table",
    "offer_members", "parse_segment_filter", "read_audit", "retention_list", "retention_scores", "reveal",
    "round_columns", "seed_accounting", "segment_mask", "viral_list", "write_lists",
]
