"""The docs describe the code as it is: every setting, every command's help."""

from __future__ import annotations

from pathlib import Path

import pytest
from cogapp import Cog

from prelabel.settings import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`PRELABEL_{name.upper()}`" in (DOCS / "configuration.md").read_text()


def test_cli_reference_matches_the_commands_help() -> None:
    status = Cog().main(["cog", "--check", "-I", str(DOCS.parent), str(DOCS / "cli.md")])
    assert status == 0, "docs/cli.md is out of date: run `PYTHONPATH=. cog -r docs/cli.md`"
