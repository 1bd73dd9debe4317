"""Decompression-bomb checks for PDFium, which has no output limits of its own.

PDFium inflates whatever a page asks for and aborts its process when memory runs out.
Before PDFium reads a page, the streams it will inflate (content streams, form XObjects,
embedded fonts) are decoded once by pypdf, whose limits (see limits.py) raise
LimitReachedError instead; images are checked against the pixel limit by their size.
Reading text needs none of this when flate_scan.py vouched for the whole file.
"""

from typing import Any

from pypdf import PageObject
from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

from jobwire.handlers.failures import too_large
from jobwire.handlers.limits import Limits

# Form XObjects nested deeper than this are not followed (PDFium draws them anyway).
_MAX_DEPTH = 12
_FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")


def audit_page(page: PageObject, number: int, limits: Limits, *, images: bool) -> None:
    """Decodes the streams PDFium would decode for `page`; raises on a limit.

    With `images` (the page is to be rendered), images are checked against the pixel limit.
    """
    _Audit(number, limits, images).resources_and_contents(page, depth=0)


class _Audit:
    def __init__(self, number: int, limits: Limits, images: bool) -> None:
        self.number = number
        self.limits = limits
        self.images = images
        self.seen: set[int] = set()

    def resources_and_contents(self, holder: DictionaryObject, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        for content in _items(holder.get("/Contents")):
            self.decode(content)
        resources = _resolve(holder.get("/Resources"))
        if not isinstance(resources, DictionaryObject):
            return
        for font in _values(resources.get("/Font")):
            self.font(font, depth)
        for xobject in _values(resources.get("/XObject")):
            self.xobject(xobject, depth)

    def xobject(self, xobject: Any, depth: int) -> None:
        if not isinstance(xobject, StreamObject) or self.visited(xobject):
            return
        if xobject.get("/Subtype") == "/Image":
            if not self.images:
                return
            self.image_size(xobject)
            return
        self.decode(xobject)
        self.resources_and_contents(xobject, depth + 1)

    def image_size(self, image: StreamObject) -> None:
        width, height = _resolve(image.get("/Width")), _resolve(image.get("/Height"))
        if not isinstance(width, int) or not isinstance(height, int):
            return
        if width * height > self.limits.max_image_pixels:
            raise too_large(
                f"an image on page {self.number} has {width} x {height} pixels, more "
                f"than the limit of {self.limits.max_image_pixels}",
                page=str(self.number),
            )

    def font(self, font: Any, depth: int) -> None:
        if not isinstance(font, DictionaryObject) or self.visited(font) or depth > _MAX_DEPTH:
            return
        descriptor = _resolve(font.get("/FontDescriptor"))
        if isinstance(descriptor, DictionaryObject):
            for key in _FONT_FILES:
                self.decode(descriptor.get(key))
        self.decode(font.get("/ToUnicode"))
        for descendant in _items(font.get("/DescendantFonts")):
            self.font(descendant, depth + 1)
        # Type 3 glyphs are content streams of their own.
        for glyph in _values(font.get("/CharProcs")):
            self.decode(glyph)

    def decode(self, value: Any) -> None:
        stream = _resolve(value)
        if isinstance(stream, StreamObject) and not self.visited(stream):
            stream.get_data()

    def visited(self, value: Any) -> bool:
        key = id(value)
        if key in self.seen:
            return True
        self.seen.add(key)
        return False


def _resolve(value: Any) -> Any:
    return value.get_object() if value is not None and hasattr(value, "get_object") else value


def _items(value: Any) -> list[Any]:
    value = _resolve(value)
    if isinstance(value, ArrayObject | list):
        return [_resolve(item) for item in value]
    return [] if value is None else [value]


def _values(value: Any) -> list[Any]:
    value = _resolve(value)
    if not isinstance(value, DictionaryObject):
        return []
    return [_resolve(item) for item in value.values()]
