"""The server's commands of the `jobwire` CLI: `serve` and `devdb`."""

import argparse
import asyncio
import logging
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

from jobwire.server.app import JobwireServer
from jobwire.server.config import Settings, load_settings
from jobwire.server.devdb import DevDatabase, DevDatabaseError, run_devdb
from jobwire.server.errors import JobwireError

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def register_serve(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("serve", help="run the jobwire server")
    parser.add_argument("--config", type=Path, help="YAML settings file")
    parser.add_argument("--listen", help="HOST:PORT to listen on (default 127.0.0.1:50051)")
    parser.add_argument(
        "--dev-database",
        type=Path,
        metavar="DIR",
        help="without MONGODB_URI, start the development database keeping data in DIR",
    )
    parser.set_defaults(run=run_serve)


def register_devdb(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("devdb", help="run the development database in the foreground")
    parser.add_argument("--port", type=int, default=27017, help="port, 0 for any free one")
    parser.add_argument("--data", type=Path, metavar="DIR", help="keep data on disk in DIR")
    parser.set_defaults(run=lambda args: _run_devdb(args))


def run_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=os.environ.get("JOBWIRE_LOG_LEVEL", "INFO"), format=LOG_FORMAT)
    try:
        settings = load_settings(args.config)
        if args.listen:
            settings = replace(settings, api=replace(settings.api, listen=args.listen))
        with DevDatabase() as devdb:
            if not settings.storage.mongodb_uri and args.dev_database:
                settings = _with_devdb(settings, devdb, args.dev_database)
            asyncio.run(_serve(settings))
    except (JobwireError, DevDatabaseError) as error:
        print(f"jobwire serve: {error}", file=sys.stderr)
        return 1
    return 0


def _with_devdb(settings: Settings, devdb: DevDatabase, data_dir: Path) -> Settings:
    data_dir.mkdir(parents=True, exist_ok=True)
    uri = devdb.start(data_dir=data_dir)
    logger.info("development database at %s keeps its data in %s", uri, data_dir)
    return replace(settings, storage=replace(settings.storage, mongodb_uri=uri))


async def _serve(settings: Settings) -> None:
    server = JobwireServer(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    await server.start()
    logger.info(
        "submit work with: jobwire --addr %s submit sleep --count 5 --watch", server.address
    )
    try:
        await stop.wait()
    finally:
        await server.stop()


def _run_devdb(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    return run_devdb(args.port, args.data)
