"""Fixtures shared by the platform tests: the loopback S3 server (see s3.py)."""

from tests.platform.s3 import s3_server, s3_storage  # noqa: F401
