"""Inserting a document at most once per idempotency key."""

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from jobwire.server.storage import names
from jobwire.server.storage.documents import Document


def idempotency_scope(tenant: str, key: str) -> str:
    """The stored form of a key: keys of different tenants never collide."""
    return f"{tenant}\x1f{key}"


async def insert_once(
    collection: AsyncCollection[Document], document: Document
) -> tuple[Document, bool]:
    """Stores `document`, or returns the one already stored under its idempotency scope.

    The second value says whether `document` was stored.
    """
    try:
        await collection.insert_one(document)
    except DuplicateKeyError:
        existing = await collection.find_one(
            {names.IDEMPOTENCY_FIELD: document.get(names.IDEMPOTENCY_FIELD)}
        )
        if existing is None:
            raise
        return existing, False
    return document, True
