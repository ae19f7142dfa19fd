"""No request, however malformed, makes the API answer 5xx: schemathesis explores every
operation of ``/openapi.json`` against a live server holding a small project."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from prelabel.api import create_app
from prelabel.settings import Settings
from prelabel.store import Store
from tests.api.conftest import Account
from tests.factories import import_json, make_project, sentiment
from tests.live_server import serving


@pytest.fixture
def live_url(settings: Settings, store: Store, admin: Account) -> Iterator[str]:
    """A live server on a store holding a small project with annotations and predictions."""
    with store.session() as session:
        project = make_project(session)
        import_json(
            session,
            project,
            [
                {
                    "data": {"text": f"review {i}"},
                    "annotations": [{"result": sentiment("Positive")}],
                    "predictions": [{"result": sentiment("Negative"), "model_version": "v1"}],
                }
                for i in range(3)
            ],
        )
    with serving(create_app(settings, store=store, run_jobs=False)) as url:
        yield url


# The schema is the app's own: building the app opens nothing, so collection needs no server.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_request_makes_the_api_answer_5xx(
    case: schemathesis.Case, live_url: str, admin: Account
) -> None:
    case.call_and_validate(base_url=live_url, headers=admin.headers, checks=[not_a_server_error])
