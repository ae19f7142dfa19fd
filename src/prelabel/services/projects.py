"""Projects: a title, a labeling config, and the tasks that belong to them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, case, cast, func, select
from sqlalchemy.orm import Session

from prelabel.errors import LabelConfigError, NotFoundError, TaskDataError, ValidationError
from prelabel.labeling import LabelConfig, parse_label_config
from prelabel.services.serialization import project_detail_payload
from prelabel.store import Annotation, Prediction, Project, Task, User, get_or_raise
from prelabel.store.counter_histogram import forget_project
from prelabel.store.models import TaskCounterHistogram

TITLE_MAX_LENGTH = 50
PAGE_SIZE_MAX = 100


def create_project(
    session: Session,
    *,
    title: str,
    label_config: str,
    description: str = "",
    created_by: User | None = None,
) -> Project:
    """A new project; its config must parse, so every later task can be checked against it."""
    title = _checked_title(title)
    parse_label_config(label_config)
    project = Project(
        title=title,
        description=_checked_text("description", description),
        label_config=label_config,
        created_by_id=created_by.id if created_by else None,
    )
    session.add(project)
    session.flush()
    return project


def list_projects(session: Session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.created_at.desc(), Project.id)))


def get_project(session: Session, project_id: int) -> Project:
    return get_or_raise(session, Project, project_id)


def find_project(session: Session, reference: str) -> Project:
    """A project named by its id or by its exact title (which must then be unambiguous)."""
    if reference.isdigit():
        return get_project(session, int(reference))
    matches = list(session.scalars(select(Project).where(Project.title == reference).limit(2)))
    if not matches:
        raise NotFoundError(f"no project has id or title {reference!r}")
    if len(matches) > 1:
        raise ValidationError(f"several projects are titled {reference!r}; use the project id")
    return matches[0]


def project_config(project: Project) -> LabelConfig:
    """The parsed config; parsed once per distinct XML, since every import and export needs it."""
    return _parse_cached(project.label_config)


_parse_cached = lru_cache(maxsize=64)(parse_label_config)


def _checked_title(title: str) -> str:
    title = _checked_text("title", title.strip())
    if not title:
        raise ValidationError("title: must not be empty")
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationError(f"title: at most {TITLE_MAX_LENGTH} characters, got {len(title)}")
    return title


def _checked_text(field: str, text: str) -> str:
    """PostgreSQL cannot store NUL characters; refused on both backends, so they agree."""
    if "\x00" in text:
        raise ValidationError(f"{field}: must not contain NUL characters")
    return text


@dataclass(frozen=True)
class ProjectSummary:
    """What a project holds, counted from the task counters and one pass over annotations."""

    tasks: int
    annotations: int
    cancelled_annotations: int
    ground_truth_tasks: int
    predictions: int
    model_versions: dict[str, int]


def summarize_project(session: Session, project: Project) -> ProjectSummary:
    counts = count_project_contents(session, [project.id])[project.id]
    ground_truth_tasks = session.scalar(
        select(func.count(func.distinct(Annotation.task_id))).where(
            Annotation.project_id == project.id,
            Annotation.ground_truth.is_(True),
            Annotation.was_cancelled.is_(False),
        )
    )
    versions = session.execute(
        select(Prediction.model_version, func.count(Prediction.id))
        .where(Prediction.project_id == project.id)
        .group_by(Prediction.model_version)
        .order_by(Prediction.model_version)
    ).all()
    return ProjectSummary(
        tasks=counts.tasks,
        annotations=counts.annotations,
        cancelled_annotations=counts.cancelled_annotations,
        ground_truth_tasks=ground_truth_tasks or 0,
        predictions=counts.predictions,
        model_versions=dict(versions),
    )


@dataclass(frozen=True)
class ProjectPage:
    """One page of projects, how many match over every page, and whether more pages follow."""

    count: int
    projects: list[Project]
    has_next: bool


def page_projects(
    session: Session,
    *,
    page: int = 1,
    page_size: int = 30,
    title: str | None = None,
    ids: Sequence[int] | None = None,
) -> ProjectPage:
    """One page of the projects whose title contains ``title`` (ignoring case) and whose id is
    in ``ids``, newest first.

    ``page_size`` is capped at ``PAGE_SIZE_MAX``, as Label Studio caps it rather than refusing.
    A page past the last one is NotFound, never the last page again (clients page until they
    get one); page 1 of nothing is empty.
    """
    if page < 1:
        raise ValidationError(f"page: must be 1 or more, got {page}")
    if page_size < 1:
        raise ValidationError(f"page_size: must be 1 or more, got {page_size}")
    page_size = min(page_size, PAGE_SIZE_MAX)
    conditions = []
    if title:
        conditions.append(Project.title.icontains(_checked_text("title", title), autoescape=True))
    if ids is not None:
        conditions.append(Project.id.in_(ids))
    count = session.scalar(select(func.count(Project.id)).where(*conditions)) or 0
    if page > 1 and (page - 1) * page_size >= count:
        raise NotFoundError(f"page {page} is past the last page of {count} projects")
    projects = list(
        session.scalars(
            select(Project)
            .where(*conditions)
            .order_by(Project.created_at.desc(), Project.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    )
    return ProjectPage(count, projects, has_next=(page - 1) * page_size + len(projects) < count)


@dataclass(frozen=True)
class ProjectChanges:
    """What an update sets; a field left None keeps its value."""

    title: str | None = None
    description: str | None = None
    label_config: str | None = None
    model_version: str | None = None


def update_project(session: Session, project: Project, changes: ProjectChanges) -> Project:
    """Apply ``changes``; every field is checked before the first one is set.

    ``model_version`` (which predictions the Data Manager scores by) must be "" or a version
    that some prediction of the project has, as Label Studio requires of static predictions.
    """
    title = _checked_title(changes.title) if changes.title is not None else project.title
    description = project.description
    if changes.description is not None:
        description = _checked_text("description", changes.description)
    if changes.label_config is not None and changes.label_config != project.label_config:
        check_label_config(session, project, changes.label_config)
    if changes.model_version is not None and changes.model_version != project.model_version:
        _check_model_version(session, project, changes.model_version)
    project.title = title
    project.description = description
    if changes.label_config is not None:
        project.label_config = changes.label_config
    if changes.model_version is not None:
        project.model_version = changes.model_version
    session.flush()
    return project


def check_label_config(session: Session, project: Project, label_config: str) -> LabelConfig:
    """The parsed ``label_config`` if it can replace the project's; LabelConfigError if not.

    It must parse, and the data fields it reads must be in the project's task data. Only the
    first task is looked at: every task passed the data check of the config it was imported
    under, so tasks share the fields configs read and one task answers for all (typically a
    renamed ``$field``); reading every task's JSON would make a config edit on a million
    tasks a scan of them all.
    """
    config = parse_label_config(label_config)
    first = session.execute(
        select(Task.id, Task.data).where(Task.project_id == project.id).order_by(Task.id).limit(1)
    ).first()
    if first is not None:
        try:
            config.check_task_data(first.data)
        except TaskDataError as exc:
            raise LabelConfigError(
                f"the project's tasks do not have the data this config reads "
                f"(task {first.id}: {exc.message})"
            ) from exc
    return config


def _check_model_version(session: Session, project: Project, model_version: str) -> None:
    if not model_version:
        return
    found = session.scalar(
        select(Prediction.id)
        .where(Prediction.project_id == project.id, Prediction.model_version == model_version)
        .limit(1)
    )
    if found is None:
        raise ValidationError(
            f"model_version: no prediction of project {project.id} has version "
            f'{model_version!r}; use one of its versions or ""'
        )


def delete_project(session: Session, project: Project) -> None:
    """Delete ``project``; the database's cascades remove its tasks, annotations,
    predictions, prompts and runs in the same statement."""
    session.delete(project)
    session.flush()
    forget_project(session, project.id)


@dataclass(frozen=True)
class ProjectCounts:
    """What a project holds, as Label Studio's project JSON counts it.

    ``annotations`` leaves cancelled ones out (they are ``cancelled_annotations``);
    ``tasks_with_annotations`` counts tasks with at least one that was not cancelled, and
    ``ground_truth`` the ground-truth annotations that were not cancelled.
    """

    tasks: int = 0
    annotations: int = 0
    cancelled_annotations: int = 0
    predictions: int = 0
    tasks_with_annotations: int = 0
    ground_truth: int = 0


def count_project_contents(
    session: Session, project_ids: Sequence[int]
) -> dict[int, ProjectCounts]:
    """The counts of each of ``project_ids`` with one statement for them all.

    Task totals come from the projects' counter histograms (a few rows each, however many
    tasks), ground truth from the annotations' project index; a project without tasks counts
    zeros.
    """
    if not project_ids:
        return {}
    histogram = TaskCounterHistogram
    tasks = (
        select(
            histogram.project_id,
            func.sum(histogram.tasks).label("tasks"),
            *(
                func.sum(cast(histogram.tasks, BigInteger) * counter).label(name)
                for name, counter in (
                    ("annotations", histogram.total_annotations),
                    ("cancelled", histogram.cancelled_annotations),
                    ("predictions", histogram.total_predictions),
                )
            ),
            func.sum(case((histogram.total_annotations > 0, histogram.tasks), else_=0)).label(
                "annotated"
            ),
        )
        .where(histogram.project_id.in_(project_ids))
        .group_by(histogram.project_id)
        .subquery()
    )
    truths = (
        select(Annotation.project_id, func.count(Annotation.id).label("ground_truth"))
        .where(
            Annotation.project_id.in_(project_ids),
            Annotation.ground_truth.is_(True),
            Annotation.was_cancelled.is_(False),
        )
        .group_by(Annotation.project_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Project.id,
            tasks.c.tasks,
            tasks.c.annotations,
            tasks.c.cancelled,
            tasks.c.predictions,
            tasks.c.annotated,
            truths.c.ground_truth,
        )
        .outerjoin(tasks, tasks.c.project_id == Project.id)
        .outerjoin(truths, truths.c.project_id == Project.id)
        .where(Project.id.in_(project_ids))
    )
    return {row[0]: ProjectCounts(*(int(value or 0) for value in row[1:])) for row in rows}


def project_payloads(session: Session, projects: Sequence[Project]) -> list[dict[str, Any]]:
    """Label Studio JSON of ``projects``: counts and creators read with one query each."""
    counts = count_project_contents(session, [project.id for project in projects])
    creator_ids = {project.created_by_id for project in projects} - {None}
    creators = {
        user.id: user for user in session.scalars(select(User).where(User.id.in_(creator_ids)))
    }
    return [
        project_detail_payload(
            project,
            counts=counts.get(project.id, ProjectCounts()),
            created_by=creators.get(project.created_by_id) if project.created_by_id else None,
            config=project_config(project),
        )
        for project in projects
    ]
