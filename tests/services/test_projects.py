"""Project services: paging, counts for many projects at once, and the update rules."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from prelabel.errors import LabelConfigError, NotFoundError, ValidationError
from prelabel.services.projects import (
    PAGE_SIZE_MAX,
    ProjectChanges,
    ProjectCounts,
    check_label_config,
    count_project_contents,
    page_projects,
    update_project,
)
from tests.factories import SENTIMENT_CONFIG, import_json, make_project, sentiment


def test_counts_of_several_projects_come_from_one_call(session: Session) -> None:
    busy, empty = make_project(session, title="Busy"), make_project(session, title="Empty")
    import_json(
        session,
        busy,
        [
            {"data": {"text": "a"}, "annotations": [{"result": sentiment("Positive")}]},
            {
                "data": {"text": "b"},
                "annotations": [
                    {"result": sentiment("Negative"), "ground_truth": False},
                    {"result": [], "was_cancelled": True},
                ],
                "predictions": [{"result": sentiment("Negative")}] * 3,
            },
        ],
    )
    counts = count_project_contents(session, [busy.id, empty.id, 999])
    assert counts == {
        busy.id: ProjectCounts(
            tasks=2,
            annotations=2,
            cancelled_annotations=1,
            predictions=3,
            tasks_with_annotations=2,
            ground_truth=1,
        ),
        empty.id: ProjectCounts(),
    }
    assert count_project_contents(session, []) == {}


def test_page_size_above_the_maximum_is_capped(session: Session) -> None:
    for index in range(PAGE_SIZE_MAX + 1):
        make_project(session, title=f"P{index}")
    first = page_projects(session, page_size=1000)
    assert (first.count, len(first.projects), first.has_next) == (101, PAGE_SIZE_MAX, True)
    second = page_projects(session, page=2, page_size=1000)
    assert (len(second.projects), second.has_next) == (1, False)
    with pytest.raises(NotFoundError):
        page_projects(session, page=3, page_size=1000)


def test_update_checks_every_field_before_setting_any(session: Session) -> None:
    project = make_project(session, title="Before")
    with pytest.raises(ValidationError, match="model_version"):
        update_project(session, project, ProjectChanges(title="After", model_version="nope"))
    assert project.title == "Before"


def test_update_to_the_current_model_version_needs_no_prediction(session: Session) -> None:
    project = make_project(session)
    project.model_version = "gone"
    update_project(session, project, ProjectChanges(model_version="gone"))
    assert project.model_version == "gone"


def test_config_check_reads_the_first_task_only(session: Session) -> None:
    project = make_project(session)
    import_json(session, project, [{"text": "a", "body": "b"}, {"text": "c"}])
    renamed = SENTIMENT_CONFIG.replace("$text", "$body")
    assert list(check_label_config(session, project, renamed).controls) == ["sentiment"]
    with pytest.raises(LabelConfigError, match='missing "title"'):
        check_label_config(session, project, SENTIMENT_CONFIG.replace("$text", "$title"))
