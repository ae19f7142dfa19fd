"""``prelabel provider`` and ``prelabel prompt`` commands, run in-process."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.factories import SENTIMENT_CONFIG

KEY = "sk-cli-UNMISTAKABLE-987"


@pytest.fixture
def project_id(cli, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.xml"
    config.write_text(SENTIMENT_CONFIG)
    created = cli("project", "create", "--title", "Reviews", "--config", str(config), "--json")
    return orjson.loads(created.stdout)["id"]


def test_provider_add_list_remove_never_prints_the_key(cli) -> None:
    added = cli(
        "provider",
        "add",
        "--name",
        "openai",
        "--kind",
        "openai",
        "--api-key",
        KEY,
        "--model",
        "gpt-4o-mini",
        "--json",
    )
    assert added.status == 0, added.stderr
    assert KEY not in added.stdout and orjson.loads(added.stdout)["has_api_key"] is True
    listed = cli("provider", "list")
    assert "openai" in listed.stdout and KEY not in listed.stdout
    assert KEY not in cli("provider", "list", "--json").stdout
    assert cli("provider", "remove", "openai").status == 0
    assert orjson.loads(cli("provider", "list", "--json").stdout) == []


def test_provider_add_with_a_bad_url_fails_with_one_line(cli) -> None:
    result = cli("provider", "add", "--name", "x", "--kind", "openai", "--base-url", "nope")
    assert result.status == 1 and result.stderr.count("\n") == 1 and "base_url" in result.stderr


def test_prompt_create_save_and_save_as(cli, project_id: int, tmp_path: Path) -> None:
    cli("provider", "add", "--name", "local", "--kind", "local", "--model", "embedded")
    template = tmp_path / "prompt.txt"
    template.write_text("Review: {text}\nPositive: the reviewer liked it")
    created = cli(
        "prompt",
        "create",
        str(project_id),
        "--name",
        "sentiment",
        "--template",
        f"@{template}",
        "--provider",
        "local",
        "--temperature",
        "0",
        "--json",
    )
    assert created.status == 0, created.stderr
    payload = orjson.loads(created.stdout)
    version_id = payload["version_id"]
    assert payload["versions"][0]["model_version"] == "sentiment__v1"
    saved = orjson.loads(cli("prompt", "save", str(version_id), "--seed", "3", "--json").stdout)
    assert saved["parameters"] == {"temperature": 0.0, "seed": 3}
    assert saved["deleted_predictions"] == 0
    copy = cli("prompt", "save-as", str(version_id), "--title", "v2", "--json")
    assert orjson.loads(copy.stdout)["model_version"] == "sentiment__v2"
    listed = orjson.loads(cli("prompt", "list", "Reviews", "--json").stdout)
    assert [v["title"] for v in listed[0]["versions"]] == ["v1", "v2"]


def test_prompt_create_with_an_unknown_variable_names_the_fields(cli, project_id: int) -> None:
    cli("provider", "add", "--name", "local", "--kind", "local", "--model", "embedded")
    result = cli(
        "prompt",
        "create",
        str(project_id),
        "--name",
        "p",
        "--template",
        "{review}",
        "--provider",
        "local",
    )
    assert result.status == 1
    assert "review" in result.stderr and "text" in result.stderr
    assert result.stderr.count("\n") == 1


def test_prompt_render_prints_the_exact_messages(cli, project_id: int, tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.json"
    tasks.write_text('[{"text": "Great kettle {really}"}]')
    cli("import", str(project_id), str(tasks))
    cli("provider", "add", "--name", "local", "--kind", "local", "--model", "embedded")
    created = cli(
        "prompt",
        "create",
        str(project_id),
        "--name",
        "p",
        "--template",
        "Review: {text} {{verbatim}}",
        "--provider",
        "local",
        "--json",
    )
    version_id = orjson.loads(created.stdout)["version_id"]
    task_id = orjson.loads(cli("task", "list", str(project_id), "--json").stdout)[0]["id"]
    messages = orjson.loads(
        cli("prompt", "render", str(version_id), "--task", str(task_id), "--json").stdout
    )
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[1]["content"] == "Review: Great kettle {really} {verbatim}"
    assert "Positive" in messages[0]["content"] and "Negative" in messages[0]["content"]
    human = cli("prompt", "render", str(version_id), "--task", str(task_id))
    assert "Review: Great kettle {really} {verbatim}" in human.stdout
    missing = cli("prompt", "render", str(version_id), "--task", "999")
    assert missing.status == 1 and "999" in missing.stderr
