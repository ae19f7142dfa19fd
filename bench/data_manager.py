"""The Data Manager at scale: task pages and actions on N tasks with one prediction each.

For each size, in a fresh process on a fresh SQLite database, this script imports N tasks
(a third of them with a ground-truth annotation, each with one prediction of model version
``v1``; not measured), then measures:

* the first page of 100 tasks, unfiltered and filtered on ``total_predictions > 0`` (median of
  five, each a fresh session, computed columns included);
* the three actions on every task, one transaction each, in this order: create annotations
  from the predictions of ``v1``, delete those annotations (every annotation, so the imported
  ground truth too), delete the predictions;

and checks after each action that the task counters still equal the rows they count, and the
project's counter histogram (whence the totals of a filter on counters) a fresh count of the
counters. It prints every time beside the issue's goal and Label Studio 1.23's time on this
machine class, and the process's peak RSS. It never asserts a timing.
``.venv/bin/python bench/data_manager.py --sizes 10000 1000000``.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from review_tasks import SENTIMENT_CONFIG, review_tasks

#: The issue's goals, in seconds, and Label Studio 1.23's times at 10,000 tasks.
GOALS = {
    10_000: {"page": 0.020, "from_predictions": 0.5, "delete_predictions": 0.3},
    1_000_000: {"filtered_page": 0.100, "action": 20.0, "rss_mb": 500},
}
LABEL_STUDIO_10K = {"page": 0.34, "delete_predictions": 72.5, "from_predictions": 9.4}
IMPORT_BATCH = 20_000


def _tasks(start: int, count: int) -> bytes:
    """JSONL of ``count`` review tasks from ``start``."""
    return b"\n".join(orjson.dumps(task) for task in review_tasks(start, count))


def _timed(action: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def worker(size: int, directory: str) -> dict[str, Any]:
    """Import, then measure pages and actions; runs in its own process."""
    from sqlalchemy import func, select

    from prelabel.services.actions import (
        delete_selected_annotations,
        delete_selected_predictions,
        predictions_to_annotations,
    )
    from prelabel.services.imports import import_tasks
    from prelabel.services.projects import create_project
    from prelabel.services.tasks import TaskQuery, list_tasks
    from prelabel.settings import Settings
    from prelabel.store import Annotation, Prediction, Store, Task
    from prelabel.store.models import TaskCounterHistogram
    from prelabel.store.task_filters import Filter, Filters

    store = Store.open(Settings(data_dir=Path(directory)), create=True)
    with store.session() as session:
        project = create_project(session, title="bench", label_config=SENTIMENT_CONFIG)
    for start in range(0, size, IMPORT_BATCH):
        with store.session() as session:
            stream = io.BytesIO(_tasks(start, min(IMPORT_BATCH, size - start)))
            import_tasks(session, project, stream, fmt="jsonl")

    def page(query: TaskQuery) -> float:
        times = []
        for _ in range(5):
            with store.session() as session:
                elapsed, result = _timed(
                    lambda s=session: list_tasks(s, project, page=1, page_size=100, query=query)
                )
            assert len(result.tasks) == min(100, size)
            times.append(elapsed)
        return statistics.median(times)

    def consistent() -> bool:
        with store.session() as session:
            predictions = (
                select(func.count(Prediction.id))
                .where(Prediction.task_id == Task.id)
                .scalar_subquery()
            )
            annotations = (
                select(func.count(Annotation.id))
                .where(Annotation.task_id == Task.id, Annotation.was_cancelled.is_(False))
                .scalar_subquery()
            )
            wrong = session.scalar(
                select(func.count(Task.id)).where(
                    Task.project_id == project.id,
                    (Task.total_predictions != predictions)
                    | (Task.total_annotations != annotations),
                )
            )
            counters = (
                Task.total_annotations,
                Task.cancelled_annotations,
                Task.total_predictions,
            )
            counted = session.execute(
                select(*counters, func.count(Task.id))
                .where(Task.project_id == project.id)
                .group_by(*counters)
            ).all()
            histogram = TaskCounterHistogram
            combination = (
                histogram.total_annotations,
                histogram.cancelled_annotations,
                histogram.total_predictions,
            )
            summed = session.execute(
                select(*combination, func.sum(histogram.tasks))
                .where(histogram.project_id == project.id)
                .group_by(*combination)
                .having(func.sum(histogram.tasks) != 0)
            ).all()
        return wrong == 0 and sorted(map(tuple, counted)) == sorted(map(tuple, summed))

    def action(name: str, run: Any) -> dict[str, Any]:
        with store.session() as session:
            elapsed, count = _timed(lambda: run(session))
        return {"action": name, "seconds": elapsed, "rows": count, "consistent": consistent()}

    filtered = TaskQuery(Filters(items=(Filter("total_predictions", "greater", 0),)))
    results: dict[str, Any] = {
        "size": size,
        "page": page(TaskQuery()),
        "filtered_page": page(filtered),
        "actions": [
            action(
                "from_predictions",
                lambda s: predictions_to_annotations(
                    s, project, TaskQuery(), model_version="v1", user=None
                ),
            ),
            action(
                "delete_annotations", lambda s: delete_selected_annotations(s, project, TaskQuery())
            ),
            action(
                "delete_predictions", lambda s: delete_selected_predictions(s, project, TaskQuery())
            ),
        ],
    }
    store.close()
    results["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.directory)))
        return
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as directory:
            done = subprocess.run(
                [sys.executable, __file__, "--worker", str(size), "--directory", directory],
                capture_output=True,
                text=True,
                check=True,
            )
        report(json.loads(done.stdout.strip().splitlines()[-1]))


def report(result: dict[str, Any]) -> None:
    size = result["size"]
    goals = GOALS.get(size, {})
    print(f"\n{size:,} tasks, one prediction each (SQLite); peak RSS {result['rss_mb']:.0f} MB")

    def line(name: str, seconds: float, goal: float | None, peer: float | None) -> None:
        extra = f"  goal < {goal * 1000:.0f} ms" if goal else ""
        if peer:
            extra += f"  Label Studio 1.23: {peer * 1000:.0f} ms ({peer / seconds:.0f}x)"
        print(f"  {name:<30} {seconds * 1000:10.1f} ms{extra}")

    line(
        "first page",
        result["page"],
        goals.get("page"),
        LABEL_STUDIO_10K["page"] if size == 10_000 else None,
    )
    line(
        "first page, total_predictions>0", result["filtered_page"], goals.get("filtered_page"), None
    )
    for step in result["actions"]:
        goal = goals.get(step["action"], goals.get("action"))
        peer = LABEL_STUDIO_10K.get(step["action"]) if size == 10_000 else None
        line(f"{step['action']} ({step['rows']:,})", step["seconds"], goal, peer)
        if not step["consistent"]:
            print("    counters or histogram DISAGREE with what they count")
    if "rss_mb" in goals:
        print(f"  peak RSS goal < {goals['rss_mb']} MB")


if __name__ == "__main__":
    main()
