"""How the CLI shows jobs, batches and events: live lines on a terminal, or JSON lines."""

import json
import sys
from typing import TextIO

from google.protobuf import json_format
from google.protobuf.message import Message

from jobwire.client.aio import TERMINAL
from jobwire.v1 import job_pb2

BAR_WIDTH = 30


def status_name(status: job_pb2.JobStatus.ValueType) -> str:
    return job_pb2.JobStatus.Name(status).removeprefix("JOB_STATUS_").lower()


def to_json(message: Message) -> str:
    """One line of protobuf JSON with the proto field names."""
    as_dict = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return json.dumps(as_dict, ensure_ascii=False, sort_keys=True)


class Renderer:
    """Writes what the CLI has to say, in the chosen output format."""

    def __init__(self, output: str, stream: TextIO = sys.stdout) -> None:
        self.json = output == "json"
        self.stream = stream
        self.live = not self.json and stream.isatty()
        self._line_open = False

    def message(self, message: Message) -> None:
        """A job, batch or other message as a whole."""
        if self.json:
            self._write(to_json(message))
        else:
            self._write(json_format.MessageToJson(message, preserving_proto_field_name=True))

    def job_event(self, event: job_pb2.JobEvent) -> None:
        job = event.job
        if self.json:
            self._write(to_json(job))
            return
        percent = job.progress.percent
        detail = "" if job.status in TERMINAL else job.progress.message or job.progress.stage
        line = f"job {job.id} {status_name(job.status)} {_bar(percent)} {percent:5.1f}% {detail}"
        if job.HasField("error") and job.status != job_pb2.JOB_STATUS_COMPLETED:
            line += f" [{job.error.code}: {job.error.message}]"
        self._progress_line(line, event.kind != job_pb2.JOB_EVENT_KIND_PROGRESS)

    def batch_event(self, event: job_pb2.BatchEvent) -> None:
        batch = event.batch
        if self.json:
            self._write(to_json(batch))
            return
        counts = batch.counts
        line = (
            f"batch {batch.id} {status_name(batch.status)} {_bar(batch.progress.percent)} "
            f"{counts.completed}/{counts.total} completed, {counts.failed} failed, "
            f"{counts.cancelled} cancelled, {counts.processing} running"
        )
        self._progress_line(line, True)

    def text(self, line: str) -> None:
        """A line for people; nothing in JSON mode, where only messages are printed."""
        if not self.json:
            self._write(line)

    def _progress_line(self, line: str, notable: bool) -> None:
        if self.live:
            self.stream.write(f"\r\x1b[2K{line}")
            self.stream.flush()
            self._line_open = True
        elif notable:
            self._write(line)

    def _write(self, line: str) -> None:
        if self._line_open:
            self.stream.write("\n")
            self._line_open = False
        self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._line_open:
            self.stream.write("\n")
            self._line_open = False


def _bar(percent: float) -> str:
    filled = round(BAR_WIDTH * min(max(percent, 0.0), 100.0) / 100)
    return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"
