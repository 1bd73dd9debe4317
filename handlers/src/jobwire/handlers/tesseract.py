"""Tesseract, called as a program: installed languages, and one image to text.

The `tesseract` command line is used directly rather than through pytesseract: one call
reads the image from stdin and writes TSV to stdout (no temporary files), the words' TSV
gives both the text and the per-word confidence, the call is bounded by a timeout, and the
child is killed with the pool process that started it (so a job killed at its deadline
leaves no Tesseract behind).
"""

import ctypes
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from jobwire.handlers.failures import corrupt
from jobwire.server.errors import (
    HANDLER_ERROR,
    INVALID_PARAMETERS,
    TIMEOUT,
    InvalidParameters,
    JobFailed,
)

BINARY = "tesseract"
DEFAULT_LANGUAGE = "eng"
# Seconds a language listing is trusted before Tesseract is asked again.
_LANGUAGES_TTL = 60.0
_LANGUAGE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:/[A-Za-z][A-Za-z0-9_]*)?$")
_WORD_LEVEL = "5"
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class Recognized:
    """Text Tesseract read from one image."""

    text: str
    """Lines separated by "\\n", paragraphs by an empty line."""
    confidence: float
    """Mean word confidence from 0 to 100; 0 when no word was found."""
    cpu_seconds: float
    """CPU time the Tesseract process used."""


def recognize(image: bytes, language: str, *, timeout: float) -> Recognized:
    """Reads `image` (PNG, JPEG, TIFF or PNM bytes) with Tesseract; blocking, for the pool."""
    command = [_binary(), "stdin", "stdout", "-l", language, "tsv"]
    # One thread per Tesseract: the pool already runs one process per core.
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        completed = subprocess.run(
            command,
            input=image,
            capture_output=True,
            timeout=max(timeout, 0.001),
            env=environment,
            preexec_fn=_die_with_parent(),
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise JobFailed(f"Tesseract did not finish within {timeout:.0f} s", code=TIMEOUT) from error
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    if completed.returncode != 0:
        raise _failure(language, completed.stderr.decode("utf-8", "replace"))
    text, confidence = parse_tsv(completed.stdout.decode("utf-8", "replace"))
    return Recognized(text=text, confidence=confidence, cpu_seconds=cpu_seconds)


def parse_tsv(tsv: str) -> tuple[str, float]:
    """Text and mean word confidence from Tesseract's TSV output."""
    lines: dict[tuple[str, ...], list[str]] = {}
    confidences: list[float] = []
    for row in tsv.splitlines()[1:]:
        columns = row.split("\t")
        if len(columns) < 12 or columns[0] != _WORD_LEVEL or not columns[11].strip():
            continue
        lines.setdefault(tuple(columns[1:5]), []).append(columns[11].strip())
        confidence = float(columns[10])
        if confidence >= 0:
            confidences.append(confidence)

    text: list[str] = []
    previous_paragraph: tuple[str, ...] | None = None
    for key, words in lines.items():
        paragraph = key[:3]
        if previous_paragraph is not None and paragraph != previous_paragraph:
            text.append("")
        text.append(" ".join(words))
        previous_paragraph = paragraph

    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return "\n".join(text), round(mean, 2)


def _failure(language: str, stderr: str) -> JobFailed:
    if "Failed loading language" in stderr or "Error opening data file" in stderr:
        return JobFailed(
            f"Tesseract has no language data for {language!r} on this server",
            code=INVALID_PARAMETERS,
            details={"field": "language"},
        )
    last_line = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
    return corrupt(f"Tesseract could not read the image: {last_line}")


def _binary() -> str:
    found = shutil.which(BINARY)
    if found is None:
        raise JobFailed(f"{BINARY} is not installed on this server", code=HANDLER_ERROR)
    return found


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a pre-exec hook that has the kernel kill Tesseract when its parent dies."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return hook


_languages_lock = threading.Lock()
_languages_cache: tuple[float, frozenset[str]] | None = None


def installed_languages() -> frozenset[str] | None:
    """The languages Tesseract has data for; None when Tesseract is not installed."""
    global _languages_cache
    with _languages_lock:
        now = time.monotonic()
        if _languages_cache is not None and now - _languages_cache[0] < _LANGUAGES_TTL:
            return _languages_cache[1]
        binary = shutil.which(BINARY)
        if binary is None:
            return None
        listing = subprocess.run(
            [binary, "--list-langs"], capture_output=True, timeout=30, check=False
        )
        output = (listing.stdout or listing.stderr).decode("utf-8", "replace").splitlines()
        languages = frozenset(line.strip() for line in output[1:] if line.strip())
        _languages_cache = (now, languages)
        return languages


def check_language(language: str, *, field: str) -> None:
    """Refuses a malformed language string, or one Tesseract has no data for.

    "eng", "deu" and "eng+deu" are well-formed. Where Tesseract is not installed only the
    form is checked: the job then fails when it runs.
    """
    parts = language.split("+")
    for part in parts:
        if not _LANGUAGE.match(part):
            raise InvalidParameters(
                field, f"{language!r} is not a Tesseract language such as 'eng' or 'eng+deu'"
            )

    installed = installed_languages()
    if installed is None:
        return
    missing = [part for part in parts if part not in installed]
    if missing:
        raise InvalidParameters(
            field,
            f"no Tesseract data for {', '.join(missing)} on this server "
            f"(installed: {', '.join(sorted(installed - {'osd'})) or 'none'})",
        )


def require_language(language: str) -> None:
    """`check_language` for a job about to run: fails it with a stable code."""
    try:
        check_language(language, field="language")
    except InvalidParameters as error:
        raise JobFailed(
            str(error), code=INVALID_PARAMETERS, details={"field": "language"}
        ) from error
    if installed_languages() is None:
        raise JobFailed(f"{BINARY} is not installed on this server", code=HANDLER_ERROR)
