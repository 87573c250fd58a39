"""Sample files made on the spot (no binary fixtures): real JPEG/PNG/PDF/MP4 headers."""

from __future__ import annotations

import io

from PIL import Image


def jpeg(width: int = 64, height: int = 48, *, exif_gps: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x0110] = "SpyCam 3000"  # Model
        exif[0x0112] = 6  # Orientation: rotate
        image.save(out, format="JPEG", exif=exif.tobytes())
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


def png(width: int = 32, height: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 0, 255)).save(out, format="PNG")
    return out.getvalue()


def pdf(text: str = "invoice 4411") -> bytes:
    body = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
            b"% " + text.encode() + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    return body


def mp4(size: int) -> bytes:
    """An ISO-BMFF header (ftyp isom) padded to `size` bytes: sniffed as video/mp4."""
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    return head + b"\x00" * (size - len(head))


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200 + \
    b"This program cannot be run in DOS mode."
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)' \
      b"</script></svg>"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def bomb_png() -> bytes:
    """A small PNG that claims 10000×10000 pixels (100 M): refused before decoding."""
    out = io.BytesIO()
    Image.new("1", (10000, 10000)).save(out, format="PNG", optimize=True)
    return out.getvalue()
