"""Evaluation reports as Rich tables: the run report, the version comparison."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_report(out: Console, report: dict[str, Any]) -> None:
    """The whole report of a run: headline, each control, calibration, failures."""
    run = report["run"]
    latency = run["latency_ms"]
    out.print(
        f"Outputs: {run['outputs']}, failed: {run['failed']}. Tokens {run['input_tokens']:,} in, "
        f"{run['output_tokens']:,} out. Cost ${run['cost_usd']:.4f}. "
        f"Latency p50 {_ms(latency['p50'])}, p95 {_ms(latency['p95'])}."
    )
    for kind, count in run["failures"].items():
        out.print(f"  {count} failed: {kind}")
    if not report["tasks"]:
        out.print("No task of this run has ground truth: nothing to score.")
        return
    out.print(
        f"Evaluated on {report['tasks']} ground-truth tasks ({report['reference']}). "
        f"Accuracy (every control right): {_pct(report['accuracy'])}."
    )
    for name, metrics in report["controls"].items():
        _print_control(out, name, metrics)
    if report["calibration"]:
        _print_calibration(out, report["calibration"])


def print_comparison(out: Console, comparison: dict[str, Any]) -> None:
    """One row per version: accuracy, each control's headline, cost, tokens and latency."""
    rows = comparison["versions"]
    names = list(rows[0]["report"]["controls"]) if rows else []
    table = Table(
        "version",
        "accuracy",
        *names,
        "cost (USD)",
        "tokens in/out",
        "latency p50/p95",
        title=f"{comparison['tasks']} ground-truth tasks predicted by every version",
    )
    for row in rows:
        report = row["report"]
        table.add_row(
            f"{row['version']} {row['model_version']}",
            _pct(report["accuracy"]),
            *(headline(report["controls"].get(name)) for name in names),
            f"{row['cost_usd']:.4f}",
            f"{row['input_tokens']:,}/{row['output_tokens']:,}",
            f"{_ms(row['latency_ms']['p50'])}/{_ms(row['latency_ms']['p95'])}",
        )
    out.print(table)
    shown = ", ".join(map(str, comparison["disagreements"][:30]))
    out.print(f"They disagree on {len(comparison['disagreements'])} task(s): {shown}")


def _print_control(out: Console, name: str, metrics: dict[str, Any]) -> None:
    kind = metrics["kind"]
    out.print(f"\n[bold]{name}[/bold] ({kind}, {metrics['tasks']} tasks): {headline(metrics)}")
    if kind in ("single", "multiple"):
        _print_classes(out, metrics["per_class"])
        if kind == "single":
            _print_confusion(out, metrics["confusion_matrix"])
    elif kind == "spans":
        for matching in ("exact", "partial"):
            _print_classes(out, metrics[matching]["per_label"], title=f"{matching} span match")


def _print_classes(out: Console, per_class: dict[str, Any], title: str | None = None) -> None:
    table = Table("label", "precision", "recall", "F1", "support", title=title)
    for label, scores in per_class.items():
        table.add_row(
            label,
            f"{scores['precision']:.3f}",
            f"{scores['recall']:.3f}",
            f"{scores['f1']:.3f}",
            str(scores["support"]),
        )
    out.print(table)


def _print_confusion(out: Console, matrix: dict[str, Any]) -> None:
    table = Table("truth \\ predicted", *matrix["columns"], title="confusion matrix")
    for label, row in zip(matrix["labels"], matrix["rows"], strict=True):
        table.add_row(label, *map(str, row))
    out.print(table)


def _print_calibration(out: Console, calibration: dict[str, Any]) -> None:
    auroc = calibration["auroc"]
    out.print(
        f"\nScores: expected calibration error {calibration['ece']:.3f}, AUROC "
        f"{'n/a (all right or all wrong)' if auroc is None else f'{auroc:.3f}'}."
    )
    table = Table("score at least", "coverage", "accuracy", title="accuracy vs coverage")
    for row in calibration["coverage"]:
        table.add_row(f"{row['threshold']:.3f}", _pct(row["coverage"]), _pct(row["accuracy"]))
    out.print(table)


def headline(metrics: dict[str, Any] | None) -> str:
    """The one-line summary of a control's metrics: ``accuracy 87.5%, macro F1 0.809``."""
    if metrics is None:
        return ""
    kind = metrics["kind"]
    if kind == "single":
        return f"accuracy {_pct(metrics['accuracy'])}, macro F1 {_num(metrics['macro_f1'])}"
    if kind == "multiple":
        return (
            f"exact {_pct(metrics['exact_match'])}, micro F1 {_num(metrics['micro']['f1'])}, "
            f"macro F1 {_num(metrics['macro_f1'])}, Jaccard {_num(metrics['jaccard'])}"
        )
    if kind == "spans":
        return (
            f"exact F1 {_num(metrics['exact']['overall']['f1'])}, "
            f"partial F1 {_num(metrics['partial']['overall']['f1'])}"
        )
    if kind == "text":
        return (
            f"exact {_pct(metrics['exact_match'])}, "
            f"normalised {_pct(metrics['normalised_match'])}, token F1 {_num(metrics['token_f1'])}"
        )
    return f"exact {_pct(metrics['exact_match'])}, MAE {_num(metrics['mae'])}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"
