"""Runs a command beside a jobwire server and a development database of its own.

    python tools/with_server.py -- go test ./...

The command sees JOBWIRE_ADDR (the server) and JOBWIRE_HARNESS_PID (this process):
SIGHUP to that pid restarts the server on the same address and database, so client
tests can cut their streams. Everything started here stops when the command ends.
"""

import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from jobwire.server.devdb import DevDatabase
from jobwire.server.server_process import ServerProcess

logger = logging.getLogger("jobwire.harness")

# Quick polling, retries and shutdown, so client tests do not wait on production pacing.
SERVER_ENVIRONMENT = {
    "JOBWIRE_GENERIC_WORKER_POLL_INTERVAL": "0.2",
    "JOBWIRE_GENERIC_WORKER_BACKOFF_INITIAL": "0.2",
    "JOBWIRE_GENERIC_WORKER_BACKOFF_JITTER": "0.05",
    "JOBWIRE_GENERIC_WORKER_SHUTDOWN_GRACE": "5",
}


def main(command: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="harness: %(message)s")
    restart = threading.Event()
    signal.signal(signal.SIGHUP, lambda signum, frame: restart.set())

    with tempfile.TemporaryDirectory(prefix="jobwire-harness-") as scratch, DevDatabase() as db:
        uri = db.start().rstrip("/") + "/jobwire_harness"
        server = ServerProcess(uri, Path(scratch) / "server.log", environment=SERVER_ENVIRONMENT)
        server.start()
        environment = {
            **os.environ,
            "JOBWIRE_ADDR": server.address,
            "JOBWIRE_HARNESS_PID": str(os.getpid()),
        }
        child = subprocess.Popen(command, env=environment)
        try:
            while child.poll() is None:
                if restart.wait(timeout=0.1):
                    restart.clear()
                    logger.info("restarting the server on %s", server.address)
                    server.stop()
                    server.start()
        finally:
            if child.poll() is None:
                child.terminate()
                child.wait()
            server.stop()
        if child.returncode != 0:
            sys.stderr.write(server.log_text()[-5000:])
        return child.returncode


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--"]:
        arguments = arguments[1:]
    if not arguments:
        sys.exit("usage: with_server.py -- COMMAND [ARG...]")
    sys.exit(main(arguments))
