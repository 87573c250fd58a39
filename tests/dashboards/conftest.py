"""Fixtures of the dashboard tests: the hand-computed shop (helpers.py) in a fresh workspace,
beside a second workspace whose rows must never show."""

from __future__ import annotations

import uuid

import pytest

from tests.dashboards.helpers import Shop, build_shop
from threadline.jobs.runtime import Runtime
from threadline.workspace import service as workspace_service


@pytest.fixture
def other_workspace(runtime: Runtime) -> uuid.UUID:
    with runtime.db.session() as session:
        return workspace_service.create_workspace(session, "Other",
                                                  f"o-{uuid.uuid4().hex[:12]}").id


@pytest.fixture
def shop(runtime: Runtime, workspace_id: uuid.UUID, other_workspace: uuid.UUID) -> Shop:
    return build_shop(runtime, workspace_id, other_workspace)
