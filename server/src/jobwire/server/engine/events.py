"""The in-process event bus that feeds WatchJob and WatchBatch.

Every change a server makes to a job or batch is published here after it is written.
Each topic keeps a short history so that a client reconnecting with `resume_after`
gets what it missed; each subscriber has a mailbox in which a newer snapshot-like
event replaces an older one still waiting, so a slow client never builds a backlog.
"""

import asyncio
import bisect
import functools
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from google.protobuf.message import Message


@dataclass(frozen=True)
class Published:
    """One event of a topic, ordered by the document version it shows."""

    version: int
    status: str
    """The stored status of the job or batch as of this event."""
    terminal: bool
    """The job or batch is terminal as of this event."""
    replaceable: bool
    """A later event of the topic makes this one redundant (progress, batch counts)."""
    build: Callable[[], Message]
    """Makes the JobEvent or BatchEvent; only events someone receives are built."""

    @functools.cached_property
    def message(self) -> Message:
        return self.build()


class Mailbox:
    """Events waiting for one subscriber."""

    def __init__(self) -> None:
        self._items: deque[Published] = deque()
        self._arrived = asyncio.Event()

    def put(self, item: Published) -> None:
        if item.replaceable and self._items and self._items[-1].replaceable:
            self._items[-1] = item
        else:
            self._items.append(item)
        self._arrived.set()

    async def get(self, timeout: float) -> Published | None:
        """The next event, or None when none arrived within `timeout` seconds."""
        if not self._items:
            self._arrived.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._arrived.wait()
            except TimeoutError:
                return None
        return self._items.popleft()


@dataclass
class _Topic:
    history: list[Published] = field(default_factory=list)
    mailboxes: set[Mailbox] = field(default_factory=set)


class EventBus:
    """Topics such as "job:<id>" and "batch:<id>", with bounded history."""

    def __init__(self, history_per_topic: int = 256, max_topics: int = 20_000) -> None:
        self.history_per_topic = history_per_topic
        self.max_topics = max_topics
        self._topics: OrderedDict[str, _Topic] = OrderedDict()

    def publish(self, topic: str, item: Published) -> None:
        state = self._touch(topic)
        versions = [published.version for published in state.history]
        position = bisect.bisect_left(versions, item.version)
        if position < len(versions) and versions[position] == item.version:
            return
        state.history.insert(position, item)
        del state.history[: -self.history_per_topic]

        for mailbox in state.mailboxes:
            mailbox.put(item)

    def history_after(self, topic: str, version: int) -> list[Published]:
        """Events of the topic newer than `version` that are still kept, oldest first."""
        state = self._topics.get(topic)
        if state is None:
            return []
        return [item for item in state.history if item.version > version]

    @contextmanager
    def subscribe(self, topic: str) -> Iterator[Mailbox]:
        state = self._touch(topic)
        mailbox = Mailbox()
        state.mailboxes.add(mailbox)
        try:
            yield mailbox
        finally:
            state.mailboxes.discard(mailbox)

    def _touch(self, topic: str) -> _Topic:
        state = self._topics.get(topic)
        if state is None:
            state = self._topics[topic] = _Topic()
            self._evict()
        self._topics.move_to_end(topic)
        return state

    def _evict(self) -> None:
        while len(self._topics) > self.max_topics:
            oldest, state = next(iter(self._topics.items()))
            if state.mailboxes:
                self._topics.move_to_end(oldest)
                return
            del self._topics[oldest]
