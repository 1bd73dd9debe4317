"""Embedded images of a PDF page, as files: JPEG and JPEG 2000 streams byte for byte.

pypdf re-encodes JPEG streams when it converts them, so DCTDecode and JPXDecode image
streams are taken from the stream itself (their last filter left undone, which is the
image file that was embedded); every other image becomes the PNG or TIFF pypdf makes of it.
Images are sized from their dictionary before anything is decoded.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pypdf import PageObject
from pypdf.errors import LimitReachedError
from pypdf.generic import DictionaryObject, StreamObject

from jobwire.handlers.failures import too_large
from jobwire.handlers.limits import Limits
from jobwire.server.errors import JobFailed

# Streams whose last filter leaves an image file, with the file's extension and MIME type.
_PASS_THROUGH = {
    "/DCTDecode": (".jpg", "image/jpeg"),
    "/JPXDecode": (".jp2", "image/jp2"),
}
_CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jp2": "image/jp2",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
}


@dataclass(frozen=True, slots=True)
class EmbeddedImage:
    """One image of a page, ready to be stored as an artifact."""

    page: int
    name: str
    """File name, e.g. "page-3-Im1.jpg"."""
    content_type: str
    data: bytes
    sha256: str


@dataclass(frozen=True, slots=True)
class SkippedImage:
    """An image that could not be turned into a file, and why."""

    page: int
    image_id: str
    reason: str


def page_images(
    page: PageObject, number: int, limits: Limits
) -> Iterator[EmbeddedImage | SkippedImage]:
    """Every image drawn on `page` (XObjects, those inside forms, and inline images)."""
    for index, image_id in enumerate(page.images.keys()):
        label = _label(image_id, index)
        try:
            yield _extract(page, image_id, number, label, limits)
        except (MemoryError, LimitReachedError, JobFailed):
            raise
        except Exception as error:  # A broken image stream skips the image, not the page.
            yield SkippedImage(number, label, f"{type(error).__name__}: {error}")


def _extract(
    page: PageObject, image_id: str | list[str], number: int, label: str, limits: Limits
) -> EmbeddedImage:
    xobject = _image_xobject(page, image_id)
    if xobject is not None:
        _check_size(xobject, number, label, limits)
        passed = _pass_through(xobject)
        if passed is not None:
            extension, content_type, data = passed
            return _image(number, label, extension, content_type, data)

    image = page.images[image_id]
    if image.image is not None:
        width, height = image.image.size
        _check_pixels(width, height, number, label, limits)
    extension = "." + image.name.rsplit(".", 1)[-1].lower() if "." in image.name else ".png"
    content_type = _CONTENT_TYPES.get(extension, "application/octet-stream")
    return _image(number, label, extension, content_type, image.data)


def _image(
    number: int, label: str, extension: str, content_type: str, data: bytes
) -> EmbeddedImage:
    return EmbeddedImage(
        page=number,
        name=f"page-{number}-{label}{extension}",
        content_type=content_type,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _label(image_id: str | list[str], index: int) -> str:
    if isinstance(image_id, str) and image_id.startswith("~"):
        return f"inline-{index + 1}"
    parts = [image_id] if isinstance(image_id, str) else list(image_id)
    return "-".join(part.lstrip("/") for part in parts) or f"image-{index + 1}"


def _image_xobject(page: PageObject, image_id: str | list[str]) -> StreamObject | None:
    """The image XObject `image_id` names (a path through forms); None for inline images."""
    if isinstance(image_id, str) and image_id.startswith("~"):
        return None

    path = [image_id] if isinstance(image_id, str) else list(image_id)
    holder: Any = page
    for name in path:
        resources = holder.get("/Resources")
        resources = resources.get_object() if resources is not None else None
        xobjects = resources.get("/XObject") if isinstance(resources, DictionaryObject) else None
        xobjects = xobjects.get_object() if xobjects is not None else None
        if not isinstance(xobjects, DictionaryObject) or name not in xobjects:
            return None
        holder = xobjects[name].get_object()
    return holder if isinstance(holder, StreamObject) else None


def _check_size(xobject: StreamObject, number: int, label: str, limits: Limits) -> None:
    width = xobject.get("/Width")
    height = xobject.get("/Height")
    width = width.get_object() if width is not None else None
    height = height.get_object() if height is not None else None
    if not isinstance(width, int) or not isinstance(height, int) or width < 0 or height < 0:
        raise ValueError(f"image size {width!r} x {height!r} is not a pair of whole numbers")
    _check_pixels(width, height, number, label, limits)


def _check_pixels(width: int, height: int, number: int, label: str, limits: Limits) -> None:
    if width * height > limits.max_image_pixels:
        raise too_large(
            f"image {label} on page {number} has {width} x {height} pixels, more than the "
            f"limit of {limits.max_image_pixels}",
            page=str(number),
        )


def _pass_through(xobject: StreamObject) -> tuple[str, str, bytes] | None:
    filters = xobject.get("/Filter")
    filters = filters.get_object() if filters is not None else None
    last = filters[-1] if isinstance(filters, list) and filters else filters
    if last not in _PASS_THROUGH:
        return None

    extension, content_type = _PASS_THROUGH[str(last)]
    # The last filter of these two is left as it is by pypdf: the result is the file.
    return extension, content_type, xobject.get_data()
