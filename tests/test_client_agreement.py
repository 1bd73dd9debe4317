"""The three clients agree: one batch, submitted from Python, Go and TypeScript, is stored
with the same params, and those equal the input.

The batch is clients/testdata/agreement_batch.json, a SubmitBatchRequest in protobuf JSON
that each client parses with its own protobuf library: Python here, Go through
clients/go/examples/agreement, TypeScript through clients/typescript/examples/agreement.ts.
The test then reads the stored job documents straight from MongoDB.
"""

import asyncio
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from pymongo import AsyncMongoClient, uri_parser

from jobwire.client import AsyncJobwireClient
from jobwire.server.server_process import ServerGroup, ServerProcess
from jobwire.server.storage.names import BATCHES_COLLECTION, JOBS_COLLECTION
from jobwire.v1 import job_service_pb2

Document = dict[str, Any]

REPO = Path(__file__).resolve().parents[1]
BATCH_FILE = REPO / "clients" / "testdata" / "agreement_batch.json"
GO_DIR = REPO / "clients" / "go"
TS_DIR = REPO / "clients" / "typescript"
TS_PROGRAM = TS_DIR / "dist" / "examples" / "agreement.js"

# Builds run once per machine's caches; after that the whole test takes seconds.
BUILD_TIMEOUT = 180.0
RUN_TIMEOUT = 60.0


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def require(path: str | None, reason: str) -> str:
    """`path`, or a skip with `reason`; in CI (CI=true) a failure instead."""
    if path is not None:
        return path
    if in_ci():
        pytest.fail(f"{reason}; CI=true, so the cross-client check must run")
    pytest.skip(reason)


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


async def run(
    command: list[str], cwd: Path, timeout: float, environment: dict[str, str] | None = None
) -> Finished:
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env={**os.environ, **(environment or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"{' '.join(command)} (in {cwd}) ran longer than {timeout:.0f} s")
    finished = Finished(process.returncode or 0, stdout.decode(), stderr.decode())
    assert finished.returncode == 0, (
        f"{' '.join(command)} (in {cwd}) exited {finished.returncode}:\n"
        f"{finished.stdout}\n{finished.stderr}"
    )
    return finished


async def build_go(go: str, output: Path) -> Path:
    await run([go, "build", "-o", str(output), "./examples/agreement"], GO_DIR, BUILD_TIMEOUT)
    return output


async def build_typescript(npm: str) -> Path:
    await run([npm, "run", "--silent", "build"], TS_DIR, BUILD_TIMEOUT)
    return TS_PROGRAM


def batch_id_from(finished: Finished) -> str:
    lines = finished.stdout.split()
    assert len(lines) == 1, f"expected one batch id, got:\n{finished.stdout}\n{finished.stderr}"
    return lines[0]


async def submit_from_python(client: AsyncJobwireClient) -> str:
    request = json_format.Parse(BATCH_FILE.read_text(), job_service_pb2.SubmitBatchRequest())
    response = await client.submit_batch(list(request.jobs), name="agreement-py")
    assert len(response.job_ids) == len(request.jobs)
    return response.batch.id


async def stored_params(
    mongo_client: AsyncMongoClient[Document], database: str, batch_id: str, name: str
) -> list[Any]:
    """The `params` of the batch's stored jobs, in submission order."""
    batch = await mongo_client[database][BATCHES_COLLECTION].find_one({"_id": batch_id})
    assert batch is not None, f"batch {batch_id} is not stored"
    assert batch["name"] == name

    documents = await mongo_client[database][JOBS_COLLECTION].find({"batch_id": batch_id}).to_list()
    by_index = {int(document["_id"].rsplit("-", 1)[1]): document for document in documents}
    assert sorted(by_index) == list(range(len(documents))), sorted(by_index)
    return [by_index[index]["params"] for index in sorted(by_index)]


def differences(left: Any, right: Any, path: str = "", strict_numbers: bool = True) -> list[str]:
    """Where two JSON-like values differ, one line per place; empty when they agree.

    Object key order is ignored (a Struct is a map). Booleans never equal numbers. With
    `strict_numbers`, an int never equals a float either; without it, numbers compare
    by value (a Struct holds every number as a double).
    """
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(left.keys() | right.keys()):
            where = f"{path}.{key}" if path else key
            if key not in right:
                found.append(f"{where}: only on the left ({left[key]!r})")
            elif key not in left:
                found.append(f"{where}: only on the right ({right[key]!r})")
            else:
                found.extend(differences(left[key], right[key], where, strict_numbers))
        return found
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return [f"{path}: {len(left)} items != {len(right)} items ({left!r} != {right!r})"]
        found = []
        for index, (one, other) in enumerate(zip(left, right, strict=True)):
            found.extend(differences(one, other, f"{path}[{index}]", strict_numbers))
        return found
    if _kind(left, strict_numbers) != _kind(right, strict_numbers) or left != right:
        return [f"{path}: {left!r} ({type(left).__name__}) != {right!r} ({type(right).__name__})"]
    return []


def _kind(value: Any, strict_numbers: bool) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float) and not strict_numbers:
        return "number"
    return type(value).__name__


def report(found: list[str]) -> str:
    return "\n".join(found)


async def test_python_go_and_typescript_store_the_same_params(
    servers: ServerGroup,
    server: ServerProcess,
    client: AsyncJobwireClient,
    mongo_client: AsyncMongoClient[Document],
    tmp_path: Path,
) -> None:
    missing = "is not installed; `make install` and a Go and Node.js toolchain provide it"
    go = require(shutil.which("go"), f"go {missing}")
    npm = require(shutil.which("npm"), f"npm {missing}")
    node = require(shutil.which("node"), f"node {missing}")
    tsc = TS_DIR / "node_modules" / ".bin" / "tsc"
    require(str(tsc) if tsc.exists() else None, f"{tsc.relative_to(REPO)} {missing}")

    builds = asyncio.gather(build_go(go, tmp_path / "agreement-go"), build_typescript(npm))
    try:
        python_batch = await submit_from_python(client)
    finally:
        go_program, ts_program = await builds

    address = {"JOBWIRE_ADDR": server.address}
    go_run, ts_run = await asyncio.gather(
        run([str(go_program), str(BATCH_FILE)], GO_DIR, RUN_TIMEOUT, address),
        run([node, str(ts_program), str(BATCH_FILE)], TS_DIR, RUN_TIMEOUT, address),
    )

    database = uri_parser.parse_uri(servers.database_uri)["database"]
    assert database, servers.database_uri
    stored = {
        "python": await stored_params(mongo_client, database, python_batch, "agreement-py"),
        "go": await stored_params(mongo_client, database, batch_id_from(go_run), "agreement-go"),
        "typescript": await stored_params(
            mongo_client, database, batch_id_from(ts_run), "agreement-ts"
        ),
    }
    submitted = [job["params"] for job in json.loads(BATCH_FILE.read_text())["jobs"]]

    for language in ("go", "typescript"):
        found = differences(stored["python"], stored[language])
        assert not found, f"stored params, python (left) vs {language} (right):\n{report(found)}"
    for language, params in stored.items():
        found = differences(submitted, params, strict_numbers=False)
        assert not found, f"submitted (left) vs stored from {language} (right):\n{report(found)}"


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ({"a": 1.0}, {"a": 1.0}, []),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, []),
        ({"a": True}, {"a": 1.0}, ["a: True (bool) != 1.0 (float)"]),
        ({"a": 1}, {"a": 1.0}, ["a: 1 (int) != 1.0 (float)"]),
        ([{"a": [1.0, None]}], [{"a": [1.0, "x"]}], ["[0].a[1]: None (NoneType) != 'x' (str)"]),
        ({"a": {}}, {"b": {}}, ["a: only on the left ({})", "b: only on the right ({})"]),
        ({"a": [1.0]}, {"a": []}, ["a: 1 items != 0 items ([1.0] != [])"]),
    ],
)
def test_differences_finds_each_place(left: Any, right: Any, expected: list[str]) -> None:
    assert differences(left, right) == expected


def test_differences_compares_numbers_by_value_unless_strict() -> None:
    assert differences([1, 2.5], [1.0, 2.5], strict_numbers=False) == []
    assert differences([True], [1.0], strict_numbers=False) == ["[0]: True (bool) != 1.0 (float)"]
