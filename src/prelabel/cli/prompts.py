"""``prelabel prompt ...``: prompts and their versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from prelabel.cli.context import JsonOption, console, print_json, unit_of_work
from prelabel.cli.reports import print_comparison
from prelabel.errors import ValidationError
from prelabel.services.connections import find_connection
from prelabel.services.evaluations import compare_versions
from prelabel.services.projects import find_project
from prelabel.services.prompts import (
    create_prompt,
    get_version,
    list_prompts,
    prompt_of,
    render_messages,
    save_version,
    save_version_as,
)
from prelabel.services.serialization import prompt_payload, version_payload

app = typer.Typer(help="Create prompts, edit and compare their versions.", no_args_is_help=True)

TemplateOption = Annotated[
    str | None, typer.Option(help="Template text, or @FILE to read it from a file.")
]
ProviderOption = Annotated[str | None, typer.Option("--provider", help="Connection name.")]
ModelOption = Annotated[str | None, typer.Option(help="Model (default: the connection's).")]
TemperatureOption = Annotated[float | None, typer.Option(help="Sampling temperature, 0-2.")]
MaxTokensOption = Annotated[int | None, typer.Option(help="Answer length limit in tokens.")]
SeedOption = Annotated[int | None, typer.Option(help="Sampling seed, where supported.")]
TopPOption = Annotated[float | None, typer.Option(help="Nucleus sampling, 0-1.")]
VersionArgument = Annotated[int, typer.Argument(help="Prompt version id.")]


@app.command("create")
def create(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project id or exact title.")],
    name: Annotated[str, typer.Option(help="Prompt name, unique in the project.")],
    template: Annotated[str, typer.Option(help="Template text, or @FILE to read it from a file.")],
    provider: Annotated[
        str, typer.Option(help="Provider connection name (the bundled model: local).")
    ] = "local",
    model: ModelOption = None,
    title: Annotated[str, typer.Option(help="Title of the first version.")] = "v1",
    description: Annotated[str, typer.Option(help="What the prompt is for.")] = "",
    temperature: TemperatureOption = None,
    max_tokens: MaxTokensOption = None,
    seed: SeedOption = None,
    top_p: TopPOption = None,
    json: JsonOption = False,
):
    """Create a prompt and its first version."""
    with unit_of_work(ctx) as session:
        prompt, version = create_prompt(
            session,
            find_project(session, project),
            name=name,
            template=_template_text(template),
            connection=find_connection(session, provider),
            model=model,
            parameters=_parameters(temperature, max_tokens, seed, top_p),
            description=description,
            title=title,
        )
        payload = {**prompt_payload(prompt, [version]), "version_id": version.id}
    if json:
        print_json(payload)
    else:
        console().print(f"Created prompt {prompt.id} ({name}) with version {version.id} ({title}).")


@app.command("list")
def list_(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project id or exact title.")],
    json: JsonOption = False,
):
    """List a project's prompts and their versions."""
    with unit_of_work(ctx) as session:
        payloads = [
            prompt_payload(prompt, versions)
            for prompt, versions in list_prompts(session, find_project(session, project))
        ]
    if json:
        print_json(payloads)
        return
    table = Table("version id", "model version", "model", "updated")
    for prompt in payloads:
        for version in prompt["versions"]:
            updated = version["updated_at"].strftime("%Y-%m-%d %H:%M")
            table.add_row(str(version["id"]), version["model_version"], version["model"], updated)
    console().print(table)


@app.command("save")
def save(
    ctx: typer.Context,
    version: VersionArgument,
    template: TemplateOption = None,
    provider: ProviderOption = None,
    model: ModelOption = None,
    temperature: TemperatureOption = None,
    max_tokens: MaxTokensOption = None,
    seed: SeedOption = None,
    top_p: TopPOption = None,
    json: JsonOption = False,
):
    """Edit a version in place; its predictions no longer describe it and are deleted."""
    with unit_of_work(ctx) as session:
        target = get_version(session, version)
        changes = _changes(session, template, provider, model)
        parameters = _changed_parameters(target.parameters, temperature, max_tokens, seed, top_p)
        saved = save_version(session, target, parameters=parameters, **changes)
        payload = {
            **version_payload(prompt_of(session, target), saved.version),
            "deleted_predictions": saved.deleted_predictions,
        }
    if json:
        print_json(payload)
    else:
        console().print(
            f"Saved version {version}; deleted its {saved.deleted_predictions} prediction(s)."
        )


@app.command("save-as")
def save_as(
    ctx: typer.Context,
    version: VersionArgument,
    title: Annotated[str, typer.Option(help="Title of the new version.")],
    template: TemplateOption = None,
    provider: ProviderOption = None,
    model: ModelOption = None,
    temperature: TemperatureOption = None,
    max_tokens: MaxTokensOption = None,
    seed: SeedOption = None,
    top_p: TopPOption = None,
    json: JsonOption = False,
):
    """Create a new version from an existing one, with the given changes."""
    with unit_of_work(ctx) as session:
        source = get_version(session, version)
        changes = _changes(session, template, provider, model)
        parameters = _changed_parameters(source.parameters, temperature, max_tokens, seed, top_p)
        created = save_version_as(session, source, title=title, parameters=parameters, **changes)
        payload = version_payload(prompt_of(session, created), created)
    if json:
        print_json(payload)
    else:
        console().print(f"Created version {payload['id']} ({payload['model_version']}).")


@app.command("compare")
def compare(
    ctx: typer.Context,
    versions: Annotated[list[int], typer.Argument(help="Two or more prompt version ids.")],
    json: JsonOption = False,
):
    """Compare versions on the ground-truth tasks they all predicted: metrics, cost, latency."""
    with unit_of_work(ctx) as session:
        result = compare_versions(session, [get_version(session, v) for v in versions])
    if json:
        print_json(result)
    else:
        print_comparison(console(), result)


@app.command("render")
def render(
    ctx: typer.Context,
    version: VersionArgument,
    task: Annotated[int, typer.Option("--task", help="Task id.")],
    json: JsonOption = False,
):
    """Print the exact messages a version sends for one task."""
    with unit_of_work(ctx) as session:
        messages = render_messages(session, get_version(session, version), task)
    if json:
        print_json(messages.as_openai())
        return
    out = console()
    out.rule("system")
    out.print(messages.system, markup=False)
    out.rule("user")
    out.print(messages.user, markup=False)


def _changes(
    session: Session,
    template: str | None,
    provider: str | None,
    model: str | None,
) -> dict[str, Any]:
    """The edits both ``save`` and ``save-as`` accept, resolved; None means unchanged."""
    return {
        "template": _template_text(template) if template is not None else None,
        "connection": find_connection(session, provider) if provider else None,
        "model": model,
    }


def _template_text(value: str) -> str:
    if not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read template file {path}: {exc}") from exc


def _parameters(
    temperature: float | None, max_tokens: int | None, seed: int | None, top_p: float | None
) -> dict[str, Any]:
    given = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed, "top_p": top_p}
    return {name: value for name, value in given.items() if value is not None}


def _changed_parameters(
    current: dict[str, Any],
    temperature: float | None,
    max_tokens: int | None,
    seed: int | None,
    top_p: float | None,
) -> dict[str, Any] | None:
    changes = _parameters(temperature, max_tokens, seed, top_p)
    return {**current, **changes} if changes else None
