"""The development database: tools/devdb (mongo-java-server) run as a child process.

No MongoDB server can be installed here, so tests and `make run` start this MongoDB-wire
compatible server instead: in memory, or with a data directory on the H2 backend.
"""

import logging
import os
import queue
import shutil
import signal
import subprocess
import threading
from collections import deque
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Self

logger = logging.getLogger(__name__)

JAR_ENV = "JOBWIRE_DEVDB_JAR"

# This file is server/src/jobwire/server/devdb.py: four levels below the checkout's root.
_CHECKOUT_ROOT = Path(__file__).resolve().parents[4]
_DEFAULT_JAR = _CHECKOUT_ROOT / "tools" / "devdb" / "target" / "jobwire-devdb.jar"

_READY_PREFIX = "devdb ready "
_STDERR_TAIL_LINES = 20
_READER_JOIN_SECONDS = 5.0
_WATCH_INTERVAL_SECONDS = 0.5


class DevDatabaseError(RuntimeError):
    """The development database could not be found, started or stopped."""


def find_jar() -> Path:
    """Return the devdb jar: `$JOBWIRE_DEVDB_JAR`, else the one `make install` builds."""
    jar = Path(os.environ.get(JAR_ENV) or _DEFAULT_JAR)
    if not jar.is_file():
        raise DevDatabaseError(
            f"development database jar not found at {jar}: run `make install` to build it "
            f"(or set {JAR_ENV})"
        )
    return jar


class DevDatabase:
    """One development database process, started by `start` and stopped by `stop`.

    Usable as a context manager: leaving the `with` block stops the process.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._ready: queue.Queue[str | None] = queue.Queue()
        self._stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        self._readers: list[threading.Thread] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the process this object started is still alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, port: int = 0, data_dir: Path | None = None, timeout: float = 60) -> str:
        """Start the database and return its `mongodb://` URI once it accepts connections.

        `port` 0 takes any free port. With `data_dir` the data is kept in a file under it
        and survives restarts; without it the database lives in memory.
        """
        if self._process is not None:
            raise DevDatabaseError("the development database is already started")

        command = self._command(port, data_dir)
        logger.debug("starting the development database: %s", command)
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._start_readers(self._process)

        try:
            return self._wait_until_ready(self._process, timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 10) -> None:
        """Stop the process with SIGTERM, killing it if it has not exited within `timeout`."""
        process = self._process
        if process is None:
            return

        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning(
                    "development database (pid %d) ignored SIGTERM for %.1f s: killing it",
                    process.pid,
                    timeout,
                )
                process.kill()
                process.wait()

        self._join_readers()
        logger.debug("development database (pid %d) exited: %s", process.pid, process.returncode)
        self._process = None

    def _command(self, port: int, data_dir: Path | None) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise DevDatabaseError("java not found on PATH: the development database needs Java 17")

        # The serial collector runs no threads of its own: on a small machine the default
        # collector's threads take CPU from the jobs that the database serves.
        command = [java, "-XX:+UseSerialGC", "-jar", str(find_jar()), "--port", str(port)]
        if data_dir is not None:
            command += ["--data", str(data_dir)]
        return command

    def _start_readers(self, process: subprocess.Popen[str]) -> None:
        # Both are pipes: start() asks Popen for them.
        assert process.stdout is not None
        assert process.stderr is not None

        self._ready = queue.Queue()
        self._stderr_tail.clear()
        self._readers = [
            threading.Thread(
                target=self._read_stdout, args=(process.stdout,), name="devdb-stdout", daemon=True
            ),
            threading.Thread(
                target=self._read_stderr, args=(process.stderr,), name="devdb-stderr", daemon=True
            ),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                if line.startswith(_READY_PREFIX):
                    self._ready.put(line.removeprefix(_READY_PREFIX).strip())
        self._ready.put(None)

    def _read_stderr(self, stream: IO[str]) -> None:
        # Drained continuously so the child never blocks on a full pipe.
        with stream:
            for line in stream:
                message = line.rstrip()
                self._stderr_tail.append(message)
                logger.warning("devdb stderr: %s", message)

    def _join_readers(self) -> None:
        for reader in self._readers:
            reader.join(_READER_JOIN_SECONDS)
        self._readers = []

    def _wait_until_ready(self, process: subprocess.Popen[str], timeout: float) -> str:
        try:
            uri = self._ready.get(timeout=timeout)
        except queue.Empty:
            raise DevDatabaseError(
                f"the development database did not accept connections within {timeout:g} s"
                f"{self._describe_stderr()}"
            ) from None

        if uri is None:
            returncode = process.wait(_READER_JOIN_SECONDS)
            self._join_readers()
            raise DevDatabaseError(
                f"the development database exited with code {returncode} before it accepted "
                f"connections{self._describe_stderr()}"
            )

        logger.debug("development database (pid %d) ready at %s", process.pid, uri)
        return uri

    def _describe_stderr(self) -> str:
        if not self._stderr_tail:
            return " (it wrote nothing to stderr)"
        return "; its last stderr lines:\n" + "\n".join(self._stderr_tail)


def run_devdb(port: int, data_dir: Path | None) -> int:
    """Run the development database in the foreground: `jobwire devdb --port N [--data DIR]`.

    Logs the `mongodb://` URI once the database accepts connections, then runs until SIGINT
    or SIGTERM, which stops the database cleanly. With `data_dir` the data survives
    restarts. Must be called from the main thread (it installs signal handlers).

    Returns the exit status: 0 after a requested stop, 1 if the database failed to start
    or exited by itself.
    """
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s: stopping the development database", signal.Signals(signum).name)
        stop_requested.set()

    previous_handlers = {
        signum: signal.signal(signum, request_stop) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with DevDatabase() as database:
            uri = database.start(port=port, data_dir=data_dir)
            logger.info("development database accepting connections at %s", uri)
            return _watch(database, stop_requested)
    except DevDatabaseError as error:
        logger.error("%s", error)
        return 1
    finally:
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)


def _watch(database: DevDatabase, stop_requested: threading.Event) -> int:
    while not stop_requested.wait(_WATCH_INTERVAL_SECONDS):
        if not database.running:
            logger.error("the development database exited by itself")
            return 1
    return 0
