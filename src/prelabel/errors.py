"""The one exception tree of prelabel.

Every error a user can cause or meet is a ``PrelabelError``. Services raise these and never
HTTP or CLI errors; the API maps them to HTTP in one place (by ``status``) and the CLI prints
their message as one line. Catch a family to handle all of its members::

    PrelabelError                     status 500, a bug or an unexpected state
    ├── NotFoundError                 404, a project/task/... id that does not exist
    ├── ConflictError                 409, the request contradicts what is stored
    ├── ValidationError               400, input that breaks a rule
    │   ├── LabelConfigError          a labeling config that cannot be used
    │   ├── TaskDataError             task data that does not fit the config
    │   ├── ResultError               an annotation/prediction result that does not fit the config
    │   ├── ImportFormatError         a file that cannot be read as the format it claims
    │   └── TemplateError             a prompt template that cannot be parsed or rendered
    ├── AuthenticationError           401, a missing or unknown API token, a failed login
    ├── ForbiddenError                403, a request refused whoever sends it (a web form
    │                                 without its CSRF token)
    ├── StoreError                    503, a database that is absent or not initialised
    ├── ProviderError                 502, a model provider failed a request
    │   ├── ProviderRateLimited       429 from the provider; carries ``retry_after``
    │   ├── ProviderTimeout           no answer within the request timeout
    │   ├── ProviderUnavailable       5xx or a connection error: worth retrying
    │   ├── ProviderAuthError         401/403: the key is wrong; retrying cannot help
    │   ├── ProviderRequestError      any other 4xx: the request itself is wrong
    │   └── ProviderRefusal           the model declined to answer
    └── ModelOutputError              502, an answer that cannot be read as the schema asks,
                                      even after safe repairs; carries a raw ``excerpt``
"""

from __future__ import annotations


class PrelabelError(Exception):
    """Base of every error prelabel raises on purpose; ``message`` is fit to show a user."""

    status = 500
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(PrelabelError):
    """Raised when an object named by id (project, task, user...) does not exist."""

    status = 404
    code = "not_found"


class ConflictError(PrelabelError):
    """Raised when a request contradicts stored state, such as a duplicate unique name."""

    status = 409
    code = "conflict"


class ValidationError(PrelabelError):
    """Raised for input that breaks a rule; the message names the field and the reason."""

    status = 400
    code = "invalid"


class LabelConfigError(ValidationError):
    """Raised when a Label Studio labeling config (XML) is malformed or inconsistent."""

    code = "invalid_label_config"


class TaskDataError(ValidationError):
    """Raised when a task's ``data`` lacks a field the config needs or has the wrong type."""

    code = "invalid_task_data"


class ResultError(ValidationError):
    """Raised when a ``result`` names an unknown control or holds a value the control forbids."""

    code = "invalid_result"


class ImportFormatError(ValidationError):
    """Raised when an import file cannot be parsed, or one of its tasks is malformed."""

    code = "invalid_import"


class TemplateError(ValidationError):
    """Raised for a malformed template, an unknown variable, or a field a task's data lacks."""

    code = "invalid_template"


class AuthenticationError(PrelabelError):
    """Raised when a request carries no API token or one that is unknown, or when an e-mail
    and password do not match an active user's."""

    status = 401
    code = "unauthenticated"


class ForbiddenError(PrelabelError):
    """Raised when a request is refused as sent, such as a web form without its CSRF token."""

    status = 403
    code = "forbidden"


class StoreError(PrelabelError):
    """Raised when the database cannot be reached or has not been initialised."""

    status = 503
    code = "store_unavailable"


class RedisUnavailableError(PrelabelError):
    """Raised when the Redis that ``PRELABEL_REDIS_URL`` names cannot be reached."""

    status = 503
    code = "redis_unavailable"


class ProviderError(PrelabelError):
    """Raised when a model provider fails a request; ``kind`` names the failure for records."""

    status = 502
    code = "provider_error"
    kind = "provider_error"
    retryable = False
    #: No later call of the run can succeed either (a refused key, an unknown model), so the
    #: engine stops the run rather than failing every task the same way.
    fatal = False


class ProviderRateLimited(ProviderError):
    """Raised on HTTP 429; ``retry_after`` is the wait in seconds the provider asked for."""

    kind = "rate_limit"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderTimeout(ProviderError):
    """Raised when no answer arrives within the request timeout."""

    kind = "timeout"
    retryable = True


class ProviderUnavailable(ProviderError):
    """Raised on 5xx answers and connection errors, which usually pass."""

    kind = "provider_error"
    retryable = True


class ProviderAuthError(ProviderError):
    """Raised on 401/403: the key or its permissions are wrong, so a run must stop."""

    kind = "auth"
    fatal = True


class ProviderRequestError(ProviderError):
    """Raised on any other 4xx: the request is wrong and would fail the same way again.

    ``fatal`` when the fault is the run's, not the task's: an unknown model or endpoint (404),
    or an account out of credit.
    """

    kind = "bad_request"

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


class ProviderRefusal(ProviderError):
    """Raised when the model declines to answer (a refusal or a content filter)."""

    kind = "refusal"


class ModelOutputError(PrelabelError):
    """Raised when an answer cannot be read as the answer schema, even after safe repairs."""

    status = 502
    code = "invalid_output"
    kind = "invalid_output"

    def __init__(self, message: str, *, excerpt: str = "") -> None:
        super().__init__(message)
        self.excerpt = excerpt[:2000]
