"""The batch collection: batch documents and their counts per job status."""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from jobwire.server.storage import names
from jobwire.server.storage.documents import (
    CANCELLED,
    COMPLETED,
    FAILED,
    PENDING,
    PROCESSING,
    STATUSES,
    TERMINAL,
    Document,
    utcnow,
)
from jobwire.server.storage.idempotency import idempotency_scope, insert_once
from jobwire.server.storage.transient import retry_transient

logger = logging.getLogger(__name__)


class BatchStore:
    """Batch documents in one collection."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    @retry_transient
    async def ensure_indexes(self) -> None:
        await self.collection.create_indexes(names.BATCH_INDEXES)

    @retry_transient
    async def insert(self, document: Document) -> tuple[Document, bool]:
        """Stores a new batch; with an idempotency scope already taken, returns that batch."""
        return await insert_once(self.collection, document)

    @retry_transient
    async def get(self, batch_id: str, tenant: str | None = None) -> Document | None:
        query: Document = {"_id": batch_id}
        if tenant is not None:
            query["tenant"] = tenant
        return await self.collection.find_one(query)

    @retry_transient
    async def page(
        self, tenant: str, filters: Mapping[str, str], before_id: str, limit: int
    ) -> list[Document]:
        """A page of batches, newest first; `before_id` continues after the previous page."""
        query: Document = {"tenant": tenant, **filters}
        if before_id:
            query["_id"] = {"$lt": before_id}
        cursor = self.collection.find(query).sort("_id", DESCENDING).limit(limit)
        return await cursor.to_list()

    @retry_transient
    async def add_counts(self, batch_id: str, increments: Mapping[str, Any]) -> Document | None:
        """Adds to the batch's counts (and usage), then settles the status they imply."""
        document = await self.collection.find_one_and_update(
            {"_id": batch_id},
            {"$inc": {**increments, "version": 1}, "$set": {"updated_at": utcnow()}},
            return_document=ReturnDocument.AFTER,
        )
        if document is None:
            return None
        return await self._settle_status(document)

    @retry_transient
    async def stale_open(self, updated_before: datetime, limit: int) -> list[Document]:
        cursor = self.collection.find(
            {"status": {"$in": [PENDING, PROCESSING]}, "updated_at": {"$lt": updated_before}},
            limit=limit,
        )
        return await cursor.to_list()

    @retry_transient
    async def replace_counts(
        self, document: Document, counts: Mapping[str, int]
    ) -> Document | None:
        """Overwrites drifted counts, unless the batch changed since `document` was read."""
        updated = await self.collection.find_one_and_update(
            {"_id": document["_id"], "version": document["version"]},
            {
                "$set": {"counts": dict(counts), "updated_at": utcnow()},
                "$inc": {"version": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        return await self._settle_status(updated) if updated else None

    async def _settle_status(self, document: Document) -> Document:
        """Writes the status the counts imply, if it differs, conditioned on the version.

        When another change landed in between, its writer settles the status instead.
        """
        status = status_from_counts(document["total"], document["counts"])
        if status == document["status"]:
            return document

        fields: Document = {"status": status, "updated_at": utcnow()}
        fields["finished_at"] = utcnow() if status in TERMINAL else None
        settled = await self.collection.find_one_and_update(
            {"_id": document["_id"], "version": document["version"]},
            {"$set": fields, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return settled or document


def status_from_counts(total: int, counts: Mapping[str, int]) -> str:
    """A batch's status as its jobs' statuses imply (see Batch in the contract)."""
    finished = sum(counts.get(status, 0) for status in TERMINAL)
    if finished >= total:
        if counts.get(COMPLETED, 0) == total:
            return COMPLETED
        return FAILED if counts.get(FAILED, 0) else CANCELLED
    if counts.get(PENDING, 0) == total:
        return PENDING
    return PROCESSING


def new_batch_document(
    *,
    batch_id: str,
    tenant: str,
    name: str,
    counts: Mapping[str, int],
    idempotency_key: str,
) -> Document:
    """A batch as it is first stored; `counts` holds the initial status of its jobs."""
    now = utcnow()
    total = sum(counts.values())
    full_counts = {status: counts.get(status, 0) for status in STATUSES}
    document: Document = {
        "_id": batch_id,
        "tenant": tenant,
        "name": name,
        "status": status_from_counts(total, full_counts),
        "total": total,
        "counts": full_counts,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "usage": {"wall_seconds": 0.0, "cpu_seconds": 0.0, "counters": {}},
    }
    if document["status"] in TERMINAL:
        document["finished_at"] = now
    if idempotency_key:
        document["idempotency_key"] = idempotency_key
        document[names.IDEMPOTENCY_FIELD] = idempotency_scope(tenant, idempotency_key)
    return document
