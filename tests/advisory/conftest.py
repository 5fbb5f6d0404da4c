"""Live fixtures shared with the room tests (an HTTP client of the live web server)."""

from tests.rooms.conftest import http

__all__ = ["http"]
