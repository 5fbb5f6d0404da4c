"""Where file bytes live, keyed by their SHA-256 (hex): ``LocalStorage`` (a folder, default)
or ``S3Storage`` (any S3-compatible bucket through aiobotocore). Both behind ``FileStorage``;
content addressing makes a put idempotent and a stored blob immutable."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from app.config import Settings

_KEY = re.compile(r"^[0-9a-f]{64}$")


def _check_key(key: str) -> str:
    # Keys are SHA-256 hex only: nothing a client sends can name a path or an object key.
    if not _KEY.match(key):
        raise ValueError(f"not a content key: {key!r}")
    return key


class BlobMissing(LookupError):
    """The storage has no blob under that key."""


class FileStorage(Protocol):
    """Content-addressed blob storage."""

    name: str

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (its SHA-256 hex); a second put of a key is a no-op."""
        ...  # pragma: no cover - protocol

    async def get(self, key: str) -> bytes:
        """The bytes under ``key``. Raises ``BlobMissing``."""
        ...  # pragma: no cover - protocol

    async def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""
        ...  # pragma: no cover - protocol


class LocalStorage:
    """Blobs as files ``<root>/<k[0:2]>/<k[2:4]>/<key>``, written to a temporary file in the
    same folder, fsynced and renamed into place (a reader never sees half a file). Disk work
    runs in a thread."""

    name = "local"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_of(self, key: str) -> Path:
        """The file a key is stored in."""
        _check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def _put(self, key: str, data: bytes) -> None:
        target = self.path_of(key)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o640)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._put, key, data)

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self.path_of(key).read_bytes)
        except FileNotFoundError as exc:
            raise BlobMissing(key) from exc

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_of(key).is_file)


class S3Storage:
    """Blobs as objects ``<prefix><key>`` in an S3 bucket (AWS S3 API: PutObject with
    ``ChecksumSHA256`` so the service verifies the bytes it received, GetObject, HeadObject).
    ``endpoint_url`` points at MinIO, R2, Ceph… (path-style addressing); empty means AWS.
    A client is opened per call inside the running loop (processes and loops never share one).
    """

    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        region: str,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "",
    ) -> None:
        self.bucket = bucket
        self.region = region
        self.endpoint_url = endpoint_url or None
        self.access_key_id = access_key_id or None
        self.secret_access_key = secret_access_key or None
        self.prefix = prefix

    def object_key(self, key: str) -> str:
        """The object key a content key is stored under."""
        return f"{self.prefix}{_check_key(key)}"

    def _client(self) -> Any:
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        config = AioConfig(
            s3={"addressing_style": "path"} if self.endpoint_url else {},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        )
        return get_session().create_client(
            "s3", region_name=self.region, endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
            config=config,
        )  # fmt: skip

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        if await self.exists(key):
            return
        checksum = base64.b64encode(bytes.fromhex(key)).decode()
        async with self._client() as client:
            await client.put_object(
                Bucket=self.bucket, Key=self.object_key(key), Body=data,
                ContentType=content_type, ChecksumSHA256=checksum,
            )  # fmt: skip

    async def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        async with self._client() as client:
            try:
                response = await client.get_object(Bucket=self.bucket, Key=self.object_key(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    raise BlobMissing(key) from exc
                raise
            async with response["Body"] as stream:
                return bytes(await stream.read())

    async def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        async with self._client() as client:
            try:
                await client.head_object(Bucket=self.bucket, Key=self.object_key(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
        return True


def storage_for(settings: Settings) -> FileStorage:
    """The storage ``settings.file_storage`` names."""
    if settings.file_storage == "s3":
        return S3Storage(
            bucket=settings.s3_bucket, region=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url, access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key.get_secret_value(),
            prefix=settings.s3_prefix,
        )  # fmt: skip
    return LocalStorage(settings.files_dir)
