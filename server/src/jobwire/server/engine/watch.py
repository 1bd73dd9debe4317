"""WatchJob and WatchBatch streams: a snapshot, then every change, until terminal.

Changes made by this server arrive through the event bus at once. Changes made by
another instance are found by re-reading the document every `poll_interval`: its
`version` tells whether anything happened, so no change streams are needed.
"""

from collections.abc import AsyncIterator, Awaitable, Callable

from google.protobuf.message import Message

from jobwire.server.engine.events import EventBus, Published
from jobwire.server.engine.transitions import batch_event, job_event
from jobwire.server.errors import NotFound
from jobwire.server.storage.documents import Document
from jobwire.v1 import job_pb2

Loader = Callable[[], Awaitable[Document | None]]
EventFor = Callable[[Document, str | None], Published]


def job_event_for(document: Document, previous_status: str | None) -> Published:
    """The event for a job document: SNAPSHOT first, then STATUS or PROGRESS."""
    if previous_status is None:
        return job_event(document, job_pb2.JOB_EVENT_KIND_SNAPSHOT)
    if previous_status != document["status"]:
        return job_event(document, job_pb2.JOB_EVENT_KIND_STATUS)
    return job_event(document, job_pb2.JOB_EVENT_KIND_PROGRESS)


def batch_event_for(document: Document, previous_status: str | None) -> Published:
    """The event for a batch document: SNAPSHOT first, then UPDATED."""
    if previous_status is None:
        return batch_event(document, job_pb2.BATCH_EVENT_KIND_SNAPSHOT)
    return batch_event(document, job_pb2.BATCH_EVENT_KIND_UPDATED)


async def watch(
    bus: EventBus,
    topic: str,
    load: Loader,
    event_for: EventFor,
    resume_after: int,
    poll_interval: float,
) -> AsyncIterator[Message]:
    """Yields the topic's events newer than `resume_after` until one is terminal."""
    with bus.subscribe(topic) as mailbox:
        document = await load()
        if document is None:
            raise NotFound(f"{topic.replace(':', ' ')} not found")

        if resume_after <= 0:
            catch_up = [event_for(document, None)]
        else:
            catch_up = bus.history_after(topic, resume_after)
            if not catch_up or catch_up[-1].version < document["version"]:
                catch_up.append(event_for(document, ""))

        last_version, last_status = resume_after, ""
        for item in catch_up:
            if item.version > last_version:
                last_version, last_status = item.version, item.status
                yield item.message
            if item.terminal:
                return

        while True:
            next_item = await mailbox.get(timeout=poll_interval)
            if next_item is None:
                polled = await load()
                next_item = event_for(polled, last_status) if polled else None
            if next_item is None or next_item.version <= last_version:
                continue
            last_version, last_status = next_item.version, next_item.status
            yield next_item.message
            if next_item.terminal:
                return
