"""``threadline triage`` prints exactly one JSON object (docs/design.md#triage-output)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from threadline.cli import app
from threadline.triage.cli import triage_command

runner = CliRunner()


def test_inbound_json() -> None:
    result = runner.invoke(
        app, ["triage", "@AcmeAir my card 4111 1111 1111 1111 got charged twice"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"relevance", "category", "public_ok", "sentiment", "urgency", "language", "pii"} <= set(
        data
    )
    assert data["pii"][0]["type"] == "CREDIT_CARD"
    assert "blocked" not in data


def test_outbound_public_is_blocked() -> None:
    result = runner.invoke(
        app, ["triage", "--outbound", "--visibility", "public", "Reply with your date of birth"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["blocked"] is True
    assert data["reasons"][0]["pii_type"] == "DATE_OF_BIRTH"


def test_outbound_private_is_allowed() -> None:
    result = runner.invoke(
        app, ["triage", "--outbound", "--visibility", "private", "Reply with your date of birth"]
    )
    assert json.loads(result.output)["blocked"] is False


def test_bad_visibility_is_a_usage_error() -> None:
    result = runner.invoke(app, ["triage", "--visibility", "secret", "hello"])
    assert result.exit_code != 0


def test_triage_command_function() -> None:
    data = triage_command("DM us your booking reference", outbound=True, visibility="public")
    assert data["blocked"] is False
