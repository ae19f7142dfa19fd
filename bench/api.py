"""The REST API at work: importing 10,000 tasks with predictions, and a Data Manager page.

On a fresh SQLite database, with ``prelabel``'s app served by uvicorn on a local port and an
httpx client in the same machine (a separate process, as a script would be), this measures:

* **import**: ``POST /api/projects/{id}/import`` of N tasks (each with one prediction, a
  third with a ground-truth annotation) as one JSON array, into a fresh project each time;
  median of three. The peer, measured in the same run: ``import_tasks`` called directly on
  the same bytes, without HTTP (what the API adds is the difference);
* **page**: ``GET /api/tasks?project=..&page=1&page_size=100&fields=all`` as the SDK sends it,
  median of 20. The peer: ``list_tasks`` called directly.

It prints each time beside the issue's goal and Label Studio 1.23's time on this machine
class (10.8 s and 0.34 s). It never asserts a timing. ``.venv/bin/python bench/api.py``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from review_tasks import SENTIMENT_CONFIG, review_tasks

GOALS = {"import": 1.0, "page": 0.030}
LABEL_STUDIO = {"import": 10.8, "page": 0.34}


def _median(action: Any, times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _serve(directory: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    """``prelabel serve`` in its own process; returns it and the admin's token."""
    errors = directory / "serve.log"
    with errors.open("wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from prelabel.cli import run; run()",
                "--data-dir",
                str(directory / "data"),
                "serve",
                "--port",
                str(port),
                "--no-jobs",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    text = errors.read_text()
    token = text.split("API token (shown once):", 1)[1].split()[0]
    return server, token


def measure(tasks: int, port: int) -> dict[str, float]:
    from prelabel.services.imports import import_tasks
    from prelabel.services.projects import create_project, get_project
    from prelabel.services.tasks import list_tasks
    from prelabel.settings import Settings
    from prelabel.store import Store

    body = orjson.dumps(review_tasks(0, tasks))
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        server, token = _serve(directory, port)
        try:
            client = httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Token {token}"},
                timeout=120,
            )

            def api_import() -> None:
                project = client.post(
                    "/api/projects/", json={"title": "bench", "label_config": SENTIMENT_CONFIG}
                ).json()
                response = client.post(
                    f"/api/projects/{project['id']}/import",
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                assert response.status_code == 201, response.text
                assert response.json()["task_count"] == tasks

            api_import_s = _median(api_import, 3)
            project_id = client.get("/api/projects/").json()["results"][0]["id"]

            def api_page() -> None:
                response = client.get(
                    "/api/tasks/",
                    params={"project": project_id, "page": 1, "page_size": 100, "fields": "all"},
                )
                assert response.status_code == 200 and len(response.json()["tasks"]) == 100

            api_page()  # warm
            api_page_s = _median(api_page, 20)
        finally:
            server.terminate()
            server.wait(30)
        store = Store.open(Settings(data_dir=directory / "data"))

        def direct_import() -> None:
            with store.session() as session:
                project = create_project(session, title="direct", label_config=SENTIMENT_CONFIG)
                import_tasks(session, project, io.BytesIO(body), fmt="json")

        direct_import_s = _median(direct_import, 3)

        def direct_page() -> None:
            with store.session() as session:
                page = list_tasks(session, get_project(session, project_id), page_size=100)
                assert len(page.tasks) == 100

        direct_page()
        direct_page_s = _median(direct_page, 20)
        store.close()
    return {
        "import": api_import_s,
        "import_direct": direct_import_s,
        "page": api_page_s,
        "page_direct": direct_page_s,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    result = measure(args.tasks, args.port)
    print(f"{args.tasks:,} tasks with one prediction each, SQLite, over HTTP on 127.0.0.1")
    for name, label in (("import", "import through the API"), ("page", "Data Manager page")):
        seconds, direct = result[name], result[f"{name}_direct"]
        print(
            f"  {label:<24} {seconds * 1000:8.1f} ms  goal < {GOALS[name] * 1000:.0f} ms  "
            f"service alone {direct * 1000:.1f} ms (API adds {seconds / direct:.2f}x)  "
            f"Label Studio 1.23: {LABEL_STUDIO[name] * 1000:.0f} ms "
            f"({LABEL_STUDIO[name] / seconds:.0f}x slower)"
        )


if __name__ == "__main__":
    main()
