"""moto's S3 server on this machine, for tests: a real HTTP endpoint that boto3 talks to, not a mock of our code.

``start_moto()`` serves on 127.0.0.1 (never every interface) and, with ``port=0``, on a free port chosen by the
system. Several apps (e.g. two app instances in one test) may share one server: buckets are kept in the
process, so each test should make its own with ``make_bucket``.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable

import boto3
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
REGION = "us-east-1"
_buckets = itertools.count(1)


def start_moto(host: str = "127.0.0.1", port: int = 0) -> tuple[str, Callable[[], None]]:
    """Start moto's S3 server in a thread; returns its endpoint URL and a function that stops it."""
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return f"http://{bound_host}:{bound_port}", server.stop


def client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY_ID,
                        aws_secret_access_key=SECRET_ACCESS_KEY)


def make_bucket(endpoint: str, name: str | None = None) -> str:
    """Create a new empty bucket and return its name."""
    name = name or f"kep-photos-{next(_buckets)}"
    client(endpoint).create_bucket(Bucket=name)
    return name


def app_config(endpoint: str, bucket: str, **extra) -> dict:
    """The settings that point the app's photo storage at ``bucket`` on ``endpoint``."""
    return {"S3_BUCKET": bucket, "S3_ENDPOINT_URL": endpoint, "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY_ID, "S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY, **extra}


def object_keys(endpoint: str, bucket: str) -> list[str]:
    listing = client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))
