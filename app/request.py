"""The Quart request class of the app: the upload body limit of ``app/files/http.py`` plus JSON
bodies read strictly through ``app.inputs.parse_json``."""

from __future__ import annotations

from typing import Any

from app.errors import MalformedJSON
from app.files.http import UploadAwareRequest
from app.inputs import parse_json


class SamoohRequest(UploadAwareRequest):
    """The app's request class: the upload body limit (``UploadAwareRequest``) and JSON bodies
    read through ``parse_json``, so every route that reads JSON (quart-schema's
    ``validate_request`` included) answers ``MalformedJSON`` (400) for an unreadable body."""

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The body as JSON, or ``None`` when it is not declared JSON (and ``force`` is false)
        or, with ``silent``, when it is malformed. Raises ``MalformedJSON`` otherwise."""
        if cache and self._cached_json[silent] is not Ellipsis:
            return self._cached_json[silent]
        if not (force or self.is_json):
            return None
        raw = await self.get_data(cache=cache, as_text=False)
        assert isinstance(raw, bytes)
        try:
            result = parse_json(raw)
        except MalformedJSON:
            if not silent:
                raise
            result = None
        if cache:
            self._cached_json[silent] = result
        return result
