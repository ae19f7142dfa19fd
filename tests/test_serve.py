"""``prelabel serve`` as a user starts it: a process that creates its database, prints the
first admin's token, answers the API with that token, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_health(url: str, server: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited while starting"
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not answer /health")


def _prelabel(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
    """``prelabel ARGS`` in its own process; both its outputs go to one file."""
    output = tmp_path / "output.txt"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from prelabel.cli import run; run()",
                "--data-dir",
                str(tmp_path / "data"),
                *args,
            ],
            stdout=sink,
            stderr=sink,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
    return process, output


def _token(output: Path) -> dict[str, str]:
    token = re.search(r"API token \(shown once\):\s+(\w{40})", output.read_text())
    assert token is not None, output.read_text()
    return {"Authorization": f"Token {token[1]}"}


def test_serve_creates_the_store_prints_a_token_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    server, errors = _prelabel(tmp_path, "serve", "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, server, time.monotonic() + 60)
        headers = _token(errors)
        assert httpx.get(f"{url}/api/version/", headers=headers).json()["edition"] == "Community"
        assert httpx.get(f"{url}/api/version/").status_code == 401
    finally:
        server.send_signal(signal.SIGINT)
        status = server.wait(timeout=30)
    assert status == 0, errors.read_text()
    assert (tmp_path / "data" / "prelabel.db").exists()


def test_demo_serves_the_labeled_demo_project(tmp_path: Path) -> None:
    port = _free_port()
    demo, output = _prelabel(tmp_path, "demo", "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, demo, time.monotonic() + 300)
        headers = _token(output)
        projects = httpx.get(f"{url}/api/projects/", headers=headers).json()["results"]
        assert [p["title"] for p in projects] == ["Product reviews (demo)"]
        page = httpx.get(
            f"{url}/api/tasks/",
            params={"project": projects[0]["id"], "page_size": 100, "fields": "all"},
            headers=headers,
        ).json()
    finally:
        demo.send_signal(signal.SIGINT)
        status = demo.wait(timeout=30)
    assert status == 0, output.read_text()
    assert page["total"] == 60
    assert all(task["predictions"][0]["model_version"] == "reviews__v1" for task in page["tasks"])
    assert "sentiment" in output.read_text()
