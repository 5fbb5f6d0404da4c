"""Content-addressed storage: the local folder, and the S3 adapter against moto's S3 server
(a local implementation of the S3 REST API: SigV4, PutObject with ChecksumSHA256,
HeadObject, GetObject) — S3 itself is an external system."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.files.storage import BlobMissing, FileStorage, LocalStorage, S3Storage
from tests.conftest import free_port
from tests.files.samples import pdf, png


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


async def _contract(storage: FileStorage) -> None:
    data = pdf("stored once")
    key = hashlib.sha256(data).hexdigest()
    assert not await storage.exists(key)
    with pytest.raises(BlobMissing):
        await storage.get(key)
    await storage.put(key, data, "application/pdf")
    await storage.put(key, data, "application/pdf")  # idempotent
    assert await storage.exists(key)
    assert await storage.get(key) == data
    with pytest.raises(ValueError, match="not a content key"):
        await storage.get("../../etc/passwd")


async def test_local_storage(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    await _contract(storage)
    data = png()
    key = hashlib.sha256(data).hexdigest()
    await storage.put(key, data, "image/png")
    assert storage.path_of(key) == tmp_path / key[:2] / key[2:4] / key
    assert not list(tmp_path.rglob(".incoming-*"))  # no temporary file left behind


async def test_s3_storage(s3_endpoint: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=s3_endpoint, region_name="ap-south-1",
                 aws_access_key_id="test", aws_secret_access_key="test").create_bucket(
        Bucket="samooh-files",
        CreateBucketConfiguration={"LocationConstraint": "ap-south-1"},
    )  # fmt: skip
    storage = S3Storage(
        bucket="samooh-files",
        region="ap-south-1",
        endpoint_url=s3_endpoint,
        access_key_id="test",
        secret_access_key="test",
        prefix="files/",
    )
    await _contract(storage)
    data = png(seed=7)
    key = hashlib.sha256(data).hexdigest()
    await storage.put(key, data, "image/png")
    head = boto3.client("s3", endpoint_url=s3_endpoint, region_name="ap-south-1",
                        aws_access_key_id="test", aws_secret_access_key="test").head_object(
        Bucket="samooh-files", Key=f"files/{key}")  # fmt: skip
    assert head["ContentType"] == "image/png" and head["ContentLength"] == len(data)
