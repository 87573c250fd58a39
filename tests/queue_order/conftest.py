"""The desktop's signed-in clients, for the queue's desktop tests."""

from tests.desktop.conftest import agent_desk, supervisor_desk  # noqa: F401
