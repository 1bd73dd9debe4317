"""Limits that keep hostile input from exhausting a worker, and how handlers find them.

`Limits` travels with every call into the process pool; `pypdf_limits()` applies pypdf's
own resource limits (its `Configuration`, see pypdf's security documentation) around the
work of one call.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pypdf
from PIL import Image

from jobwire.server.config import DocumentSettings
from jobwire.server.context import JobContext

# pypdf's default for its decompression and stream limits (75 MB); kept here, in one place.
MAX_STREAM_BYTES = 75_000_000


@dataclass(frozen=True, slots=True)
class Limits:
    """What one document may cost; plain data, so it can cross into the process pool."""

    max_pages: int = DocumentSettings.max_pages
    """Pages a PDF (or frames a TIFF) may have; more fail with INPUT_TOO_LARGE."""
    max_image_pixels: int = DocumentSettings.max_image_pixels
    """Pixels an embedded or input image may have; more fail with INPUT_TOO_LARGE."""
    max_stream_bytes: int = MAX_STREAM_BYTES
    """Bytes one PDF stream may decompress to; more fail with INPUT_TOO_LARGE."""

    @classmethod
    def from_settings(cls, settings: DocumentSettings) -> "Limits":
        return cls(max_pages=settings.max_pages, max_image_pixels=settings.max_image_pixels)


def document_settings(ctx: JobContext[Any]) -> DocumentSettings:
    """The server's DocumentSettings, as the job context carries them."""
    return ctx.settings.documents


@contextmanager
def pypdf_limits(limits: Limits) -> Iterator[None]:
    """Applies `limits` to pypdf (and Pillow, which decodes images for it) inside the block."""
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    with pypdf.apply_configuration(
        zlib_maximum_output_length=limits.max_stream_bytes,
        lzw_maximum_output_length=limits.max_stream_bytes,
        run_length_maximum_output_length=limits.max_stream_bytes,
        brotli_maximum_output_length=limits.max_stream_bytes,
        jbig2_maximum_output_length=limits.max_stream_bytes,
        maximum_declared_stream_length=limits.max_stream_bytes,
        array_based_stream_maximum_output_length=limits.max_stream_bytes,
        image_maximum_buffer_size=limits.max_stream_bytes,
        # Hostile JBIG2 data is not handed to an external program.
        jbig2dec_binary=None,
        disable_legacy_handling=True,
    ):
        yield
