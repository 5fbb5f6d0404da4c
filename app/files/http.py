"""The upload route's body limit. Quart sizes every request body against ``MAX_CONTENT_LENGTH``
(1 MiB, right for JSON) when the request is created, before any route runs; uploads need
``file_max_bytes`` plus room for the multipart framing, so the request class raises the limit
for the upload path only."""

from __future__ import annotations

from typing import Any, ClassVar

from quart.wrappers import Request

MULTIPART_OVERHEAD = 64 * 1024


class UploadAwareRequest(Request):
    """A Quart request whose body limit is larger for ``POST`` to the registered upload paths."""

    upload_limits: ClassVar[dict[str, int]] = {}

    def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
        limit = self.upload_limits.get(path) if method == "POST" else None
        if limit is not None:
            kwargs["max_content_length"] = limit + MULTIPART_OVERHEAD
        super().__init__(method, scheme, path, *args, **kwargs)
