"""Fixtures shared by every test of the repository.

Tests that need MongoDB take `mongo_db` (or `mongodb_uri`): a real MongoDB when
`JOBWIRE_TEST_MONGODB_URI` names one, otherwise the development database (tools/devdb),
started once for the session.
"""

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from jobwire.client import AsyncJobwireClient
from jobwire.server.devdb import DevDatabase
from jobwire.server.server_process import ServerGroup, ServerProcess

logger = logging.getLogger(__name__)

TEST_MONGODB_URI_ENV = "JOBWIRE_TEST_MONGODB_URI"

Document = dict[str, Any]

_MONGODB_USED = pytest.StashKey[str]()


def pytest_report_header(config: pytest.Config) -> str:
    external = os.environ.get(TEST_MONGODB_URI_ENV)
    if external:
        return f"mongodb: {external} (from {TEST_MONGODB_URI_ENV})"
    return f"mongodb: the development database (tools/devdb), unless {TEST_MONGODB_URI_ENV} is set"


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    used = config.stash.get(_MONGODB_USED, None)
    if used is not None:
        terminalreporter.write_line(f"mongodb: the tests ran against {used}")


@pytest.fixture(scope="session")
def mongodb_uri(pytestconfig: pytest.Config) -> Iterator[str]:
    """The address of the MongoDB the tests run against, for the whole session."""
    external = os.environ.get(TEST_MONGODB_URI_ENV)
    if external:
        _record_mongodb(pytestconfig, f"{external} (from {TEST_MONGODB_URI_ENV})")
        yield external
        return

    with DevDatabase() as database:
        uri = database.start()
        _record_mongodb(pytestconfig, f"the development database this session started at {uri}")
        yield uri


@pytest.fixture(scope="session")
async def mongo_client(mongodb_uri: str) -> AsyncIterator[AsyncMongoClient[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongodb_uri)
    yield client
    await client.close()


@pytest.fixture
async def mongo_db(
    mongo_client: AsyncMongoClient[Document],
) -> AsyncIterator[AsyncDatabase[Document]]:
    """A database of the test's own, dropped after it."""
    name = f"jobwire_test_{uuid.uuid4().hex}"
    yield mongo_client[name]
    await mongo_client.drop_database(name)


def _record_mongodb(config: pytest.Config, description: str) -> None:
    logger.info("tests run against %s", description)
    config.stash[_MONGODB_USED] = description


# Quick pacing for servers under test: polling, retries, leases and sweeps in tenths
# of a second instead of the production defaults.
FAST_SERVER_ENVIRONMENT = {
    "JOBWIRE_GENERIC_WORKER_POLL_INTERVAL": "0.2",
    "JOBWIRE_GENERIC_WORKER_BACKOFF_INITIAL": "0.3",
    "JOBWIRE_GENERIC_WORKER_BACKOFF_JITTER": "0.05",
    "JOBWIRE_GENERIC_WORKER_LEASE_SECONDS": "3",
    "JOBWIRE_GENERIC_WORKER_SWEEP_INTERVAL": "0.5",
    "JOBWIRE_GENERIC_WORKER_PROGRESS_INTERVAL": "0.02",
    "JOBWIRE_GENERIC_WORKER_SHUTDOWN_GRACE": "5",
    "JOBWIRE_GENERIC_WORKER_CANCEL_GRACE": "2",
}


@pytest.fixture
async def servers(
    mongodb_uri: str, mongo_client: AsyncMongoClient[Document], tmp_path: Path
) -> AsyncIterator[ServerGroup]:
    """Starts jobwire servers on a database of the test's own; all stop after the test."""
    name = f"jobwire_test_{uuid.uuid4().hex}"
    group = ServerGroup(f"{mongodb_uri.rstrip('/')}/{name}", tmp_path, FAST_SERVER_ENVIRONMENT)
    yield group
    group.stop_all()
    await mongo_client.drop_database(name)


@pytest.fixture
async def server(servers: ServerGroup) -> ServerProcess:
    """One running jobwire server."""
    return servers.start()


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[AsyncJobwireClient]:
    async with AsyncJobwireClient(server.address) as connected:
        yield connected
