"""The API contract checks of tests/web/test_openapi_contract.py (schemathesis: no 5xx,
documented schemas, status codes and content types, invalid requests refused) run on the
outbound webhook routes alone, so they can be run quickly while working on them."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from tests.web.test_openapi_contract import (  # noqa: F401  (fixtures)
    CHECKS,
    MAX_EXAMPLES,
    Seed,
    api_schema,
    node_id_for_schemathesis,
    seed,
)

schema = schemathesis.pytest.from_fixture("api_schema").include(
    path_regex=r"^/api/v1/webhooks")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_webhooks_contract(case: Any, seed: Seed) -> None:  # noqa: F811
    case.call_and_validate(checks=CHECKS)
