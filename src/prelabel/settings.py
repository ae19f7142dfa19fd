"""Configuration, read once from ``PRELABEL_*`` environment variables (or passed explicitly).

Every setting is declared here with its help text; `docs/configuration.md` documents each of
them and a test keeps the two in step.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".prelabel"


class Settings(BaseSettings):
    """What a prelabel process needs to know about its environment."""

    model_config = SettingsConfigDict(env_prefix="PRELABEL_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Directory holding the embedded SQLite database and other local state.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the database, e.g. postgresql+psycopg://user@host/db. "
            "Unset: SQLite at <data_dir>/prelabel.db."
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Server secret that encrypts provider API keys at rest. Unset: a random secret "
            "kept in <data_dir>/secret.key. Set it when several machines share a database."
        ),
    )
    import_batch_size: int = Field(
        default=2000,
        ge=1,
        le=100_000,
        description="Tasks parsed, validated and written per batch during import and export.",
    )
    prices_file: Path | None = Field(
        default=None,
        description=(
            "A JSON file whose entries override or extend the shipped price table (USD per "
            "million input and output tokens per model). Unset: the shipped prices only."
        ),
    )

    max_upload_mb: float = Field(
        default=200,
        gt=0,
        description=(
            "Largest request body the API accepts, in megabytes (an import file, say); a "
            "larger one is refused with HTTP 413 before it is read."
        ),
    )
    secure_cookies: bool = Field(
        default=False,
        description=(
            "Mark the web app's session cookie Secure, so that browsers send it over HTTPS "
            "only; set it when the server is behind HTTPS."
        ),
    )
    run_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description=(
            "Runs the server executes at once in-process; more wait, Pending, for a free slot."
        ),
    )

    redis_url: str | None = Field(
        default=None,
        description=(
            "Redis URL, e.g. redis://127.0.0.1:6379/0. Set: runs are split into chunk jobs "
            "on an RQ queue that `prelabel worker` processes execute, with rate and "
            "concurrency limits counted in Redis across them, and failed web logins too. "
            "Unset: the server executes runs in-process."
        ),
    )
    queue_name: str = Field(
        default="prelabel",
        pattern=r"^[A-Za-z0-9_-]{1,100}$",
        description=(
            "Name of the RQ queue the chunk jobs go to (with PRELABEL_REDIS_URL): letters, "
            "digits, '_' and '-', as it is part of each job's id."
        ),
    )
    chunk_size: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description=(
            "Tasks per chunk job when runs are executed by workers: smaller chunks spread a "
            "run over more workers, larger ones cost fewer jobs."
        ),
    )

    @property
    def resolved_database_url(self) -> str:
        """The URL actually used: the configured one, or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'prelabel.db'}"
