"""The desktop's signed-in clients, for the quality pages and browser tests."""

from tests.desktop.conftest import admin_desk, agent_desk, supervisor_desk  # noqa: F401
