"""Object storage for images: S3 (boto3) when configured, a directory store otherwise.

Both implement :class:`ObjectStore`. Keys are relative, slash-separated names such as
``items/<id>/primary.jpg``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

from yaffw.errors import BadInput, NotFound
from yaffw.settings import Settings


class ObjectStore(Protocol):
    """Where images live."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (overwriting)."""

    def get(self, key: str) -> bytes:
        """The object's bytes. :raises NotFound: if absent."""

    def delete(self, key: str) -> None:
        """Remove the object; absent is fine."""

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix`` (a folder: it ends with ``/``);
        returns how many there were."""

    def presigned_url(self, key: str, expires: int = 300) -> str | None:
        """A URL the client may fetch directly, or None when the store has none (directory)."""


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise BadInput(f"bad object key {key!r}")
    return key


def _check_prefix(prefix: str) -> str:
    # A whole folder only: a bare "" or "items" would reach other objects.
    if not prefix.endswith("/"):
        raise BadInput(f"bad object prefix {prefix!r}")
    _check_key(prefix[:-1])
    return prefix


class DirStore:
    """Objects as files under one directory (local development without S3)."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half an image.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"object {key} not found") from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        folder = self.root / _check_prefix(prefix)
        count = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
        shutil.rmtree(folder, ignore_errors=True)
        return count

    def presigned_url(self, key: str, expires: int = 300) -> str | None:
        return None


class S3Store:
    """Objects in an S3-compatible bucket (MinIO, AWS, moto's server in tests)."""

    def __init__(self, settings: Settings):
        import boto3
        from botocore.config import Config

        self.bucket = settings.s3_bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
            region_name=settings.s3_region,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
        )

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (local stacks and tests)."""
        existing = {b["Name"] for b in self.client.list_buckets().get("Buckets", [])}
        if self.bucket not in existing:
            self.client.create_bucket(Bucket=self.bucket)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=_check_key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=_check_key(key))["Body"].read()
            return body
        except self.client.exceptions.NoSuchKey as exc:
            raise NotFound(f"object {key} not found") from exc

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_check_key(key))

    def delete_prefix(self, prefix: str) -> int:
        # Listed a page (up to 1,000 keys) at a time and deleted in one request per page.
        count = 0
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=_check_prefix(prefix))
        for page in pages:
            objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objects:
                answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
                if answer.get("Errors"):  # Quiet: only the failures are listed
                    first = answer["Errors"][0]
                    raise OSError(f"cannot delete {first.get('Key')}: {first.get('Code')} {first.get('Message')}")
                count += len(objects)
        return count

    def presigned_url(self, key: str, expires: int = 300) -> str | None:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": _check_key(key)}, ExpiresIn=expires
        )
        return url


def from_settings(settings: Settings) -> ObjectStore:
    """S3 when ``S3_ENDPOINT_URL`` is set, else a directory store under ``YAFFW_IMAGE_DIR``."""
    if settings.s3_enabled:
        return S3Store(settings)
    return DirStore(settings.image_dir or settings.state_dir / "images")
