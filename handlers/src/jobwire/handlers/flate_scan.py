"""A whole-file decompression-bomb check from a PDF's raw bytes, without parsing it.

Before PDFium reads text from a PDF, whatever PDFium may inflate must stay within the
stream limit (see stream_audit.py). Finding those streams by parsing the PDF with pypdf
costs a fifth of PDFium's own time; this check costs a pass of regular expressions and
zlib over the file instead. Wherever the keyword `stream` starts data that zlib can
inflate (PDFium's FlateDecode is zlib), it is inflated, counting what comes out and
keeping none of it, whether or not anything refers to it.

It vouches only for files that leave zlib nothing to miss, and answers "cannot tell"
when, outside the inflated data:
- the file is encrypted (its streams are ciphertext here);
- a filter other than one FlateDecode or image codecs is declared, or one is declared
  by reference, so that a stream may expand in a way zlib does not show;
- `Filter`, `Encrypt` or `ObjStm` is spelled with `#` escapes, which this check would
  not see otherwise;
or when an object stream holds a stream of its own, or the file has too many streams or
too much data to inflate for this check to stay cheap. The caller then audits page by
page with pypdf.
"""

import mmap
import re
import zlib
from collections.abc import Iterator

from jobwire.handlers.failures import too_large
from jobwire.handlers.limits import Limits

# What this check reads at most before it leaves a file to the page audit: bytes of zlib
# data, what they inflate to, and `stream` keywords (each one costs an attempt to inflate).
MAX_SCANNED_BYTES = 16 * 1024 * 1024
MAX_INFLATED_BYTES = 256 * 1024 * 1024
MAX_STREAMS = 100_000
# Most streams are small: input is handed to zlib in growing pieces.
_FIRST_STEP = 1024
_LAST_STEP = 256 * 1024
_OUTPUT_STEP = 1024 * 1024

_KEYWORD = b"stream"
_LINE_END = re.compile(rb"\r\n|\n|\r")
_OBJECT_STREAM = re.compile(rb"/ObjStm")
_ENCRYPT = re.compile(rb"/Encrypt\b")
_ESCAPED_NAME = re.compile(rb"/([^\s()<>\[\]{}/%]*#[0-9A-Fa-f]{2}[^\s()<>\[\]{}/%]*)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_WATCHED_NAMES = {b"Filter", b"Encrypt", b"ObjStm"}
_FILTER = re.compile(rb"/Filter\s*(/[A-Za-z0-9]+|\[(?:\s*/[A-Za-z0-9]+)*\s*\])?")
_NAME = re.compile(rb"/([A-Za-z0-9]+)")
_IMAGE_CODECS = {b"DCTDecode", b"JPXDecode", b"CCITTFaxDecode", b"JBIG2Decode"}
_FLATE = b"FlateDecode"


def vouch_for_streams(path: str, limits: Limits) -> bool:
    """True when all zlib data of the PDF at `path` stays within the stream limit and
    nothing else could expand; False when this check cannot tell. Raises INPUT_TOO_LARGE
    for data beyond the limit."""
    with open(path, "rb") as file:
        try:
            data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # An empty file: PDFium refuses it as corrupt.
            return True
    with data:
        return _Scan(data, limits).vouch()


class _Scan:
    def __init__(self, data: mmap.mmap, limits: Limits) -> None:
        self.data = data
        self.limits = limits
        self.scanned = 0
        self.inflated = 0

    def vouch(self) -> bool:
        inflated: list[tuple[int, int]] = []
        previous = 0
        for count, keyword_end in enumerate(_keywords(self.data)):
            if count == MAX_STREAMS:
                return False
            line_end = _LINE_END.search(self.data, keyword_end)
            start = line_end.end() if line_end else len(self.data)
            # Whatever lies since the previous keyword holds this stream's dictionary.
            holds_objects = _OBJECT_STREAM.search(self.data, previous, keyword_end) is not None
            previous = keyword_end
            length = self._inflate(start, holds_objects)
            if length is None:
                return False
            if length:
                inflated.append((start, start + length))
        return all(_plain(self.data, start, end) for start, end in _gaps(inflated, len(self.data)))

    def _inflate(self, start: int, holds_objects: bool) -> int | None:
        """Bytes of zlib data at `start` (0 when there is none); None when this check
        cannot tell. Raises INPUT_TOO_LARGE when the data inflates beyond the limit.

        The objects of an object stream must not include a stream of their own.
        """
        stream = zlib.decompressobj()
        produced, position, step, tail = 0, start, _FIRST_STEP, b""
        while not stream.eof and position < len(self.data):
            piece = self.data[position : position + step]
            position += len(piece)
            step = min(2 * step, _LAST_STEP)
            if self.scanned + position - start > MAX_SCANNED_BYTES:
                return None
            try:
                output = stream.decompress(piece, _OUTPUT_STEP)
                while True:
                    produced += len(output)
                    self.inflated += len(output)
                    if produced > self.limits.max_stream_bytes:
                        limit = self.limits.max_stream_bytes
                        raise too_large(
                            f"a stream inflates beyond the safety limit of {limit} bytes"
                        )
                    if self.inflated > MAX_INFLATED_BYTES:
                        return None
                    if holds_objects and any(_keywords(tail + output)):
                        return None
                    tail = output[-len(_KEYWORD) :] if output else tail
                    if stream.eof or not stream.unconsumed_tail:
                        break
                    output = stream.decompress(stream.unconsumed_tail, _OUTPUT_STEP)
            except zlib.error:
                return 0
        length = position - start - len(stream.unused_data) - len(stream.unconsumed_tail)
        self.scanned += length
        return length if stream.eof else 0


def _keywords(data: mmap.mmap | bytes) -> Iterator[int]:
    """Where each `stream` keyword ends, but those ending an `endstream`."""
    position = data.find(_KEYWORD)
    while position >= 0:
        if data[max(position - 3, 0) : position] != b"end":
            yield position + len(_KEYWORD)
        position = data.find(_KEYWORD, position + len(_KEYWORD))


def _gaps(spans: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """The parts of [0, size) that no span covers."""
    gaps, covered = [], 0
    for start, end in sorted(spans):
        if start > covered:
            gaps.append((covered, start))
        covered = max(covered, end)
    gaps.append((covered, size))
    return gaps


def _plain(data: mmap.mmap, start: int, end: int) -> bool:
    """Whether data[start:end], outside the inflated data, declares nothing that zlib
    cannot account for."""
    if _ENCRYPT.search(data, start, end):
        return False
    escaped = _ESCAPED_NAME.finditer(data, start, end)
    if any(_unescaped(name.group(1)) in _WATCHED_NAMES for name in escaped):
        return False
    for declared in _FILTER.finditer(data, start, end):
        names = _NAME.findall(declared.group(1) or b"")
        if not names or names.count(_FLATE) > 1:
            return False
        if any(name != _FLATE and name not in _IMAGE_CODECS for name in names):
            return False
    return True


def _unescaped(name: bytes) -> bytes:
    return _ESCAPE.sub(lambda code: bytes.fromhex(code.group(1).decode()), name)
