"""The run engine against the fake LLM server: throughput, overhead and memory.

Three scenarios, each run by ``execute_run`` (the in-process job backend, as the CLI runs it)
in a fresh process on a fresh SQLite database, against ``tests/fakes/llm_server.py``'s fake
OpenAI-compatible server running in **another process** (so its CPU does not share the
engine's GIL):

* **latency-bound**: the server answers after 200 ms; concurrency 64 over 20,000 tasks.
  The ideal is concurrency / latency (320 tasks/s); the figure is achieved / ideal.
* **overhead**: the server answers at once; concurrency 64 and 16 over 20,000 tasks: how many
  predictions per second the engine, its SDK and the server manage together on this machine.
  Next to it, the **floor**: the same requests sent by the bare ``openai`` SDK from a loop of
  coroutines, no engine, no database: what the server and the SDK allow at all.
* **memory**: the server answers at once; 200,000 tasks at concurrency 64; the engine
  process's resident set sampled every 20 ms, printed after 10%, 25%, 50%, 75% and 100% of the
  tasks, and its peak.

Wall time covers ``execute_run`` only (not the import, nor creating the run's worklist); cache
off, so every task calls the server. It prints figures and never asserts a timing. Run
``.venv/bin/python bench/engine.py --help``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")

#: The labeling config of the tasks (tests/factories.py's SENTIMENT_CONFIG).
SENTIMENT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
</View>"""
TEMPLATE = "Review: {text}"
MODEL = "fake-model"
CHECKPOINTS = (0.10, 0.25, 0.50, 0.75, 1.00)
SAMPLE_EVERY = 0.02  # seconds between RSS samples

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


def current_rss() -> int:
    """This process's resident set now, in bytes (``/proc/self/statm``)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE


def rss_parts() -> dict[str, int]:
    """This process's resident set by kind, in bytes: ``RssAnon`` (the heap: Python objects,
    SQLite's page caches), ``RssFile`` (mapped files: code, shared libraries) and ``RssShmem``
    (shared memory, such as SQLite's WAL index)."""
    parts = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
                name, value = line.split()[:2]
                parts[name[3:-1].lower()] = int(value) * 1024
    return parts


def sqlite_heap() -> int | None:
    """Bytes SQLite has allocated in this process (``sqlite3_memory_used``): page caches,
    statements, schemas. ``None`` when Python's sqlite3 is not the shared libsqlite3."""
    import ctypes
    import sqlite3  # noqa: F401 - loads the library this reads from

    try:
        library = ctypes.CDLL("libsqlite3.so.0")
        used = library.sqlite3_memory_used
    except (OSError, AttributeError):
        return None
    used.restype = ctypes.c_int64
    value = int(used())
    return value if value > 0 else None


def malloc_heap() -> tuple[int, int] | None:
    """glibc malloc's bytes in use and bytes free but held (``mallinfo2``: ``uordblks +
    hblkhd`` and ``fordblks``), over all its arenas. Growth in the second while the first is
    flat is fragmentation, not a leak. ``None`` off glibc (or before 2.33)."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in (
                "arena",
                "ordblks",
                "smblks",
                "hblks",
                "hblkhd",
                "usmblks",
                "fsmblks",
                "uordblks",
                "fordblks",
                "keepcost",
            )
        ]

    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = MallInfo2
    info = mallinfo2()
    return info.uordblks + info.hblkhd, info.fordblks


def peak_rss() -> int:
    """This process's high-water mark, in bytes: ``VmHWM`` (``ru_maxrss`` after ``exec``
    counts the parent's peak too, so it is only the fallback)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid``, all its threads (``/proc/PID/stat``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy() -> float:
    """CPU seconds all CPUs of the machine spent busy since boot (``/proc/stat``)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / TICKS


class Sampler:
    """A thread that calls ``_read()`` every ``every`` s while the block runs; ``samples``
    counts the calls."""

    def __init__(self, every: float, name: str) -> None:
        self.every = every
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name=name, daemon=True)

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self._read()
            self.samples += 1

    def _read(self) -> None:
        raise NotImplementedError


class RssSampler(Sampler):
    """A thread that reads this process's RSS every ``SAMPLE_EVERY`` s and keeps the most,
    and when (``time.perf_counter()``) it was seen."""

    def __init__(self) -> None:
        super().__init__(SAMPLE_EVERY, "rss-sampler")
        self.peak = current_rss()
        self.peak_at = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self._read()

    def _read(self) -> None:
        rss = current_rss()
        if rss > self.peak:
            self.peak, self.peak_at = rss, time.perf_counter()


# ---------------------------------------------------------------------------------------------
# The fake server, in its own process


def serve(latency: float) -> None:
    """Run the fake LLM server until stdin closes; print its base URL first, and when it
    stops, a JSON line of what it saw: requests received, the most it answered at once.

    The server keeps every request body it received; a thread empties that list every second
    so that a 200,000-task run does not grow the server by gigabytes.
    """
    sys.path.insert(0, str(ROOT))
    from tests.fakes.llm_server import FakeLLMServer

    server = FakeLLMServer(latency=latency)
    server.start()
    stop = threading.Event()
    forgotten = 0

    def forget() -> None:
        nonlocal forgotten
        while not stop.wait(1.0):
            count = len(server.requests)
            del server.requests[:count]  # one step under the GIL: no request is missed
            forgotten += count

    thread = threading.Thread(target=forget, daemon=True)
    thread.start()
    print(server.base_url, flush=True)
    try:
        sys.stdin.read()  # until the driver closes our stdin
    finally:
        stop.set()
        server.stop()
        thread.join()
        seen = {"requests": forgotten + len(server.requests), "max_in_flight": server.max_in_flight}
        print(json.dumps(seen), flush=True)


class ServerProcess:
    """The fake server in a child process; killed when the block ends, however it ends."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""
        #: What the server saw, once the block has ended (see ``serve``).
        self.seen: dict[str, int] = {}

    def __enter__(self) -> ServerProcess:
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", str(self.latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            self.__exit__()
            raise SystemExit("the fake LLM server did not start")
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __exit__(self, *exc: object) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.close()
            process.wait(timeout=10)
            self.seen = json.loads(process.stdout.read() or "{}")
        except (OSError, ValueError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()


# ---------------------------------------------------------------------------------------------
# Workers: each runs in a fresh interpreter, spec in on stdin, result out as JSON


def generate(path: Path, count: int, seed: int = 20240601) -> None:
    """``count`` tasks as JSONL, texts of 40 to 200 characters, written streaming."""
    import orjson

    rng = random.Random(seed)
    with path.open("wb", buffering=1024 * 1024) as out:
        for _ in range(count):
            target = rng.randint(40, 200)
            words: list[str] = []
            length = -1
            while length < target:
                word = rng.choice(_WORDS)
                words.append(word)
                length += len(word) + 1
            out.write(orjson.dumps({"data": {"text": " ".join(words)[:200].rstrip()}}) + b"\n")


def worker_prepare(spec: dict[str, Any]) -> dict[str, Any]:
    """A fresh store holding one project with ``tasks`` tasks (not measured)."""
    from prelabel.services.imports import import_tasks
    from prelabel.services.projects import create_project
    from prelabel.settings import Settings
    from prelabel.store import Store

    data_dir = Path(spec["data_dir"])
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "tasks.jsonl"
    generate(path, spec["tasks"])
    store = Store.open(Settings(data_dir=data_dir), create=True)
    with store.session() as session, path.open("rb") as stream:
        project = create_project(session, title="Bench", label_config=SENTIMENT_CONFIG)
        summary = import_tasks(session, project, stream, fmt="jsonl")
        project_id = project.id
    store.close()
    path.unlink()
    if summary.task_count != spec["tasks"]:
        raise SystemExit(f"imported {summary.task_count} tasks, expected {spec['tasks']}")
    return {"project_id": project_id}


@dataclass
class _Setup:
    store: Any
    runtime: Any
    version_id: int


def _setup(spec: dict[str, Any]) -> _Setup:
    """Open the prepared store; add the connection to the server and the prompt."""
    from prelabel.encryption import SecretBox
    from prelabel.providers.prices import Price, PriceTable
    from prelabel.services.connections import add_connection
    from prelabel.services.prompts import create_prompt
    from prelabel.services.run_execution import Runtime
    from prelabel.settings import Settings
    from prelabel.store import Project, Store

    box = SecretBox("bench")
    runtime = Runtime(box=box, prices=PriceTable({MODEL: Price(1.0, 1.0)}))
    store = Store.open(Settings(data_dir=Path(spec["data_dir"])))
    with store.session() as session:
        project = session.get(Project, spec["project_id"])
        connection = add_connection(
            session,
            box,
            name="fake",
            kind="openai",
            base_url=spec["base_url"],
            api_key="sk-bench",
            default_model=MODEL,
        )
        _, version = create_prompt(
            session, project, name="p", template=TEMPLATE, connection=connection
        )
        version_id = version.id
    return _Setup(store, runtime, version_id)


def start_all(setup: _Setup, concurrency: int) -> int:
    """A Pending run of every task at ``concurrency``, cache off (so every task calls the
    server), as ``prelabel run start`` creates it; its id."""
    from prelabel.engine.job import RunOptions
    from prelabel.services.run_execution import start_run
    from prelabel.services.runs import Baseline
    from prelabel.store import PromptVersion

    with setup.store.session() as session:
        run = start_run(
            session,
            setup.runtime,
            session.get(PromptVersion, setup.version_id),
            Baseline.parse("all"),
            RunOptions(concurrency=concurrency, cache=False),
        )
        return run.id


def worker_engine(spec: dict[str, Any]) -> dict[str, Any]:
    """Start a run of every task and time ``execute_run``; sample RSS throughout."""
    from prelabel.services.run_execution import execute_run

    setup = _setup(spec)
    run_id = start_all(setup, spec["concurrency"])
    total = spec["tasks"]
    checkpoints: list[dict[str, Any]] = []
    pending = list(CHECKPOINTS)
    started = time.perf_counter()

    def on_progress(progress: Any) -> None:
        finished = progress.done + progress.failed
        while pending and finished >= pending[0] * total:
            rss = current_rss()
            checkpoints.append(
                {
                    "fraction": pending.pop(0),
                    "finished": finished,
                    "elapsed_s": time.perf_counter() - started,
                    "rss": rss,
                    "parts": rss_parts(),
                    "sqlite": sqlite_heap(),
                    "python_blocks": sys.getallocatedblocks(),
                    "malloc": malloc_heap(),
                    "peak_so_far": max(rss, sampler.peak),
                }
            )

    profiler = _ThreadProfiler() if spec.get("profile") else None
    rss_before = current_rss()
    hwm_before = peak_rss()
    server_cpu = process_cpu(spec["server_pid"])
    busy = machine_busy()
    with RssSampler() as sampler:
        if profiler is not None:
            profiler.start()
        started = time.perf_counter()
        cpu = time.process_time()
        ended = execute_run(setup.store, setup.runtime, run_id, on_progress=on_progress)
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - started
        rss_after = current_rss()
        if profiler is not None:
            profiler.stop()
    server_cpu = process_cpu(spec["server_pid"]) - server_cpu
    busy = machine_busy() - busy
    setup.store.close()
    if profiler is not None:
        profiler.report(spec, total)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "server_cpu_s": server_cpu,
        "busy_s": busy,
        "status": ended.status,
        "error": ended.error,
        "done": ended.done,
        "failed": ended.failed,
        "total": ended.total,
        "rss_before": rss_before,
        "hwm_before": hwm_before,
        "rss_after": rss_after,
        "rss_peak_sampled": sampler.peak,
        "rss_peak_at_s": max(0.0, sampler.peak_at - started),
        "rss_hwm": peak_rss(),
        "samples": sampler.samples,
        "checkpoints": checkpoints,
    }


def worker_floor(spec: dict[str, Any]) -> dict[str, Any]:
    """The same requests with no engine and no database: the peer of the engine's figures.

    ``client`` is ``sdk`` (``openai.AsyncOpenAI(http_client=DefaultAioHttpClient()).post``
    on ``/chat/completions``, read back as JSON: the call the engine's provider makes) or
    ``aiohttp`` (the HTTP client under it, bodies encoded and answers decoded with orjson: the
    HTTP stack alone). The messages and JSON schema are the engine's own (``build_job`` on the
    same prompt version), built before the clock starts; ``concurrency`` coroutines share one
    client and take requests from one iterator.
    """
    import aiohttp
    import openai
    import orjson
    from sqlalchemy import select

    from prelabel.services.run_execution import build_job
    from prelabel.store import PromptVersion, Task

    setup = _setup(spec)
    with setup.store.session() as session:
        job = build_job(session, session.get(PromptVersion, setup.version_id), setup.runtime)
        data = list(session.scalars(select(Task.data).order_by(Task.id)))
    setup.store.close()
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": dict(job.schema), "strict": True},
    }
    requests = [
        [dict(message) for message in job.request(job.messages(item)).messages] for item in data
    ]
    del data
    base_url = spec["base_url"]

    async def send_all() -> int:
        sdk = openai.AsyncOpenAI(
            base_url=base_url,
            api_key="sk-bench",
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(),
        )
        http = aiohttp.ClientSession(
            headers={"authorization": "Bearer sk-bench", "content-type": "application/json"},
            connector=aiohttp.TCPConnector(limit=1000),
            timeout=aiohttp.ClientTimeout(total=60),
        )
        queue = iter(requests)
        answered = 0

        async def with_sdk() -> None:
            nonlocal answered
            for messages in queue:
                body = {"model": MODEL, "messages": messages, "response_format": response_format}
                raw = await sdk.post(
                    "/chat/completions",
                    body=body,
                    cast_to=openai.AsyncAPIResponse[object],
                    options={"timeout": 60},
                )
                completion = await raw.parse()
                if completion["choices"][0]["message"]["content"]:
                    answered += 1

        async def with_aiohttp() -> None:
            nonlocal answered
            for messages in queue:
                body = {"model": MODEL, "messages": messages, "response_format": response_format}
                async with http.post(
                    f"{base_url}/chat/completions", data=orjson.dumps(body)
                ) as response:
                    response.raise_for_status()
                    completion = orjson.loads(await response.read())
                content = completion["choices"][0]["message"]["content"]
                if orjson.loads(content):
                    answered += 1

        worker = with_sdk if spec["client"] == "sdk" else with_aiohttp
        try:
            await asyncio.gather(*(worker() for _ in range(spec["concurrency"])))
        finally:
            await sdk.close()
            await http.close()
        return answered

    server_cpu = process_cpu(spec["server_pid"])
    busy = machine_busy()
    started = time.perf_counter()
    cpu = time.process_time()
    answered = asyncio.run(send_all())
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - started
    server_cpu = process_cpu(spec["server_pid"]) - server_cpu
    busy = machine_busy() - busy
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "server_cpu_s": server_cpu,
        "busy_s": busy,
        "done": answered,
        "total": len(requests),
    }


class _ThreadProfiler:
    """cProfile in every thread, not only the one that starts it: ``execute_run`` does its
    database work in ``asyncio.to_thread`` workers, which a plain ``cProfile`` run misses.

    Each thread is timed by its own CPU clock (``time.thread_time``), not the wall clock: with
    the wall clock a thread's functions would also be charged the time it waited for the GIL
    or sat idle in the thread pool.
    """

    def __init__(self) -> None:
        import cProfile

        self._make = lambda: cProfile.Profile(time.thread_time)
        self._lock = threading.Lock()
        self.profiles: list[Any] = []
        self._main = self._make()

    def _start_in_thread(self, *_: object) -> None:
        sys.setprofile(None)
        profile = self._make()
        with self._lock:
            self.profiles.append(profile)
        profile.enable()

    def start(self) -> None:
        threading.setprofile(self._start_in_thread)
        self._main.enable()

    def stop(self) -> None:
        self._main.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        for profile in self.profiles:
            profile.disable()  # a no-op outside its thread; the data stays readable

    def report(self, spec: dict[str, Any], total: int) -> None:
        import pstats

        stats = pstats.Stats(self._main, stream=sys.stderr)
        for profile in self.profiles:
            stats.add(profile)
        if spec.get("profile_out"):
            stats.dump_stats(spec["profile_out"])
        label = f"engine, {total:,} tasks, concurrency {spec['concurrency']}, all threads"
        for order in ("tottime", "cumulative"):
            print(f"\n===== {label}, by {order} =====", file=sys.stderr)
            stats.strip_dirs().sort_stats(order).print_stats(spec.get("top", 40))


WORKERS = {"prepare": worker_prepare, "engine": worker_engine, "floor": worker_floor}


def run_worker(kind: str, **spec: Any) -> dict[str, Any]:
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
        f"Python {platform.python_version()}; fake LLM server (FastAPI + uvicorn h11) in its "
        "own process; engine in a fresh process per scenario on a fresh SQLite database",
    ]


def prelabel_source() -> tuple[str, str]:
    """Where the workers import prelabel from, and a digest of its sources (taken before and
    after, it shows whether someone edited them while the benchmark ran)."""
    import hashlib

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


@contextmanager
def scratch_directory(prefix: str, *, keep: bool) -> Iterator[Path]:
    """A new temporary directory for the block, removed after it unless ``keep``."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield root
    finally:
        if keep:
            progress(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def warn_if_changed(digest: str) -> None:
    """Say so when prelabel's sources are no longer those ``prelabel_source`` digested."""
    if prelabel_source()[1] != digest:
        print("WARNING: prelabel's sources changed during the run; runs may mix versions")


def run_scenario(
    root: Path, name: str, kind: str, *, tasks: int, concurrency: int, latency: float, **extra: Any
) -> dict[str, Any]:
    """Prepare a fresh store, start a server, run one worker against it, stop the server."""
    data_dir = root / name
    progress(f"{name}: importing {tasks:,} tasks ...")
    project_id = run_worker("prepare", data_dir=str(data_dir), tasks=tasks)["project_id"]
    with ServerProcess(latency) as server:
        progress(f"{name}: {tasks:,} tasks, concurrency {concurrency}, latency {latency:g} s ...")
        result = run_worker(
            kind,
            data_dir=str(data_dir),
            project_id=project_id,
            tasks=tasks,
            concurrency=concurrency,
            base_url=server.base_url,
            server_pid=server.pid,
            **extra,
        )
    shutil.rmtree(data_dir, ignore_errors=True)
    result["rate"] = result["done"] / result["wall_s"]
    if result["done"] != tasks:
        progress(f"{name}: WARNING {result['done']:,} of {tasks:,} tasks done: {result}")
    return result


#: The clients each scenario runs: the engine, and its floors unless --no-floor.
CLIENTS = {
    "engine": "prelabel engine (execute_run)",
    "sdk": "floor: openai SDK post()",
    "aiohttp": "floor: bare aiohttp + orjson",
}


def run_clients(
    args: argparse.Namespace, root: Path, name: str, *, tasks: int, concurrency: int, latency: float
) -> dict[str, dict[str, Any]]:
    results = {}
    for client in CLIENTS if args.floor else ("engine",):
        kind = "engine" if client == "engine" else "floor"
        extra = {} if client == "engine" else {"client": client}
        results[client] = run_scenario(
            root,
            f"{name}-{client}-c{concurrency}",
            kind,
            tasks=tasks,
            concurrency=concurrency,
            latency=latency,
            **extra,
        )
    return results


def table(results: dict[str, dict[str, Any]], tasks: int, ideal: float | None = None) -> list[str]:
    """One row per client: rate, wall, CPU per task of client and server, other processes.

    ``1-CPU max`` is tasks / client CPU seconds: the most the client could do with one whole
    CPU to itself, its CPU per task being what it is. The engine and the SDK do nearly all
    their work under one GIL, so one CPU is all they can use."""
    ratio, blank = (f"{'× ideal':>8}", " " * 8) if ideal else ("", "")
    lines = [
        f"  {'client':<31} {'tasks/s':>8}{ratio} {'wall s':>7} {'client cpu':>11} "
        f"{'1-CPU max':>10} {'server cpu':>11} {'others cpu':>11}  outcome",
        f"  {'':<31} {'':>8}{blank} {'':>7} {'µs/task':>11} {'tasks/s':>10} {'µs/task':>11} "
        f"{'s':>11}",
    ]
    for client, result in results.items():
        others = max(0.0, result["busy_s"] - result["cpu_s"] - result["server_cpu_s"])
        cells = f"  {CLIENTS[client]:<31} {result['rate']:>8.1f}"
        if ideal:
            cells += f"{result['rate'] / ideal:>8.2f}"
        cells += (
            f" {result['wall_s']:>7.1f} {result['cpu_s'] / tasks * 1e6:>11,.0f} "
            f"{tasks / result['cpu_s']:>10,.0f} "
            f"{result['server_cpu_s'] / tasks * 1e6:>11,.0f} {others:>11.1f}  {_outcome(result)}"
        )
        lines.append(cells)
    return lines


def _outcome(result: dict[str, Any]) -> str:
    if "status" not in result:
        return f"{result['done']:,} answered"
    text = f"{result['status']}: {result['done']:,} done, {result['failed']:,} failed"
    return text + (f" ({result['error']})" if result.get("error") else "")


def _engine_over_sdk(results: dict[str, dict[str, Any]], tasks: int) -> list[str]:
    if "sdk" not in results:
        return []
    extra = (results["engine"]["cpu_s"] - results["sdk"]["cpu_s"]) / tasks * 1e6
    share = results["sdk"]["cpu_s"] / results["engine"]["cpu_s"]
    return [
        f"  engine CPU beyond the bare SDK's: {extra:+,.0f} µs/task; the bare SDK's CPU per task "
        f"is {share:.0%} of the engine's"
    ]


def latency_bound(args: argparse.Namespace, root: Path) -> list[str]:
    tasks, concurrency, latency = args.tasks, args.concurrency, args.latency
    ideal = concurrency / latency
    results = run_clients(
        args, root, "latency", tasks=tasks, concurrency=concurrency, latency=latency
    )
    rate = results["engine"]["rate"]
    return [
        f"latency-bound: {tasks:,} tasks, concurrency {concurrency}, {latency * 1000:g} ms: "
        f"{rate:.1f} tasks/s; ideal {ideal:.1f}/s; ratio {rate / ideal:.2f} (goal >= 0.9)",
        *table(results, tasks, ideal),
        *_engine_over_sdk(results, tasks),
    ]


def overhead(args: argparse.Namespace, root: Path) -> list[str]:
    tasks = args.tasks
    lines = []
    best = (0.0, 0)
    for concurrency in args.overhead_concurrency:
        results = run_clients(
            args, root, "overhead", tasks=tasks, concurrency=concurrency, latency=0.0
        )
        rate = results["engine"]["rate"]
        best = max(best, (rate, concurrency))
        lines += [
            f"overhead: {tasks:,} tasks, concurrency {concurrency}, 0 ms: "
            f"{rate:.1f} predictions/s (goal >= 400/s)",
            *table(results, tasks),
            *_engine_over_sdk(results, tasks),
        ]
    if len(args.overhead_concurrency) > 1:
        lines.append(
            f"overhead: best {best[0]:.1f} predictions/s, at concurrency {best[1]} (goal >= 400/s)"
        )
    return lines


def memory(args: argparse.Namespace, root: Path) -> list[str]:
    tasks, concurrency = args.rss_tasks, args.concurrency
    result = run_scenario(root, "memory", "engine", tasks=tasks, concurrency=concurrency, latency=0)
    points = result["checkpoints"]
    growth = (points[-1]["rss"] - points[0]["rss"]) / MB if len(points) > 1 else float("nan")
    lines = [
        f"memory: {tasks:,} tasks, concurrency {concurrency}, 0 ms: peak RSS "
        f"{result['rss_peak_sampled'] / MB:.1f} MB (goal < 300 MB); from 10% to 100% of the "
        f"tasks {growth:+.1f} MB",
        *table({"engine": result}, tasks),
        f"  RSS before execute_run (store open, run and worklist created): "
        f"{result['rss_before'] / MB:.1f} MB "
        f"(high-water mark so far {result['hwm_before'] / MB:.1f} MB)",
    ]
    for point in points:
        parts = ", ".join(f"{name} {size / MB:.1f}" for name, size in point["parts"].items())
        heap = [f"Python blocks {point['python_blocks']:,}"]
        if point["malloc"] is not None:
            used, held = point["malloc"]
            heap.append(f"malloc in use {used / MB:.1f} MB, free but held {held / MB:.1f} MB")
        if point["sqlite"] is not None:
            heap.append(f"SQLite {point['sqlite'] / MB:.1f} MB")
        lines.append(
            f"  after {point['fraction']:>4.0%} ({point['finished']:>9,} tasks, "
            f"{point['elapsed_s']:>6.1f} s): RSS {point['rss'] / MB:6.1f} MB ({parts}), "
            f"peak so far {point['peak_so_far'] / MB:.1f} MB"
        )
        lines.append(f"{'':>38}{'; '.join(heap)}")
    last = points[-1]["elapsed_s"] if points else 0.0
    lines += [
        f"  execute_run returned at {result['wall_s']:.1f} s, {result['wall_s'] - last:.1f} s "
        f"after the last batch was committed: RSS {result['rss_after'] / MB:.1f} MB",
        f"  peak: {result['rss_peak_sampled'] / MB:.1f} MB at {result['rss_peak_at_s']:.1f} s, "
        f"sampled every {SAMPLE_EVERY * 1000:g} ms ({result['samples']:,} samples); VmHWM "
        f"{result['rss_hwm'] / MB:.1f} MB",
    ]
    return lines


SCENARIOS = {"latency": latency_bound, "overhead": overhead, "memory": memory}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="The run engine against a fake LLM server in another process: "
        "latency-bound throughput, engine overhead at zero latency, and RSS over a long run."
    )
    parser.add_argument(
        "--tasks",
        type=int,
        default=20_000,
        metavar="N",
        help="tasks of the latency-bound and overhead runs (default: 20000)",
    )
    parser.add_argument(
        "--rss-tasks",
        type=int,
        default=200_000,
        metavar="N",
        help="tasks of the memory run (default: 200000)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.2, help="server latency of the latency-bound run, s"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=64,
        help="concurrency of the latency-bound and memory runs (default: 64)",
    )
    parser.add_argument(
        "--overhead-concurrency",
        type=int,
        nargs="+",
        default=[64, 16],
        metavar="C",
        help="concurrencies of the overhead runs (default: 64 16)",
    )
    parser.add_argument(
        "--scenarios",
        nargs="+",
        choices=sorted(SCENARIOS),
        default=list(SCENARIOS),
        help="which to run (default: all, in the order latency overhead memory)",
    )
    parser.add_argument(
        "--no-floor", dest="floor", action="store_false", help="skip the bare-SDK floor runs"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the scenarios: cProfile (every thread) the engine process of one "
        "run of --tasks tasks at the first --overhead-concurrency, with the server answering "
        "after --profile-latency",
    )
    parser.add_argument(
        "--profile-latency",
        type=float,
        default=0.0,
        metavar="S",
        help="the fake server's latency in the --profile run (default: 0)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--serve", type=float, metavar="LATENCY", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver stops us by closing stdin
        serve(args.serve)
        return
    if args.worker:
        result = WORKERS[args.worker](json.loads(sys.stdin.read()))
        print(json.dumps(result), flush=True)
        return

    with scratch_directory("prelabel-bench-engine-", keep=args.keep) as root:
        if args.profile:
            concurrency = args.overhead_concurrency[0]
            run_scenario(
                root,
                "profile",
                "engine",
                tasks=args.tasks,
                concurrency=concurrency,
                latency=args.profile_latency,
                profile=True,
                profile_out=str(root / "engine.prof"),
            )
            if args.keep:
                progress(f"profile: {root / 'engine.prof'}")
            return
        source, digest = prelabel_source()
        lines = [*machine_facts(), source, ""]
        for name in SCENARIOS:
            if name in args.scenarios:
                lines += SCENARIOS[name](args, root)
                print("\n".join(lines), flush=True)  # so far, in case a later one fails
                lines = [""]
        warn_if_changed(digest)


if __name__ == "__main__":
    main()
