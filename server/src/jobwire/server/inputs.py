"""Where a job's input comes from: a path confined to the input roots, or an upload.

`file_path` is checked before anything is opened: it must name a regular file under one of
DocumentSettings.input_roots once every symlink is resolved. `..` components, absolute
paths outside the roots, symlinks that lead out, directories, devices, FIFOs and sockets
fail with INPUT_REJECTED; a path that does not exist with INPUT_NOT_FOUND. A relative path
is taken relative to each root in turn. `file_id` names an upload, copied to a temporary
directory for the job and removed afterwards.

The check and the later open are not atomic: whoever can write inside an input root can
still swap a file for a symlink in between. Input roots are meant to be directories that
only trusted producers write to.
"""

import asyncio
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path, PurePath
from typing import Protocol

from jobwire.server.config import DocumentSettings
from jobwire.server.errors import (
    INPUT_NOT_FOUND,
    INPUT_REJECTED,
    INVALID_PARAMETERS,
    JobFailed,
    NotFound,
)

logger = logging.getLogger(__name__)


class UploadSource(Protocol):
    """The part of the file store the resolver needs (FileStore implements it)."""

    async def fetch_upload_to_path(self, tenant: str, file_id: str, directory: Path) -> Path: ...


class InputResolver:
    """Implements the InputOpener of jobwire.server.context for the document handlers."""

    def __init__(self, settings: DocumentSettings, uploads: UploadSource | None = None) -> None:
        # Real roots judge where a path leads; the roots as configured also judge how it is
        # written, so a path through a root that is itself a symlink is accepted.
        self._roots = [Path(root).resolve() for root in settings.input_roots]
        self._written_roots = self._roots + [
            Path(os.path.abspath(root)) for root in settings.input_roots
        ]
        self._uploads = uploads

    def open_input(
        self, *, tenant: str, file_path: str, file_id: str
    ) -> AbstractAsyncContextManager[Path]:
        """A local path to the input for the duration of the `async with` block."""
        if file_path and file_id:
            raise _failure(INVALID_PARAMETERS, "give file_path or file_id, not both")
        if file_path:
            return self._confined(file_path)
        if file_id:
            return self._upload(tenant, file_id)
        raise _failure(INVALID_PARAMETERS, "give file_path or file_id")

    def resolve(self, file_path: str) -> Path:
        """The real path of `file_path` if it is a regular file inside an input root.

        Uses only lstat, readlink and stat: nothing is opened.
        """
        if not self._roots:
            raise _rejected(file_path, "this server accepts no file paths, only uploads")
        if "\x00" in file_path:
            raise _rejected(file_path, "the path contains a NUL character")
        requested = PurePath(file_path)
        if ".." in requested.parts:
            raise _rejected(file_path, "'..' is not allowed in input paths")

        candidates = (
            [Path(requested)] if requested.is_absolute() else [r / requested for r in self._roots]
        )
        for candidate in candidates:
            # Written outside every root: refused without looking at the file system.
            if not self._written_within(candidate):
                continue
            try:
                real = candidate.resolve(strict=True)
            except FileNotFoundError:
                continue
            except (OSError, RuntimeError) as error:
                raise _rejected(file_path, f"the path cannot be resolved: {error}") from error
            return self._checked(file_path, real)

        if requested.is_absolute() and not self._written_within(Path(requested)):
            raise _rejected(file_path, "the path is outside the input roots")
        raise _failure(INPUT_NOT_FOUND, f"input {file_path!r} does not exist")

    def _written_within(self, path: Path) -> bool:
        normalised = Path(os.path.normpath(path))
        return any(_within(normalised, root) for root in self._written_roots)

    def _checked(self, file_path: str, real: Path) -> Path:
        if not any(_within(real, root) for root in self._roots):
            raise _rejected(file_path, "the path leads outside the input roots")
        try:
            mode = real.stat().st_mode
        except FileNotFoundError as error:
            raise _failure(INPUT_NOT_FOUND, f"input {file_path!r} does not exist") from error
        if not stat.S_ISREG(mode):
            raise _rejected(file_path, "the path is not a regular file")
        return real

    @asynccontextmanager
    async def _confined(self, file_path: str) -> AsyncIterator[Path]:
        yield await asyncio.to_thread(self.resolve, file_path)

    @asynccontextmanager
    async def _upload(self, tenant: str, file_id: str) -> AsyncIterator[Path]:
        if self._uploads is None:
            raise _failure(INPUT_NOT_FOUND, "this server has no upload store")
        directory = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="jobwire-input-"))
        try:
            try:
                path = await self._uploads.fetch_upload_to_path(tenant, file_id, directory)
            except NotFound as error:
                raise _failure(INPUT_NOT_FOUND, f"no upload {file_id!r}") from error
            yield path
        finally:
            await asyncio.to_thread(shutil.rmtree, directory, True)


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _rejected(file_path: str, reason: str) -> JobFailed:
    logger.info("input %r rejected: %s", file_path, reason)
    return _failure(INPUT_REJECTED, f"input {file_path!r} rejected: {reason}")


def _failure(code: str, message: str) -> JobFailed:
    return JobFailed(message, code=code, retryable=False)
