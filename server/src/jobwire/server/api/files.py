"""UploadFile and DownloadArtifact: the streaming file RPCs, without the gRPC plumbing.

The servicer calls these with the caller's tenant; api.status maps their exceptions.
"""

from collections.abc import AsyncIterator

from jobwire.server.errors import InvalidParameters
from jobwire.server.storage.files import FileStore
from jobwire.v1 import job_service_pb2

# The contract's largest `chunk` in one UploadFileRequest.
MAX_CHUNK_BYTES = 1024 * 1024


async def upload_file(
    requests: AsyncIterator[job_service_pb2.UploadFileRequest],
    store: FileStore,
    tenant: str,
    max_bytes: int,
) -> job_service_pb2.UploadFileResponse:
    """Stores the file a client streams: `info` first, then its bytes in `chunk`s."""
    first = await anext(requests, None)
    if first is None or first.WhichOneof("part") != "info":
        raise InvalidParameters("info", "the first message of an upload must carry `info`")
    info = first.info
    if not info.name.strip():
        raise InvalidParameters("info.name", "required")

    stored = await store.save_upload(
        tenant,
        info.name,
        info.content_type,
        _chunks(requests),
        expected_sha256=info.sha256,
        max_bytes=max_bytes,
    )
    return job_service_pb2.UploadFileResponse(file=stored)


async def download_artifact(
    request: job_service_pb2.DownloadArtifactRequest, store: FileStore, tenant: str
) -> AsyncIterator[job_service_pb2.DownloadArtifactResponse]:
    """Streams an artifact or upload: `info` first, then its bytes in order."""
    info, pieces = await store.open_download(tenant, request.artifact_id)
    yield job_service_pb2.DownloadArtifactResponse(info=info)
    async for piece in pieces:
        yield job_service_pb2.DownloadArtifactResponse(chunk=piece)


async def _chunks(
    requests: AsyncIterator[job_service_pb2.UploadFileRequest],
) -> AsyncIterator[bytes]:
    async for request in requests:
        if request.WhichOneof("part") != "chunk":
            raise InvalidParameters("info", "only the first message of an upload carries `info`")
        if len(request.chunk) > MAX_CHUNK_BYTES:
            raise InvalidParameters("chunk", f"a chunk may carry at most {MAX_CHUNK_BYTES} bytes")
        yield request.chunk
