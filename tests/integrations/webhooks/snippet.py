"""The verification snippet of docs/integrations.md, loaded from the document itself (so the
tests check what customers copy)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[3] / "docs" / "integrations.md"


def documented_verify() -> Callable[..., bool]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Outbound webhooks"):]
    match = re.search(r"```python\n(.*?def verify_webhook.*?)```", section, re.S)
    assert match, "the verification snippet is in docs/integrations.md"
    scope: dict[str, Any] = {}
    exec(compile(match.group(1), str(DOC), "exec"), scope)
    fn: Callable[..., bool] = scope["verify_webhook"]
    return fn
