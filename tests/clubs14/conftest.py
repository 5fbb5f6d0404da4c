"""Fixtures of the issue-14 tests (clubs finished): the clubs tests' live HTTP client."""

from tests.clubs.conftest import api

__all__ = ["api"]
