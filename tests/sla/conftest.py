"""The desktop's signed-in clients, for the settings page tests."""

from tests.desktop.conftest import admin_desk, agent_desk, supervisor_desk  # noqa: F401
