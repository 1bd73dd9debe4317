"""The GridFS file store and the file RPC functions, on the test database."""

import hashlib
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from jobwire.server.api.files import download_artifact, upload_file
from jobwire.server.api.status import status_code_for
from jobwire.server.config import DocumentSettings, StorageSettings
from jobwire.server.errors import INPUT_NOT_FOUND, InvalidParameters, JobFailed, NotFound
from jobwire.server.inputs import InputResolver
from jobwire.server.storage.files import (
    CHUNK_BYTES,
    JOB_FILE_IDS_FIELD,
    ChecksumMismatch,
    ExpiryReport,
    FileStore,
    UploadTooLarge,
    referenced_file_ids,
    safe_name,
)
from jobwire.v1 import documents_pb2, job_pb2, job_service_pb2

MiB = 1024 * 1024


@pytest.fixture
def store(mongo_db: AsyncDatabase[Any]) -> FileStore:
    return FileStore(mongo_db, StorageSettings())


async def chunks_of(data: bytes, size: int = MiB) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(pieces: AsyncIterator[bytes]) -> bytes:
    return b"".join([piece async for piece in pieces])


async def stored_file_count(database: AsyncDatabase[Any], bucket: str) -> tuple[int, int]:
    files = await database[f"{bucket}.files"].count_documents({})
    chunks = await database[f"{bucket}.chunks"].count_documents({})
    return files, chunks


async def test_a_10_mb_upload_comes_back_with_the_same_sha256(store: FileStore) -> None:
    data = os.urandom(10 * MiB + 12345)
    digest = hashlib.sha256(data).hexdigest()

    stored = await store.save_upload(
        "acme", "slides.pdf", "", chunks_of(data), expected_sha256=digest, max_bytes=20 * MiB
    )
    info, pieces = await store.open_download("acme", stored.id)
    sizes = []
    downloaded = b""
    async for piece in pieces:
        sizes.append(len(piece))
        downloaded += piece

    assert stored.sha256 == digest
    assert (stored.size, stored.name, stored.content_type) == (
        len(data),
        "slides.pdf",
        "application/pdf",
    )
    assert info == stored
    assert hashlib.sha256(downloaded).hexdigest() == digest
    assert max(sizes) <= CHUNK_BYTES


async def test_files_are_scoped_to_their_tenant(store: FileStore, tmp_path: Path) -> None:
    stored = await store.save_upload(
        "acme", "a.txt", "text/plain", chunks_of(b"hello"), max_bytes=MiB
    )
    artifact = await store.save_artifact(
        tenant="acme",
        job_id="job-1",
        name="page-1-Im1.jpg",
        data=b"jpeg",
        content_type="image/jpeg",
        page=1,
    )

    for file_id in (stored.id, artifact.id, "not-an-object-id", "0" * 24):
        with pytest.raises(NotFound):
            await store.open_download("other", file_id)
    with pytest.raises(NotFound):
        await store.fetch_upload_to_path("other", stored.id, tmp_path)
    info, pieces = await store.open_download("acme", artifact.id)
    assert (info.page, info.content_type, await read_all(pieces)) == (1, "image/jpeg", b"jpeg")


async def test_an_upload_over_the_limit_leaves_nothing_behind(
    store: FileStore, mongo_db: AsyncDatabase[Any]
) -> None:
    with pytest.raises(UploadTooLarge, match="limit of 3145728 bytes"):
        await store.save_upload(
            "acme", "big.bin", "", chunks_of(os.urandom(5 * MiB)), max_bytes=3 * MiB
        )

    assert await stored_file_count(mongo_db, "uploads") == (0, 0)


async def test_a_checksum_mismatch_leaves_nothing_behind(
    store: FileStore, mongo_db: AsyncDatabase[Any]
) -> None:
    with pytest.raises(ChecksumMismatch) as raised:
        await store.save_upload(
            "acme",
            "a.bin",
            "",
            chunks_of(os.urandom(2 * MiB)),
            expected_sha256="ab" * 32,
            max_bytes=4 * MiB,
        )

    assert raised.value.field == "sha256"
    assert isinstance(raised.value, InvalidParameters)
    assert await stored_file_count(mongo_db, "uploads") == (0, 0)


async def test_a_broken_stream_leaves_nothing_behind(
    store: FileStore, mongo_db: AsyncDatabase[Any]
) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield os.urandom(2 * MiB)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.save_upload("acme", "a.bin", "", broken(), max_bytes=4 * MiB)

    assert await stored_file_count(mongo_db, "uploads") == (0, 0)


async def test_a_malformed_checksum_is_refused_before_reading(store: FileStore) -> None:
    with pytest.raises(InvalidParameters, match="64 hexadecimal"):
        await store.save_upload(
            "acme", "a", "", chunks_of(b"x"), expected_sha256="xyz", max_bytes=MiB
        )


async def test_an_upload_is_fetched_to_a_file_for_a_job(store: FileStore, tmp_path: Path) -> None:
    data = os.urandom(3 * MiB)
    stored = await store.save_upload(
        "acme", "../../Slides 2026.pdf", "", chunks_of(data), max_bytes=4 * MiB
    )

    path = await store.fetch_upload_to_path("acme", stored.id, tmp_path)

    assert path == tmp_path / "Slides_2026.pdf"
    assert path.read_bytes() == data


async def test_the_resolver_gives_an_upload_as_a_temporary_file(store: FileStore) -> None:
    stored = await store.save_upload("acme", "scan.png", "", chunks_of(b"png bytes"), max_bytes=MiB)
    resolver = InputResolver(DocumentSettings(), store)

    async with resolver.open_input(tenant="acme", file_path="", file_id=stored.id) as path:
        assert path.read_bytes() == b"png bytes"
        assert path.name == "scan.png"
    assert not path.exists()
    assert not path.parent.exists()

    with pytest.raises(JobFailed) as raised:
        async with resolver.open_input(tenant="other", file_path="", file_id=stored.id):
            pass
    assert raised.value.code == INPUT_NOT_FOUND


async def test_unreferenced_files_expire_and_referenced_ones_stay(
    store: FileStore, mongo_db: AsyncDatabase[Any]
) -> None:
    jobs = mongo_db[StorageSettings().jobs_collection]
    used = await store.save_upload("acme", "used.pdf", "", chunks_of(b"1"), max_bytes=MiB)
    unused = await store.save_upload("acme", "unused.pdf", "", chunks_of(b"2"), max_bytes=MiB)
    kept = await store.save_artifact(
        tenant="acme", job_id="job-live", name="a.png", data=b"3", content_type="image/png", page=1
    )
    orphan = await store.save_artifact(
        tenant="acme", job_id="job-gone", name="b.png", data=b"4", content_type="image/png", page=1
    )
    await jobs.insert_one({"_id": "job-live", JOB_FILE_IDS_FIELD: [used.id]})

    assert await store.expire_unreferenced(timedelta(hours=1)) == ExpiryReport(0, 0)
    report = await store.expire_unreferenced(timedelta(seconds=-1))

    assert (report.uploads, report.artifacts) == (1, 1)
    for file_id in (used.id, kept.id):
        await store.open_download("acme", file_id)
    for file_id in (unused.id, orphan.id):
        with pytest.raises(NotFound):
            await store.open_download("acme", file_id)


def test_upload_ids_named_anywhere_in_the_parameters_are_found() -> None:
    params = job_pb2.JobParams(
        session=documents_pb2.SessionParams(
            attachments=[
                documents_pb2.Attachment(file_id="u1"),
                documents_pb2.Attachment(file_path="in/a.pdf"),
                documents_pb2.Attachment(file_id="u2"),
                documents_pb2.Attachment(file_id="u1"),
            ]
        )
    )

    assert referenced_file_ids(params) == ["u1", "u2"]
    assert referenced_file_ids(job_pb2.JobParams(pdf=documents_pb2.PdfParams(file_id="u3"))) == [
        "u3"
    ]
    assert referenced_file_ids(job_pb2.JobParams(pdf=documents_pb2.PdfParams(file_path="x"))) == []


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("a.pdf", "a.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y z.png", "y_z.png"),
        ("...", "file"),
        (".env", "env"),
    ],
)
def test_names_are_made_safe(name: str, safe: str) -> None:
    assert safe_name(name) == safe


async def requests_for(
    info: job_service_pb2.UploadInfo | None, data: bytes, size: int = MiB
) -> AsyncIterator[job_service_pb2.UploadFileRequest]:
    if info is not None:
        yield job_service_pb2.UploadFileRequest(info=info)
    async for piece in chunks_of(data, size):
        yield job_service_pb2.UploadFileRequest(chunk=piece)


async def test_upload_and_download_through_the_rpc_functions(store: FileStore) -> None:
    data = os.urandom(5 * MiB)
    info = job_service_pb2.UploadInfo(name="scan.tiff", sha256=hashlib.sha256(data).hexdigest())

    response = await upload_file(requests_for(info, data), store, "acme", 10 * MiB)
    messages = [
        message
        async for message in download_artifact(
            job_service_pb2.DownloadArtifactRequest(artifact_id=response.file.id), store, "acme"
        )
    ]

    assert response.file.content_type == "image/tiff"
    assert messages[0].WhichOneof("part") == "info"
    assert messages[0].info == response.file
    assert b"".join(message.chunk for message in messages[1:]) == data
    assert all(len(message.chunk) <= MiB for message in messages[1:])


async def test_an_upload_must_start_with_info(store: FileStore) -> None:
    with pytest.raises(InvalidParameters, match="first message"):
        await upload_file(requests_for(None, b"data"), store, "acme", MiB)
    with pytest.raises(InvalidParameters) as raised:
        await upload_file(requests_for(job_service_pb2.UploadInfo(), b"data"), store, "acme", MiB)
    assert raised.value.field == "info.name"


async def test_chunks_over_1_mib_are_refused(store: FileStore) -> None:
    with pytest.raises(InvalidParameters, match="at most 1048576 bytes"):
        await upload_file(
            requests_for(job_service_pb2.UploadInfo(name="a"), b"x" * (MiB + 1), MiB + 1),
            store,
            "acme",
            10 * MiB,
        )


async def test_a_second_info_is_refused(store: FileStore, mongo_db: AsyncDatabase[Any]) -> None:
    async def requests() -> AsyncIterator[job_service_pb2.UploadFileRequest]:
        yield job_service_pb2.UploadFileRequest(info=job_service_pb2.UploadInfo(name="a"))
        yield job_service_pb2.UploadFileRequest(chunk=b"x")
        yield job_service_pb2.UploadFileRequest(info=job_service_pb2.UploadInfo(name="b"))

    with pytest.raises(InvalidParameters, match="only the first message"):
        await upload_file(requests(), store, "acme", MiB)
    assert await stored_file_count(mongo_db, "uploads") == (0, 0)


async def test_downloading_an_unknown_id_is_not_found(store: FileStore) -> None:
    request = job_service_pb2.DownloadArtifactRequest(artifact_id="0" * 24)

    with pytest.raises(NotFound):
        async for _ in download_artifact(request, store, "acme"):
            pass


def test_the_upload_errors_have_their_status_codes() -> None:
    assert status_code_for(UploadTooLarge("too big")) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert status_code_for(ChecksumMismatch("a", "b")) == grpc.StatusCode.INVALID_ARGUMENT
    assert status_code_for(NotFound("x")) == grpc.StatusCode.NOT_FOUND
