"""One jobwire server: its database connection, engine and gRPC front, started and stopped."""

import asyncio
import logging
import os
import secrets
import socket
from urllib.parse import urlsplit, urlunsplit

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from pymongo import AsyncMongoClient
from pymongo.errors import ConfigurationError as MongoConfigurationError
from pymongo.errors import PyMongoError

from jobwire.server.api.servicer import JobServiceServicer
from jobwire.server.api.tenancy import TenantResolver
from jobwire.server.config import Settings
from jobwire.server.engine.dispatcher import Dispatcher
from jobwire.server.engine.events import EventBus
from jobwire.server.engine.operations import JobOperations
from jobwire.server.engine.pools import WorkerPools
from jobwire.server.engine.runner import JobRunner
from jobwire.server.engine.sweeper import Sweeper
from jobwire.server.engine.transitions import Transitions
from jobwire.server.errors import ConfigurationError, DatabaseUnavailable
from jobwire.server.inputs import InputResolver
from jobwire.server.registry import HandlerRegistry
from jobwire.server.storage.batches import BatchStore
from jobwire.server.storage.documents import Document
from jobwire.server.storage.files import FileStore
from jobwire.server.storage.jobs import JobStore
from jobwire.v1 import job_service_pb2, job_service_pb2_grpc

logger = logging.getLogger(__name__)

SERVICE_NAME = job_service_pb2.DESCRIPTOR.services_by_name["JobService"].full_name
# Seconds open streams get to end after the engine stopped, before they are cut.
STREAM_GRACE = 1.0


class JobwireServer:
    """Wires the parts of one server together; `start()` then `stop()`."""

    def __init__(self, settings: Settings, registry: HandlerRegistry | None = None) -> None:
        self.settings = settings
        self.registry = registry or default_registry()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        # grpc-stubs do not know the asyncio health servicer that grpcio-health-checking has.
        self.health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        self.port = 0
        self._client: AsyncMongoClient[Document] | None = None
        self._grpc: grpc.aio.Server | None = None
        self._pools: WorkerPools | None = None
        self._dispatcher: Dispatcher | None = None
        self._transitions: Transitions | None = None
        self._sweeper_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connects to the database, starts the engine, and listens."""
        # The database must answer before anything claims or accepts work.
        client = await connect(self.settings)
        self._client = client
        database = client.get_default_database(default=self.settings.storage.database)
        jobs = JobStore(database[self.settings.storage.jobs_collection])
        batches = BatchStore(database[self.settings.storage.batches_collection])
        files = FileStore(database, self.settings.storage)
        await jobs.ensure_indexes()
        await batches.ensure_indexes()

        # The engine: events, pools, runner, dispatcher and sweeper.
        worker = self.settings.generic_worker
        bus = EventBus()
        transitions = Transitions(bus, batches, worker.batch_count_interval)
        self._transitions = transitions
        self._pools = WorkerPools(
            worker.max_concurrent_workers, worker.process_workers, worker.process_memory_limit_mb
        )
        runner = JobRunner(
            jobs=jobs,
            transitions=transitions,
            settings=self.settings,
            pools=self._pools,
            owner=self.owner,
            artifacts=files,
            inputs=InputResolver(self.settings.documents, files),
        )
        self._dispatcher = Dispatcher(
            jobs=jobs, registry=self.registry, runner=runner, settings=worker, owner=self.owner
        )
        sweeper = Sweeper(jobs, batches, transitions, self.settings, files)
        operations = JobOperations(
            jobs=jobs,
            batches=batches,
            registry=self.registry,
            transitions=transitions,
            dispatcher=self._dispatcher,
            bus=bus,
            settings=self.settings,
        )

        # The gRPC front: JobService, health and reflection.
        self._grpc = self._grpc_server(operations, files)
        self.port = self._bind(self._grpc)
        await self._grpc.start()
        self._dispatcher.start()
        self._sweeper_task = asyncio.create_task(sweeper.run(), name="jobwire-sweeper")
        await self._set_serving(health_pb2.HealthCheckResponse.SERVING)
        logger.info(
            "jobwire serving on %s as %s with job types %s",
            self.address,
            self.owner,
            ", ".join(self.registry.names()),
        )

    @property
    def address(self) -> str:
        host = self.settings.api.listen.rsplit(":", 1)[0]
        return f"{host}:{self.port}"

    async def stop(self) -> None:
        """Stops claiming, lets running jobs finish within the grace period, then closes."""
        logger.info("jobwire stopping")
        await self._set_serving(health_pb2.HealthCheckResponse.NOT_SERVING)
        if self._sweeper_task is not None:
            self._sweeper_task.cancel()
        if self._dispatcher is not None:
            await self._dispatcher.stop(self.settings.generic_worker.shutdown_grace)
        if self._transitions is not None:
            await self._transitions.close()
        if self._grpc is not None:
            await self._grpc.stop(STREAM_GRACE)
        if self._pools is not None:
            self._pools.close()
        if self._client is not None:
            await self._client.close()
        logger.info("jobwire stopped")

    def _grpc_server(self, operations: JobOperations, files: FileStore) -> grpc.aio.Server:
        limit = self.settings.api.max_message_mb * 1024 * 1024
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", limit),
                ("grpc.max_send_message_length", limit),
            ]
        )
        servicer = JobServiceServicer(
            operations,
            self.registry,
            TenantResolver(self.settings.api.default_tenant),
            files,
            self.settings,
        )
        job_service_pb2_grpc.add_JobServiceServicer_to_server(servicer, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            [SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME], server
        )
        return server

    def _bind(self, server: grpc.aio.Server) -> int:
        listen = self.settings.api.listen
        try:
            port = server.add_insecure_port(listen)
        except RuntimeError as error:
            raise ConfigurationError(f"cannot listen on {listen}: {error}") from error
        if port == 0:
            raise ConfigurationError(f"cannot listen on {listen}: address in use or invalid")
        return port

    async def _set_serving(self, status: "health_pb2.HealthCheckResponse.ServingStatus") -> None:
        for name in ("", SERVICE_NAME):
            await self.health.set(name, status)


def default_registry() -> HandlerRegistry:
    """Every job type installed under the `jobwire.handlers` entry-point group."""
    registry = HandlerRegistry()
    registry.load_entry_points()
    return registry


async def connect(settings: Settings) -> AsyncMongoClient[Document]:
    """A client whose server answered a ping within the configured time."""
    uri = settings.storage.mongodb_uri
    if not uri:
        raise ConfigurationError("MONGODB_URI is not set: name the MongoDB server to use")

    timeout_ms = int(settings.storage.connect_timeout * 1000)
    try:
        client: AsyncMongoClient[Document] = AsyncMongoClient(
            uri,
            tz_aware=True,
            appname="jobwire",
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
        )
    except MongoConfigurationError as error:
        raise ConfigurationError(f"MONGODB_URI {redact(uri)} is invalid: {error}") from error

    try:
        await client.admin.command("ping")
    except PyMongoError as error:
        await client.close()
        raise DatabaseUnavailable(
            f"cannot reach MongoDB at {redact(uri)} within {settings.storage.connect_timeout:g} s"
        ) from error
    return client


def redact(uri: str) -> str:
    """The URI without its password, fit for logs and error messages."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
