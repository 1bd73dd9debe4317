"""The job collection: every read and write of job documents.

Each write that changes what a client can see increments `version` in the same
atomic update, and each write that ends or changes a running job is conditioned on
the lease owner, so a worker that lost its lease changes nothing.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from jobwire.server.storage import names
from jobwire.server.storage.documents import (
    CANCELLED,
    PENDING,
    PROCESSING,
    Document,
    utcnow,
)
from jobwire.server.storage.idempotency import idempotency_scope, insert_once
from jobwire.server.storage.transient import retry_transient

logger = logging.getLogger(__name__)

_DUPLICATE_KEY = 11000


class JobStore:
    """Job documents in one collection."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    @retry_transient
    async def ensure_indexes(self) -> None:
        await self.collection.create_indexes(names.JOB_INDEXES)

    @retry_transient
    async def insert(self, document: Document) -> tuple[Document, bool]:
        """Stores a new job; with an idempotency scope already taken, returns that job."""
        return await insert_once(self.collection, document)

    @retry_transient
    async def insert_missing(self, documents: Sequence[Document]) -> int:
        """Stores the jobs of a batch, skipping any already stored; returns how many were new."""
        if not documents:
            return 0
        try:
            result = await self.collection.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            others = [e for e in error.details["writeErrors"] if e["code"] != _DUPLICATE_KEY]
            if others:
                raise
            return int(error.details["nInserted"])
        return len(result.inserted_ids)

    @retry_transient
    async def get(self, job_id: str, tenant: str | None = None) -> Document | None:
        query: Document = {"_id": job_id}
        if tenant is not None:
            query["tenant"] = tenant
        return await self.collection.find_one(query)

    @retry_transient
    async def page(
        self, tenant: str, filters: Mapping[str, str], before_id: str, limit: int
    ) -> list[Document]:
        """A page of jobs, newest first; `before_id` continues after the previous page."""
        query: Document = {"tenant": tenant, **filters}
        if before_id:
            query["_id"] = {"$lt": before_id}
        cursor = self.collection.find(query).sort("_id", DESCENDING).limit(limit)
        return await cursor.to_list()

    @retry_transient
    async def ids_of_batch(self, batch_id: str, statuses: Sequence[str]) -> list[str]:
        cursor = self.collection.find(
            {"batch_id": batch_id, "status": {"$in": list(statuses)}}, {"_id": 1}
        )
        return [document["_id"] async for document in cursor]

    @retry_transient
    async def count_by_status(self, batch_id: str) -> dict[str, int]:
        pipeline: list[Document] = [
            {"$match": {"batch_id": batch_id}},
            {"$group": {"_id": "$status", "count": {"$sum": 1}}},
        ]
        cursor = await self.collection.aggregate(pipeline)
        return {row["_id"]: row["count"] async for row in cursor}

    @retry_transient
    async def claim(
        self, owner: str, job_types: Sequence[str], lease_seconds: float
    ) -> Document | None:
        """Moves the most urgent due pending job of the given types to processing."""
        now = utcnow()
        return await self.collection.find_one_and_update(
            {"status": PENDING, "run_at": {"$lte": now}, "job_type": {"$in": list(job_types)}},
            {
                "$set": {
                    "status": PROCESSING,
                    "lease_owner": owner,
                    "lease_expires_at": now + timedelta(seconds=lease_seconds),
                    "started_at": now,
                    "updated_at": now,
                    "progress": {},
                    "cancel_requested": False,
                },
                "$inc": {"attempt": 1, "version": 1},
            },
            sort=[("priority", DESCENDING), ("run_at", ASCENDING), ("_id", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    @retry_transient
    async def renew_lease(self, job_id: str, owner: str, lease_seconds: float) -> Document | None:
        """Extends a held lease; None when the lease was lost. Not a visible change."""
        return await self.collection.find_one_and_update(
            {"_id": job_id, "status": PROCESSING, "lease_owner": owner},
            {"$set": {"lease_expires_at": utcnow() + timedelta(seconds=lease_seconds)}},
            projection={"cancel_requested": 1},
            return_document=ReturnDocument.AFTER,
        )

    @retry_transient
    async def update_running(
        self, job_id: str, owner: str, update: Document, *, unread: Sequence[str] = ()
    ) -> Document | None:
        """Applies a visible change to a job this owner holds; None when the lease was lost.

        The fields in `unread` are left out of the document returned.
        """
        return await self._change(
            {"_id": job_id, "status": PROCESSING, "lease_owner": owner}, update, unread
        )

    @retry_transient
    async def update_in_status(
        self, job_id: str, statuses: Sequence[str], update: Document, tenant: str | None = None
    ) -> Document | None:
        """Applies a visible change if the job is in one of `statuses`; None otherwise."""
        query: Document = {"_id": job_id, "status": {"$in": list(statuses)}}
        if tenant is not None:
            query["tenant"] = tenant
        return await self._change(query, update)

    @retry_transient
    async def expired_leases(self, now: datetime, limit: int) -> list[Document]:
        cursor = self.collection.find(
            {"status": PROCESSING, "lease_expires_at": {"$lt": now}}, limit=limit
        )
        return await cursor.to_list()

    @retry_transient
    async def take_expired(self, job_id: str, now: datetime, update: Document) -> Document | None:
        """Applies `update` to a processing job whose lease is still expired."""
        return await self._change(
            {"_id": job_id, "status": PROCESSING, "lease_expires_at": {"$lt": now}}, update
        )

    async def _change(
        self, query: Document, update: Document, unread: Sequence[str] = ()
    ) -> Document | None:
        update.setdefault("$set", {})["updated_at"] = utcnow()
        update.setdefault("$inc", {})["version"] = 1
        return await self.collection.find_one_and_update(
            query,
            update,
            projection={field: 0 for field in unread} or None,
            return_document=ReturnDocument.AFTER,
        )


def new_job_document(
    *,
    job_id: str,
    tenant: str,
    job_type: str,
    params: Document,
    priority: int,
    run_at: datetime,
    max_attempts: int,
    batch_id: str = "",
    idempotency_key: str = "",
) -> Document:
    """A pending job as it is first stored."""
    now = utcnow()
    document: Document = {
        "_id": job_id,
        "tenant": tenant,
        "job_type": job_type,
        "status": PENDING,
        "params": params,
        "priority": priority,
        "run_at": run_at,
        "attempt": 0,
        "max_attempts": max_attempts,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "attempt_errors": [],
        "logs": [],
        "usage": {"wall_seconds": 0.0, "cpu_seconds": 0.0, "counters": {}},
    }
    if batch_id:
        document["batch_id"] = batch_id
    if idempotency_key:
        document["idempotency_key"] = idempotency_key
        document[names.IDEMPOTENCY_FIELD] = idempotency_scope(tenant, idempotency_key)
    return document


# Unset when a job stops running, whichever way it stops.
_LEASE_FIELDS = {"lease_owner": "", "lease_expires_at": ""}


def terminal_update(status: str, error: Document | None, extra: Document | None = None) -> Document:
    """The update that ends a job in `status`, releasing its lease."""
    update: Document = {
        "$set": {"status": status, "finished_at": utcnow(), **(extra or {})},
        "$unset": dict(_LEASE_FIELDS),
    }
    if error is not None:
        update["$set"]["error"] = error
        if status != CANCELLED:
            update["$push"] = {"attempt_errors": error}
    return update


def requeue_update(run_at: datetime, error: Document | None = None) -> Document:
    """The update that puts a running job back in the queue, due at `run_at`.

    With `error`, the attempt failed and counts; without, it was interrupted.
    """
    update: Document = {
        "$set": {"status": PENDING, "run_at": run_at},
        "$unset": dict(_LEASE_FIELDS),
    }
    if error is None:
        update["$inc"] = {"attempt": -1}
    else:
        update["$set"]["error"] = error
        update["$push"] = {"attempt_errors": error}
    return update


def usage_increments(wall_seconds: float, cpu_seconds: float, counters: Mapping[str, int]) -> Any:
    """`$inc` fields that add one attempt's cost to a job's (or a batch's) usage."""
    increments: dict[str, float] = {
        "usage.wall_seconds": wall_seconds,
        "usage.cpu_seconds": cpu_seconds,
    }
    increments.update({f"usage.counters.{name}": value for name, value in counters.items()})
    return increments
