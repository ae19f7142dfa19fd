"""The Data Manager's task list: every filter operator on every kind of column, both selection
forms, ordering, the computed columns and the totals, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from prelabel.errors import NotFoundError, ValidationError
from prelabel.services.tasks import TaskPage, TaskQuery, list_tasks
from prelabel.store import Project, Task
from prelabel.store.task_filters import Filter, Filters, Selection
from tests.factories import import_json, make_project, region, sentiment

TWO_CONTROLS_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
  <Choices name="topics" toName="text" choice="multiple">
    <Choice value="Sports"/><Choice value="Politics"/>
  </Choices>
</View>"""


def _prediction(label: str, version: str, score: float | None = None) -> dict[str, Any]:
    prediction: dict[str, Any] = {"result": sentiment(label), "model_version": version}
    if score is not None:
        prediction["score"] = score
    return prediction


# Six tasks, T0..T5, each with what the filters below tell apart:
#   counters (annotations, cancelled, predictions): T0 1/0/2, T1 1/1/1, T2 0/0/1, T3 2/0/0,
#   T4 0/0/1, T5 0/0/0; prediction scores: T0 0.9 & 0.5, T1 0.3, T2 0.9, T4 none;
#   versions: T0 v1,v2, T1 v1, T2 v2, T4 v1-beta; ground truth: T0 and T3 (T1's is cancelled);
#   data.code: T1 "" and T2 missing; data.stars: numbers whose text order is not their order.
TASKS: list[dict[str, Any]] = [
    {
        "data": {"text": "refund please", "lang": "en", "stars": 5, "code": "A1"},
        "annotations": [{"result": sentiment("Positive")}],
        "predictions": [_prediction("Positive", "v1", 0.9), _prediction("Negative", "v2", 0.5)],
    },
    {
        "data": {"text": "great product", "lang": "fr", "stars": 3, "code": ""},
        "annotations": [
            {"result": sentiment("Positive"), "ground_truth": False},
            {"result": sentiment("Negative"), "ground_truth": True, "was_cancelled": True},
        ],
        "predictions": [_prediction("Positive", "v1", 0.3)],
    },
    {
        "data": {"text": "REFUND now", "lang": "en", "stars": 10},
        "predictions": [_prediction("Negative", "v2", 0.9)],
    },
    {
        "data": {"text": "meh", "lang": "de", "stars": 1, "code": "B2"},
        "annotations": [{"result": sentiment("Negative")}, {"result": sentiment("Positive")}],
    },
    {
        "data": {"text": "100% refund_ok", "lang": "en", "stars": 2.5, "code": "A_"},
        "predictions": [_prediction("Positive", "v1-beta")],
    },
    {"data": {"text": "fine", "lang": "en", "stars": 7, "code": "C3"}},
]


@dataclass(frozen=True)
class T:
    """Task ``index`` of ``TASKS``, replaced by its id when a test runs."""

    index: int


def _resolve(value: Any, ids: list[int]) -> Any:
    if isinstance(value, T):
        return ids[value.index]
    if isinstance(value, list):
        return [_resolve(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, ids) for key, item in value.items()}
    return value


@pytest.fixture
def other(session: Session) -> Project:
    """Another project, imported first so that ids of the project under test do not start at 1
    and a filter that forgot the project would show these tasks."""
    project = make_project(session, title="Other")
    import_json(
        session,
        project,
        [
            {
                "data": {"text": "refund elsewhere", "lang": "en", "stars": 4},
                "annotations": [{"result": sentiment("Positive")}],
                "predictions": [_prediction("Positive", "v1", 0.6)],
            }
        ],
    )
    return project


@pytest.fixture
def project(session: Session, other: Project) -> Project:
    project = make_project(session)
    import_json(session, project, TASKS)
    return project


@pytest.fixture
def ids(session: Session, project: Project) -> list[int]:
    return list(
        session.scalars(select(Task.id).where(Task.project_id == project.id).order_by(Task.id))
    )


EVERY_TASK = Selection()


def _page(
    session: Session,
    project: Project,
    *filters: Filter,
    conjunction: str = "and",
    selection: Selection = EVERY_TASK,
    ordering: str | None = None,
    score_version: str | None = None,
    page: int = 1,
    page_size: int = 100,
) -> TaskPage:
    query = TaskQuery(Filters(conjunction, filters), selection, ordering, score_version)
    return list_tasks(session, project, page=page, page_size=page_size, query=query)


def _listed(session: Session, project: Project, *filters: Filter, **options: Any) -> list[int]:
    return [task["id"] for task in _page(session, project, *filters, **options).tasks]


def _picked(ids: list[int], *indexes: int) -> list[int]:
    return [ids[index] for index in indexes]


OPERATOR_CASES = [
    # id: every comparison, both ranges and both lists.
    pytest.param("id", "equal", T(2), [2], id="id-equal"),
    pytest.param("id", "not_equal", T(2), [0, 1, 3, 4, 5], id="id-not_equal"),
    pytest.param("id", "less", T(2), [0, 1], id="id-less"),
    pytest.param("id", "greater", T(3), [4, 5], id="id-greater"),
    pytest.param("id", "less_or_equal", T(1), [0, 1], id="id-less_or_equal"),
    pytest.param("id", "greater_or_equal", T(4), [4, 5], id="id-greater_or_equal"),
    pytest.param("id", "in", {"min": T(1), "max": T(3)}, [1, 2, 3], id="id-in"),
    pytest.param("id", "not_in", {"min": T(1), "max": T(3)}, [0, 4, 5], id="id-not_in"),
    pytest.param("id", "in_list", [T(0), T(5)], [0, 5], id="id-in_list"),
    pytest.param("id", "not_in_list", [T(0), T(5)], [1, 2, 3, 4], id="id-not_in_list"),
    # Counters; empty means zero.
    pytest.param("total_annotations", "equal", 1, [0, 1], id="annotations-equal"),
    pytest.param("total_annotations", "greater", 0, [0, 1, 3], id="annotations-greater"),
    pytest.param(
        "total_annotations", "less_or_equal", 1, [0, 1, 2, 4, 5], id="annotations-less_or_equal"
    ),
    pytest.param("total_annotations", "in", {"min": 1, "max": 2}, [0, 1, 3], id="annotations-in"),
    pytest.param("total_annotations", "in_list", [2], [3], id="annotations-in_list"),
    pytest.param("total_annotations", "not_in_list", [0], [0, 1, 3], id="annotations-not_in_list"),
    pytest.param("total_annotations", "empty", True, [2, 4, 5], id="annotations-empty"),
    pytest.param("total_annotations", "empty", False, [0, 1, 3], id="annotations-not-empty"),
    pytest.param("cancelled_annotations", "empty", False, [1], id="cancelled-not-empty"),
    pytest.param("total_predictions", "greater_or_equal", 2, [0], id="predictions-gte"),
    pytest.param("total_predictions", "less", 1, [3, 5], id="predictions-less"),
    pytest.param("total_predictions", "not_equal", 1, [0, 3, 5], id="predictions-not_equal"),
    pytest.param(
        "total_predictions", "not_in", {"min": 1, "max": 1}, [0, 3, 5], id="predictions-not_in"
    ),
    pytest.param("total_predictions", "empty", True, [3, 5], id="predictions-empty"),
    pytest.param("total_predictions", "empty", "false", [0, 1, 2, 4], id="predictions-empty-text"),
    # The mean prediction score; tasks without one match no comparison.
    pytest.param("predictions_score", "greater", 0.5, [0, 2], id="score-greater"),
    pytest.param("predictions_score", "less", 0.5, [1], id="score-less"),
    pytest.param("predictions_score", "equal", 0.3, [1], id="score-equal"),
    pytest.param("predictions_score", "greater_or_equal", 0.9, [2], id="score-gte"),
    pytest.param("predictions_score", "in", {"min": 0.25, "max": 0.75}, [0, 1], id="score-in"),
    pytest.param("predictions_score", "not_in", {"min": 0.25, "max": 0.75}, [2], id="score-not_in"),
    pytest.param("predictions_score", "in_list", [0.3, 0.9], [1, 2], id="score-in_list"),
    # Text data fields: equality and lists as text; empty is missing or "".
    pytest.param("data.lang", "equal", "en", [0, 2, 4, 5], id="text-equal"),
    pytest.param("data.lang", "not_equal", "en", [1, 3], id="text-not_equal"),
    pytest.param("data.lang", "in_list", ["fr", "de"], [1, 3], id="text-in_list"),
    pytest.param("data.lang", "not_in_list", ["en", "de"], [1], id="text-not_in_list"),
    pytest.param("data.code", "empty", True, [1, 2], id="text-empty"),
    pytest.param("data.code", "empty", False, [0, 3, 4, 5], id="text-not-empty"),
    pytest.param("data.text", "contains", "product", [1], id="text-contains"),
    pytest.param("data.text", "contains", "%", [4], id="text-contains-percent-literally"),
    pytest.param("data.code", "contains", "_", [4], id="text-contains-underscore-literally"),
    pytest.param("data.text", "not_contains", "%", [0, 1, 2, 3, 5], id="text-not_contains"),
    pytest.param(
        "data.code", "not_contains", "A", [1, 2, 3, 5], id="text-not_contains-keeps-missing"
    ),
    pytest.param("data.stars", "equal", "10", [2], id="number-field-equal-as-text"),
    # Numeric data fields: comparisons and ranges compare numbers, not text ("10" < "5").
    pytest.param("data.stars", "less", 3, [3, 4], id="number-field-less"),
    pytest.param("data.stars", "greater", 5, [2, 5], id="number-field-greater"),
    pytest.param("data.stars", "less_or_equal", 3, [1, 3, 4], id="number-field-lte"),
    pytest.param("data.stars", "greater_or_equal", 7, [2, 5], id="number-field-gte"),
    pytest.param("data.stars", "in", {"min": 2.5, "max": 5}, [0, 1, 4], id="number-field-in"),
    pytest.param(
        "data.stars", "not_in", {"min": 2.5, "max": 5}, [2, 3, 5], id="number-field-not_in"
    ),
    # Ground truth: a non-cancelled annotation marked ground truth.
    pytest.param("has_ground_truth", "equal", True, [0, 3], id="ground-truth-true"),
    pytest.param("has_ground_truth", "equal", False, [1, 2, 4, 5], id="ground-truth-false"),
    pytest.param("has_ground_truth", "equal", "true", [0, 3], id="ground-truth-text"),
    # Model versions pick tasks having a prediction of a matching version.
    pytest.param("predictions_model_versions", "contains", ["v1"], [0, 1, 4], id="mv-contains"),
    pytest.param(
        "predictions_model_versions", "contains", ["beta", "v2"], [0, 2, 4], id="mv-contains-any"
    ),
    pytest.param("predictions_model_versions", "contains", "v2", [0, 2], id="mv-contains-text"),
    pytest.param(
        "predictions_model_versions", "not_contains", ["v1"], [2, 3, 5], id="mv-not_contains"
    ),
    pytest.param("predictions_model_versions", "equal", ["v1"], [0, 1], id="mv-equal"),
    pytest.param(
        "predictions_model_versions", "not_equal", ["v2"], [1, 3, 4, 5], id="mv-not_equal"
    ),
    pytest.param(
        "predictions_model_versions", "in_list", ["v2", "v1-beta"], [0, 2, 4], id="mv-in_list"
    ),
    pytest.param(
        "predictions_model_versions", "not_in_list", ["v1"], [2, 3, 4, 5], id="mv-not_in_list"
    ),
]


@pytest.mark.parametrize(("column", "operator", "value", "expected"), OPERATOR_CASES)
def test_each_operator_keeps_exactly_the_matching_tasks(
    session: Session,
    project: Project,
    ids: list[int],
    column: str,
    operator: str,
    value: Any,
    expected: list[int],
) -> None:
    condition = Filter(column, operator, _resolve(value, ids))
    assert _listed(session, project, condition) == _picked(ids, *expected)


def test_contains_on_data_ignores_case_on_both_backends(
    session: Session, project: Project, ids: list[int]
) -> None:
    # Label Studio's contains is icontains; SQLite's LIKE already ignores case.
    listed = _listed(session, project, Filter("data.text", "contains", "refund"))
    assert listed == _picked(ids, 0, 2, 4)


def test_a_number_equals_a_numeric_data_field_on_both_backends(
    session: Session, project: Project, ids: list[int]
) -> None:
    # The CLI reads data.stars:equal:10 as the JSON number 10.
    assert _listed(session, project, Filter("data.stars", "equal", 10)) == _picked(ids, 2)
    assert _listed(session, project, Filter("data.stars", "in_list", [1, 10])) == _picked(ids, 2, 3)


def test_numeric_comparison_on_a_data_field_skips_tasks_whose_value_is_not_a_number(
    session: Session, project: Project, ids: list[int]
) -> None:
    import_json(session, project, [{"data": {"text": "x", "stars": "many"}}])
    assert _listed(session, project, Filter("data.stars", "less", 3)) == _picked(ids, 3, 4)


def test_not_equal_on_ground_truth_keeps_the_tasks_without_it(
    session: Session, project: Project, ids: list[int]
) -> None:
    listed = _listed(session, project, Filter("has_ground_truth", "not_equal", True))
    assert listed == _picked(ids, 1, 2, 4, 5)


def test_empty_prediction_score_keeps_the_tasks_without_a_score(
    session: Session, project: Project, ids: list[int]
) -> None:
    assert _listed(session, project, Filter("predictions_score", "empty", True)) == _picked(
        ids, 3, 4, 5
    )
    assert _listed(session, project, Filter("predictions_score", "empty", False)) == _picked(
        ids, 0, 1, 2
    )


def test_empty_model_version_picks_tasks_with_a_prediction_of_no_version(
    session: Session, project: Project, ids: list[int]
) -> None:
    import_json(
        session, project, [{"data": {"text": "x"}, "predictions": [_prediction("Positive", "")]}]
    )
    unversioned = max(session.scalars(select(Task.id).where(Task.project_id == project.id)))
    listed = _listed(session, project, Filter("predictions_model_versions", "empty", True))
    assert unversioned in listed
    assert not set(listed) & set(_picked(ids, 0, 1, 2, 4))


@pytest.fixture
def dated(session: Session, ids: list[int]) -> list[int]:
    """T0 created on 2020-06-01 at noon UTC; the others now."""
    session.execute(
        update(Task)
        .where(Task.id == ids[0])
        .values(created_at=datetime(2020, 6, 1, 12, tzinfo=UTC))
    )
    return ids


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        pytest.param("less", "2021-01-01", [0], id="less-date"),
        pytest.param("greater_or_equal", "2021-01-01T00:00:00", [1, 2, 3, 4, 5], id="gte-naive"),
        pytest.param("greater", "2020-06-01T13:00:00+02:00", [0, 1, 2, 3, 4, 5], id="gt-offset"),
        pytest.param("less", "2020-06-01T13:00:00+02:00", [], id="less-offset"),
    ],
)
def test_created_at_compares_with_an_iso_date(
    session: Session,
    project: Project,
    dated: list[int],
    operator: str,
    value: str,
    expected: list[int],
) -> None:
    listed = _listed(session, project, Filter("created_at", operator, value))
    assert listed == _picked(dated, *expected)


def test_created_at_between_two_iso_dates(
    session: Session, project: Project, dated: list[int]
) -> None:
    between = {"min": "2020-01-01", "max": "2020-12-31T23:59:59Z"}
    assert _listed(session, project, Filter("created_at", "in", between)) == _picked(dated, 0)
    assert _listed(session, project, Filter("created_at", "not_in", between)) == _picked(
        dated, 1, 2, 3, 4, 5
    )


@pytest.mark.parametrize(
    ("conjunction", "expected"),
    [pytest.param("and", [0, 2, 4], id="and"), pytest.param("or", [0, 1, 2, 4, 5], id="or")],
)
def test_conjunction_combines_the_filters(
    session: Session, project: Project, ids: list[int], conjunction: str, expected: list[int]
) -> None:
    listed = _listed(
        session,
        project,
        Filter("data.lang", "equal", "en"),
        Filter("total_predictions", "greater", 0),
        conjunction=conjunction,
    )
    assert listed == _picked(ids, *expected)


@pytest.mark.parametrize(
    ("all_", "chosen", "expected"),
    [
        pytest.param(True, [], [0, 2, 4, 5], id="all"),
        pytest.param(True, [0, 2, 1], [4, 5], id="all-but-excluded"),
        pytest.param(False, [0, 1, 2], [0, 2], id="only-included"),
        pytest.param(False, [], [], id="nothing-included-is-nothing"),
    ],
)
def test_selection_narrows_the_filtered_tasks(
    session: Session,
    project: Project,
    ids: list[int],
    all_: bool,
    chosen: list[int],
    expected: list[int],
) -> None:
    selection = Selection(all=all_, ids=tuple(_picked(ids, *chosen)))
    page = _page(session, project, Filter("data.lang", "equal", "en"), selection=selection)
    assert [task["id"] for task in page.tasks] == _picked(ids, *expected)
    assert page.total == len(expected)


def test_selection_without_filters_and_with_another_projects_ids(
    session: Session, project: Project, other: Project, ids: list[int]
) -> None:
    foreign = session.scalars(select(Task.id).where(Task.project_id == other.id)).one()
    included = Selection(all=False, ids=(ids[3], foreign))
    assert _listed(session, project, selection=included) == [ids[3]]
    excluded = Selection(all=True, ids=(ids[3], foreign))
    assert _listed(session, project, selection=excluded) == _picked(ids, 0, 1, 2, 4, 5)


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        pytest.param(None, [0, 1, 2, 3, 4, 5], id="default-by-id"),
        pytest.param("id", [0, 1, 2, 3, 4, 5], id="id"),
        pytest.param("-id", [5, 4, 3, 2, 1, 0], id="id-descending"),
        pytest.param("predictions_score", [1, 0, 2, 3, 4, 5], id="score-nulls-last"),
        pytest.param("-predictions_score", [2, 0, 1, 5, 4, 3], id="score-descending-nulls-last"),
        pytest.param("total_annotations", [2, 4, 5, 0, 1, 3], id="ties-by-id"),
        pytest.param("-total_annotations", [3, 1, 0, 5, 4, 2], id="descending-ties-by-id-desc"),
        pytest.param("-total_predictions", [0, 4, 2, 1, 5, 3], id="predictions-descending"),
        pytest.param("-has_ground_truth", [3, 0, 5, 4, 2, 1], id="ground-truth-first"),
        pytest.param("data.lang", [3, 0, 2, 4, 5, 1], id="text-data-field"),
    ],
)
def test_ordering(
    session: Session, project: Project, ids: list[int], ordering: str | None, expected: list[int]
) -> None:
    assert _listed(session, project, ordering=ordering) == _picked(ids, *expected)


def test_ordering_by_a_data_field_puts_tasks_without_it_last(
    session: Session, project: Project, ids: list[int]
) -> None:
    no_underscore = Filter("data.code", "not_contains", "_")
    ascending = _listed(session, project, no_underscore, ordering="data.code")
    assert ascending == _picked(ids, 1, 0, 3, 5, 2)
    descending = _listed(session, project, no_underscore, ordering="-data.code")
    assert descending == _picked(ids, 5, 3, 0, 1, 2)


def test_score_version_restricts_the_score_its_filter_and_its_ordering(
    session: Session, project: Project, ids: list[int]
) -> None:
    page = _page(session, project, score_version="v1")
    assert [task["predictions_score"] for task in page.tasks] == [0.9, 0.3, None, None, None, None]
    high = Filter("predictions_score", "greater", 0.5)
    assert _listed(session, project, high, score_version="v1") == _picked(ids, 0)
    assert _listed(session, project, high) == _picked(ids, 0, 2)
    ordered = _listed(session, project, ordering="-predictions_score", score_version="v2")
    assert ordered == _picked(ids, 2, 0, 5, 4, 3, 1)


def test_computed_columns_of_each_task(session: Session, project: Project) -> None:
    tasks = _page(session, project).tasks
    assert [task["predictions_score"] for task in tasks] == [
        pytest.approx(0.7),
        0.3,
        0.9,
        None,
        None,
        None,
    ]
    assert [task["predictions_model_versions"] for task in tasks] == [
        "v1,v2",
        "v1",
        "v2",
        "",
        "v1-beta",
        "",
    ]
    assert [task["has_ground_truth"] for task in tasks] == [True, False, False, True, False, False]
    assert [task["agreement"] for task in tasks] == [
        {"v1": 1.0, "v2": 0.0},
        {},
        {},
        {},
        {},
        {},
    ]
    assert [
        (task["total_annotations"], task["cancelled_annotations"], task["total_predictions"])
        for task in tasks
    ] == [(1, 0, 2), (1, 1, 1), (0, 0, 1), (2, 0, 0), (0, 0, 1), (0, 0, 0)]


def test_model_version_filter_picks_tasks_and_keeps_all_their_predictions(
    session: Session, project: Project, ids: list[int]
) -> None:
    tasks = _page(session, project, Filter("predictions_model_versions", "equal", ["v2"])).tasks
    assert [task["id"] for task in tasks] == _picked(ids, 0, 2)
    assert [p["model_version"] for p in tasks[0]["predictions"]] == ["v1", "v2"]


def test_agreement_is_the_share_of_controls_matching_the_newest_ground_truth(
    session: Session,
) -> None:
    project = make_project(session, TWO_CONTROLS_CONFIG, title="Topics")

    def answer(label: str, topic: str) -> list[dict[str, Any]]:
        return [*sentiment(label), region("topics", "choices", {"choices": [topic]})]

    import_json(
        session,
        project,
        [
            {
                "data": {"text": "match"},
                "annotations": [
                    {"result": answer("Negative", "Sports")},
                    {"result": answer("Positive", "Sports")},
                    {"result": answer("Positive", "Sports"), "ground_truth": False},
                    {"result": answer("Negative", "Politics"), "was_cancelled": True},
                ],
                "predictions": [
                    {"result": answer("Positive", "Sports"), "model_version": "m1"},
                    {"result": answer("Positive", "Politics"), "model_version": "m2"},
                    {"result": answer("Negative", "Politics"), "model_version": "m3"},
                ],
            },
            {
                "data": {"text": "no truth"},
                "annotations": [{"result": answer("Positive", "Sports"), "ground_truth": False}],
                "predictions": [{"result": answer("Positive", "Sports"), "model_version": "m1"}],
            },
        ],
    )
    tasks = _page(session, project).tasks
    assert [task["agreement"] for task in tasks] == [{"m1": 1.0, "m2": 0.5, "m3": 0.0}, {}]
    assert [task["has_ground_truth"] for task in tasks] == [True, False]


def test_totals_cover_the_filtered_tasks_on_every_page(
    session: Session, project: Project, ids: list[int]
) -> None:
    predicted = Filter("total_predictions", "greater", 0)
    first = _page(session, project, predicted, page_size=3)
    second = _page(session, project, predicted, page=2, page_size=3)
    assert [task["id"] for task in first.tasks] == _picked(ids, 0, 1, 2)
    assert [task["id"] for task in second.tasks] == _picked(ids, 4)
    for page in (first, second):
        assert (page.total, page.total_annotations, page.total_predictions) == (4, 2, 5)


def test_a_page_past_the_last_is_not_found_but_an_empty_first_page_is_fine(
    session: Session, project: Project
) -> None:
    predicted = Filter("total_predictions", "greater", 0)
    with pytest.raises(NotFoundError, match="page 3 is past the last page of 4 tasks"):
        _page(session, project, predicted, page=3, page_size=2)
    empty = _page(session, project, Filter("total_predictions", "greater", 5))
    assert (empty.total, empty.total_annotations, empty.total_predictions, empty.tasks) == (
        0,
        0,
        0,
        [],
    )


@pytest.mark.parametrize(
    ("column", "operator", "value", "message"),
    [
        pytest.param("nope", "equal", 1, "filter: unknown column 'nope'", id="unknown-column"),
        pytest.param("data.", "equal", 1, "filter: unknown column 'data.'", id="empty-data-field"),
        pytest.param("id", "like", 1, "filter id: unknown operator 'like'", id="unknown-operator"),
        pytest.param("id", "in", 5, "filter id: in needs", id="in-without-range"),
        pytest.param("id", "not_in", {"min": 1}, "filter id: not_in needs", id="range-without-max"),
        pytest.param("id", "in_list", [], "filter id: in_list needs", id="empty-list"),
        pytest.param("id", "in_list", 3, "filter id: in_list needs", id="list-not-a-list"),
        pytest.param("total_annotations", "equal", "two", "filter total_annotations", id="text"),
        pytest.param("total_predictions", "less", True, "filter total_predictions", id="bool"),
        pytest.param(
            "predictions_score", "greater", "high", "filter predictions_score", id="score"
        ),
        pytest.param("total_annotations", "empty", "yes", "filter total_annotations", id="empty"),
        pytest.param("created_at", "greater", "yesterday", "filter created_at", id="bad-date"),
        pytest.param("has_ground_truth", "equal", "yes", "filter has_ground_truth", id="not-bool"),
        pytest.param("data.text", "contains", 5, "filter data.text", id="contains-a-number"),
        pytest.param(
            "predictions_model_versions",
            "greater",
            ["v1"],
            "predictions_model_versions",
            id="mv-op",
        ),
        pytest.param(
            "predictions_model_versions", "contains", [], "predictions_model_versions", id="mv-none"
        ),
        pytest.param("id", "in", {"min": "a", "max": "b"}, "filter id", id="range-of-text"),
        pytest.param("id", "in_list", ["a"], "filter id", id="list-of-text"),
        pytest.param(
            "predictions_score",
            "in",
            {"min": "a", "max": 1},
            "filter predictions_score",
            id="score-range-of-text",
        ),
        pytest.param("data.stars", "greater", True, "filter data.stars", id="data-greater-bool"),
    ],
)
def test_invalid_filter_is_refused_naming_its_column(
    session: Session, project: Project, column: str, operator: str, value: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _listed(session, project, Filter(column, operator, value))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"ordering": "-nope"}, "order: unknown column 'nope'", id="order-column"),
        pytest.param({"conjunction": "xor"}, "conjunction must be and or or", id="conjunction"),
        pytest.param({"page": 0}, "page: must be 1 or more", id="page-zero"),
        pytest.param({"page_size": 1001}, "page_size: must be between 1 and 1000", id="page-size"),
    ],
)
def test_invalid_query_is_refused(
    session: Session, project: Project, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _listed(session, project, **options)


def test_text_values_compare_a_data_field_as_text(
    session: Session, project: Project, ids: list[int]
) -> None:
    # "de" sorts before "en"; "en" and "fr" do not.
    assert _listed(session, project, Filter("data.lang", "less", "en")) == _picked(ids, 3)
