"""The ``prelabel`` command, run in-process exactly as the console script runs it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from prelabel.store import ApiToken, Store
from tests.factories import ALL_CONTROLS_CONFIG, SENTIMENT_CONFIG, sentiment


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.xml"
    path.write_text(SENTIMENT_CONFIG)
    return path


def _create_project(cli, config_file: Path, title: str = "Reviews") -> int:  # type: ignore[no-untyped-def]
    result = cli("project", "create", "--title", title, "--config", str(config_file), "--json")
    assert result.status == 0, result.stderr
    return orjson.loads(result.stdout)["id"]


def test_init_creates_admin_and_prints_a_token_that_is_stored_hashed(cli, store: Store) -> None:
    result = cli("init", "--json")
    assert result.status == 0, result.stderr
    report = orjson.loads(result.stdout)
    assert report["created_admin"] is True and report["user"]["email"] == "admin@localhost"
    key = report["token"]
    with store.session() as session:
        digests = session.scalars(select(ApiToken.key_digest)).all()
    assert digests == [hashlib.sha256(key.encode()).hexdigest()]
    again = orjson.loads(cli("init", "--json").stdout)
    assert again["created_admin"] is False and again["token"] is None


def test_commands_on_an_uninitialised_database_say_to_run_init(tmp_path: Path, capsys) -> None:
    from prelabel.cli import main

    status = main(["--data-dir", str(tmp_path / "fresh"), "project", "list"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.strip().splitlines() == [err.strip()]
    assert "run `prelabel init`" in err


def test_project_create_and_list_as_json(cli, config_file: Path) -> None:
    project_id = _create_project(cli, config_file)
    listed = orjson.loads(cli("project", "list", "--json").stdout)
    assert [(p["id"], p["title"]) for p in listed] == [(project_id, "Reviews")]
    assert listed[0]["label_config"] == SENTIMENT_CONFIG


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param("<View><Text name='t' value='$t'/>", "config", id="malformed-xml"),
        pytest.param("<View><Text name='t' value='$t'/></View>", "control", id="no-control"),
    ],
)
def test_project_create_with_a_bad_config_fails_with_one_line(
    cli, tmp_path: Path, config: str, message: str
) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(config)
    result = cli("project", "create", "--title", "Bad", "--config", str(path))
    assert result.status == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert message in result.stderr.lower()
    assert orjson.loads(cli("project", "list", "--json").stdout) == []


def test_import_export_and_task_list_through_the_cli(
    cli, config_file: Path, tmp_path: Path
) -> None:
    project_id = _create_project(cli, config_file)
    source = tmp_path / "tasks.json"
    tasks = [
        {
            "data": {"text": f"review {i}"},
            "predictions": [{"result": sentiment("Positive"), "model_version": "v1"}],
        }
        for i in range(3)
    ]
    source.write_bytes(orjson.dumps(tasks))
    imported = cli("import", str(project_id), str(source), "--json")
    assert imported.status == 0, imported.stderr
    assert orjson.loads(imported.stdout) == {
        "project": project_id,
        "task_count": 3,
        "annotation_count": 0,
        "prediction_count": 3,
    }
    listed = orjson.loads(cli("task", "list", "Reviews", "--json").stdout)
    assert [t["data"]["text"] for t in listed] == ["review 0", "review 1", "review 2"]
    assert [t["total_predictions"] for t in listed] == [1, 1, 1]
    target = tmp_path / "out.jsonl"
    exported = cli("export", str(project_id), "--format", "jsonl", "-o", str(target), "--json")
    assert orjson.loads(exported.stdout)["tasks"] == 3
    lines = target.read_bytes().splitlines()
    assert [orjson.loads(line)["predictions"][0]["model_version"] for line in lines] == ["v1"] * 3
    to_stdout = cli("export", "Reviews")
    assert len(orjson.loads(to_stdout.stdout)) == 3


def test_import_of_a_bad_file_fails_with_one_line_and_imports_nothing(
    cli, config_file: Path, tmp_path: Path
) -> None:
    project_id = _create_project(cli, config_file)
    source = tmp_path / "tasks.jsonl"
    source.write_text('{"text": "ok"}\n{"txt": "missing"}\n')
    result = cli("import", str(project_id), str(source))
    assert result.status == 1
    assert result.stderr.startswith("error: line 2:") and result.stderr.count("\n") == 1
    assert orjson.loads(cli("task", "list", str(project_id), "--json").stdout) == []


def test_export_failure_leaves_no_partial_file(cli, config_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    result = cli("export", "999", "-o", str(target))
    assert result.status == 1 and "999" in result.stderr
    assert list(tmp_path.glob("out.json*")) == [] and list(tmp_path.glob(".out.json*")) == []


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("project", "create", "--title", "x"), id="missing-option"),
        pytest.param(("export", "1", "--format", "xml"), id="bad-choice"),
        pytest.param(("nonsense",), id="unknown-command"),
    ],
)
def test_misused_command_exits_2_with_one_line(cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.status == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_demo_loads_the_bundled_project_once(cli) -> None:
    first = orjson.loads(cli("demo", "--no-serve", "--json").stdout)
    assert first["summary"]["tasks"] == 60 and first["summary"]["ground_truth_tasks"] == 24
    assert first["token"] is not None
    second = orjson.loads(cli("demo", "--no-serve", "--json").stdout)
    assert second["project"]["id"] == first["project"]["id"]
    assert second["summary"]["tasks"] == 60 and second["token"] is None
    human = cli("demo", "--no-serve")
    assert "Product reviews (demo)" in human.stdout and "60 tasks" in human.stdout


def test_task_list_past_the_last_page_is_an_error(cli, config_file: Path) -> None:
    project_id = _create_project(cli, config_file, title="Empty")
    assert orjson.loads(cli("task", "list", str(project_id), "--json").stdout) == []
    result = cli("task", "list", str(project_id), "--page", "2")
    assert result.status == 1 and "past the last page" in result.stderr


def test_all_controls_config_is_accepted(cli, tmp_path: Path) -> None:
    path = tmp_path / "all.xml"
    path.write_text(ALL_CONTROLS_CONFIG)
    assert cli("project", "create", "--title", "All", "--config", str(path)).status == 0


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PRELABEL_MAX_UPLOAD_MB", "-1"), ("PRELABEL_QUEUE_NAME", "two words")],
)
def test_a_bad_setting_fails_with_one_line_naming_the_variable(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    from prelabel.cli import main

    monkeypatch.setenv(variable, value)
    status = main(["--data-dir", str(tmp_path), "project", "list"])
    error = capsys.readouterr().err
    assert status == 1
    assert error.startswith(f"error: {variable}: ") and len(error.strip().splitlines()) == 1
