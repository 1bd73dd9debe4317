"""The gRPC JobService: translates requests to engine operations and documents to messages."""

from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc

from jobwire.server.api import files
from jobwire.server.api.status import stream_errors, unary_errors
from jobwire.server.api.tenancy import TenantResolver
from jobwire.server.config import Settings
from jobwire.server.engine.operations import JobOperations
from jobwire.server.registry import HandlerRegistry
from jobwire.server.storage.documents import batch_to_proto, job_to_proto
from jobwire.server.storage.files import FileStore
from jobwire.v1 import job_pb2, job_service_pb2, job_service_pb2_grpc
from jobwire.v1.job_service_pb2 import (
    CancelBatchRequest,
    CancelBatchResponse,
    CancelJobRequest,
    CancelJobResponse,
    DownloadArtifactRequest,
    DownloadArtifactResponse,
    GetBatchRequest,
    GetBatchResponse,
    GetJobRequest,
    GetJobResponse,
    ListBatchesRequest,
    ListBatchesResponse,
    ListJobsRequest,
    ListJobsResponse,
    ListJobTypesRequest,
    ListJobTypesResponse,
    RetryJobRequest,
    RetryJobResponse,
    SubmitBatchRequest,
    SubmitBatchResponse,
    SubmitJobRequest,
    SubmitJobResponse,
    UploadFileRequest,
    UploadFileResponse,
    WatchBatchRequest,
    WatchBatchResponse,
    WatchJobRequest,
    WatchJobResponse,
)

Context = grpc.aio.ServicerContext[Any, Any]

# Bytes of jobs one ListJobs response carries at most: gRPC clients refuse messages
# over 4 MiB by default, and one job with a large result can approach 1 MiB.
LIST_RESPONSE_BUDGET = 3 * 1024 * 1024


class JobServiceServicer(job_service_pb2_grpc.JobServiceServicer):
    """JobService on top of `JobOperations` and the file store."""

    def __init__(
        self,
        operations: JobOperations,
        registry: HandlerRegistry,
        tenants: TenantResolver,
        files: FileStore,
        settings: Settings,
    ) -> None:
        self.operations = operations
        self.registry = registry
        self.tenants = tenants
        self.files = files
        self.settings = settings

    @unary_errors
    async def SubmitJob(self, request: SubmitJobRequest, context: Context) -> SubmitJobResponse:
        tenant = self.tenants.tenant_of(context)
        document, created = await self.operations.submit(
            tenant, request.job, request.idempotency_key
        )
        return SubmitJobResponse(job=job_to_proto(document), created=created)

    @unary_errors
    async def SubmitBatch(
        self, request: SubmitBatchRequest, context: Context
    ) -> SubmitBatchResponse:
        tenant = self.tenants.tenant_of(context)
        batch, job_ids, created = await self.operations.submit_batch(
            tenant, request.name, request.jobs, request.idempotency_key
        )
        return SubmitBatchResponse(batch=batch_to_proto(batch), job_ids=job_ids, created=created)

    @unary_errors
    async def GetJob(self, request: GetJobRequest, context: Context) -> GetJobResponse:
        document = await self.operations.get_job(self.tenants.tenant_of(context), request.job_id)
        return GetJobResponse(job=job_to_proto(document))

    @unary_errors
    async def GetBatch(self, request: GetBatchRequest, context: Context) -> GetBatchResponse:
        tenant = self.tenants.tenant_of(context)
        document = await self.operations.get_batch(tenant, request.batch_id)
        return GetBatchResponse(batch=batch_to_proto(document))

    @unary_errors
    async def ListJobs(self, request: ListJobsRequest, context: Context) -> ListJobsResponse:
        page = await self.operations.list_jobs(self.tenants.tenant_of(context), request)
        jobs = _within_budget(job_to_proto(document) for document in page.documents)
        return ListJobsResponse(jobs=jobs, next_page_token=page.token_after(len(jobs)))

    @unary_errors
    async def ListBatches(
        self, request: ListBatchesRequest, context: Context
    ) -> ListBatchesResponse:
        page = await self.operations.list_batches(self.tenants.tenant_of(context), request)
        return ListBatchesResponse(
            batches=[batch_to_proto(document) for document in page.documents],
            next_page_token=page.token_after(len(page.documents)),
        )

    @unary_errors
    async def CancelJob(self, request: CancelJobRequest, context: Context) -> CancelJobResponse:
        tenant = self.tenants.tenant_of(context)
        document = await self.operations.cancel_job(tenant, request.job_id, request.reason)
        return CancelJobResponse(job=job_to_proto(document))

    @unary_errors
    async def CancelBatch(
        self, request: CancelBatchRequest, context: Context
    ) -> CancelBatchResponse:
        tenant = self.tenants.tenant_of(context)
        batch, cancelled = await self.operations.cancel_batch(
            tenant, request.batch_id, request.reason
        )
        return CancelBatchResponse(batch=batch_to_proto(batch), cancelled_jobs=cancelled)

    @unary_errors
    async def RetryJob(self, request: RetryJobRequest, context: Context) -> RetryJobResponse:
        document = await self.operations.retry_job(self.tenants.tenant_of(context), request.job_id)
        return RetryJobResponse(job=job_to_proto(document))

    @stream_errors
    async def WatchJob(
        self, request: WatchJobRequest, context: Context
    ) -> AsyncIterator[WatchJobResponse]:
        tenant = self.tenants.tenant_of(context)
        async for event in self.operations.watch_job(tenant, request.job_id, request.resume_after):
            yield WatchJobResponse(event=event)

    @stream_errors
    async def WatchBatch(
        self, request: WatchBatchRequest, context: Context
    ) -> AsyncIterator[WatchBatchResponse]:
        tenant = self.tenants.tenant_of(context)
        async for event in self.operations.watch_batch(
            tenant, request.batch_id, request.resume_after
        ):
            yield WatchBatchResponse(event=event)

    async def ListJobTypes(
        self, request: ListJobTypesRequest, context: Context
    ) -> ListJobTypesResponse:
        return job_service_pb2.ListJobTypesResponse(
            job_types=[
                job_type.describe(self.settings.generic_worker) for job_type in self.registry
            ]
        )

    @unary_errors
    async def UploadFile(
        self, request_iterator: AsyncIterator[UploadFileRequest], context: Context
    ) -> UploadFileResponse:
        max_bytes = self.settings.documents.max_upload_mb * 1024 * 1024
        tenant = self.tenants.tenant_of(context)
        return await files.upload_file(request_iterator, self.files, tenant, max_bytes)

    @stream_errors
    async def DownloadArtifact(
        self, request: DownloadArtifactRequest, context: Context
    ) -> AsyncIterator[DownloadArtifactResponse]:
        tenant = self.tenants.tenant_of(context)
        async for response in files.download_artifact(request, self.files, tenant):
            yield response


def _within_budget(jobs: Iterable[job_pb2.Job]) -> list[job_pb2.Job]:
    """The leading jobs whose encoded size fits LIST_RESPONSE_BUDGET; at least one."""
    kept: list[job_pb2.Job] = []
    size = 0
    for job in jobs:
        size += job.ByteSize()
        if kept and size > LIST_RESPONSE_BUDGET:
            break
        kept.append(job)
    return kept
