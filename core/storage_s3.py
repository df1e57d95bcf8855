"""Product photos as objects in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, DigitalOcean Spaces…).

Chosen by ``init_storage`` when ``S3_BUCKET`` is set; behaves like the local folder (same keys, same errors):
an unknown key is FileNotFoundError, a key ``save`` would not make is ValueError, and a store that cannot be
reached or does not answer in time is ``StorageUnavailable`` (an OSError) after a short wait: connect
``CONNECT_TIMEOUT`` s, read ``READ_TIMEOUT`` s, ``MAX_ATTEMPTS`` tries in all, so a slow store never holds a web
worker for long. Objects are written with their content type and the one-year immutable ``CACHE_CONTROL``, so
a bucket or CDN serving them straight (``S3_PUBLIC_BASE_URL``) sends the same headers as our /media route.
"""
from __future__ import annotations

import logging
import mimetypes
from collections.abc import Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.storage_keys import CACHE_CONTROL, StorageUnavailable, check_key, new_key

CONNECT_TIMEOUT = 3
READ_TIMEOUT = 10
MAX_ATTEMPTS = 2  # the first try and one retry
_MISSING = {"NoSuchKey", "404", "NotFound"}
# S3 answers a missing key with 403 AccessDenied when the credentials may not list the bucket (a common
# least-privilege policy): for a read, that is a photo that is not there, not an outage. (Wrong credentials
# answer the same, so every read then says "missing"; the log line below tells which.)
_DENIED = {"AccessDenied", "403"}


class S3PhotoStorage:
    """Stores each photo as the object ``key`` of ``bucket``.

    The boto3 client is made once and shared by the threads of a worker (boto3 clients are thread-safe); it
    opens no connection until the first request, so an app created before a fork shares no socket.
    """

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 public_base_url: str | None = None, connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.bucket = bucket
        self.public_base_url = (public_base_url or "").rstrip("/") or None
        config = Config(
            connect_timeout=connect_timeout, read_timeout=read_timeout,
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            # Most S3-compatible stores at their own address want path-style URLs and no default checksums.
            s3={"addressing_style": "path"} if endpoint_url else None,
            request_checksum_calculation="when_required", response_checksum_validation="when_required",
        )
        # Without keys, boto3 looks in its usual places (AWS_* variables, ~/.aws, an instance role).
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None,
            config=config)

    @classmethod
    def from_config(cls, config: Mapping) -> S3PhotoStorage:
        return cls(config["S3_BUCKET"], endpoint_url=config.get("S3_ENDPOINT_URL"), region=config.get("S3_REGION"),
                   access_key_id=config.get("S3_ACCESS_KEY_ID"),
                   secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
                   public_base_url=config.get("S3_PUBLIC_BASE_URL"))

    def save(self, data: bytes, ext: str = "webp") -> str:
        key = new_key(ext)
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                                   CacheControl=CACHE_CONTROL)
        except (BotoCoreError, ClientError) as error:
            raise StorageUnavailable(f"could not store {key} in bucket {self.bucket}: {error}") from error
        return key

    def open(self, key: str) -> bytes:
        check_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            return response["Body"].read()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in _MISSING:
                raise FileNotFoundError(key) from error
            if code in _DENIED:
                logging.getLogger(__name__).warning("S3 denied reading %s from %s (missing, or credentials "
                                                    "without s3:GetObject): answered as not found", key, self.bucket)
                raise FileNotFoundError(key) from error
            raise StorageUnavailable(f"could not read {key} from bucket {self.bucket}: {error}") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"could not read {key} from bucket {self.bucket}: {error}") from error

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)  # S3 answers 204 for a missing key too
        except (BotoCoreError, ClientError) as error:
            raise StorageUnavailable(f"could not delete {key} from bucket {self.bucket}: {error}") from error

    def url_path(self, key: str) -> str:
        return check_key(key)

    def public_url(self, key: str) -> str | None:
        check_key(key)
        return f"{self.public_base_url}/{key}" if self.public_base_url else None
