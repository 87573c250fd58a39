"""Knowledge-base fixtures: the desktop's signed-in clients and article helpers."""

from tests.desktop.conftest import admin_desk, agent_desk, supervisor_desk  # noqa: F401
