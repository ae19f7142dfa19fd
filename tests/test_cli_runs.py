"""``prelabel run`` commands, in-process, against the fake LLM server."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.factories import SENTIMENT_CONFIG
from tests.fakes.llm_server import FakeLLMServer, Fault

KEY = "sk-runs-UNMISTAKABLE-123"


@pytest.fixture
def version_id(cli, tmp_path: Path, fake_llm: FakeLLMServer) -> int:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.xml"
    config.write_text(SENTIMENT_CONFIG)
    tasks = tmp_path / "tasks.json"
    tasks.write_bytes(orjson.dumps([{"text": f"review {i}"} for i in range(12)]))
    project = orjson.loads(
        cli("project", "create", "--title", "Reviews", "--config", str(config), "--json").stdout
    )["id"]
    assert cli("import", str(project), str(tasks)).status == 0
    added = cli(
        "provider",
        "add",
        "--name",
        "fake",
        "--kind",
        "openai",
        "--base-url",
        fake_llm.base_url,
        "--api-key",
        KEY,
        "--model",
        "gpt-4o-mini",
    )
    assert added.status == 0, added.stderr
    created = cli(
        "prompt",
        "create",
        str(project),
        "--name",
        "p",
        "--template",
        "Review: {text}",
        "--provider",
        "fake",
        "--json",
    )
    return orjson.loads(created.stdout)["version_id"]


def _json(result) -> dict:  # type: ignore[no-untyped-def]
    assert result.status == 0, result.stderr
    return orjson.loads(result.stdout)


def test_run_start_prints_the_finished_run_and_status_and_list_show_it(
    cli, version_id: int
) -> None:
    run = _json(cli("run", "start", str(version_id), "--baseline", "sample:5:1", "--json"))

    assert (run["status"], run["total"], run["done"], run["failed"]) == ("Completed", 5, 5, 0)
    assert run["prompt_version"] == version_id and run["cost_usd"] > 0
    assert run["failures"] == {}
    status = _json(cli("run", "status", str(run["id"]), "--json"))
    assert status["id"] == run["id"] and status["status"] == "Completed"
    listed = _json(cli("run", "list", str(run["project"]), "--json"))
    assert [r["id"] for r in listed] == [run["id"]]
    table = cli("run", "status", str(run["id"]))
    assert "Completed" in table.stdout and "5 done" in table.stdout
    assert KEY not in table.stdout + table.stderr


def test_failures_are_listed_and_retry_failed_redoes_only_them(
    cli, version_id: int, fake_llm: FakeLLMServer
) -> None:
    fake_llm.script(Fault("off_schema"), Fault("malformed"))
    run = _json(cli("run", "start", str(version_id), "--concurrency", "1", "--json"))
    assert (run["done"], run["failed"], run["failures"]) == (10, 2, {"invalid_output": 2})

    failures = _json(cli("run", "failures", str(run["id"]), "--json"))
    assert [f["kind"] for f in failures] == ["invalid_output"] * 2
    assert all(f["message"] and f["raw_excerpt"] for f in failures)

    retried = _json(cli("run", "retry-failed", str(run["id"]), "--json"))
    assert (retried["status"], retried["done"], retried["failed"]) == ("Completed", 12, 0)
    assert fake_llm.request_count == 14

    again = cli("run", "retry-failed", str(run["id"]))
    assert again.status == 1 and "no failed task" in again.stderr


def test_a_budget_stop_is_reported_and_resume_with_a_larger_budget_finishes(
    cli, version_id: int
) -> None:
    stopped = _json(
        cli("run", "start", str(version_id), "--budget", "0.00001", "--concurrency", "1", "--json")
    )
    assert stopped["status"] == "Canceled" and "budget" in stopped["error"]
    assert stopped["pending"] > 0

    second = cli("run", "start", str(version_id))
    assert second.status == 0 and "Completed" in second.stdout, "a stopped run frees the version"

    resumed = _json(cli("run", "resume", str(stopped["id"]), "--budget", "5", "--json"))
    assert (resumed["status"], resumed["done"], resumed["options"]["budget_usd"]) == (
        "Completed",
        12,
        5.0,
    )


def test_a_refused_key_fails_the_run_with_exit_status_1(
    cli, version_id: int, fake_llm: FakeLLMServer
) -> None:
    fake_llm.fail_randomly(1.0, ["auth"], seed=0)
    result = cli("run", "start", str(version_id), "--json")

    assert result.status == 1
    run = orjson.loads(result.stdout)
    assert run["status"] == "Failed" and "refused the API key" in run["error"]


def test_estimate_projects_tokens_and_cost_before_a_run(cli, version_id: int) -> None:
    estimate = _json(cli("run", "estimate", str(version_id), "--baseline", "all", "--json"))

    assert estimate["tasks"] == 12 and estimate["output_basis"] == "schema"
    low, expected, high = (estimate["input_tokens"][k] for k in ("low", "expected", "high"))
    assert 0 < low < expected < high
    assert 0 < estimate["cost_usd"]["low"] < estimate["cost_usd"]["high"]
    run = _json(cli("run", "start", str(version_id), "--json"))
    assert low <= run["input_tokens"] <= high, "the estimate brackets what the run used"
    assert "expected" in cli("run", "estimate", str(version_id)).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--baseline", "some"], "baseline: 'some' is not one of", id="baseline"),
        pytest.param(["--concurrency", "0"], "concurrency: must be", id="concurrency"),
        pytest.param(["--budget", "-1"], "budget_usd: must be a positive amount", id="budget"),
        pytest.param(["--baseline", "ids:99999"], "not tasks of project", id="unknown-task"),
    ],
)
def test_bad_run_options_fail_with_one_line_and_create_no_run(
    cli, version_id: int, args: list[str], message: str
) -> None:
    result = cli("run", "start", str(version_id), *args)

    assert result.status == 1 and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert _json(cli("run", "list", "1", "--json")) == []


def test_commands_on_unknown_runs_and_finished_runs_say_why(cli, version_id: int) -> None:
    assert "Run 404 not found" in cli("run", "status", "404").stderr
    run = _json(cli("run", "start", str(version_id), "--baseline", "ids:1", "--json"))
    cancel = cli("run", "cancel", str(run["id"]))
    assert cancel.status == 1 and "only a Pending or Running run" in cancel.stderr
    resume = cli("run", "resume", str(run["id"]))
    assert resume.status == 1 and "Completed" in resume.stderr
