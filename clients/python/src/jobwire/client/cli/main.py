"""`jobwire`: submit, watch and manage jobs from a shell.

Installed distributions add commands through the `jobwire.cli` entry-point group
(the server adds `serve` and `devdb`): each entry point is a function that adds a
subparser and sets its `run` default to a function of the parsed arguments.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path

from jobwire.client.aio import DEFAULT_ADDRESS
from jobwire.client.cli import commands
from jobwire.client.cli.params import ParamError
from jobwire.client.errors import JobwireClientError

PLUGIN_GROUP = "jobwire.cli"
STATUSES = ["pending", "processing", "completed", "failed", "cancelled"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    args.addr = getattr(args, "addr", None) or os.environ.get("JOBWIRE_ADDR") or DEFAULT_ADDRESS
    args.output = getattr(args, "output", None) or "text"

    try:
        code: int = args.run(args)
    except (JobwireClientError, ParamError, OSError) as error:
        print(f"jobwire: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="jobwire", description=__doc__.splitlines()[0], parents=[_common_options(None)]
    )
    subcommands = parser.add_subparsers(title="commands", metavar="COMMAND")

    _add_submit(subcommands, common)
    _add_target_command(subcommands, common, "watch", "follow a job or batch until it ends")
    _add_target_command(subcommands, common, "get", "show a job or batch")
    _add_target_command(subcommands, common, "cancel", "cancel a job or a batch")
    _add_list(subcommands, common)

    retry = subcommands.add_parser("retry", parents=[common], help="retry a failed job")
    retry.add_argument("kind", choices=["job"])
    retry.add_argument("id")
    retry.set_defaults(run=commands.retry)

    download = subcommands.add_parser("download", parents=[common], help="save an artifact")
    download.add_argument("artifact_id")
    download.add_argument("-o", "--output-file", type=Path, required=True, metavar="FILE")
    download.set_defaults(run=commands.download)

    types = subcommands.add_parser("types", parents=[common], help="list the job types")
    types.set_defaults(run=commands.job_types)

    for plugin in entry_points(group=PLUGIN_GROUP):
        plugin.load()(subcommands)
    return parser


def _common_options(default: object) -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--addr", default=default, help=f"server address (JOBWIRE_ADDR, default {DEFAULT_ADDRESS})"
    )
    options.add_argument(
        "--output", choices=["text", "json"], default=default, help="text, or one JSON per line"
    )
    return options


def _add_submit(
    subcommands: "argparse._SubParsersAction[argparse.ArgumentParser]",
    common: argparse.ArgumentParser,
) -> None:
    submit = subcommands.add_parser("submit", parents=[common], help="submit jobs")
    submit.add_argument("job_type", metavar="TYPE")
    submit.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="a parameter"
    )
    submit.add_argument("--file", type=Path, help="upload FILE and pass it as file_id")
    submit.add_argument("--count", type=int, default=1, help="submit N such jobs as a batch")
    submit.add_argument("--batch-name", help="submit as a batch of this name")
    submit.add_argument("--idempotency-key", default="")
    submit.add_argument("--priority", type=int, default=0)
    submit.add_argument("--max-attempts", type=int, default=0)
    submit.add_argument("--watch", action="store_true", help="follow until the work ends")
    submit.set_defaults(run=commands.submit)


def _add_target_command(
    subcommands: "argparse._SubParsersAction[argparse.ArgumentParser]",
    common: argparse.ArgumentParser,
    name: str,
    description: str,
) -> None:
    command = subcommands.add_parser(name, parents=[common], help=description)
    command.add_argument("kind", choices=["job", "batch"])
    command.add_argument("id")
    if name == "cancel":
        command.add_argument("--reason", default="")
    command.set_defaults(run=getattr(commands, name))


def _add_list(
    subcommands: "argparse._SubParsersAction[argparse.ArgumentParser]",
    common: argparse.ArgumentParser,
) -> None:
    listing = subcommands.add_parser("list", parents=[common], help="list jobs or batches")
    listing.add_argument("kind", choices=["jobs", "batches"])
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--type", dest="job_type", default="")
    listing.add_argument("--batch", dest="batch_id", default="")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(run=commands.list_)


if __name__ == "__main__":
    sys.exit(main())
