"""The contract guard: `buf breaking` against tools/buf/baseline.binpb catches changes
that break wire or JSON compatibility, and lets the unchanged contract through.

Each test copies proto/ and buf.yaml into a directory of its own, changes the copy, and
runs buf there, so that the copied buf.yaml (module path `proto`, rules WIRE_JSON) gives
the files the same paths as in the baseline.
"""

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
BUF = REPO / "tools" / "buf" / "node_modules" / ".bin" / "buf"
BASELINE = REPO / "tools" / "buf" / "baseline.binpb"

Finding = dict[str, Any]


def buf_binary() -> Path:
    """The pinned buf; skips without it, except in CI, where it must exist."""
    if BUF.is_file() and os.access(BUF, os.X_OK):
        return BUF
    reason = f"buf is not installed at {BUF.relative_to(REPO)} (`make install` installs it)"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{reason}; CI=true, so the contract guard must run")
    pytest.skip(reason)


@pytest.fixture
def contract(tmp_path: Path) -> Path:
    """A copy of proto/ and buf.yaml; returns the directory holding both."""
    shutil.copytree(REPO / "proto", tmp_path / "proto")
    shutil.copy2(REPO / "buf.yaml", tmp_path / "buf.yaml")
    return tmp_path


def buf_breaking(contract: Path) -> tuple[int, list[Finding], str]:
    """Runs `buf breaking` on the copy; returns the exit code, the findings and stderr."""
    assert BASELINE.is_file(), f"{BASELINE.relative_to(REPO)} is missing: run `make baseline`"
    finished = subprocess.run(
        [
            str(buf_binary()),
            "breaking",
            str(contract / "proto"),
            "--against",
            str(BASELINE),
            "--error-format",
            "json",
        ],
        cwd=contract,
        capture_output=True,
        text=True,
        timeout=120,
    )
    findings = [json.loads(line) for line in finished.stdout.splitlines() if line.strip()]
    return finished.returncode, findings, finished.stderr


def edit_message(contract: Path, file: str, message: str, old: str, new: str) -> None:
    """Replaces `old` (exactly once) inside `message Name { ... }` of one proto file."""
    path = contract / "proto" / "jobwire" / "v1" / file
    text = path.read_text()
    start = text.index(f"\nmessage {message} {{\n")
    end = text.index("\n}\n", start)
    body = text[start:end]
    assert body.count(old) == 1, f"{old!r} is not in message {message} exactly once"
    path.write_text(text[:start] + body.replace(old, new) + text[end:])


def rename_job_type(contract: Path) -> None:
    edit_message(contract, "job_service.proto", "JobSpec", "job_type = 1;", "kind = 1;")


def renumber_percent(contract: Path) -> None:
    edit_message(contract, "job.proto", "Progress", "percent = 1;", "percent = 11;")


def describe(findings: list[Finding]) -> str:
    return "\n".join(f"{item.get('type')}: {item.get('message')}" for item in findings)


def test_the_unchanged_contract_passes(contract: Path) -> None:
    returncode, findings, stderr = buf_breaking(contract)

    assert returncode == 0, f"{describe(findings)}\n{stderr}"
    assert findings == []


@pytest.mark.parametrize(
    ("change", "file", "expected"),
    [
        pytest.param(
            rename_job_type,
            "job_service.proto",
            {
                "FIELD_SAME_NAME": ['message "JobSpec"', '"job_type"', '"kind"'],
                "FIELD_SAME_JSON_NAME": ['message "JobSpec"', '"jobType"', '"kind"'],
            },
            id="rename JobSpec.job_type to kind",
        ),
        pytest.param(
            renumber_percent,
            "job.proto",
            {
                # The WIRE_JSON forms of "field deleted": their presence shows the
                # copied buf.yaml was in effect (buf's default rules say FIELD_NO_DELETE).
                "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED": ['message "Progress"', '"percent"'],
                "FIELD_NO_DELETE_UNLESS_NAME_RESERVED": ['message "Progress"', '"percent"'],
            },
            id="renumber Progress.percent from 1 to 11",
        ),
    ],
)
def test_a_breaking_change_fails_naming_the_field(
    contract: Path,
    change: Callable[[Path], None],
    file: str,
    expected: dict[str, list[str]],
) -> None:
    change(contract)

    returncode, findings, stderr = buf_breaking(contract)

    assert returncode != 0, "buf breaking accepted a breaking change"
    assert findings, f"buf failed without reporting a breaking change:\n{stderr}"
    by_rule = {item["type"]: item for item in findings}
    for rule, words in expected.items():
        assert rule in by_rule, f"no {rule} finding in:\n{describe(findings)}\n{stderr}"
        finding = by_rule[rule]
        for word in words:
            assert word in finding["message"], finding
        assert Path(finding["path"]) == contract / "proto" / "jobwire" / "v1" / file, finding
