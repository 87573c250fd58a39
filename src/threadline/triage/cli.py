"""What ``threadline triage TEXT`` and ``threadline triage --outbound --visibility public TEXT``
print (docs/design.md#triage-output): one JSON object. The command itself lives in the
command-line package (``threadline.cli.triage``); this leaf only computes the object.
"""

from __future__ import annotations

from typing import Any

from threadline.triage.analyze import analyze
from threadline.triage.outbound import check_outbound

VISIBILITIES = ("public", "private")


def triage_command(text: str, outbound: bool = False, visibility: str = "public") -> dict[str, Any]:
    """The JSON object printed by the command: triage fields, plus the verdict for outbound."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    result = analyze(text, visibility=visibility).to_dict()
    if outbound:
        result.update(check_outbound(text, visibility=visibility).to_dict())
    return result
