"""Projects: a title, a labeling config, and the tasks that belong to them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.errors import NotFoundError, ValidationError
from prelabel.labeling import LabelConfig, parse_label_config
from prelabel.store import Annotation, Prediction, Project, Task, User, get_or_raise

TITLE_MAX_LENGTH = 50


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
        description=description,
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
    title = title.strip()
    if not title:
        raise ValidationError("title: must not be empty")
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationError(f"title: at most {TITLE_MAX_LENGTH} characters, got {len(title)}")
    return title


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
    tasks, annotations, cancelled, predictions = session.execute(
        select(
            func.count(Task.id),
            func.coalesce(func.sum(Task.total_annotations), 0),
            func.coalesce(func.sum(Task.cancelled_annotations), 0),
            func.coalesce(func.sum(Task.total_predictions), 0),
        ).where(Task.project_id == project.id)
    ).one()
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
        tasks=tasks,
        annotations=annotations,
        cancelled_annotations=cancelled,
        ground_truth_tasks=ground_truth_tasks or 0,
        predictions=predictions,
        model_versions=dict(versions),
    )
