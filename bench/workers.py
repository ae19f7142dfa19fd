"""One run executed by distributed ``prelabel worker`` processes, against the fake LLM server.

The scenario: a run of 20,000 tasks, concurrency 64, against ``tests/fakes/llm_server.py``'s
fake OpenAI-compatible server running in **its own process** and answering after 200 ms. The
run is latency-bound: its ideal is concurrency / latency = 320 tasks/s. With
``PRELABEL_REDIS_URL`` set the run's concurrency is counted in Redis across every worker, so
the ideal is the same 320 tasks/s whether 1, 2 or 4 workers execute it: more workers only
spread the client's CPU over more processes (and more GILs).

For each backend, on a fresh PostgreSQL database and against a fresh server:

* **in-process**: ``start_run`` then ``execute_run`` in this process, the backend the CLI
  uses without Redis: the peer the workers' figures are read against.
* **N workers** (1, 2, 4): N ``prelabel worker`` processes are started first (configured by
  their environment as on other machines: ``PRELABEL_DATABASE_URL``, ``PRELABEL_REDIS_URL``,
  a queue of the run's own, ``PRELABEL_CHUNK_SIZE``) and left to register with RQ; then
  ``start_run`` and one dispatcher pass, as ``prelabel run start`` does, and the database is
  polled every 0.1 s until the run has ended.

The clock runs from ``start_run`` (the worklist being written included) until the run has
ended. The server reports the most requests it answered at once, which shows the shared
concurrency holding, and how many it received, which shows no task asked twice. The machine's
other load is printed too: PostgreSQL and Redis, which serve the clients, run on the same
CPUs, as do other users' jobs. It prints figures and never asserts a timing. Run
``.venv/bin/python bench/workers.py --help``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from engine import (
    Sampler,
    ServerProcess,
    _setup,
    machine_busy,
    machine_facts,
    prelabel_source,
    process_cpu,
    progress,
    scratch_directory,
    start_all,
    warn_if_changed,
    worker_prepare,
)
from import_export import _postgres_admin

DATABASE = "prelabel_bench_workers"
#: The worker command, as ``tests/jobs/test_worker_processes.py`` starts it.
WORKER = [sys.executable, "-c", "from prelabel.cli import run; run()", "worker"]
POLL = 0.1  # seconds between two looks at the run's status
SLOT_SAMPLE_EVERY = 0.05  # seconds between two counts of the shared slots held


# ---------------------------------------------------------------------------------------------
# PostgreSQL and Redis


def recreate_database(admin_url: str, *, create: bool = True) -> str:
    """Drop the scratch database (and create it afresh); the URL of the new one."""
    import psycopg

    conninfo, parsed = _postgres_admin(admin_url)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        if create:
            admin.execute(f'CREATE DATABASE "{DATABASE}"')
    return parsed.set(database=DATABASE).render_as_string(hide_password=False)


def versions(database_url: str, redis_url: str) -> str:
    import rq
    from redis import Redis
    from sqlalchemy import text

    from prelabel.store.database import create_store_engine

    engine = create_store_engine(database_url)
    try:
        with engine.connect() as connection:
            postgres = connection.execute(text("SHOW server_version")).scalar()
    finally:
        engine.dispose()
    client = Redis.from_url(redis_url, socket_connect_timeout=3)
    try:
        redis = client.info("server")["redis_version"]
    finally:
        client.close()
    return (
        f"Python {platform.python_version()}, PostgreSQL {postgres}, Redis {redis}, rq "
        f"{rq.__version__}; fake LLM server (FastAPI + uvicorn h11) in its own process"
    )


def forget_queue(redis_url: str, queue: str) -> None:
    """Delete the Redis keys named after the queue: the queue, its registries, the run's
    limits. The job records expire by themselves (``result_ttl``)."""
    from redis import Redis

    with Redis.from_url(redis_url) as client:
        for key in client.scan_iter(match=f"*{queue}*", count=1000):
            client.delete(key)


# ---------------------------------------------------------------------------------------------
# The backends


def in_process(setup: Any, args: argparse.Namespace) -> dict[str, Any]:
    """``start_run`` then ``execute_run`` here (the run's evaluation included)."""
    from prelabel.services.run_execution import execute_run

    started = time.perf_counter()
    run_id = start_all(setup, args.concurrency)
    created = time.perf_counter()
    run = execute_run(setup.store, setup.runtime, run_id)
    return {"start_s": created - started, "dispatch_s": 0.0, "run": run, "worker_cpu": []}


class Workers:
    """``count`` ``prelabel worker`` processes on a queue of their own, registered with RQ
    when the block begins; stopped (SIGTERM, as a deployment stops them) when it ends."""

    def __init__(self, count: int, args: argparse.Namespace, root: Path) -> None:
        self.count = count
        self.redis_url = args.redis
        self.queue = f"prelabel-bench-{secrets.token_hex(4)}-{count}w"
        self.chunk_size = args.chunk_size
        self.errors = root / f"workers-{count}.stderr"
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Workers:
        env = {
            **os.environ,
            "PRELABEL_REDIS_URL": self.redis_url,
            "PRELABEL_QUEUE_NAME": self.queue,
            "PRELABEL_CHUNK_SIZE": str(self.chunk_size),
        }
        with self.errors.open("ab") as stderr:
            for _ in range(self.count):
                self.processes.append(
                    subprocess.Popen(WORKER, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
                )
        try:
            self._wait_registered()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_registered(self, timeout: float = 60.0) -> None:
        from redis import Redis
        from rq import Queue, Worker

        client = Redis.from_url(self.redis_url)
        try:
            queue = Queue(self.queue, connection=client)
            deadline = time.monotonic() + timeout
            while Worker.count(connection=client, queue=queue) < self.count:
                if any(process.poll() is not None for process in self.processes):
                    raise SystemExit(f"a worker exited at start:\n{self.errors.read_text()}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"the workers did not register in {timeout:g} s")
                time.sleep(0.1)
        finally:
            client.close()

    def cpu(self) -> list[float]:
        return [process_cpu(process.pid) for process in self.processes]

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        forget_queue(self.redis_url, self.queue)


def distributed(
    setup: Any, args: argparse.Namespace, root: Path, workers: Workers
) -> dict[str, Any]:
    """``start_run``, one dispatcher pass, then follow the run until it ends."""
    from prelabel.jobs.distributed import ChunkQueue, Dispatcher
    from prelabel.services.run_execution import follow_run
    from prelabel.settings import Settings

    settings = Settings(
        data_dir=root / "data",
        redis_url=workers.redis_url,
        queue_name=workers.queue,
        chunk_size=workers.chunk_size,
    )
    cpu = workers.cpu()
    started = time.perf_counter()
    run_id = start_all(setup, args.concurrency)
    created = time.perf_counter()
    slots = SlotSampler(workers.redis_url, f"prelabel:{workers.queue}:run:{run_id}:slots")
    with slots:
        queue = ChunkQueue(settings)
        try:
            Dispatcher(setup.store, queue, rows_per_chunk=settings.chunk_size).run_pass()
        finally:
            queue.close()
        dispatched = time.perf_counter()
        run = follow_run(setup.store, run_id, on_progress=lambda _: None, poll_seconds=POLL)
    worker_cpu = [after - before for before, after in zip(cpu, workers.cpu(), strict=True)]
    return {
        "start_s": created - started,
        "dispatch_s": dispatched - created,
        "run": run,
        "worker_cpu": worker_cpu,
        "slots": slots.held,
    }


class SlotSampler(Sampler):
    """How many of the run's shared concurrency slots are held, read in a thread every
    ``SLOT_SAMPLE_EVERY`` s: the size of ``shared_limits.RedisSlots``' sorted set of holders."""

    def __init__(self, redis_url: str, key: str) -> None:
        from redis import Redis

        super().__init__(SLOT_SAMPLE_EVERY, "slot-sampler")
        self._client = Redis.from_url(redis_url)
        self._key = key
        self.held: list[int] = []

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self._client.close()

    def _read(self) -> None:
        self.held.append(self._client.zcard(self._key))


def chunk_facts(setup: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from prelabel.store import RunChunk

    with setup.store.session() as session:
        chunks, retried = session.execute(
            select(func.count(RunChunk.id), func.count(RunChunk.id).filter(RunChunk.attempt > 1))
        ).one()
    return {"chunks": chunks, "retried": retried}


def measure(args: argparse.Namespace, root: Path, count: int) -> dict[str, Any]:
    """One backend (``count`` workers, 0 for in-process) on a fresh database and server."""
    name = f"{count} worker{'s' if count > 1 else ''}" if count else "in-process"
    progress(f"{name}: fresh database, importing {args.tasks:,} tasks ...")
    recreate_database(args.postgres)
    data_dir = root / "data"
    project_id = worker_prepare({"data_dir": str(data_dir), "tasks": args.tasks})["project_id"]
    with ServerProcess(args.latency) as server:
        setup = _setup(
            {"data_dir": str(data_dir), "project_id": project_id, "base_url": server.base_url}
        )
        try:
            progress(f"{name}: {args.tasks:,} tasks, concurrency {args.concurrency} ...")
            if count:
                workers = Workers(count, args, root)
                with workers:
                    result, clock = _clocked(
                        server.pid,
                        setup,
                        args.redis,
                        lambda: distributed(setup, args, root, workers),
                    )
            else:
                result, clock = _clocked(
                    server.pid, setup, args.redis, lambda: in_process(setup, args)
                )
            result.update(chunk_facts(setup))
        finally:
            setup.store.close()
    return {"name": name, "workers": count, **result, **clock, "seen": server.seen}


def _clocked(
    server_pid: int, setup: Any, redis_url: str, body: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``body`` with the wall clock and the CPU of this process, the server, the scratch
    database's PostgreSQL backends, Redis and the whole machine."""
    load = os.getloadavg()[0]
    server_cpu = process_cpu(server_pid)
    postgres = postgres_cpu(setup)
    redis = redis_cpu(redis_url)
    busy = machine_busy()
    cpu = time.process_time()
    started = time.perf_counter()
    result = body()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    busy = machine_busy() - busy
    clock = {
        "wall_s": wall,
        "driver_cpu_s": cpu,
        "server_cpu_s": process_cpu(server_pid) - server_cpu,
        # A backend that ended during the run is missed; one that began is counted whole.
        "postgres_cpu_s": sum(
            spent - postgres.get(pid, 0.0) for pid, spent in postgres_cpu(setup).items()
        ),
        "redis_cpu_s": redis_cpu(redis_url) - redis,
        "busy_s": busy,
        "load": (load, os.getloadavg()[0]),
    }
    return result, clock


def postgres_cpu(setup: Any) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to the scratch database now."""
    from sqlalchemy import text

    with setup.store.session() as session:
        pids = session.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    spent = {}
    for pid in pids:
        with contextlib.suppress(OSError):  # ended meanwhile, or on another machine
            spent[pid] = process_cpu(pid)
    return spent


def redis_cpu(redis_url: str) -> float:
    """CPU seconds the Redis server has used (its ``INFO cpu``; other users' work included)."""
    from redis import Redis

    client = Redis.from_url(redis_url)
    try:
        info = client.info("cpu")
    finally:
        client.close()
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


# ---------------------------------------------------------------------------------------------
# The report


def table(results: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    """One row per backend: rate, its ratios, the CPU of each party per task, what the server
    saw, the load average, the run's outcome."""
    tasks, ideal = args.tasks, args.concurrency / args.latency
    peer = next((result["rate"] for result in results if not result["workers"]), None)
    lines = [
        f"  {'backend':<10} {'tasks/s':>7} {'× ideal':>7} {'× in-proc':>9} {'wall s':>6} "
        f"{'start s':>7}  {'--------cpu µs/task---------':>28} {'others':>6} {'max in':>6} "
        f"{'requests':>8} {'load avg':>11}  outcome",
        f"  {'':<10} {'':>7} {'':>7} {'':>9} {'':>6} {'':>7}  {'clients':>7}{'server':>7}"
        f"{'postgres':>9}{'redis':>6}  {'cpu s':>6} {'flight':>6} {'':>8} {'start → end':>11}",
    ]
    for result in results:
        run = result["run"]
        clients = result["driver_cpu_s"] + sum(result["worker_cpu"])
        parties = (clients, result["server_cpu_s"], result["postgres_cpu_s"], result["redis_cpu_s"])
        others = max(0.0, result["busy_s"] - sum(parties))
        per_task = [spent / tasks * 1e6 for spent in parties]
        versus = f"{result['rate'] / peer:>9.2f}" if peer else f"{'':>9}"
        seen = result["seen"]
        lines.append(
            f"  {result['name']:<10} {result['rate']:>7.1f} {result['rate'] / ideal:>7.2f} "
            f"{versus} {result['wall_s']:>6.1f} {result['start_s']:>7.2f}  "
            f"{per_task[0]:>7,.0f}{per_task[1]:>7,.0f}{per_task[2]:>9,.0f}{per_task[3]:>6,.0f}  "
            f"{others:>6.1f} {seen.get('max_in_flight', '?'):>6} {seen.get('requests', 0):>8,} "
            f"{result['load'][0]:>5.2f} → {result['load'][1]:<4.2f}  "
            f"{run.status}: {run.done:,} done, {run.failed:,} failed"
        )
    return lines


def details(results: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    lines = []
    for result in results:
        if not result["workers"]:
            continue
        wall = result["wall_s"]
        each = ", ".join(f"{cpu:.1f} s ({cpu / wall:.0%})" for cpu in result["worker_cpu"])
        slots = result["slots"] or [0]
        full = sum(held >= args.concurrency for held in slots) / len(slots)
        lines += [
            f"  {result['name']}: {result['chunks']} chunks of up to {args.chunk_size} tasks, "
            f"{result['retried']} queued again; dispatch pass {result['dispatch_s']:.2f} s; "
            f"driver CPU {result['driver_cpu_s']:.1f} s",
            f"    worker CPU (share of one CPU over the run): {each}",
            f"    shared slots held, from dispatch to the end, every {SLOT_SAMPLE_EVERY * 1000:g} "
            f"ms: mean {sum(slots) / len(slots):.1f} of {args.concurrency}, all "
            f"{args.concurrency} held in {full:.0%} of {len(slots):,} samples",
        ]
    return lines


def measure_all(args: argparse.Namespace, root: Path) -> None:
    """Every backend in turn; the report."""
    database_url = recreate_database(args.postgres)
    # What the workers and this process's Settings read: the scratch database, and the
    # secret bench/engine.py seals the connection's key with.
    os.environ["PRELABEL_DATABASE_URL"] = database_url
    os.environ["PRELABEL_DATA_DIR"] = str(root / "data")
    os.environ["PRELABEL_SECRET_KEY"] = "bench"
    source, digest = prelabel_source()
    ideal = args.concurrency / args.latency
    lines = [
        machine_facts()[0],
        versions(database_url, args.redis),
        source,
        f"run: {args.tasks:,} tasks, concurrency {args.concurrency} (counted in Redis across "
        f"the workers), latency {args.latency * 1000:g} ms, ideal {ideal:.1f} tasks/s; chunks "
        f"of {args.chunk_size}; cache off; each backend on a fresh PostgreSQL database against "
        "a fresh server",
        f"load average at start: {load_average()}",
    ]
    print("\n".join(lines), flush=True)
    results = []
    for count in ([0] if args.in_process else []) + args.workers:
        result = measure(args, root, count)
        result["rate"] = result["run"].done / result["wall_s"]
        results.append(result)
    print("\n".join(["", *table(results, args), *details(results, args)]))
    print(f"load average at end: {load_average()}")
    warn_if_changed(digest)


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Throughput of one latency-bound run executed by 1, 2 and 4 `prelabel "
        "worker` processes on PostgreSQL + Redis, next to the in-process engine, against the "
        "fake LLM server in another process."
    )
    parser.add_argument(
        "--tasks", type=int, default=20_000, metavar="N", help="tasks of the run (default: 20000)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2, 4],
        metavar="N",
        help="worker counts to measure, one run each (default: 1 2 4)",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=500,
        metavar="N",
        help="tasks per chunk job, PRELABEL_CHUNK_SIZE of the workers (default: 500)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=64,
        help="the run's concurrency, shared by all its workers (default: 64)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.2, help="the server's latency, s (default: 0.2)"
    )
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        metavar="URL",
        help="a PostgreSQL database to connect to as an administrator; the scratch database "
        f"{DATABASE} is created there for each backend and dropped at the end "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/0",
        metavar="URL",
        help="the Redis of the queues (each run has a queue of its own; default: %(default)s)",
    )
    parser.add_argument(
        "--no-in-process",
        dest="in_process",
        action="store_false",
        help="skip the in-process run",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    with scratch_directory("prelabel-bench-workers-", keep=args.keep) as root:
        try:
            measure_all(args, root)
        finally:
            recreate_database(args.postgres, create=False)


if __name__ == "__main__":
    main()
