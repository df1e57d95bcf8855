"""Fixtures for the core tests: moto's S3 server, started once per run when a test asks for it."""
from __future__ import annotations

import pytest

from tests import s3_server


@pytest.fixture(scope="session")
def s3_endpoint():
    """The URL of moto's S3 server on 127.0.0.1 (a free port), stopped at the end of the run."""
    endpoint, stop = s3_server.start_moto()
    yield endpoint
    stop()


@pytest.fixture
def s3_bucket(s3_endpoint) -> str:
    """A new, empty bucket for this test."""
    return s3_server.make_bucket(s3_endpoint)
