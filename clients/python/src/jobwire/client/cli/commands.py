"""The CLI's commands; each takes the parsed arguments and returns the exit code."""

import argparse

from google.protobuf.message import Message

from jobwire.client.cli.params import ParamError, parse_assignments, typed_params
from jobwire.client.cli.render import Renderer, status_name
from jobwire.client.specs import job_spec
from jobwire.client.sync import JobwireClient
from jobwire.v1 import job_pb2

SUCCESS = 0
WORK_FAILED = 1


def submit(args: argparse.Namespace) -> int:
    renderer = Renderer(args.output)
    with JobwireClient(args.addr) as client:
        job_types = {info.job_type: info for info in client.list_job_types()}
        values = parse_assignments(args.param)
        if args.file:
            upload = client.upload_file(args.file)
            renderer.text(f"uploaded {args.file} as {upload.id} ({upload.size} bytes)")
            values["file_id"] = upload.id
        known = job_types.get(args.job_type)
        params = typed_params(values, known) if known else values

        options = {"priority": args.priority, "max_attempts": args.max_attempts}
        if args.count > 1 or args.batch_name:
            if args.count < 1:
                raise ParamError("--count must be at least 1")
            specs = [job_spec(args.job_type, params, **options) for _ in range(args.count)]
            response = client.submit_batch(
                specs, name=args.batch_name or "", idempotency_key=args.idempotency_key
            )
            renderer.text(f"batch {response.batch.id} submitted with {len(specs)} job(s)")
            if not args.watch:
                renderer.message(response.batch)
                return SUCCESS
            return _follow_batch(client, renderer, response.batch.id)

        job = client.submit_job(
            args.job_type, params, idempotency_key=args.idempotency_key, **options
        )
        renderer.text(f"job {job.id} submitted")
        if not args.watch:
            renderer.message(job)
            return SUCCESS
        return _follow_job(client, renderer, job.id)


def watch(args: argparse.Namespace) -> int:
    renderer = Renderer(args.output)
    with JobwireClient(args.addr) as client:
        if args.kind == "job":
            return _follow_job(client, renderer, args.id)
        return _follow_batch(client, renderer, args.id)


def get(args: argparse.Namespace) -> int:
    renderer = Renderer(args.output)
    with JobwireClient(args.addr) as client:
        found = client.get_job(args.id) if args.kind == "job" else client.get_batch(args.id)
        renderer.message(found)
    return SUCCESS


def list_(args: argparse.Namespace) -> int:
    renderer = Renderer(args.output)
    status = (
        job_pb2.JobStatus.Value(f"JOB_STATUS_{args.status.upper()}")
        if args.status
        else job_pb2.JOB_STATUS_UNSPECIFIED
    )
    with JobwireClient(args.addr) as client:
        if args.kind == "jobs":
            jobs = client.list_jobs(
                status=status, job_type=args.job_type, batch_id=args.batch_id, page_size=args.limit
            ).jobs
            for job in jobs:
                _list_line(renderer, job, f"{job.id} {job.job_type} {status_name(job.status)}")
        else:
            batches = client.list_batches(status=status, page_size=args.limit).batches
            for batch in batches:
                summary = f"{batch.counts.completed}/{batch.counts.total} completed"
                line = f"{batch.id} {batch.name} {status_name(batch.status)} {summary}"
                _list_line(renderer, batch, line)
    return SUCCESS


def cancel(args: argparse.Namespace) -> int:
    renderer = Renderer(args.output)
    with JobwireClient(args.addr) as client:
        if args.kind == "job":
            renderer.message(client.cancel_job(args.id, args.reason))
        else:
            response = client.cancel_batch(args.id, args.reason)
            renderer.text(f"{response.cancelled_jobs} job(s) cancelled")
            renderer.message(response.batch)
    return SUCCESS


def retry(args: argparse.Namespace) -> int:
    renderer = Renderer(args.output)
    with JobwireClient(args.addr) as client:
        renderer.message(client.retry_job(args.id))
    return SUCCESS


def download(args: argparse.Namespace) -> int:
    renderer = Renderer(args.output)
    with JobwireClient(args.addr) as client:
        info = client.download_artifact(args.artifact_id, args.output_file)
    if renderer.json:
        renderer.message(info)
    else:
        renderer.text(f"saved {info.name} ({info.size} bytes) to {args.output_file}")
    return SUCCESS


def job_types(args: argparse.Namespace) -> int:
    renderer = Renderer(args.output)
    with JobwireClient(args.addr) as client:
        for info in client.list_job_types():
            _list_line(renderer, info, f"{info.job_type:<10} {info.description}")
    return SUCCESS


def _follow_job(client: JobwireClient, renderer: Renderer, job_id: str) -> int:
    last: job_pb2.Job | None = None
    for event in client.watch_job(job_id):
        renderer.job_event(event)
        last = event.job
    renderer.finish()
    if last is None:
        return WORK_FAILED
    if last.result.WhichOneof("kind") in ("pdf", "session") and not renderer.json:
        document = getattr(last.result, str(last.result.WhichOneof("kind"))).document
        if document:
            renderer.text(document)
    return SUCCESS if last.status == job_pb2.JOB_STATUS_COMPLETED else WORK_FAILED


def _follow_batch(client: JobwireClient, renderer: Renderer, batch_id: str) -> int:
    last: job_pb2.Batch | None = None
    for event in client.watch_batch(batch_id):
        renderer.batch_event(event)
        last = event.batch
    renderer.finish()
    if last is None:
        return WORK_FAILED
    return SUCCESS if last.status == job_pb2.JOB_STATUS_COMPLETED else WORK_FAILED


def _list_line(renderer: Renderer, message: Message, line: str) -> None:
    if renderer.json:
        renderer.message(message)
    else:
        renderer.text(line)
