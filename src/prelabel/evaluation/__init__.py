"""Evaluating predictions against ground truth: metrics per control kind, overall accuracy,
calibration of scores, and the drill-down cells behind them. Knows the labeling config and
results, never the database.
"""

from __future__ import annotations

from prelabel.evaluation.report import Case, Evaluation, agreement, evaluate, percentile

__all__ = ["Case", "Evaluation", "agreement", "evaluate", "percentile"]
