"""Live fixtures shared with the room tests (python-socketio clients, an HTTP client)."""

from tests.rooms.conftest import clients, http

__all__ = ["clients", "http"]
