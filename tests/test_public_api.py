"""The names ``import prelabel`` offers are chosen on purpose and stay sorted."""

from __future__ import annotations

from importlib.metadata import version

import prelabel


def test_public_api_is_sorted_and_complete() -> None:
    assert prelabel.__all__ == sorted(prelabel.__all__)
    assert all(hasattr(prelabel, name) for name in prelabel.__all__)


def test_every_exported_error_is_a_prelabel_error() -> None:
    errors = [getattr(prelabel, n) for n in prelabel.__all__ if n.endswith("Error")]
    assert all(issubclass(error, prelabel.PrelabelError) for error in errors)


def test_version_matches_the_installed_distribution() -> None:
    assert prelabel.__version__ == version("prelabel")
