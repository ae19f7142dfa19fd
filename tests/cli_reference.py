"""Renders every command's ``--help`` into docs/cli.md (through cog) so the docs stay true."""

from __future__ import annotations

import typer

from prelabel.cli import app


def reference() -> str:
    root = typer.main.get_command(app)
    sections: list[str] = []

    def visit(command, path: list[str], parent) -> None:  # type: ignore[no-untyped-def]
        context = command.make_context(
            path[-1], ["--help"], parent=parent, resilient_parsing=True, terminal_width=80
        )
        sections.append(f"\n## `{' '.join(path)}`\n\n```\n{command.get_help(context)}\n```\n")
        for name in sorted(getattr(command, "commands", {})):
            visit(command.commands[name], [*path, name], context)

    visit(root, ["prelabel"], None)
    return "".join(sections)
