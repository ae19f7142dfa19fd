"""Runs are evaluated against the ground truth when they end; reports drill down to tasks,
and versions compare side by side."""

from __future__ import annotations

import re
from typing import Any

import pytest

from prelabel.engine.job import RunOptions
from prelabel.errors import ValidationError
from prelabel.services.evaluations import cell_tasks, compare_versions, run_report
from prelabel.services.prompts import save_version_as
from prelabel.services.run_execution import execute_run, start_run
from prelabel.services.runs import Baseline
from prelabel.store import Project, PromptVersion, Run, Store
from tests.engine.conftest import RUNTIME
from tests.factories import import_json, make_project, sentiment
from tests.fakes.llm_server import FakeLLMServer, Fault, request_schema

# Tasks 1-10 carry ground truth: Positive when even, Negative when odd. Task 10 also has an
# older ground truth saying Negative, which must not be the reference.
GROUND_TRUTH = {n: "Positive" if n % 2 == 0 else "Negative" for n in range(1, 11)}


@pytest.fixture
def project(store: Store) -> Project:
    tasks: list[dict[str, Any]] = []
    for n in range(1, 21):
        task: dict[str, Any] = {"data": {"text": f"review number {n}"}}
        if n in GROUND_TRUTH:
            task["annotations"] = [{"result": sentiment(GROUND_TRUTH[n]), "ground_truth": True}]
        if n == 10:
            task["annotations"].insert(0, {"result": sentiment("Negative"), "ground_truth": True})
        tasks.append(task)
    with store.session() as session:
        project = make_project(session)
        import_json(session, project, tasks)
    return project


def _answer(wrong: set[int]) -> Any:
    """Positive for even review numbers, Negative for odd, except the numbers in ``wrong``."""

    def respond(body: dict[str, Any]) -> object:
        assert request_schema(body) is not None
        n = int(re.findall(r"review number (\d+)", body["messages"][-1]["content"])[0])
        right = "Positive" if n % 2 == 0 else "Negative"
        return {"sentiment": ({"Positive", "Negative"} - {right}).pop() if n in wrong else right}

    return respond


def _run(store: Store, version_id: int, baseline: str, *, cache: bool = True) -> Run:
    with store.session() as session:
        version = session.get(PromptVersion, version_id)
        options = RunOptions(concurrency=1, cache=cache)
        run = start_run(session, RUNTIME, version, Baseline.parse(baseline), options)
    return execute_run(store, RUNTIME, run.id)


def test_a_ground_truth_run_is_scored_and_its_cells_list_their_tasks(
    store: Store, project: Project, version: PromptVersion, fake_llm: FakeLLMServer
) -> None:
    fake_llm.responder = _answer(wrong={3, 4})
    fake_llm.script(Fault("bad_request"))  # the first task (1) fails
    run = _run(store, version.id, "ground-truth")

    with store.session() as session:
        report = run_report(session, session.get(Run, run.id))
        confused = cell_tasks(
            session, session.get(Run, run.id), "sentiment/confusion/Negative/Positive"
        )
        failed = cell_tasks(session, session.get(Run, run.id), "failure/bad_request")
    assert report["tasks"] == 10
    assert report["accuracy"] == pytest.approx(7 / 10), "tasks 1 (failed), 3 and 4 are wrong"
    assert report["failures"] == {"bad_request": 1}
    sentiment_metrics = report["controls"]["sentiment"]
    assert sentiment_metrics["accuracy"] == pytest.approx(7 / 10)
    assert sentiment_metrics["confusion_matrix"]["rows"] == [[3, 1, 1], [1, 4, 0]]
    assert [row["task"] for row in confused] == [3]
    assert confused[0]["ground_truth"] == sentiment("Negative")
    assert confused[0]["prediction"] == sentiment("Positive")
    assert [row["task"] for row in failed] == [1] and failed[0]["failure"]
    assert report["run"]["outputs"] == 9 and report["run"]["latency_ms"]["p50"] is not None
    assert "newest" in report["reference"]


def test_the_newest_ground_truth_is_the_reference(
    store: Store, project: Project, version: PromptVersion, fake_llm: FakeLLMServer
) -> None:
    fake_llm.responder = _answer(wrong=set())
    run = _run(store, version.id, "ids:10")

    with store.session() as session:
        report = run_report(session, session.get(Run, run.id))
    assert report["accuracy"] == 1.0, "task 10's newer Positive is the reference, not Negative"


def test_a_run_without_ground_truth_reports_outputs_cost_and_latency_only(
    store: Store, project: Project, version: PromptVersion, fake_llm: FakeLLMServer
) -> None:
    run = _run(store, version.id, "ids:15,16")

    with store.session() as session:
        report = run_report(session, session.get(Run, run.id))
        with pytest.raises(ValidationError, match="has no cell 'sentiment/tp/Positive'"):
            cell_tasks(session, session.get(Run, run.id), "sentiment/tp/Positive")
    assert (report["tasks"], report["accuracy"], report["controls"]) == (0, None, {})
    assert report["run"]["outputs"] == 2 and report["run"]["cost_usd"] > 0


def test_the_stored_report_keeps_what_the_run_measured(
    store: Store, project: Project, version: PromptVersion, fake_llm: FakeLLMServer
) -> None:
    fake_llm.responder = _answer(wrong={2})
    first = _run(store, version.id, "ground-truth")
    fake_llm.responder = _answer(wrong=set())
    second = _run(store, version.id, "ground-truth", cache=False)  # replaces every prediction

    with store.session() as session:
        stored = run_report(session, session.get(Run, first.id))
        latest = run_report(session, session.get(Run, second.id))
    assert (stored["accuracy"], latest["accuracy"]) == (pytest.approx(9 / 10), 1.0)


def test_versions_compare_on_the_tasks_all_of_them_predicted(
    store: Store, project: Project, version: PromptVersion, fake_llm: FakeLLMServer
) -> None:
    fake_llm.responder = _answer(wrong=set())
    _run(store, version.id, "ground-truth")
    with store.session() as session:
        second = save_version_as(
            session, session.get(PromptVersion, version.id), title="v2", template="Text: {text}"
        )
    fake_llm.responder = _answer(wrong={5, 6})
    _run(store, second.id, "ids:1,2,3,4,5,6")

    with store.session() as session:
        versions = [session.get(PromptVersion, v) for v in (version.id, second.id)]
        comparison = compare_versions(session, versions)
        with pytest.raises(ValidationError, match="at least two different versions"):
            compare_versions(session, versions[:1])
    assert comparison["tasks"] == 6
    assert [row["report"]["accuracy"] for row in comparison["versions"]] == [
        1.0,
        pytest.approx(4 / 6),
    ]
    assert comparison["disagreements"] == [5, 6]
    assert [row["model_version"] for row in comparison["versions"]] == ["p__v1", "p__v2"]


def test_report_cells_and_compare_through_the_cli(
    cli, store: Store, project: Project, version: PromptVersion, fake_llm: FakeLLMServer
) -> None:  # type: ignore[no-untyped-def]
    import orjson

    fake_llm.responder = _answer(wrong={4})
    run = _run(store, version.id, "ground-truth")

    report = orjson.loads(cli("run", "report", str(run.id), "--json").stdout)
    assert report["accuracy"] == pytest.approx(9 / 10)
    table = cli("run", "report", str(run.id)).stdout
    assert "confusion matrix" in table and "90.0%" in table
    rows = orjson.loads(
        cli("run", "tasks", str(run.id), "--cell", "sentiment/fn/Positive", "--json").stdout
    )
    assert [row["task"] for row in rows] == [4]
    bad = cli("run", "tasks", str(run.id), "--cell", "nonsense")
    assert bad.status == 1 and bad.stderr.count("\n") == 1 and "no cell 'nonsense'" in bad.stderr


def test_prompt_compare_prints_one_row_per_version(
    cli, store: Store, project: Project, version: PromptVersion, fake_llm: FakeLLMServer
) -> None:  # type: ignore[no-untyped-def]
    fake_llm.responder = _answer(wrong=set())
    _run(store, version.id, "ground-truth")
    with store.session() as session:
        second = save_version_as(session, session.get(PromptVersion, version.id), title="v2")
    fake_llm.responder = _answer(wrong={1})
    _run(store, second.id, "ground-truth", cache=False)

    shown = cli("prompt", "compare", str(version.id), str(second.id))

    assert shown.status == 0, shown.stderr
    assert "p__v1" in shown.stdout and "p__v2" in shown.stdout
    assert "disagree on 1 task(s): 1" in shown.stdout


def test_latency_percentiles_are_those_of_the_run_calls(
    store: Store, project: Project, version: PromptVersion, fake_llm: FakeLLMServer
) -> None:
    from sqlalchemy import select

    from prelabel.evaluation import percentile
    from prelabel.store import Prediction

    run = _run(store, version.id, "all")

    with store.session() as session:
        report = run_report(session, session.get(Run, run.id))
        latencies = list(
            session.scalars(select(Prediction.latency_ms).where(Prediction.run_id == run.id))
        )
    assert len(latencies) == 20
    assert report["run"]["latency_ms"] == {
        "p50": pytest.approx(percentile(latencies, 0.5)),
        "p95": pytest.approx(percentile(latencies, 0.95)),
    }
