"""The Data Manager from the command line: ``task list`` with filters and ordering, and the
actions of ``predictions`` and ``annotations`` on a selection, end to end with ``--json``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.factories import SENTIMENT_CONFIG, sentiment


def _prediction(label: str, version: str, score: float) -> dict[str, Any]:
    return {"result": sentiment(label), "model_version": version, "score": score}


ANN = {"email": "ann@example.com"}

# Ann annotated C0 (ground truth) and C2; the admin annotates nothing until a test does.
# C0: v1 0.9 and v2 0.2, ground truth.  C1: v1 0.4, a URL in its text.
# C2: v2 0.7, an annotation that is not ground truth.  C3: nothing.
TASKS = [
    {
        "data": {"text": "refund please", "lang": "en", "stars": 5},
        "annotations": [{"result": sentiment("Positive"), "completed_by": ANN}],
        "predictions": [_prediction("Positive", "v1", 0.9), _prediction("Negative", "v2", 0.2)],
    },
    {
        "data": {"text": "see http://shop.example/refund", "lang": "fr", "stars": 3},
        "predictions": [_prediction("Negative", "v1", 0.4)],
    },
    {
        "data": {"text": "fine", "lang": "en", "stars": 10},
        "annotations": [
            {"result": sentiment("Negative"), "ground_truth": False, "completed_by": ANN}
        ],
        "predictions": [_prediction("Negative", "v2", 0.7)],
    },
    {"data": {"text": "meh", "lang": "de", "stars": 1}},
]


@dataclass(frozen=True)
class Setup:
    cli: Any
    admin: int
    ids: list[int]

    def run(self, *args: str) -> Any:
        result = self.cli(*args)
        assert result.status == 0, result.stderr
        return orjson.loads(result.stdout)

    def tasks(self, *args: str) -> list[dict[str, Any]]:
        return self.run("task", "list", "Reviews", "--json", *args)

    def listed(self, *args: str) -> list[int]:
        return [self.ids.index(task["id"]) for task in self.tasks(*args)]

    def task_ids(self, *indexes: int) -> str:
        return ",".join(str(self.ids[index]) for index in indexes)

    def counters(self) -> list[tuple[int, int, int]]:
        return [
            (t["total_annotations"], t["cancelled_annotations"], t["total_predictions"])
            for t in self.tasks()
        ]


@pytest.fixture
def setup(cli, tmp_path: Path) -> Setup:  # type: ignore[no-untyped-def]
    admin = orjson.loads(cli("init", "--json").stdout)["user"]["id"]
    config = tmp_path / "config.xml"
    config.write_text(SENTIMENT_CONFIG)
    created = cli("project", "create", "--title", "Reviews", "--config", str(config), "--json")
    assert created.status == 0, created.stderr
    source = tmp_path / "tasks.json"
    source.write_bytes(orjson.dumps(TASKS))
    project = str(orjson.loads(created.stdout)["id"])
    assert cli("import", project, str(source), "--json").status == 0
    listed = orjson.loads(cli("task", "list", "Reviews", "--json").stdout)
    return Setup(cli, admin, [task["id"] for task in listed])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["--filter", "total_predictions:greater:0"], [0, 1, 2], id="number"),
        pytest.param(["--filter", "data.lang:equal:en"], [0, 2], id="bare-text"),
        pytest.param(["--filter", 'data.lang:equal:"fr"'], [1], id="json-text"),
        pytest.param(["--filter", 'data.lang:in_list:["fr","de"]'], [1, 3], id="json-list"),
        pytest.param(["--filter", 'data.stars:in:{"min":3,"max":5}'], [0, 1], id="json-range"),
        pytest.param(["--filter", "data.stars:greater:4"], [0, 2], id="numeric-data-field"),
        pytest.param(["--filter", "data.text:contains:http://shop"], [1], id="colons-in-value"),
        pytest.param(["--filter", "predictions_model_versions:contains:v2"], [0, 2], id="version"),
        pytest.param(
            ["--filter", 'predictions_model_versions:in_list:["v1"]'], [0, 1], id="version-list"
        ),
        pytest.param(["--filter", "has_ground_truth:equal:true"], [0], id="boolean"),
        pytest.param(["--filter", "total_annotations:empty:true"], [1, 3], id="empty"),
        pytest.param(
            ["--filter", "data.lang:equal:fr", "--filter", "total_annotations:greater:0"],
            [],
            id="all-filters",
        ),
        pytest.param(
            ["--filter", "data.lang:equal:fr", "--filter", "total_annotations:greater:0", "--any"],
            [0, 1, 2],
            id="any-filter",
        ),
        pytest.param(["--order", "-predictions_score"], [2, 0, 1, 3], id="order-descending"),
        pytest.param(
            ["--order", "predictions_score", "--score-version", "v1"],
            [1, 0, 2, 3],
            id="order-by-one-versions-score",
        ),
        pytest.param(
            ["--filter", "data.lang:equal:en", "--order", "-id"], [2, 0], id="filter-and-order"
        ),
    ],
)
def test_task_list_filters_and_orders(setup: Setup, args: list[str], expected: list[int]) -> None:
    assert setup.listed(*args) == expected


def test_task_list_filters_on_a_range_of_ids(setup: Setup) -> None:
    between = orjson.dumps({"min": setup.ids[1], "max": setup.ids[2]}).decode()
    assert setup.listed("--filter", f"id:in:{between}") == [1, 2]
    assert setup.listed("--filter", f"id:not_in_list:[{setup.ids[0]}]") == [1, 2, 3]


def test_task_list_filters_a_numeric_data_field_by_a_number(setup: Setup) -> None:
    # data.stars:equal:10 reads 10 as a JSON number.
    assert setup.listed("--filter", "data.stars:equal:10") == [2]


def test_task_list_shows_the_computed_columns(setup: Setup) -> None:
    tasks = setup.tasks()
    assert [t["predictions_score"] for t in tasks] == [pytest.approx(0.55), 0.4, 0.7, None]
    assert [t["predictions_model_versions"] for t in tasks] == ["v1,v2", "v1", "v2", ""]
    assert [t["has_ground_truth"] for t in tasks] == [True, False, False, False]
    assert [t["agreement"] for t in tasks] == [{"v1": 1.0, "v2": 0.0}, {}, {}, {}]
    scored = setup.tasks("--score-version", "v2")
    assert [t["predictions_score"] for t in scored] == [0.2, None, 0.7, None]


def test_task_list_filters_on_a_versions_agreement_with_the_ground_truth(setup: Setup) -> None:
    assert setup.listed("--filter", "agreement.v2:less:1") == [0]
    assert setup.listed("--filter", "agreement.v1:equal:1") == [0]
    assert setup.listed("--filter", "agreement.v1:empty:true") == [1, 2, 3]


def test_task_list_as_a_table_counts_the_filtered_tasks(setup: Setup) -> None:
    result = setup.cli(
        "task", "list", "Reviews", "--filter", "data.lang:equal:en", "--columns", "id,data.lang"
    )
    assert result.status == 0, result.stderr
    assert "Page 1: 2 of 2 tasks." in result.stdout


def test_predictions_versions_lists_counts(setup: Setup) -> None:
    versions = setup.run("predictions", "versions", "Reviews", "--json")
    assert [(v["model_version"], v["count"], v["prompt_version"]) for v in versions] == [
        ("v1", 2, None),
        ("v2", 2, None),
    ]
    assert all(isinstance(v["latest"], str) and v["latest"].endswith("Z") for v in versions)


def test_predictions_delete_one_version_everywhere_then_it_is_not_found(setup: Setup) -> None:
    deleted = setup.run("predictions", "delete", "Reviews", "--version", "v2", "--json")
    assert deleted == {"deleted_predictions": 2}
    versions = setup.run("predictions", "versions", "Reviews", "--json")
    assert [v["model_version"] for v in versions] == ["v1"]
    assert setup.counters() == [(1, 0, 1), (0, 0, 1), (1, 0, 0), (0, 0, 0)]
    again = setup.cli("predictions", "delete", "Reviews", "--version", "v2")
    assert again.status == 1
    assert again.stderr.startswith("error: ") and again.stderr.count("\n") == 1
    assert "no prediction of version 'v2'" in again.stderr


@pytest.mark.parametrize(
    ("args", "deleted", "predictions"),
    [
        pytest.param(["--tasks", "{0},{1}"], 3, [0, 0, 1, 0], id="tasks"),
        pytest.param(["--tasks", "{0},{2}", "--version", "v2"], 2, [1, 1, 0, 0], id="tasks-v2"),
        pytest.param(["--filter", "data.lang:equal:fr"], 1, [2, 0, 1, 0], id="filter"),
        pytest.param(
            ["--filter", "predictions_model_versions:contains:v2", "--version", "v1"],
            1,
            [1, 1, 1, 0],
            id="filter-picks-tasks-version-picks-predictions",
        ),
        pytest.param(
            ["--filter", "data.lang:equal:fr", "--filter", "has_ground_truth:equal:true", "--any"],
            3,
            [0, 0, 1, 0],
            id="any-filter",
        ),
        pytest.param([], 4, [0, 0, 0, 0], id="everything"),
    ],
)
def test_predictions_delete_on_a_selection(
    setup: Setup, args: list[str], deleted: int, predictions: list[int]
) -> None:
    args = [arg.format(*setup.ids) for arg in args]
    result = setup.run("predictions", "delete", "Reviews", *args, "--json")
    assert result == {"deleted_predictions": deleted}
    assert [t["total_predictions"] for t in setup.tasks()] == predictions
    assert [len(t["predictions"]) for t in setup.tasks()] == predictions


def test_annotations_from_predictions_of_selected_tasks(setup: Setup) -> None:
    chosen = setup.task_ids(0, 2)
    created = setup.run(
        "annotations", "from-predictions", "Reviews", "--version", "v1", "--tasks", chosen, "--json"
    )
    assert created == {"created_annotations": 1}  # C2 has no v1 prediction
    first = setup.tasks()[0]
    new = first["annotations"][-1]
    (parent,) = [p for p in first["predictions"] if p["model_version"] == "v1"]
    assert (new["completed_by"], new["parent_prediction"], new["result"]) == (
        setup.admin,
        parent["id"],
        parent["result"],
    )
    assert (new["ground_truth"], new["was_cancelled"]) == (False, False)
    assert setup.counters() == [(2, 0, 2), (0, 0, 1), (1, 0, 1), (0, 0, 0)]
    again = setup.run(
        "annotations", "from-predictions", "Reviews", "--version", "v1", "--tasks", chosen, "--json"
    )
    assert again == {"created_annotations": 0}


def test_annotations_from_predictions_with_filters(setup: Setup) -> None:
    created = setup.run(
        "annotations",
        "from-predictions",
        "Reviews",
        "--version",
        "v2",
        "--filter",
        "total_annotations:empty:true",
        "--filter",
        "has_ground_truth:equal:true",
        "--any",
        "--json",
    )
    assert created == {"created_annotations": 1}  # C0 (ground truth) has v2; C1, C3 have none
    assert setup.counters() == [(2, 0, 2), (0, 0, 1), (1, 0, 1), (0, 0, 0)]


def test_annotations_from_predictions_needs_a_version(setup: Setup) -> None:
    missing = setup.cli("annotations", "from-predictions", "Reviews")
    assert missing.status == 2 and missing.stderr.count("\n") == 1
    # "" is a version like any other (POST /api/predictions gives it); none has it here.
    empty = setup.run("annotations", "from-predictions", "Reviews", "--version", "", "--json")
    assert empty == {"created_annotations": 0}


@pytest.mark.parametrize(
    ("args", "deleted", "annotations"),
    [
        pytest.param(["--annotator", "{admin}"], 1, [1, 0, 1, 0], id="one-annotator"),
        pytest.param(["--tasks", "{t2}"], 1, [2, 0, 0, 0], id="tasks"),
        pytest.param(["--filter", "has_ground_truth:equal:true"], 2, [0, 0, 1, 0], id="filter"),
        pytest.param([], 3, [0, 0, 0, 0], id="everything"),
    ],
)
def test_annotations_delete_on_a_selection(
    setup: Setup, args: list[str], deleted: int, annotations: list[int]
) -> None:
    setup.run(
        "annotations", "from-predictions", "Reviews", "--version", "v1", "--tasks",
        setup.task_ids(0), "--json",
    )  # fmt: skip
    names = {"admin": setup.admin, **{f"t{i}": task for i, task in enumerate(setup.ids)}}
    args = [arg.format(**names) for arg in args]
    result = setup.run("annotations", "delete", "Reviews", *args, "--json")
    assert result == {"deleted_annotations": deleted}
    assert [t["total_annotations"] for t in setup.tasks()] == annotations
    assert [t["total_predictions"] for t in setup.tasks()] == [2, 1, 1, 0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["task", "list", "Reviews", "--filter", "total_predictions"],
            "is not COLUMN:OPERATOR:VALUE",
            id="no-operator",
        ),
        pytest.param(
            ["task", "list", "Reviews", "--filter", ":equal:1"],
            "is not COLUMN:OPERATOR:VALUE",
            id="no-column",
        ),
        pytest.param(
            ["task", "list", "Reviews", "--filter", "nope:equal:1"],
            "unknown column 'nope'",
            id="unknown-column",
        ),
        pytest.param(
            ["task", "list", "Reviews", "--filter", "id:like:1"],
            "filter id: unknown operator 'like'",
            id="unknown-operator",
        ),
        pytest.param(
            ["task", "list", "Reviews", "--filter", "id:in:5"],
            "filter id: in needs",
            id="range-not-an-object",
        ),
        pytest.param(
            ["task", "list", "Reviews", "--filter", "total_annotations:equal:many"],
            "filter total_annotations",
            id="not-a-number",
        ),
        pytest.param(
            ["task", "list", "Reviews", "--filter", "created_at:greater:yesterday"],
            "filter created_at",
            id="not-a-date",
        ),
        pytest.param(
            ["task", "list", "Reviews", "--order", "nope"],
            "order: unknown column 'nope'",
            id="order",
        ),
        pytest.param(
            ["predictions", "delete", "Reviews", "--filter", "total_predictions:more:0"],
            "unknown operator 'more'",
            id="delete-predictions-bad-filter",
        ),
        pytest.param(
            ["predictions", "delete", "Reviews", "--tasks", "1,x"],
            "tasks: '1,x' is neither all nor task ids",
            id="delete-predictions-bad-tasks",
        ),
        pytest.param(
            ["annotations", "delete", "Reviews", "--filter", "has_ground_truth:equal:maybe"],
            "filter has_ground_truth",
            id="delete-annotations-bad-filter",
        ),
        pytest.param(
            ["annotations", "from-predictions", "Reviews", "--version", "v1", "--filter", "x"],
            "is not COLUMN:OPERATOR:VALUE",
            id="from-predictions-bad-filter",
        ),
    ],
)
def test_a_bad_filter_or_selection_fails_with_one_line_and_changes_nothing(
    setup: Setup, args: list[str], message: str
) -> None:
    before = setup.tasks()
    result = setup.cli(*args)
    assert result.status == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert result.stdout == ""
    assert setup.tasks() == before
