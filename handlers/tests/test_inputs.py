"""Input confinement: only regular files under the input roots, checked before any open."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from jobwire.server.config import DocumentSettings
from jobwire.server.errors import INPUT_NOT_FOUND, INPUT_REJECTED, INVALID_PARAMETERS, JobFailed
from jobwire.server.inputs import InputResolver

# Paths opened inside `record_opens()`, seen through an audit hook (audit hooks cannot be
# removed, so one hook serves every test and records only inside that block).
_recording: list[list[str]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _recording and args and isinstance(args[0], str | bytes | Path):
        _recording[-1].append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@contextmanager
def record_opens() -> Iterator[list[str]]:
    opened: list[str] = []
    _recording.append(opened)
    try:
        yield opened
    finally:
        _recording.pop()


@pytest.fixture
def root(settings_with_root: DocumentSettings) -> Path:
    return Path(settings_with_root.input_roots[0])


@pytest.fixture
def resolver(settings_with_root: DocumentSettings) -> InputResolver:
    return InputResolver(settings_with_root)


async def open_path(resolver: InputResolver, file_path: str) -> Path:
    async with resolver.open_input(tenant="t", file_path=file_path, file_id="") as path:
        return path


async def rejected(resolver: InputResolver, file_path: str) -> JobFailed:
    with pytest.raises(JobFailed) as raised:
        await open_path(resolver, file_path)
    return raised.value


async def test_a_file_in_the_root_is_given_by_relative_or_absolute_path(
    resolver: InputResolver, root: Path
) -> None:
    (root / "talks").mkdir()
    (root / "talks" / "a.pdf").write_bytes(b"%PDF-1.7")

    assert await open_path(resolver, "talks/a.pdf") == (root / "talks" / "a.pdf").resolve()
    assert (
        await open_path(resolver, str(root / "talks" / "a.pdf"))
        == (root / "talks" / "a.pdf").resolve()
    )


@pytest.mark.parametrize("file_path", ["/etc/passwd", "../../etc/passwd", "talks/../../x"])
async def test_paths_outside_the_roots_are_rejected_unopened(
    resolver: InputResolver, file_path: str
) -> None:
    with record_opens() as opened_paths:
        failure = await rejected(resolver, file_path)

    assert failure.code == INPUT_REJECTED
    assert not failure.retryable
    assert opened_paths == []


async def test_a_symlink_leading_out_of_the_root_is_rejected_unopened(
    resolver: InputResolver, root: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF-1.7 secret")
    (root / "innocent.pdf").symlink_to(secret)
    (root / "dir-link").symlink_to(tmp_path)
    (root / "passwd.pdf").symlink_to("/etc/passwd")

    for file_path in ("innocent.pdf", "dir-link/secret.pdf", "passwd.pdf"):
        with record_opens() as opened_paths:
            failure = await rejected(resolver, file_path)
        assert failure.code == INPUT_REJECTED, file_path
        assert "outside the input roots" in failure.message
        assert opened_paths == []


async def test_a_symlink_within_the_root_is_followed(resolver: InputResolver, root: Path) -> None:
    (root / "real.pdf").write_bytes(b"%PDF-1.7")
    (root / "alias.pdf").symlink_to(root / "real.pdf")

    assert await open_path(resolver, "alias.pdf") == (root / "real.pdf").resolve()


async def test_directories_fifos_and_devices_are_rejected_unopened(
    resolver: InputResolver, root: Path
) -> None:
    (root / "folder").mkdir()
    os.mkfifo(root / "pipe")
    (root / "null").symlink_to("/dev/null")

    for file_path in ("folder", "pipe", "null", "."):
        with record_opens() as opened_paths:
            failure = await rejected(resolver, file_path)
        assert failure.code == INPUT_REJECTED, file_path
        assert opened_paths == []


async def test_a_missing_file_is_not_found(resolver: InputResolver, root: Path) -> None:
    for file_path in ("missing.pdf", str(root / "missing.pdf")):
        failure = await rejected(resolver, file_path)
        assert failure.code == INPUT_NOT_FOUND


async def test_a_symlink_loop_is_rejected(resolver: InputResolver, root: Path) -> None:
    (root / "a").symlink_to(root / "b")
    (root / "b").symlink_to(root / "a")

    assert (await rejected(resolver, "a")).code == INPUT_REJECTED


async def test_without_input_roots_every_path_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    resolver = InputResolver(DocumentSettings(input_roots=()))

    failure = await rejected(resolver, str(tmp_path / "a.pdf"))

    assert failure.code == INPUT_REJECTED
    assert "only uploads" in failure.message


async def test_a_root_given_through_a_symlink_accepts_paths_written_through_it(
    tmp_path: Path,
) -> None:
    real_root = tmp_path / "real"
    real_root.mkdir()
    (real_root / "a.pdf").write_bytes(b"%PDF")
    (tmp_path / "link").symlink_to(real_root)
    resolver = InputResolver(DocumentSettings(input_roots=(str(tmp_path / "link"),)))

    assert (
        await open_path(resolver, str(tmp_path / "link" / "a.pdf"))
        == (real_root / "a.pdf").resolve()
    )


async def test_both_or_neither_source_is_invalid(resolver: InputResolver) -> None:
    for file_path, file_id in (("a.pdf", "id"), ("", "")):
        with pytest.raises(JobFailed) as raised:
            async with resolver.open_input(tenant="t", file_path=file_path, file_id=file_id):
                pass
        assert raised.value.code == INVALID_PARAMETERS


def test_the_open_recorder_sees_opens(tmp_path: Path) -> None:
    path = tmp_path / "seen.pdf"
    path.write_bytes(b"%PDF")

    with record_opens() as opened:
        path.read_bytes()

    assert str(path) in opened
