"""The bundled demo project: product reviews to classify, a third of them with ground truth."""

from __future__ import annotations

from importlib.resources import files

from sqlalchemy import select
from sqlalchemy.orm import Session

from prelabel.services.connections import ensure_local_connection
from prelabel.services.imports import import_tasks
from prelabel.services.projects import create_project
from prelabel.services.prompts import create_prompt
from prelabel.store import Project, Prompt, PromptVersion, User

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


DEMO_PROMPT = "reviews"
DEMO_TEMPLATE = "Customer review:\n{text}"


def demo_prompt_version(session: Session, project: Project) -> PromptVersion:
    """The demo's prompt version on the bundled local model, created on first use.

    The template only frames the review: the local model reads each option's description
    from the config's hints.
    """
    prompt = session.scalar(
        select(Prompt).where(Prompt.project_id == project.id, Prompt.name == DEMO_PROMPT)
    )
    if prompt is None:
        return create_prompt(
            session,
            project,
            name=DEMO_PROMPT,
            template=DEMO_TEMPLATE,
            connection=ensure_local_connection(session),
            description="Sentiment and topics of a review, by the bundled local model.",
        )[1]
    version = session.scalar(
        select(PromptVersion).where(PromptVersion.prompt_id == prompt.id).order_by(PromptVersion.id)
    )
    assert version is not None, "a prompt is created with its first version"
    return version
