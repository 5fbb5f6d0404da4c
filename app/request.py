"""The Quart request class of the app: the upload body limit of ``app/files/http.py`` plus JSON
bodies read strictly through ``app.inputs.parse_json``."""

from __future__ import annotations

from typing import Any

from app.errors import MalformedJSON, UnsupportedMediaType
from app.files.http import UploadAwareRequest
from app.inputs import parse_json


class SamoohRequest(UploadAwareRequest):
    """The app's request class: the upload body limit (``UploadAwareRequest``) and JSON bodies
    read through ``parse_json``, so every route that reads JSON (quart-schema's
    ``validate_request`` included) answers ``MalformedJSON`` (400) for an unreadable body."""

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The body as JSON, or ``None`` when there is no body not declared JSON (and ``force``
        is false) or, with ``silent``, when it is unreadable.

        Raises:
            MalformedJSON: the body is not JSON we read.
            UnsupportedMediaType: a body came with another content type (``text/plain``…).
        """
        if cache and self._cached_json[silent] is not Ellipsis:
            return self._cached_json[silent]
        if not (force or self.is_json):
            if silent or not await self.get_data(cache=True, as_text=False):
                return None
            raise UnsupportedMediaType(
                "send the body as JSON, with the header Content-Type: application/json",
                details={"content_type": self.mimetype or None},
            )
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
