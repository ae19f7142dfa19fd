"""How the prompts workspace writes numbers, baselines, results and run progress.

Templates call these as ``fmt.pct(x)``; the progress endpoint uses the same ones, so a page
rendered on the server and the same page updated by its script say things the same way.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from prelabel.store import Run
from prelabel.store.types import utcnow

ACTIVE = ("Pending", "Running")

T = TypeVar("T")


def _na_when_missing(write: Callable[[T], str]) -> Callable[[T | None], str]:
    """``write`` for a figure that may be missing (a run not started, no ground truth to
    score): a missing one reads ``n/a``, the same in every figure of every page."""

    @functools.wraps(write)
    def written(value: T | None) -> str:
        return "n/a" if value is None else write(value)

    return written


@_na_when_missing
def pct(value: float) -> str:
    return f"{value:.1%}"


@_na_when_missing
def num(value: float) -> str:
    return f"{value:.3f}"


@_na_when_missing
def usd(value: float) -> str:
    """Dollars, with the digits a small cost needs: ``$0.000123``, ``$1.2345``, ``$1,234.50``."""
    if value == 0:
        return "$0.00"
    if value < 0.01:
        return f"${value:.6f}"
    return f"${value:.4f}" if value < 100 else f"${value:,.2f}"


@_na_when_missing
def tokens(value: int) -> str:
    return f"{value:,}"


@_na_when_missing
def ms(value: float) -> str:
    return f"{value:.0f} ms"


@_na_when_missing
def seconds(value: float) -> str:
    """A duration the way a person says it: ``45 s``, ``3 min``, ``2 h 5 min``."""
    value = max(0, math.ceil(value))
    if value < 60:
        return f"{value} s"
    minutes = math.ceil(value / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def baseline(value: dict[str, Any]) -> str:
    """A run's baseline (``Baseline.as_json()``) in words."""
    kind = value.get("kind")
    if kind == "ground-truth":
        return "ground truth"
    if kind == "sample":
        seed = value.get("seed") or 0
        return f"sample of {value.get('n')}" + (f" (seed {seed})" if seed else "")
    if kind == "missing":
        return "tasks without its prediction"
    if kind == "ids":
        return f"{count(len(value.get('ids') or []), 'chosen task')}"
    return "all tasks"


def result(regions: list[dict[str, Any]] | None) -> str:
    """A Label Studio result in one line: each region's control and its value."""
    if not regions:
        return "—"
    parts = []
    for region in regions:
        value = region.get("value") or {}
        shown = []
        for key, item in value.items():
            if key in ("start", "end"):
                continue
            if isinstance(item, list):
                item = ", ".join(" / ".join(i) if isinstance(i, list) else str(i) for i in item)
            shown.append(str(item))
        span = f" [{value['start']}–{value['end']}]" if "start" in value and "end" in value else ""
        parts.append(f"{region.get('from_name')}: {'; '.join(shown)}{span}")
    return " · ".join(parts)


def headline(metrics: dict[str, Any] | None) -> str:
    """A control's metrics in one line, as ``prelabel run report`` heads them."""
    if metrics is None:
        return "—"
    kind = metrics["kind"]
    if kind == "single":
        return (
            f"accuracy {pct(metrics['accuracy'])}, macro F1 {num(metrics['macro_f1'])}, "
            f"micro F1 {num(metrics['micro']['f1'])}"
        )
    if kind == "multiple":
        return (
            f"exact match {pct(metrics['exact_match'])}, micro F1 {num(metrics['micro']['f1'])}, "
            f"macro F1 {num(metrics['macro_f1'])}, Jaccard {num(metrics['jaccard'])}"
        )
    if kind == "spans":
        return (
            f"exact F1 {num(metrics['exact']['overall']['f1'])}, "
            f"partial F1 {num(metrics['partial']['overall']['f1'])}"
        )
    if kind == "text":
        return (
            f"exact {pct(metrics['exact_match'])}, normalised {pct(metrics['normalised_match'])}, "
            f"token F1 {num(metrics['token_f1'])}"
        )
    return f"exact {pct(metrics['exact_match'])}, MAE {num(metrics['mae'])}"


def progress(run: Run, now: datetime | None = None) -> dict[str, Any]:
    """A run's progress as the workspace shows it: counts, rate, time left and cost.

    The rate is the finished tasks over the time since the run started, so the time left is
    what the run's own pace predicts; a run that has not started (or finished nothing yet)
    has none.
    """
    finished = run.done + run.failed
    pending = max(run.total - finished, 0)
    active = run.status in ACTIVE
    rate = eta = None
    if active and run.started_at is not None and finished:
        elapsed = ((now or utcnow()) - run.started_at).total_seconds()
        if elapsed > 0:
            rate = finished / elapsed
            eta = pending / rate
    if not active:
        eta_text = ""
    elif run.status == "Pending":
        eta_text = "waiting to start"
    elif eta is None:
        eta_text = "estimating time left"
    else:
        eta_text = f"about {seconds(eta)} left"
    return {
        "id": run.id,
        "status": run.status,
        "active": active,
        "total": run.total,
        "done": run.done,
        "failed": run.failed,
        "finished": finished,
        "pending": pending,
        "percent": round(100 * finished / run.total) if run.total else 100,
        "tasks_per_minute": None if rate is None else round(rate * 60, 1),
        "eta_seconds": None if eta is None else round(eta),
        "cost_usd": run.cost_usd,
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "error": run.error,
        "counts_text": f"{run.done:,} done, {run.failed:,} failed, {run.total:,} in all",
        "eta_text": eta_text,
        "cost_text": (
            f"{usd(run.cost_usd)} · {tokens(run.input_tokens)} tokens in, "
            f"{tokens(run.output_tokens)} out"
        ),
    }


def cell(name: str) -> str:
    """A drill-down cell of a report (``sentiment/confusion/Negative/Positive``) in words."""
    head, _, rest = name.partition("/")
    if head == "overall":
        return "tasks right on every control" if rest == "right" else "tasks wrong on a control"
    if head == "failure":
        return f"tasks that failed: {rest.replace('_', ' ')}"
    kind, _, label = rest.partition("/")
    if kind == "confusion":
        truth, _, predicted = label.partition("/")
        return f"{head}: truth {truth}, predicted {predicted}"
    outcomes = {"tp": "true positives", "fp": "false positives", "fn": "false negatives"}
    if kind in outcomes:
        return f"{head}: {outcomes[kind]} of {label}"
    if kind in ("match", "mismatch"):
        return f"{head}: {'matches' if kind == 'match' else 'mismatches'}"
    return name
