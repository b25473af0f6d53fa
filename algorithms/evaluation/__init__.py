"""Evaluation of analysis runs against known truth: NMI, AMI, ARI and recovery by size class of communities, AUC and lift of churn scores."""

from bellwether.algorithms.evaluation.partition import SIZE_CLASSES, ami, ari, community_agreement, nmi, recovery_by_class
from bellwether.algorithms.evaluation.ranking import FRACTIONS, auc, decile_lift, expected_hits, gains_curve, lift_at, ranking_table
from bellwether.algorithms.evaluation.report import CHURN_SCORES, TARGETS, churn_evaluation, evaluate_run, evaluate_run_dir
from bellwether.algorithms.evaluation.truth import TruthError, read_truth

__all__ = [
    "nmi", "ami", "ari", "recovery_by_class", "SIZE_CLASSES", "community_agreement", "auc", "lift_at", "gains_curve", "decile_lift", "expected_hits", "ranking_table", "FRACTIONS",
    "CHURN_SCORES", "TARGETS", "churn_evaluation", "evaluate_run", "evaluate_run_dir",
    "read_truth", "TruthError",
]
