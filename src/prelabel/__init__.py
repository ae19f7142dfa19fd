"""prelabel: LLM prompts to Label Studio predictions; evaluate and manage them.

The library surface: parse labeling configs, open a store, and the error tree. The operations
themselves live in ``prelabel.services``, which take a SQLAlchemy session from ``Store``.
"""

from prelabel.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    ImportFormatError,
    LabelConfigError,
    NotFoundError,
    PrelabelError,
    ResultError,
    StoreError,
    TaskDataError,
    ValidationError,
)
from prelabel.labeling import LabelConfig, parse_label_config
from prelabel.settings import Settings
from prelabel.store import Store

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "ForbiddenError",
    "ImportFormatError",
    "LabelConfig",
    "LabelConfigError",
    "NotFoundError",
    "PrelabelError",
    "ResultError",
    "Settings",
    "Store",
    "StoreError",
    "TaskDataError",
    "ValidationError",
    "__version__",
    "parse_label_config",
]
