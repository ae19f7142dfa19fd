"""The ``prelabel`` command: one sub-command per service operation, all thin.

Every command accepts ``--json`` for scripting; any error ends the command with one line on
stderr and a non-zero exit status (1 for a failed operation, 2 for a misused command).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from prelabel.cli import (
    projects,
    prompts,
    providers,
    runs,
    server,
    setup,
    tasks,
    transfer,
    users,
    worker,
)
from prelabel.cli.context import global_options
from prelabel.errors import PrelabelError

app = typer.Typer(
    name="prelabel",
    help="Pre-label Label Studio tasks with LLM prompts; evaluate and manage the predictions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.callback()(global_options)
setup.register(app)
server.register(app)
worker.register(app)
transfer.register(app)
app.add_typer(projects.app, name="project")
app.add_typer(tasks.app, name="task")
app.add_typer(tasks.predictions_app, name="predictions")
app.add_typer(tasks.annotations_app, name="annotations")
app.add_typer(providers.app, name="provider")
app.add_typer(prompts.app, name="prompt")
app.add_typer(runs.app, name="run")
app.add_typer(users.users_app, name="user")
app.add_typer(users.tokens_app, name="token")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status instead of raising, so tests call it directly."""
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=list(argv) if argv is not None else None,
            prog_name="prelabel",
            standalone_mode=False,
        )
    except PrelabelError as exc:
        return _fail(exc.message, 1)
    except typer.Abort:
        return _fail("aborted", 1)
    except Exception as exc:
        # Typer's (vendored Click) usage errors: known by their interface, since the classes
        # are private to Typer. They carry their exit status (2 for a misused command).
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        context = getattr(exc, "ctx", None)
        hint = f" (see '{context.command_path} --help')" if context is not None else ""
        return _fail(f"{exc.format_message()}{hint}", exc.exit_code)
    return result if isinstance(result, int) else 0


def _fail(message: str, status: int) -> int:
    first_line = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"error: {first_line}", file=sys.stderr)
    return status


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
