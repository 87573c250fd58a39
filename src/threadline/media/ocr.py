"""Personal data in images of public posts: text read by Debian's `tesseract` (when it is
installed; without it this step is skipped and says so once in the log), then the same
detector as for text (triage). A photo of a payment card is treated like a card number in
text: the preview is masked and a hop to a private channel is suggested.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from threadline.triage.pii import detect_pii

log = logging.getLogger("threadline.media")
TIMEOUT_SECONDS = 30
MAX_TEXT = 20_000
_DIGIT_GAPS = re.compile(r"(?<=\d)[ .-](?=\d)")


@cache
def tesseract() -> str | None:
    found = shutil.which("tesseract")
    if found is None:
        log.info("tesseract is not installed: images in public posts are not read for "
                 "personal data (apt-get install tesseract-ocr)")
    return found


def read_text(image: bytes) -> str | None:
    """The text tesseract reads in `image` (None: no tesseract, or it failed)."""
    exe = tesseract()
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="tl-ocr-") as folder:
        source = Path(folder) / "image"
        source.write_bytes(image)
        try:
            done = subprocess.run(  # noqa: S603  (a fixed program, a file we wrote)
                [exe, str(source), "stdout"], capture_output=True, timeout=TIMEOUT_SECONDS,
                check=False)
        except (OSError, subprocess.TimeoutExpired):
            log.warning("tesseract did not finish reading an image")
            return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace")[:MAX_TEXT]


def personal_data(image: bytes) -> list[str] | None:
    """The kinds of personal data seen in the image (sorted; [] when none), or None when
    the image could not be read (no tesseract)."""
    text = read_text(image)
    if text is None:
        return None
    # OCR spaces digit groups unevenly ("4111 1111 11111111"): read the digits joined too
    joined = _DIGIT_GAPS.sub("", text)
    return sorted({f.type for f in (*detect_pii(text), *detect_pii(joined))})
