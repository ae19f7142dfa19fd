"""Import and export of N Label Studio tasks with one prediction each, on SQLite.

For each size this script writes a task file (not measured), then runs, each in a fresh
process on a fresh database:

* **prelabel**: ``import_tasks`` inside ``Store.session()`` (commit included), then
  ``export_tasks(fmt="json")`` to a file on disk (the whole export, final write included);
* **floor**: the same work with nothing in between, the peer measured in the same run: stdlib
  ``sqlite3`` with the same pragmas (WAL, synchronous=NORMAL), the same streaming parser
  (ijson for JSON, orjson per line for JSONL), ``executemany`` into a bare two-table schema in
  one transaction, then one joined ``SELECT`` streamed back out through ``orjson.dumps`` in the
  shape prelabel exports;
* optionally **prelabel on PostgreSQL** (``--postgres URL``), in a scratch database
  ``prelabel_bench`` that is dropped afterwards.

It prints wall times, tasks/s, prelabel's time as a multiple of the floor's, and peak RSS per
process, next to the RSS of a process that only imports prelabel and opens the store. It never
asserts a timing. Run ``.venv/bin/python bench/import_export.py --help``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import ijson
import orjson

#: The labeling config of the tasks (tests/factories.py's SENTIMENT_CONFIG).
SENTIMENT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
</View>"""

#: Label Studio 1.23 on this machine class, 10,000 such tasks (from the issue).
LABEL_STUDIO_SIZE = 10_000
LABEL_STUDIO_IMPORT_S = 10.8
LABEL_STUDIO_EXPORT_S = 16.0

PG_DATABASE = "prelabel_bench"
BATCH_SIZE = 2000
SMALL_RUN = 100_000  # sizes up to this are run three times by default
MB = 1024 * 1024

_VOCABULARY = (
    "the battery lasts all day and charges fast but the case feels cheap and the screen "
    "scratches easily after a week of use I would buy it again for the price though shipping "
    "took too long and support never answered my emails great sound quality poor fit broke "
    "returned excellent value disappointed love it smells strange works as described café "
    "naïve très bien 👍 größer"
)
_WORDS = _VOCABULARY.split()


# ---------------------------------------------------------------------------------------------
# Measuring


def peak_rss() -> int:
    """This process's peak resident set size in bytes.

    ``ru_maxrss`` after ``exec`` also counts the parent's peak (Linux carries it over), so on
    Linux this reads ``VmHWM``, the same high-water mark kept for this program's memory alone.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return ru_maxrss()


def ru_maxrss() -> int:
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024


class Clock:
    """Wall time and this process's CPU time (user + system) since it was made."""

    def __init__(self) -> None:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self._wall, time.process_time() - self._cpu


# ---------------------------------------------------------------------------------------------
# The task file


def generate(path: Path, count: int, fmt: str, seed: int = 20240601) -> None:
    """Write ``count`` tasks with one prediction each, streaming to disk."""
    rng = random.Random(seed)
    with path.open("wb", buffering=1024 * 1024) as out:
        if fmt == "json":
            out.write(b"[\n")
        for index in range(count):
            target = rng.randint(40, 200)
            words: list[str] = []
            length = -1
            while length < target:
                word = rng.choice(_WORDS)
                words.append(word)
                length += len(word) + 1
            text = " ".join(words)[:200].rstrip()
            task = {
                "data": {"text": text},
                "predictions": [
                    {
                        "model_version": "v1",
                        "score": round(rng.uniform(0.5, 0.99), 2),
                        "result": [
                            {
                                "from_name": "sentiment",
                                "to_name": "text",
                                "type": "choices",
                                "value": {"choices": [rng.choice(("Positive", "Negative"))]},
                            }
                        ],
                    }
                ],
            }
            if fmt == "json":
                if index:
                    out.write(b",\n")
                out.write(orjson.dumps(task))
            else:
                out.write(orjson.dumps(task, option=orjson.OPT_APPEND_NEWLINE))
        if fmt == "json":
            out.write(b"\n]\n")


# ---------------------------------------------------------------------------------------------
# Workers: each runs in its own process, reads its spec from stdin, prints one JSON line.


def worker_prepare_sqlite(spec: dict[str, Any]) -> dict[str, Any]:
    """A migrated SQLite file holding one project; each run copies it."""
    from prelabel.services.projects import create_project
    from prelabel.store import Store, migrate
    from prelabel.store.database import create_store_engine

    store = Store(create_store_engine(f"sqlite:///{spec['path']}"))
    migrate(store.engine)
    with store.session() as session:
        project_id = create_project(session, title="Bench", label_config=SENTIMENT_CONFIG).id
    store.close()
    return {"project_id": project_id}


def _postgres_admin(url: str) -> tuple[str, Any]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return conninfo, parsed


def worker_prepare_postgres(spec: dict[str, Any]) -> dict[str, Any]:
    """(Re)create the scratch database, migrate it and add the project."""
    import psycopg

    from prelabel.services.projects import create_project
    from prelabel.store import Store, migrate
    from prelabel.store.database import create_store_engine

    conninfo, parsed = _postgres_admin(spec["url"])
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        return {"error": str(exc).strip()}
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    url = parsed.set(database=PG_DATABASE).render_as_string(hide_password=False)
    store = Store(create_store_engine(url))
    migrate(store.engine)
    with store.session() as session:
        project_id = create_project(session, title="Bench", label_config=SENTIMENT_CONFIG).id
    store.close()
    return {"url": url, "project_id": project_id}


def worker_drop_postgres(spec: dict[str, Any]) -> dict[str, Any]:
    import psycopg

    conninfo, _ = _postgres_admin(spec["url"])
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        return {}
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    return {}


def _open_prelabel(spec: dict[str, Any]) -> tuple[Any, Any]:
    from prelabel.services import exports, imports  # noqa: F401 - what a run loads
    from prelabel.store import Project, Store
    from prelabel.store.database import create_store_engine

    store = Store(create_store_engine(spec["url"]))
    with store.session() as session:
        session.get(Project, spec["project_id"])
    return store, Project


def worker_baseline_prelabel(spec: dict[str, Any]) -> dict[str, Any]:
    """Only import prelabel and open the store: the fixed floor under every run's RSS."""
    store, _ = _open_prelabel(spec)
    result = {"rss": peak_rss()}
    store.close()
    return result


def worker_prelabel(spec: dict[str, Any]) -> dict[str, Any]:
    from prelabel.services.exports import export_tasks
    from prelabel.services.imports import import_tasks

    store, project_model = _open_prelabel(spec)
    rss_start = peak_rss()

    with open(spec["path"], "rb") as stream:
        clock = Clock()
        with store.session() as session:
            project = session.get(project_model, spec["project_id"])
            summary = import_tasks(session, project, stream, fmt=spec["fmt"])
        import_s, import_cpu = clock.read()
    rss_import = peak_rss()

    clock = Clock()
    with open(spec["out"], "wb") as out, store.session() as session:
        project = session.get(project_model, spec["project_id"])
        written = export_tasks(session, project, out, fmt="json")
    export_s, export_cpu = clock.read()
    rss_export = peak_rss()
    store.close()

    _check_counts(spec["tasks"], summary.task_count, summary.prediction_count, written)
    return {
        "import_s": import_s,
        "import_cpu_s": import_cpu,
        "export_s": export_s,
        "export_cpu_s": export_cpu,
        "rss_start": rss_start,
        "rss_import": rss_import,
        "rss_export": rss_export,
        "out_bytes": os.path.getsize(spec["out"]),
    }


def worker_profile(spec: dict[str, Any]) -> dict[str, Any]:
    """cProfile of the prelabel import and export; the stats go to stderr."""
    import cProfile
    import pstats

    from prelabel.services.exports import export_tasks
    from prelabel.services.imports import import_tasks

    store, project_model = _open_prelabel(spec)
    profiles = {}
    with open(spec["path"], "rb") as stream:
        profiler = cProfile.Profile()
        profiler.enable()
        with store.session() as session:
            project = session.get(project_model, spec["project_id"])
            import_tasks(session, project, stream, fmt=spec["fmt"])
        profiler.disable()
        profiles["import"] = profiler
    with open(spec["out"], "wb") as out:
        profiler = cProfile.Profile()
        profiler.enable()
        with store.session() as session:
            project = session.get(project_model, spec["project_id"])
            export_tasks(session, project, out, fmt="json")
        profiler.disable()
        profiles["export"] = profiler
    store.close()
    for phase, profiler in profiles.items():
        profiler.dump_stats(Path(spec["dir"]) / f"{phase}.prof")
        for order in ("tottime", "cumulative"):
            print(f"\n===== {phase}, {spec['tasks']:,} tasks, by {order} =====", file=sys.stderr)
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.strip_dirs().sort_stats(order).print_stats(spec.get("top", 30))
    return {}


# The floor: stdlib sqlite3, no ORM, no validation, no foreign keys, one index for the join.

_FLOOR_SCHEMA = """
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, data TEXT NOT NULL,
    meta TEXT NOT NULL, total_annotations INTEGER NOT NULL,
    cancelled_annotations INTEGER NOT NULL, total_predictions INTEGER NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE predictions (
    id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL, project_id INTEGER NOT NULL,
    result TEXT NOT NULL, score REAL, model_version TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX predictions_task_id ON predictions (task_id);
"""
_FLOOR_PROJECT = 1
_FLOOR_SELECT = """
SELECT t.id, t.data, t.meta, t.total_annotations, t.cancelled_annotations,
       t.total_predictions, t.created_at, t.updated_at, t.project_id,
       p.id, p.result, p.score, p.model_version, p.created_at, p.updated_at
FROM tasks AS t LEFT JOIN predictions AS p ON p.task_id = t.id
WHERE t.project_id = ?
ORDER BY t.id, p.id
"""


def _floor_connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def _floor_tasks(stream: Any, fmt: str) -> Iterator[Any]:
    if fmt == "json":
        return ijson.items(stream, "item", use_float=True)
    return (orjson.loads(line) for line in stream if line.strip())


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def floor_import(connection: sqlite3.Connection, path: str, fmt: str) -> int:
    dumps = orjson.dumps
    count = 0
    connection.execute("BEGIN")
    (next_id,) = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM tasks").fetchone()
    with open(path, "rb") as stream:
        for batch in _batched(_floor_tasks(stream, fmt), BATCH_SIZE):
            now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            tasks, predictions = [], []
            for task in batch:
                task_predictions = task.get("predictions") or ()
                tasks.append(
                    (
                        next_id,
                        _FLOOR_PROJECT,
                        dumps(task["data"]).decode(),
                        dumps(task.get("meta") or {}).decode(),
                        0,
                        0,
                        len(task_predictions),
                        now,
                        now,
                    )
                )
                for prediction in task_predictions:
                    predictions.append(
                        (
                            next_id,
                            _FLOOR_PROJECT,
                            dumps(prediction["result"]).decode(),
                            prediction.get("score"),
                            prediction.get("model_version") or "undefined",
                            now,
                            now,
                        )
                    )
                next_id += 1
            connection.executemany("INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", tasks)
            connection.executemany(
                "INSERT INTO predictions (task_id, project_id, result, score, model_version,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                predictions,
            )
            count += len(tasks)
    connection.execute("COMMIT")
    return count


def floor_export(connection: sqlite3.Connection, path: str) -> int:
    """The joined rows, grouped by task, as the JSON array prelabel writes."""
    loads, dumps = orjson.loads, orjson.dumps
    written = 0
    with open(path, "wb") as out:
        out.write(b"[")
        task: dict[str, Any] | None = None
        for row in connection.execute(_FLOOR_SELECT, (_FLOOR_PROJECT,)):
            if task is None or task["id"] != row[0]:
                if task is not None:
                    out.write(b"\n" if written == 0 else b",\n")
                    out.write(dumps(task))
                    written += 1
                task = {
                    "id": row[0],
                    "data": loads(row[1]),
                    "meta": loads(row[2]),
                    "annotations": [],
                    "predictions": [],
                    "drafts": [],
                    "total_annotations": row[3],
                    "cancelled_annotations": row[4],
                    "total_predictions": row[5],
                    "created_at": row[6],
                    "updated_at": row[7],
                    "project": row[8],
                }
            if row[9] is not None:
                task["predictions"].append(
                    {
                        "id": row[9],
                        "result": loads(row[10]),
                        "score": row[11],
                        "model_version": row[12],
                        "created_at": row[13],
                        "updated_at": row[14],
                        "task": row[0],
                        "project": _FLOOR_PROJECT,
                    }
                )
        if task is not None:
            out.write(b"\n" if written == 0 else b",\n")
            out.write(dumps(task))
            written += 1
        out.write(b"]\n" if written == 0 else b"\n]\n")
    return written


def worker_baseline_floor(spec: dict[str, Any]) -> dict[str, Any]:
    connection = _floor_connect(spec["db"])
    connection.executescript(_FLOOR_SCHEMA)
    result = {"rss": peak_rss()}
    connection.close()
    return result


def worker_floor(spec: dict[str, Any]) -> dict[str, Any]:
    connection = _floor_connect(spec["db"])
    connection.executescript(_FLOOR_SCHEMA)
    rss_start = peak_rss()

    clock = Clock()
    imported = floor_import(connection, spec["path"], spec["fmt"])
    import_s, import_cpu = clock.read()
    rss_import = peak_rss()

    clock = Clock()
    written = floor_export(connection, spec["out"])
    export_s, export_cpu = clock.read()
    rss_export = peak_rss()
    connection.close()

    _check_counts(spec["tasks"], imported, imported, written)
    return {
        "import_s": import_s,
        "import_cpu_s": import_cpu,
        "export_s": export_s,
        "export_cpu_s": export_cpu,
        "rss_start": rss_start,
        "rss_import": rss_import,
        "rss_export": rss_export,
        "out_bytes": os.path.getsize(spec["out"]),
    }


def _check_counts(expected: int, tasks: int, predictions: int, written: int) -> None:
    if not expected == tasks == predictions == written:
        raise SystemExit(
            f"expected {expected} tasks; imported {tasks} tasks with {predictions} "
            f"predictions, exported {written}"
        )


WORKERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "prepare-sqlite": worker_prepare_sqlite,
    "prepare-postgres": worker_prepare_postgres,
    "drop-postgres": worker_drop_postgres,
    "baseline-prelabel": worker_baseline_prelabel,
    "baseline-floor": worker_baseline_floor,
    "prelabel": worker_prelabel,
    "floor": worker_floor,
    "profile": worker_profile,
}


def run_worker(kind: str, **spec: Any) -> dict[str, Any]:
    """Run one worker in a fresh interpreter; the spec goes in on stdin, not in argv."""
    completed = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker", kind],
        input=json.dumps(spec),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"the {kind} worker failed (exit status {completed.returncode})")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# The driver


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine_facts() -> list[str]:
    import sqlalchemy

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            total_kb = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
        memory = f", {total_kb / MB:.0f} GB RAM"
    except (OSError, StopIteration):
        pass
    return [
        f"machine: {os.cpu_count()} CPUs ({cpu}){memory}, {platform.system()} {platform.release()}",
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"SQLAlchemy {sqlalchemy.__version__}, orjson {orjson.__version__}, "
        f"ijson backend {ijson.backend}",
    ]


def prelabel_source() -> tuple[str, str]:
    """Where the workers import prelabel from (a line to print) and a digest of its sources.

    Found without importing it, so this process stays small; the digest, taken before and
    after, shows whether someone edited the sources while the benchmark ran.
    """
    import hashlib  # here, not at the top: it loads OpenSSL into every worker otherwise

    spec = importlib.util.find_spec("prelabel")
    if spec is None or spec.origin is None:
        raise SystemExit("prelabel is not importable; run this with the project's venv")
    package = Path(spec.origin).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    where = f"prelabel from {package}"
    git = ["git", "-C", str(package)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", "."], capture_output=True, text=True
        )
        dirty = " + uncommitted changes" if status.stdout.strip() else ""
        where += f" at commit {head.stdout.strip()}{dirty}"
    return where, digest.hexdigest()


def measure(args: argparse.Namespace, root: Path) -> list[str]:
    """Run every size and system; returns the printed report lines."""
    source, digest = prelabel_source()
    template = root / "template.db"
    project_id = run_worker("prepare-sqlite", path=str(template))["project_id"]
    sqlite_url = f"sqlite:///{root / 'baseline' / 'prelabel.db'}"
    (root / "baseline").mkdir()
    shutil.copyfile(template, root / "baseline" / "prelabel.db")
    baseline = run_worker("baseline-prelabel", url=sqlite_url, project_id=project_id)
    floor_baseline = run_worker("baseline-floor", db=str(root / "baseline" / "floor.db"))

    results: dict[tuple[int, str], dict[str, Any]] = {}
    systems = ["prelabel sqlite", "floor sqlite3"]
    if args.postgres:
        probe = run_worker("prepare-postgres", url=args.postgres)
        if "error" in probe:
            progress(f"PostgreSQL skipped: {probe['error']}")
        else:
            systems.append("prelabel postgresql")
    for size in args.tasks:
        path = root / f"tasks-{size}.{args.format}"
        progress(f"generating {size:,} tasks into {path.name} ...")
        generate(path, size, args.format)
        repeats = runs_per_size(args, size)
        for repeat in range(repeats):
            for system in systems:
                progress(f"{size:,} tasks, run {repeat + 1}/{repeats}: {system} ...")
                run_dir = root / f"{size}-{repeat}-{system.replace(' ', '-')}"
                run_dir.mkdir()
                spec = {"path": str(path), "fmt": args.format, "tasks": size}
                spec["out"] = str(run_dir / "export.json")
                if system == "floor sqlite3":
                    run = run_worker("floor", db=str(run_dir / "floor.db"), **spec)
                elif system == "prelabel sqlite":
                    shutil.copyfile(template, run_dir / "prelabel.db")
                    url = f"sqlite:///{run_dir / 'prelabel.db'}"
                    run = run_worker("prelabel", url=url, project_id=project_id, **spec)
                else:
                    database = run_worker("prepare-postgres", url=args.postgres)
                    if "error" in database:
                        raise SystemExit(f"PostgreSQL went away: {database['error']}")
                    run = run_worker("prelabel", **database, **spec)
                _merge(results, (size, system), run)
                if not args.keep:
                    shutil.rmtree(run_dir)
        if not args.keep:
            path.unlink()
    lines = report(args, results, baseline, floor_baseline, systems)
    lines.insert(2, source)
    if prelabel_source()[1] != digest:
        lines.insert(3, "WARNING: prelabel's sources changed during the run; runs may mix versions")
    return lines


def runs_per_size(args: argparse.Namespace, size: int) -> int:
    if args.repeat is not None:
        return args.repeat
    return 3 if size <= SMALL_RUN else 1


def _merge(results: dict[tuple[int, str], dict[str, Any]], key: Any, run: dict[str, Any]) -> None:
    """Best time over the repeats, worst memory."""
    best = results.get(key)
    if best is None:
        results[key] = dict(run)
        return
    for field, value in run.items():
        best[field] = min(best[field], value) if field.endswith("_s") else max(best[field], value)


def report(
    args: argparse.Namespace,
    results: dict[tuple[int, str], dict[str, Any]],
    baseline: dict[str, Any],
    floor_baseline: dict[str, Any],
    systems: list[str],
) -> list[str]:
    lines = [*machine_facts()]
    lines.append(
        f"task file: {args.format}, one prediction per task; each run in a fresh process on a "
        "fresh database; best of "
        + ", ".join(f"{runs_per_size(args, size)} for {size:,}" for size in args.tasks)
    )
    lines.append(
        f"RSS of a process that only imports and opens the store: prelabel "
        f"{baseline['rss'] / MB:.1f} MB, floor {floor_baseline['rss'] / MB:.1f} MB"
    )
    lines.append("")
    top = f"{'':>10}  {'':<19}  {'import':-^36}  {'export':-^36}  {'peak RSS MB':-^21}"
    header = (
        f"{'tasks':>10}  {'system':<19}  {'wall s':>7} {'cpu s':>7} {'tasks/s':>10} "
        f"{'× floor':>9}  {'wall s':>7} {'cpu s':>7} {'tasks/s':>10} {'× floor':>9}  "
        f"{'import':>6} {'export':>6} {'growth':>7}"
    )
    lines += [top, header, "-" * len(header)]
    for size in args.tasks:
        floor = results[(size, "floor sqlite3")]
        for system in systems:
            run = results[(size, system)]
            cells = [f"{size:>10,}  {system:<19} "]
            for phase in ("import", "export"):
                wall, cpu = run[f"{phase}_s"], run[f"{phase}_cpu_s"]
                ratio = wall / floor[f"{phase}_s"]
                cells.append(f" {wall:>7.3f} {cpu:>7.3f} {size / wall:>10,.0f} {ratio:>8.2f}× ")
            cells.append(
                f" {run['rss_import'] / MB:>6.1f} {run['rss_export'] / MB:>6.1f} "
                f"{(run['rss_export'] - run['rss_start']) / MB:>7.1f}"
            )
            lines.append("".join(cells))
    lines.append("")
    lines += [
        "wall s: best of the runs; cpu s: that process's user + system CPU (for PostgreSQL the",
        "  client's only); × floor: wall time / the floor's, the floor being stdlib sqlite3 +",
        "  ijson/orjson doing the same import and export in the same run (PostgreSQL rows too);",
        "  peak RSS: the process's high-water mark after its import and after its export;",
        "  growth: export peak minus the RSS the process had before its import began",
    ]
    lines += [
        f"export file MB, {size:,} tasks: "
        + ", ".join(f"{s} {results[(size, s)]['out_bytes'] / MB:.1f}" for s in systems)
        for size in args.tasks
    ]
    if LABEL_STUDIO_SIZE in args.tasks:
        run = results[(LABEL_STUDIO_SIZE, "prelabel sqlite")]
        lines.append(
            f"Label Studio 1.23, {LABEL_STUDIO_SIZE:,} tasks on this machine class "
            f"(import {LABEL_STUDIO_IMPORT_S} s, export {LABEL_STUDIO_EXPORT_S:g} s): "
            f"prelabel sqlite imports {LABEL_STUDIO_IMPORT_S / run['import_s']:.1f}× and exports "
            f"{LABEL_STUDIO_EXPORT_S / run['export_s']:.1f}× as fast"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Import and export N Label Studio tasks (one prediction each) with "
        "prelabel and with a bare sqlite3 floor; prints times, ratios and peak RSS."
    )
    parser.add_argument(
        "--tasks",
        type=int,
        nargs="+",
        default=[10_000, 1_000_000],
        metavar="N",
        help="task counts to run (default: 10000 1000000)",
    )
    parser.add_argument("--format", choices=("json", "jsonl"), default="json")
    parser.add_argument(
        "--repeat",
        type=int,
        metavar="R",
        help="runs per size and system, the best time shown (default: 3 up to "
        f"{SMALL_RUN:,} tasks, 1 above)",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run prelabel on PostgreSQL: an admin URL such as "
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres; a scratch database "
        f"{PG_DATABASE!r} is created there and dropped afterwards",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the table, cProfile prelabel's import and export of the first size",
    )
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        result = WORKERS[args.worker](json.loads(sys.stdin.read()))
        print(json.dumps(result), flush=True)
        return

    root = Path(tempfile.mkdtemp(prefix="prelabel-bench-"))
    try:
        if args.profile:
            profile(args, root)
        else:
            lines = measure(args, root)
            print("\n".join(lines))
    finally:
        if args.postgres and not args.profile:
            run_worker("drop-postgres", url=args.postgres)
        if args.keep:
            progress(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def profile(args: argparse.Namespace, root: Path) -> None:
    size = args.tasks[0]
    template = root / "prelabel.db"
    project_id = run_worker("prepare-sqlite", path=str(template))["project_id"]
    path = root / f"tasks-{size}.{args.format}"
    progress(f"generating {size:,} tasks into {path.name} ...")
    generate(path, size, args.format)
    run_worker(
        "profile",
        url=f"sqlite:///{template}",
        project_id=project_id,
        path=str(path),
        fmt=args.format,
        out=str(root / "export.json"),
        tasks=size,
        dir=str(root),
    )
    if args.keep:
        progress(f"profiles: {root}/import.prof, {root}/export.prof")


if __name__ == "__main__":
    main()
