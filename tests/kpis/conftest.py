"""The command line and the desktop's signed-in clients, for the KPI tests."""

from tests.cli.conftest import cli, ws  # noqa: F401
from tests.desktop.conftest import admin_desk, agent_desk, supervisor_desk  # noqa: F401
