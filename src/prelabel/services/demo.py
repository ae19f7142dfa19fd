"""The bundled demo project: product reviews to classify, a third of them with ground truth."""

from __future__ import annotations

from importlib.resources import files

from sqlalchemy import select
from sqlalchemy.orm import Session

from prelabel.services.imports import import_tasks
from prelabel.services.projects import create_project
from prelabel.store import Project, User

DEMO_TITLE = "Product reviews (demo)"
_DEMO = files("prelabel.demo")


def load_demo_project(session: Session, user: User | None) -> Project:
    """The demo project, created and filled on first use; later calls return it unchanged."""
    existing = session.scalar(select(Project).where(Project.title == DEMO_TITLE).limit(1))
    if existing is not None:
        return existing
    project = create_project(
        session,
        title=DEMO_TITLE,
        label_config=(_DEMO / "product_reviews.xml").read_text(encoding="utf-8"),
        description="Customer reviews to label by sentiment and topics.",
        created_by=user,
    )
    with (_DEMO / "product_reviews.json").open("rb") as stream:
        import_tasks(session, project, stream, fmt="json", user=user)
    return project
