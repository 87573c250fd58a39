"""Images: safe opening, re-encoding without metadata, thumbnails (Pillow).

Decompression bombs: the pixel cap is ours (`media_max_image_pixels`) and Pillow's warning
above it is an error, so a small file that would decode to gigabytes is refused before
it is decoded. Every JPEG and PNG we store is re-encoded without EXIF (location data,
camera serials; it also breaks most polyglots) after applying its orientation.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, ImageOps, UnidentifiedImageError

THUMB_SIZE = (320, 320)
DEFAULT_MAX_PIXELS = 40_000_000


class BadImage(Exception):
    """Not an image Pillow can open safely (corrupt, too many pixels, not the sniffed type)."""


@contextmanager
def _opened(data: bytes, max_pixels: int) -> Iterator[Image.Image]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > max_pixels:
                raise BadImage(f"the image has more than {max_pixels} pixels")
            image.load()
            yield image
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise BadImage(f"the image has more than {max_pixels} pixels") from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise BadImage("the image cannot be read") from exc
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def clean(data: bytes, mime: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """JPEG and PNG re-encoded upright and without metadata; other images checked only."""
    with _opened(data, max_pixels) as image:
        if mime not in ("image/jpeg", "image/png"):
            return data
        upright = ImageOps.exif_transpose(image) or image
        out = io.BytesIO()
        if mime == "image/jpeg":
            upright.convert("RGB").save(out, format="JPEG", quality=90)
        else:
            mode = "RGBA" if upright.mode in ("RGBA", "LA", "P") else "RGB"
            upright.convert(mode).save(out, format="PNG", optimize=True)
        return out.getvalue()


def thumbnail(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[bytes, int, int]:
    """A JPEG of at most 320×320 and the original's width and height."""
    with _opened(data, max_pixels) as image:
        width, height = image.size
        upright = ImageOps.exif_transpose(image) or image
        small = upright.convert("RGB")
        small.thumbnail(THUMB_SIZE)
        out = io.BytesIO()
        small.save(out, format="JPEG", quality=80)
        return out.getvalue(), width, height
