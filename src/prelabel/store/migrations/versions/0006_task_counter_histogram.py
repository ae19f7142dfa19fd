"""Task counter histogram: how many of a project's tasks hold each combination of counters.

Triggers on ``tasks`` keep it in step with every insert, delete and counter change, in the
statement's transaction, whoever makes it: the services, the engine's prediction batches,
foreign-key cascades. Existing databases get it filled from the counters the tasks hold.

SQLite runs one writer at a time: a row trigger adds to the one row of each combination
(``writer`` 0). PostgreSQL runs writers side by side: a statement trigger appends what the
statement changed, combination by combination, under a writer id of the statement's own, so
no two statements ever write (or wait on) the same row; committed rows are folded into
``writer`` 0 now and then (``task_counter_histogram_fold``, below).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COUNTERS = "project_id, total_annotations, cancelled_annotations, total_predictions"
KEY = f"{COUNTERS}, writer"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER task_counter_histogram_insert AFTER INSERT ON tasks
BEGIN
    INSERT INTO task_counter_histogram ({KEY}, tasks)
    VALUES (NEW.project_id, NEW.total_annotations, NEW.cancelled_annotations,
            NEW.total_predictions, 0, 1)
    ON CONFLICT ({KEY}) DO UPDATE SET tasks = tasks + 1;
END""",
    f"""CREATE TRIGGER task_counter_histogram_delete AFTER DELETE ON tasks
BEGIN
    INSERT INTO task_counter_histogram ({KEY}, tasks)
    VALUES (OLD.project_id, OLD.total_annotations, OLD.cancelled_annotations,
            OLD.total_predictions, 0, -1)
    ON CONFLICT ({KEY}) DO UPDATE SET tasks = tasks - 1;
END""",
    f"""CREATE TRIGGER task_counter_histogram_update
AFTER UPDATE OF {COUNTERS} ON tasks
WHEN OLD.project_id IS NOT NEW.project_id
    OR OLD.total_annotations IS NOT NEW.total_annotations
    OR OLD.cancelled_annotations IS NOT NEW.cancelled_annotations
    OR OLD.total_predictions IS NOT NEW.total_predictions
BEGIN
    INSERT INTO task_counter_histogram ({KEY}, tasks)
    VALUES (OLD.project_id, OLD.total_annotations, OLD.cancelled_annotations,
            OLD.total_predictions, 0, -1),
           (NEW.project_id, NEW.total_annotations, NEW.cancelled_annotations,
            NEW.total_predictions, 0, 1)
    ON CONFLICT ({KEY}) DO UPDATE SET tasks = tasks + excluded.tasks;
END""",
]

# PostgreSQL: each statement appends its changes, one row per combination, under a writer id of
# its own (from a sequence, which never waits): no two statements ever write the same row, so
# concurrent writers never wait on one another, and a transaction of many small statements
# (a worker's batch) never piles versions onto one row. Rows of committed statements are
# folded into writer 0 by whoever first takes the project's advisory lock (a reader with more
# than a few rows to sum, or every 1024th statement): a folder waits on nobody, and skips.
FOLD_LOCK = 1885562984  # the first key of the advisory lock; the second is the project id
FOLD_EVERY = 1024

POSTGRESQL_FUNCTIONS = [
    "CREATE SEQUENCE task_counter_histogram_writer",
    f"""CREATE FUNCTION task_counter_histogram_fold(project integer, threshold integer)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM (
            SELECT 1 FROM task_counter_histogram
            WHERE project_id = project AND writer <> 0 LIMIT threshold + 1
        ) AS piled) <= threshold THEN
        RETURN false;
    END IF;
    IF NOT pg_try_advisory_xact_lock({FOLD_LOCK}, project) THEN
        RETURN false;
    END IF;
    WITH moved AS (
        DELETE FROM task_counter_histogram WHERE project_id = project AND writer <> 0
        RETURNING total_annotations, cancelled_annotations, total_predictions, tasks
    )
    INSERT INTO task_counter_histogram ({KEY}, tasks)
    SELECT project, total_annotations, cancelled_annotations, total_predictions, 0, sum(tasks)
    FROM moved
    GROUP BY total_annotations, cancelled_annotations, total_predictions
    ON CONFLICT ({KEY}) DO UPDATE SET tasks = task_counter_histogram.tasks + excluded.tasks;
    DELETE FROM task_counter_histogram WHERE project_id = project AND writer = 0 AND tasks = 0;
    RETURN true;
END
$$""",
    f"""CREATE FUNCTION task_counter_histogram_forget(project integer)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock({FOLD_LOCK}, project) THEN
        RETURN false;
    END IF;
    DELETE FROM task_counter_histogram WHERE project_id = project;
    RETURN true;
END
$$""",
    # One function for the three statement triggers: PostgreSQL allows transition tables only
    # on single-event triggers.
    f"""CREATE FUNCTION task_counter_histogram_track() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    writer_id bigint := nextval('task_counter_histogram_writer');
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_counter_histogram ({KEY}, tasks)
        SELECT {COUNTERS}, writer_id, count(*) FROM new_tasks GROUP BY {COUNTERS};
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO task_counter_histogram ({KEY}, tasks)
        SELECT {COUNTERS}, writer_id, -count(*) FROM old_tasks GROUP BY {COUNTERS};
    ELSE
        INSERT INTO task_counter_histogram ({KEY}, tasks)
        SELECT {COUNTERS}, writer_id, sum(change) FROM (
            SELECT {COUNTERS}, 1 AS change FROM new_tasks
            UNION ALL
            SELECT {COUNTERS}, -1 AS change FROM old_tasks
        ) AS changes
        GROUP BY {COUNTERS}
        HAVING sum(change) <> 0;
    END IF;
    IF writer_id % {FOLD_EVERY} = 0 THEN
        PERFORM task_counter_histogram_fold(project_id, 0) FROM (
            SELECT DISTINCT project_id FROM task_counter_histogram WHERE writer = writer_id
        ) AS touched;
    END IF;
    RETURN NULL;
END
$$""",
]

POSTGRESQL_TRIGGERS = [
    *POSTGRESQL_FUNCTIONS,
    """CREATE TRIGGER task_counter_histogram_insert AFTER INSERT ON tasks
REFERENCING NEW TABLE AS new_tasks
FOR EACH STATEMENT EXECUTE FUNCTION task_counter_histogram_track()""",
    """CREATE TRIGGER task_counter_histogram_delete AFTER DELETE ON tasks
REFERENCING OLD TABLE AS old_tasks
FOR EACH STATEMENT EXECUTE FUNCTION task_counter_histogram_track()""",
    """CREATE TRIGGER task_counter_histogram_update AFTER UPDATE ON tasks
REFERENCING OLD TABLE AS old_tasks NEW TABLE AS new_tasks
FOR EACH STATEMENT EXECUTE FUNCTION task_counter_histogram_track()""",
]

FILL = f"""INSERT INTO task_counter_histogram ({KEY}, tasks)
SELECT {COUNTERS}, 0, count(*) FROM tasks GROUP BY {COUNTERS}"""


def upgrade() -> None:
    op.create_table(
        "task_counter_histogram",
        sa.Column("project_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("total_annotations", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cancelled_annotations", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("total_predictions", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("writer", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "project_id",
            "total_annotations",
            "cancelled_annotations",
            "total_predictions",
            "writer",
            name=op.f("pk_task_counter_histogram"),
        ),
        sqlite_with_rowid=False,
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # No task may change between the triggers and the fill; writers wait for the commit.
        op.execute("LOCK TABLE tasks IN SHARE MODE")
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute(FILL)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for event in ("insert", "delete", "update"):
        name = f"task_counter_histogram_{event}"
        op.execute(f"DROP TRIGGER {name} ON tasks" if postgresql else f"DROP TRIGGER {name}")
    if postgresql:
        op.execute("DROP FUNCTION task_counter_histogram_track()")
        op.execute("DROP FUNCTION task_counter_histogram_fold(integer, integer)")
        op.execute("DROP FUNCTION task_counter_histogram_forget(integer)")
        op.execute("DROP SEQUENCE task_counter_histogram_writer")
    op.drop_table("task_counter_histogram")
