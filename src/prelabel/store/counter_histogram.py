"""Totals over a project's tasks read from its counter histogram, never counted task by task.

``TaskCounterHistogram`` says how many of a project's tasks hold each combination of counter
values, and migration 0006's triggers keep it exact. A filter on counters alone (any operator,
any number of them joined by and or or) holds or fails for a whole combination, so the tasks
it picks, and their summed counters, add up from a few histogram rows however many tasks
there are: a million-task project's Data Manager totals cost what its first page costs.

On PostgreSQL every statement that changes tasks appends its changes under a writer id of its
own, so concurrent writers (workers recording predictions, actions, imports) never lock a
common row. A combination's count is the sum over its rows; once more than ``FOLD_AFTER``
writers' rows have piled up, the next reader folds the committed ones into ``writer`` 0
(the database's ``task_counter_histogram_fold``, which every 1024th writing statement calls
too). A fold waits on no writer (it only takes rows whose writer has committed) and on no
other fold (an advisory lock lets one fold a project at a time; the others skip it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, cast, delete, func, select
from sqlalchemy.orm import Session

from prelabel.store.models import TaskCounterHistogram
from prelabel.store.task_filters import Filters, counter_condition

FOLD_AFTER = 1000
"""Writers' rows a PostgreSQL project may pile up before a reader folds them."""

_H = TaskCounterHistogram
_COMBINATION = (_H.total_annotations, _H.cancelled_annotations, _H.total_predictions)


@dataclass(frozen=True)
class CounterTotals:
    """The tasks a filter picks and the sums of their counters."""

    tasks: int
    total_annotations: int
    cancelled_annotations: int
    total_predictions: int


def counter_totals(session: Session, project_id: int, filters: Filters) -> CounterTotals | None:
    """The totals of the project's tasks that ``filters`` pick, from the histogram; None when
    a filter is on something other than a counter (the caller counts tasks then)."""
    condition = counter_condition(filters, _H)
    if condition is None:
        return None
    fold_writers(session, project_id)
    row = session.execute(
        select(
            func.sum(_H.tasks),
            *(func.sum(cast(_H.tasks, BigInteger) * counter) for counter in _COMBINATION),
        ).where(_H.project_id == project_id, condition)
    ).one()
    return CounterTotals(*(int(value or 0) for value in row))


def fold_writers(session: Session, project_id: int, *, after: int = FOLD_AFTER) -> bool:
    """On PostgreSQL, when the project has more than ``after`` rows of writers, fold those
    whose writer has committed into ``writer`` 0, unless another session is folding them;
    True when it folded. SQLite's rows are always folded."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    return bool(session.scalar(select(func.task_counter_histogram_fold(project_id, after))))


def forget_project(session: Session, project_id: int) -> None:
    """Drop a deleted project's rows (their counts are zero by then: its tasks' deletions
    were counted), so that a new project given the same id starts from none.

    PostgreSQL never gives an id twice, so there this is tidying only, skipped while a fold
    of the project holds its lock rather than waiting for it.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.task_counter_histogram_forget(project_id)))
    else:
        session.execute(delete(_H).where(_H.project_id == project_id))
