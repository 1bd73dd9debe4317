"""Files in GridFS: uploads clients send with UploadFile, artifacts jobs produce.

Two buckets (StorageSettings.uploads_bucket and .artifacts_bucket). Every file records its
tenant in its metadata and every lookup is scoped to the caller's tenant, so another
tenant's id is simply not found. Files no job references are deleted after a retention
time by `expire_unreferenced`: an artifact belongs to the job in its metadata, an upload
is referenced by the jobs whose document lists its id under `file_ids`.
"""

import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure

from jobwire.server.config import StorageSettings
from jobwire.server.errors import DatabaseUnavailable, InvalidParameters, JobwireError, NotFound
from jobwire.server.storage.names import JOB_FILE_IDS_FIELD
from jobwire.server.storage.transient import retry_transient
from jobwire.v1 import documents_pb2

logger = logging.getLogger(__name__)

# Bytes per GridFS chunk, and per piece a download yields (the contract's limit: 1 MiB).
CHUNK_BYTES = 1024 * 1024
# Keys of a GridFS file's `metadata` document.
TENANT_KEY = "tenant"
KIND_KEY = "kind"
CONTENT_TYPE_KEY = "content_type"
SHA256_KEY = "sha256"
PAGE_KEY = "page"
JOB_ID_KEY = "job_id"
# Files one expiry sweep looks at per bucket; the next sweep takes the rest.
_SWEEP_LIMIT = 5_000
_HASH_IN_THREAD_BYTES = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 255


class UploadTooLarge(JobwireError):
    """An upload exceeds the largest file the server accepts; nothing of it was kept.

    The API answers RESOURCE_EXHAUSTED.
    """


class ChecksumMismatch(InvalidParameters):
    """An upload's bytes do not have the SHA-256 the client announced; nothing was kept.

    The API answers INVALID_ARGUMENT (as for every InvalidParameters).
    """

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__("sha256", f"the upload's SHA-256 is {actual}, not {expected}")
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class ExpiryReport:
    """What one `expire_unreferenced` sweep deleted."""

    uploads: int = 0
    artifacts: int = 0


class FileStore:
    """Uploads and artifacts in GridFS; implements the ArtifactStore of jobwire.server.context."""

    def __init__(
        self, database: AsyncDatabase[Any], settings: StorageSettings | None = None
    ) -> None:
        settings = settings or StorageSettings()
        self._uploads = _Bucket(database, settings.uploads_bucket, "upload")
        self._artifacts = _Bucket(database, settings.artifacts_bucket, "artifact")
        self._jobs: AsyncCollection[Any] = database[settings.jobs_collection]

    async def save_artifact(
        self, *, tenant: str, job_id: str, name: str, data: bytes, content_type: str, page: int
    ) -> documents_pb2.ArtifactRef:
        """Stores a file a job produced, e.g. an extracted image."""
        if len(data) > _HASH_IN_THREAD_BYTES:
            digest = await asyncio.to_thread(_sha256, data)
        else:
            digest = _sha256(data)
        metadata = {
            TENANT_KEY: tenant,
            KIND_KEY: "artifact",
            JOB_ID_KEY: job_id,
            CONTENT_TYPE_KEY: content_type or _guess_content_type(name),
            SHA256_KEY: digest,
            PAGE_KEY: page,
        }
        file_id = await self._artifacts.write(safe_name(name), data, metadata)
        return _reference(file_id, safe_name(name), len(data), metadata)

    async def save_upload(
        self,
        tenant: str,
        name: str,
        content_type: str,
        chunks: AsyncIterator[bytes],
        *,
        expected_sha256: str = "",
        max_bytes: int,
    ) -> documents_pb2.ArtifactRef:
        """Streams an upload into GridFS, checking its size and SHA-256 as it goes.

        Raises UploadTooLarge past `max_bytes` and ChecksumMismatch when `expected_sha256`
        is given and differs; in both cases, and on any other failure or cancellation,
        what was written is removed again.
        """
        expected = expected_sha256.strip().lower()
        if expected and not _SHA256.match(expected):
            raise InvalidParameters("sha256", "must be 64 hexadecimal digits")
        filename = safe_name(name)
        metadata = {
            TENANT_KEY: tenant,
            KIND_KEY: "upload",
            CONTENT_TYPE_KEY: content_type or _guess_content_type(filename),
        }

        grid_in = self._uploads.bucket.open_upload_stream(filename, metadata=metadata)
        try:
            size, digest = await _write_checked(grid_in, chunks, max_bytes)
            if expected and digest != expected:
                raise ChecksumMismatch(expected, digest)
            await grid_in.set("metadata", {**metadata, SHA256_KEY: digest})
            await grid_in.close()
        except ConnectionFailure as error:
            # A stream cannot be replayed: the client sends the upload again.
            await _abort(grid_in)
            raise DatabaseUnavailable(f"database unavailable during the upload: {error}") from error
        except BaseException:
            await _abort(grid_in)
            raise
        return _reference(grid_in._id, filename, size, {**metadata, SHA256_KEY: digest})

    async def open_download(
        self, tenant: str, artifact_id: str
    ) -> tuple[documents_pb2.ArtifactRef, AsyncIterator[bytes]]:
        """An artifact or upload of `tenant`, and its bytes in pieces of at most 1 MiB.

        Raises NotFound when no such file belongs to the tenant.
        """
        for store in (self._artifacts, self._uploads):
            document = await store.find(tenant, artifact_id)
            if document is not None:
                return _reference_of(document), store.read(document["_id"])
        raise NotFound(f"no artifact or upload {artifact_id!r}")

    async def fetch_upload_to_path(self, tenant: str, file_id: str, directory: Path) -> Path:
        """Writes upload `file_id` of `tenant` into `directory`, under its (sanitised) name.

        Raises NotFound when no such upload belongs to the tenant.
        """
        document = await self._uploads.find(tenant, file_id)
        if document is None:
            raise NotFound(f"no upload {file_id!r}")

        path = directory / safe_name(document.get("filename") or "upload")
        await self._uploads.copy_to(document["_id"], path)
        return path

    async def expire_unreferenced(self, older_than: timedelta) -> ExpiryReport:
        """Deletes uploads and artifacts older than `older_than` that no job references."""
        cutoff = datetime.now(UTC) - older_than

        # Artifacts belong to the job named in their metadata: gone with it.
        artifacts = await self._artifacts.older_than(cutoff, f"metadata.{JOB_ID_KEY}")
        job_ids = {job_id for _, job_id in artifacts if job_id}
        live_jobs = await self._existing_jobs(job_ids)
        orphans = [file_id for file_id, job_id in artifacts if job_id not in live_jobs]
        await self._artifacts.delete(orphans)

        # Uploads are kept while any job lists them under JOB_FILE_IDS_FIELD.
        uploads = await self._uploads.older_than(cutoff, "_id")
        upload_ids = [str(file_id) for file_id, _ in uploads]
        used = await self._referenced_uploads(upload_ids)
        unused = [file_id for file_id, _ in uploads if str(file_id) not in used]
        await self._uploads.delete(unused)

        report = ExpiryReport(uploads=len(unused), artifacts=len(orphans))
        if unused or orphans:
            logger.info(
                "expired %d upload(s) and %d artifact(s) older than %s that no job references",
                report.uploads,
                report.artifacts,
                cutoff.isoformat(),
            )
        return report

    @retry_transient
    async def _existing_jobs(self, job_ids: set[str]) -> set[str]:
        if not job_ids:
            return set()
        cursor = self._jobs.find({"_id": {"$in": sorted(job_ids)}}, {"_id": 1})
        return {str(document["_id"]) async for document in cursor}

    @retry_transient
    async def _referenced_uploads(self, upload_ids: list[str]) -> set[str]:
        if not upload_ids:
            return set()
        cursor = self._jobs.find({JOB_FILE_IDS_FIELD: {"$in": upload_ids}}, {JOB_FILE_IDS_FIELD: 1})
        wanted = set(upload_ids)
        used: set[str] = set()
        async for document in cursor:
            used.update(str(file_id) for file_id in document.get(JOB_FILE_IDS_FIELD) or ())
        return used & wanted


def referenced_file_ids(params: Message) -> list[str]:
    """Every upload id a job's parameters name (`file_id` fields at any depth), in order.

    The engine stores this list in the job document under JOB_FILE_IDS_FIELD, which keeps
    those uploads from expiring while the job exists.
    """
    found: list[str] = []
    for field, value in params.ListFields():
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            items = value if field.is_repeated else [value]
            for item in items:
                if isinstance(item, Message):
                    found.extend(referenced_file_ids(item))
        elif field.name == "file_id" and isinstance(value, str) and value:
            found.append(value)
    return list(dict.fromkeys(found))


def safe_name(name: str) -> str:
    """A file name without directories or unusual characters, e.g. for a temporary copy."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME_CHARACTERS.sub("_", base).lstrip(".")
    return cleaned[-_MAX_NAME:] or "file"


class _Bucket:
    """One GridFS bucket and the tenant-scoped lookups on its files collection."""

    def __init__(self, database: AsyncDatabase[Any], name: str, kind: str) -> None:
        self.bucket = AsyncGridFSBucket(database, bucket_name=name, chunk_size_bytes=CHUNK_BYTES)
        self.files: AsyncCollection[Any] = database[f"{name}.files"]
        self.kind = kind

    @retry_transient
    async def find(self, tenant: str, file_id: str) -> dict[str, Any] | None:
        try:
            object_id = ObjectId(file_id)
        except (InvalidId, TypeError):
            return None
        document: dict[str, Any] | None = await self.files.find_one(
            {"_id": object_id, f"metadata.{TENANT_KEY}": tenant}
        )
        return document

    @retry_transient
    async def write(self, filename: str, data: bytes, metadata: dict[str, Any]) -> ObjectId:
        """Stores `data` whole; a failed attempt leaves nothing behind and is retried."""
        grid_in = self.bucket.open_upload_stream(filename, metadata=metadata)
        try:
            await grid_in.write(data)
            await grid_in.close()
        except BaseException:
            await _abort(grid_in)
            raise
        file_id: ObjectId = grid_in._id
        return file_id

    async def read(self, file_id: ObjectId) -> AsyncIterator[bytes]:
        """The file's bytes in pieces of at most CHUNK_BYTES, for a client's download."""
        try:
            async for piece in self._pieces(file_id):
                yield piece
        except ConnectionFailure as error:
            raise DatabaseUnavailable(f"database unavailable during a download: {error}") from error

    @retry_transient
    async def copy_to(self, file_id: ObjectId, path: Path) -> None:
        """Writes the file to `path`, from the start again after a passing failure."""
        file = await asyncio.to_thread(path.open, "wb")
        try:
            async for piece in self._pieces(file_id):
                await asyncio.to_thread(file.write, piece)
        except BaseException:
            await asyncio.to_thread(file.close)
            await asyncio.to_thread(path.unlink, True)
            raise
        await asyncio.to_thread(file.close)

    async def _pieces(self, file_id: ObjectId) -> AsyncIterator[bytes]:
        grid_out = await self.bucket.open_download_stream(file_id)
        try:
            while piece := await grid_out.read(CHUNK_BYTES):
                yield piece
        finally:
            await grid_out.close()

    @retry_transient
    async def older_than(self, cutoff: datetime, key: str) -> list[tuple[ObjectId, str]]:
        """(id, value of `key`) of files uploaded before `cutoff`, at most _SWEEP_LIMIT."""
        path = key.split(".")
        cursor = self.files.find({"uploadDate": {"$lt": cutoff}}, {key: 1}).limit(_SWEEP_LIMIT)
        found: list[tuple[ObjectId, str]] = []
        async for document in cursor:
            value: Any = document
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            found.append((document["_id"], str(value) if value is not None else ""))
        return found

    async def delete(self, file_ids: Iterable[ObjectId]) -> None:
        for file_id in file_ids:
            await self._delete_one(file_id)

    @retry_transient
    async def _delete_one(self, file_id: ObjectId) -> None:
        # Gone already, perhaps by an attempt that failed after deleting it: fine.
        with contextlib.suppress(NoFile):
            await self.bucket.delete(file_id)


async def _write_checked(
    grid_in: Any, chunks: AsyncIterator[bytes], max_bytes: int
) -> tuple[int, str]:
    """Writes every chunk, refusing to go past `max_bytes`; returns size and SHA-256."""
    hasher = hashlib.sha256()
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise UploadTooLarge(f"the upload exceeds the limit of {max_bytes} bytes")
        hasher.update(chunk)
        await grid_in.write(chunk)
    return size, hasher.hexdigest()


async def _abort(grid_in: Any) -> None:
    """Removes what an upload wrote so far, even while the caller is being cancelled."""
    try:
        await asyncio.shield(grid_in.abort())
    except Exception:
        logger.exception("could not remove the partial upload %s", grid_in._id)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _guess_content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _reference(
    file_id: Any, name: str, size: int, metadata: dict[str, Any]
) -> documents_pb2.ArtifactRef:
    return documents_pb2.ArtifactRef(
        id=str(file_id),
        name=name,
        content_type=str(metadata.get(CONTENT_TYPE_KEY, "")),
        size=size,
        sha256=str(metadata.get(SHA256_KEY, "")),
        page=int(metadata.get(PAGE_KEY, 0) or 0),
    )


def _reference_of(document: dict[str, Any]) -> documents_pb2.ArtifactRef:
    return _reference(
        document["_id"],
        str(document.get("filename") or ""),
        int(document.get("length", 0)),
        document.get("metadata") or {},
    )
