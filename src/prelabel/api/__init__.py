"""The REST API: Label Studio's paths and JSON, plus prelabel's prompts and runs."""

from __future__ import annotations

from prelabel.api.app import create_app

__all__ = ["create_app"]
