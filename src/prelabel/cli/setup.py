"""``prelabel init`` and ``prelabel demo``: getting a store and a first project."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.engine import make_url

from prelabel.cli.context import (
    JsonOption,
    console,
    preview,
    print_json,
    settings_of,
    unit_of_work,
)
from prelabel.cli.reports import headline
from prelabel.cli.runs import execute_with_progress
from prelabel.cli.server import DEFAULT_ADMIN_EMAIL, HostOption, PortOption, serve_api
from prelabel.engine.job import RunOptions
from prelabel.services.connections import ensure_local_connection
from prelabel.services.demo import demo_prompt_version, load_demo_project
from prelabel.services.evaluations import run_report
from prelabel.services.projects import ProjectSummary, project_config, summarize_project
from prelabel.services.run_execution import Runtime, start_run
from prelabel.services.runs import Baseline, get_run
from prelabel.services.serialization import project_payload, user_payload
from prelabel.services.tasks import list_tasks
from prelabel.services.users import IssuedToken, create_first_admin, first_admin
from prelabel.store import Project

EmailOption = Annotated[str, typer.Option(help="E-mail of the first admin user.")]


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(demo)


def init(ctx: typer.Context, email: EmailOption = DEFAULT_ADMIN_EMAIL, json: JsonOption = False):
    """Create (or upgrade) the database and the first admin user; print their API token once."""
    with unit_of_work(ctx, create=True) as session:
        issued = create_first_admin(session, email=email)
        ensure_local_connection(session)
        user = issued.token.user_id if issued else None
        report = {
            "database": _safe_url(settings_of(ctx).resolved_database_url),
            "created_admin": issued is not None,
            "user": user_payload(first_admin(session)) if issued else None,
            "token": issued.key if issued else None,
        }
    if json:
        print_json(report)
        return
    out = console()
    out.print(f"Database ready: {report['database']}")
    if issued is None:
        out.print("Users already exist; no new admin or token was created.")
    else:
        out.print(f"Admin user {email} (id {user}) created. API token (shown once):")
        out.print(issued.key)


def demo(
    ctx: typer.Context,
    serve: Annotated[
        bool, typer.Option(help="Then serve the API with the demo project (until Ctrl-C).")
    ] = True,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8080,
    json: JsonOption = False,
):
    """Load the bundled demo project, pre-label it offline with the bundled local model, score
    it against its ground truth, then serve the API with the project loaded."""
    runtime = Runtime.from_settings(settings_of(ctx))
    with unit_of_work(ctx, create=True) as session:
        issued = create_first_admin(session, email=DEFAULT_ADMIN_EMAIL)
        project = load_demo_project(session, first_admin(session))
        version = demo_prompt_version(session, project)
        run = start_run(session, runtime, version, Baseline.parse("all"), RunOptions())
    ended = execute_with_progress(ctx, runtime, run.id, transient=True)
    with unit_of_work(ctx) as session:
        report = run_report(session, get_run(session, run.id))
        summary = summarize_project(session, project)
        sample = list_tasks(session, project, page=1, page_size=8).tasks
        controls = project_config(project).controls
    if json:
        print_json(
            {
                "project": project_payload(project),
                "summary": summary.__dict__,
                "run": ended,
                "report": report,
                "token": issued.key if issued else None,
            }
        )
    else:
        _print_demo(project, controls, summary, ended, report, sample, issued)
    if serve:
        serve_api(settings_of(ctx), host=host, port=port)


def _print_demo(
    project: Project,
    controls: Any,
    summary: ProjectSummary,
    ended: dict[str, Any],
    report: dict[str, Any],
    sample: list[dict[str, Any]],
    issued: IssuedToken | None,
) -> None:
    out = console()
    if issued is not None:
        out.print(f"Created admin {DEFAULT_ADMIN_EMAIL}; API token (shown once): {issued.key}")
    out.print(f"[bold]{project.title}[/bold] (project {project.id}): {project.description}")
    for control in controls.values():
        options = ", ".join(option.label for option in getattr(control, "options", ()))
        out.print(f"  {control.tag} [bold]{control.name}[/bold]: {options}")
    out.print(
        f"{summary.tasks} tasks, {summary.annotations} annotations "
        f"({summary.ground_truth_tasks} tasks with ground truth), "
        f"{summary.predictions} predictions"
    )
    out.print(
        f"Run {ended['id']} of the local model: {ended['status']}, {ended['done']} predicted, "
        f"{ended['failed']} failed, in {ended['model_version']!r}."
    )
    out.print(f"Against the {report['tasks']} ground-truth tasks (each answered without its own):")
    for name, metrics in report["controls"].items():
        out.print(f"  {name}: {headline(metrics)}")
    out.print(f"Full report: prelabel run report {ended['id']}")
    table = Table("id", "text", "ground truth", "prediction", "score")
    for task in sample:
        truth = [_choices(a["result"]) for a in task["annotations"] if a["ground_truth"]]
        ours = [p for p in task["predictions"] if p["model_version"] == ended["model_version"]]
        table.add_row(
            str(task["id"]),
            preview(task["data"].get("text", ""), 50),
            truth[0] if truth else "",
            _choices(ours[0]["result"]) if ours else "",
            f"{ours[0]['score']:.2f}" if ours and ours[0]["score"] is not None else "",
        )
    out.print(table)


def _choices(result: list[dict]) -> str:
    """``Positive | Price, Quality``: each region's choices, region by region."""
    return " | ".join(", ".join(region["value"].get("choices", [])) for region in result)


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
