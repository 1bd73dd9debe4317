"""The `jobwire` CLI against a running server, as a person or a script uses it."""

import json
import os
import pty
import subprocess
import sys

from jobwire.server.server_process import ServerProcess

CLI = [sys.executable, "-m", "jobwire.client.cli.main"]


def run_cli(server: ServerProcess, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *arguments],
        env={**os.environ, "JOBWIRE_ADDR": server.address},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_submit_a_batch_and_watch_it_as_json(server: ServerProcess) -> None:
    finished = run_cli(
        server,
        "submit", "sleep", "--param", "seconds=0.2", "--count", "20",
        "--batch-name", "demo", "--watch", "--output", "json",
    )  # fmt: skip

    assert finished.returncode == 0, finished.stderr
    lines = [json.loads(line) for line in finished.stdout.splitlines()]
    completed = [line["counts"].get("completed", 0) for line in lines]
    assert completed == sorted(completed)
    assert lines[-1]["status"] == "JOB_STATUS_COMPLETED"
    assert lines[-1]["name"] == "demo"
    assert lines[-1]["counts"]["completed"] == 20


def test_watch_shows_live_progress_on_a_terminal(server: ServerProcess) -> None:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*CLI, "submit", "sleep", "--count", "20", "--batch-name", "demo", "--watch"],
        env={**os.environ, "JOBWIRE_ADDR": server.address},
        stdout=follower,
        stderr=subprocess.PIPE,
    )
    os.close(follower)
    screen = _read_all(leader)

    assert process.wait(timeout=60) == 0
    assert "\r" in screen
    assert "20/20 completed" in screen
    assert "batch" in screen


def test_failed_work_exits_non_zero_and_says_why(server: ServerProcess) -> None:
    finished = run_cli(
        server, "submit", "sleep", "--param", "fail=permanent", "--param", "seconds=0", "--watch"
    )

    assert finished.returncode == 1
    assert "HANDLER_ERROR" in finished.stdout


def test_get_list_cancel_and_retry(server: ServerProcess) -> None:
    submitted = run_cli(server, "submit", "sleep", "--param", "seconds=60", "--output", "json")
    job = json.loads(submitted.stdout.splitlines()[-1])

    cancelled = json.loads(run_cli(server, "cancel", "job", job["id"], "--output", "json").stdout)
    listed = run_cli(server, "list", "jobs", "--type", "sleep").stdout
    retried = json.loads(run_cli(server, "retry", "job", job["id"], "--output", "json").stdout)
    fetched = json.loads(run_cli(server, "get", "job", job["id"], "--output", "json").stdout)

    assert cancelled["status"] in ("JOB_STATUS_CANCELLED", "JOB_STATUS_PROCESSING")
    assert job["id"] in listed
    assert retried["status"] == "JOB_STATUS_PENDING"
    assert fetched["id"] == job["id"]
    run_cli(server, "cancel", "job", job["id"])


def test_errors_are_one_clear_line(server: ServerProcess) -> None:
    missing = run_cli(server, "get", "job", "no-such-job")
    invalid = run_cli(server, "submit", "sleep", "--param", "steps=0")

    assert missing.returncode == 1
    assert missing.stderr.strip() == "jobwire: error: job no-such-job not found"
    assert invalid.returncode == 1
    assert "steps" in invalid.stderr


def _read_all(descriptor: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(descriptor, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(descriptor)
    return b"".join(chunks).decode(errors="replace")
