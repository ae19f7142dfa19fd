"""Configs shared by the labeling tests: the LABEL_STUDIO.md §12 example and its task."""

from __future__ import annotations

import pytest

from prelabel.labeling import LabelConfig, parse_label_config
from tests.factories import ALL_CONTROLS_CONFIG

EXAMPLE_XML = ALL_CONTROLS_CONFIG


@pytest.fixture(scope="session")
def example() -> LabelConfig:
    """The config LABEL_STUDIO.md §12 uses for every probe: one control of each kind."""
    return parse_label_config(EXAMPLE_XML)


@pytest.fixture(scope="session")
def example_data() -> dict[str, str]:
    """A task for ``example`` whose text holds "Alice" at 0..5, as in the §11 Labels example."""
    return {"text": "Alice works at ACME with Bob; Alice likes it."}
