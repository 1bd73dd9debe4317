"""The development database: the MongoDB behaviour jobwire relies on, and its launcher."""

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from jobwire.server.devdb import DevDatabase, DevDatabaseError

Document = dict[str, Any]

CLAIM_DOCUMENTS = 500
CLAIM_WORKERS = 8


async def test_inserted_document_reads_back(mongo_db: AsyncDatabase[Document]) -> None:
    result = await mongo_db.jobs.insert_one({"type": "noop", "params": {"pages": [1, 2]}})

    found = await mongo_db.jobs.find_one({"_id": result.inserted_id})

    assert found == {"_id": result.inserted_id, "type": "noop", "params": {"pages": [1, 2]}}


async def test_unique_index_rejects_a_duplicate(mongo_db: AsyncDatabase[Document]) -> None:
    await mongo_db.jobs.create_index("idempotency_key", unique=True, sparse=True)
    await mongo_db.jobs.insert_one({"idempotency_key": "k1"})

    with pytest.raises(DuplicateKeyError):
        await mongo_db.jobs.insert_one({"idempotency_key": "k1"})


async def test_concurrent_claims_take_each_job_once(mongo_db: AsyncDatabase[Document]) -> None:
    jobs = mongo_db.jobs
    await jobs.insert_many(
        [{"seq": seq, "status": "pending", "attempt": 0} for seq in range(CLAIM_DOCUMENTS)]
    )

    async def claim_all(worker: int) -> list[Document]:
        claimed = []
        while job := await jobs.find_one_and_update(
            {"status": "pending"},
            {"$set": {"status": "processing", "owner": worker}, "$inc": {"attempt": 1}},
            return_document=ReturnDocument.AFTER,
        ):
            claimed.append(job)
        return claimed

    per_worker = await asyncio.gather(*(claim_all(worker) for worker in range(CLAIM_WORKERS)))

    claimed = [job for jobs_of_worker in per_worker for job in jobs_of_worker]
    assert sorted(job["seq"] for job in claimed) == list(range(CLAIM_DOCUMENTS))
    assert all(job["attempt"] == 1 for job in claimed)
    assert await jobs.count_documents({"status": "pending"}) == 0


async def test_data_directory_survives_a_restart(tmp_path: Path) -> None:
    with DevDatabase() as database:
        uri = await asyncio.to_thread(database.start, data_dir=tmp_path)
        async with AsyncMongoClient[Document](uri) as client:
            await client.jobwire.jobs.insert_one({"_id": "kept", "status": "pending"})

    with DevDatabase() as database:
        uri = await asyncio.to_thread(database.start, data_dir=tmp_path)
        async with AsyncMongoClient[Document](uri) as client:
            found = await client.jobwire.jobs.find_one({"_id": "kept"})

    assert found == {"_id": "kept", "status": "pending"}


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_start_on_a_taken_port_fails_clearly(taken_port: int) -> None:
    database = DevDatabase()
    started = time.monotonic()

    with pytest.raises(DevDatabaseError, match="Address already in use"):
        database.start(port=taken_port, timeout=30)

    assert time.monotonic() - started < 30
    assert not database.running
