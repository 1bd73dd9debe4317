"""The asyncio client of jobwire."""

import asyncio
import hashlib
import logging
import mimetypes
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc

from jobwire.client.errors import UnavailableError, from_rpc_error, status_of
from jobwire.client.specs import Params, job_spec
from jobwire.v1 import documents_pb2, job_pb2, job_service_pb2_grpc
from jobwire.v1 import job_service_pb2 as api

logger = logging.getLogger(__name__)

DEFAULT_ADDRESS = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 30.0
CHUNK_SIZE = 1024 * 1024
# Statuses after which a broken watch stream is opened again.
RECONNECT_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)

Event = TypeVar("Event", job_pb2.JobEvent, job_pb2.BatchEvent)
Response = TypeVar("Response")
TERMINAL = (
    job_pb2.JOB_STATUS_COMPLETED,
    job_pb2.JOB_STATUS_FAILED,
    job_pb2.JOB_STATUS_CANCELLED,
)


class AsyncJobwireClient:
    """Typed calls to every JobService RPC; use as `async with AsyncJobwireClient(...)`.

    Unary calls get `timeout` seconds unless a call says otherwise. Watch streams
    reconnect after a broken connection and resume where they left off, for up to
    `reconnect_for` seconds without a successful reconnection.
    """

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        credentials: grpc.ChannelCredentials | None = None,
        reconnect_for: float = 60.0,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self.reconnect_for = reconnect_for
        if credentials is None:
            self._channel = grpc.aio.insecure_channel(address)
        else:
            self._channel = grpc.aio.secure_channel(address, credentials)
        self._stub = job_service_pb2_grpc.JobServiceStub(self._channel)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close(None)

    async def submit_job(
        self,
        job_type: str,
        params: Params = None,
        *,
        priority: int = 0,
        run_at: datetime | None = None,
        max_attempts: int = 0,
        idempotency_key: str = "",
    ) -> job_pb2.Job:
        """Submits one job; the same `idempotency_key` always returns the same job."""
        spec = job_spec(
            job_type, params, priority=priority, run_at=run_at, max_attempts=max_attempts
        )
        request = api.SubmitJobRequest(job=spec, idempotency_key=idempotency_key)
        response = await self._unary(self._stub.SubmitJob, request)
        return response.job

    async def submit_batch(
        self,
        jobs: Sequence[api.JobSpec],
        *,
        name: str = "",
        idempotency_key: str = "",
    ) -> api.SubmitBatchResponse:
        """Submits a batch of jobs built with `jobwire.client.job_spec`."""
        request = api.SubmitBatchRequest(name=name, jobs=jobs, idempotency_key=idempotency_key)
        return await self._unary(self._stub.SubmitBatch, request)

    async def get_job(self, job_id: str) -> job_pb2.Job:
        response = await self._unary(self._stub.GetJob, api.GetJobRequest(job_id=job_id))
        return response.job

    async def get_batch(self, batch_id: str) -> job_pb2.Batch:
        request = api.GetBatchRequest(batch_id=batch_id)
        response = await self._unary(self._stub.GetBatch, request)
        return response.batch

    async def list_jobs(
        self,
        *,
        status: job_pb2.JobStatus.ValueType = job_pb2.JOB_STATUS_UNSPECIFIED,
        job_type: str = "",
        batch_id: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> api.ListJobsResponse:
        request = api.ListJobsRequest(
            status=status,
            job_type=job_type,
            batch_id=batch_id,
            page_size=page_size,
            page_token=page_token,
        )
        return await self._unary(self._stub.ListJobs, request)

    async def list_batches(
        self,
        *,
        status: job_pb2.JobStatus.ValueType = job_pb2.JOB_STATUS_UNSPECIFIED,
        page_size: int = 0,
        page_token: str = "",
    ) -> api.ListBatchesResponse:
        request = api.ListBatchesRequest(status=status, page_size=page_size, page_token=page_token)
        response: api.ListBatchesResponse = await self._unary(self._stub.ListBatches, request)
        return response

    async def cancel_job(self, job_id: str, reason: str = "") -> job_pb2.Job:
        request = api.CancelJobRequest(job_id=job_id, reason=reason)
        response: api.CancelJobResponse = await self._unary(self._stub.CancelJob, request)
        return response.job

    async def cancel_batch(self, batch_id: str, reason: str = "") -> api.CancelBatchResponse:
        request = api.CancelBatchRequest(batch_id=batch_id, reason=reason)
        response: api.CancelBatchResponse = await self._unary(self._stub.CancelBatch, request)
        return response

    async def retry_job(self, job_id: str) -> job_pb2.Job:
        request = api.RetryJobRequest(job_id=job_id)
        response: api.RetryJobResponse = await self._unary(self._stub.RetryJob, request)
        return response.job

    async def list_job_types(self) -> list[api.JobTypeInfo]:
        response = await self._unary(self._stub.ListJobTypes, api.ListJobTypesRequest())
        return list(response.job_types)

    def watch_job(self, job_id: str, resume_after: int = 0) -> AsyncIterator[job_pb2.JobEvent]:
        """Every event of a job until it is terminal, across reconnections."""

        def open_stream(last: int) -> AsyncIterator[api.WatchJobResponse]:
            request = api.WatchJobRequest(job_id=job_id, resume_after=last)
            return self._stub.WatchJob(request)  # type: ignore[return-value]

        return self._resilient(open_stream, lambda event: event.job, resume_after)

    def watch_batch(
        self, batch_id: str, resume_after: int = 0
    ) -> AsyncIterator[job_pb2.BatchEvent]:
        """Every event of a batch until it is terminal, across reconnections."""

        def open_stream(last: int) -> AsyncIterator[api.WatchBatchResponse]:
            request = api.WatchBatchRequest(batch_id=batch_id, resume_after=last)
            return self._stub.WatchBatch(request)  # type: ignore[return-value]

        return self._resilient(open_stream, lambda event: event.batch, resume_after)

    async def upload_file(
        self, path: Path, *, name: str = "", content_type: str = ""
    ) -> documents_pb2.ArtifactRef:
        """Uploads a file for jobs to read by `file_id`; its SHA-256 is checked by the server."""
        digest = await asyncio.to_thread(_sha256_of, path)
        name = name or path.name
        info = api.UploadInfo(
            name=name,
            content_type=content_type or mimetypes.guess_type(name)[0] or "",
            sha256=digest,
        )
        try:
            call = self._stub.UploadFile(_upload_requests(path, info), timeout=None)
            response: api.UploadFileResponse = await call
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error
        return response.file

    async def download_artifact(
        self, artifact_id: str, destination: Path
    ) -> documents_pb2.ArtifactRef:
        """Writes an artifact or upload to `destination`; returns its description."""
        request = api.DownloadArtifactRequest(artifact_id=artifact_id)
        info = documents_pb2.ArtifactRef()
        try:
            with destination.open("wb") as output:
                async for part in self._stub.DownloadArtifact(request):
                    if part.HasField("info"):
                        info.CopyFrom(part.info)
                    else:
                        output.write(part.chunk)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error
        return info

    async def _unary(self, method: Callable[..., Awaitable[Response]], request: Any) -> Response:
        try:
            return await method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error

    async def _resilient(
        self,
        open_stream: Callable[[int], AsyncIterator[Any]],
        subject: Callable[[Event], Any],
        resume_after: int,
    ) -> AsyncIterator[Event]:
        last_version = resume_after
        loop = asyncio.get_running_loop()
        delay, broken_since = 0.05, loop.time()
        while True:
            try:
                async for response in open_stream(last_version):
                    event: Event = response.event
                    delay, broken_since = 0.05, loop.time()
                    if subject(event).version <= last_version:
                        continue
                    last_version = subject(event).version
                    yield event
                    if subject(event).status in TERMINAL:
                        return
            except grpc.RpcError as error:
                if status_of(error)[0] not in RECONNECT_CODES:
                    raise from_rpc_error(error) from error

            if loop.time() - broken_since > self.reconnect_for:
                raise UnavailableError(f"watch stream lost for {self.reconnect_for:g} s")
            logger.debug("watch stream broke after version %d; reconnecting", last_version)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


async def _upload_requests(path: Path, info: api.UploadInfo) -> AsyncIterator[Any]:
    yield api.UploadFileRequest(info=info)
    with path.open("rb") as source:
        while chunk := await asyncio.to_thread(source.read, CHUNK_SIZE):
            yield api.UploadFileRequest(chunk=chunk)
