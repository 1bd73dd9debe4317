"""A jobwire server run as a child process, as tests, benchmarks and client harnesses need.

The child is the real `jobwire serve`, reached over a socket; it is stopped by the pid
this object started, never by name.
"""

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

logger = logging.getLogger(__name__)


def free_port() -> int:
    """A port no one listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """One `jobwire serve` child on 127.0.0.1; its output goes to `log_path`."""

    def __init__(
        self,
        mongodb_uri: str,
        log_path: Path,
        *,
        port: int = 0,
        environment: Mapping[str, str] | None = None,
        config: Path | None = None,
    ) -> None:
        self.mongodb_uri = mongodb_uri
        self.log_path = log_path
        self.port = port or free_port()
        self.environment = dict(environment or {})
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        """Starts the server and waits until its health check says SERVING."""
        command = [sys.executable, "-m", "jobwire.client.cli.main", "serve"]
        command += ["--listen", self.address]
        if self.config is not None:
            command += ["--config", str(self.config)]
        environment = {**os.environ, **self.environment, "MONGODB_URI": self.mongodb_uri}

        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=environment
        )
        self._wait_until_serving(timeout)
        logger.info("jobwire server pid %d serving on %s", self.process.pid, self.address)

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM, as an orchestrator would; returns the exit code."""
        return self._end(signal.SIGTERM, timeout)

    def kill(self) -> int | None:
        """SIGKILL: the server dies without any chance to clean up."""
        return self._end(signal.SIGKILL, 10.0)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _end(self, signum: int, timeout: float) -> int | None:
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signum)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
        return process.returncode

    def _wait_until_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"jobwire server exited early:\n{self.log_text()[-3000:]}")
                try:
                    reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                except grpc.RpcError:
                    time.sleep(0.1)
                    continue
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
                time.sleep(0.1)
        self.kill()
        raise TimeoutError(f"jobwire server not serving within {timeout:g} s")


class ServerGroup:
    """`jobwire serve` children sharing one database, each logging to its own file."""

    def __init__(
        self, database_uri: str, directory: Path, environment: Mapping[str, str] | None = None
    ) -> None:
        self.database_uri = database_uri
        self.directory = directory
        self.environment = dict(environment or {})
        self.servers: list[ServerProcess] = []

    def start(self, **environment: str) -> ServerProcess:
        """Starts one more server; `environment` adds to the group's settings."""
        log_path = self.directory / f"server-{len(self.servers)}.log"
        server = ServerProcess(
            self.database_uri, log_path, environment={**self.environment, **environment}
        )
        self.servers.append(server)
        server.start()
        return server

    def logs(self) -> str:
        """Everything the group's servers logged, server by server."""
        return "\n".join(server.log_text() for server in self.servers)

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()
