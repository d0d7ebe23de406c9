"""An S3 server on loopback for storage tests: moto in server mode, spoken to over real HTTP.

``s3_server`` starts one server per test process. ``s3_storage`` creates a fresh private
bucket and switches Django's default storage to django-storages' S3 backend for one test.
"""

from __future__ import annotations

import logging
import secrets
import socket
from dataclasses import dataclass

import pytest

from tests.conftest import require

ACCESS_KEY = "arena-test-access-key"
SECRET_KEY = "arena-test-secret-key"
REGION = "us-east-1"
#: Objects above this size go up as multipart uploads through boto3's managed transfer.
MULTIPART_THRESHOLD = 5 * 1024 * 1024


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


@dataclass(frozen=True)
class S3Bucket:
    server: S3Server
    name: str

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    def client(self):
        return self.server.client()

    def unsigned_url(self, key: str) -> str:
        return f"{self.endpoint_url}/{self.name}/{key}"


@pytest.fixture(scope="session")
def s3_server():
    try:
        from moto.server import ThreadedMotoServer

        # The server binds in a thread and would wait forever on a failed bind: try it here first.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
    except (ImportError, OSError) as exc:
        require(False, f"cannot start the moto S3 server on loopback: {exc}")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    host, port = server.get_host_and_port()
    yield S3Server(endpoint_url=f"http://{host}:{port}")
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings) -> S3Bucket:
    """A new private bucket, used as the default storage for the duration of one test."""
    from boto3.s3.transfer import TransferConfig

    bucket = S3Bucket(server=s3_server, name=f"arena-test-{secrets.token_hex(6)}")
    bucket.client().create_bucket(Bucket=bucket.name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket.name,
                "endpoint_url": s3_server.endpoint_url,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                # Real S3 keeps every object of a private bucket private; moto serves an object
                # completed by a multipart upload without an ACL to anyone, unless the ACL is explicit.
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": False,
                "addressing_style": "path",
                "signature_version": "s3v4",
                "transfer_config": TransferConfig(multipart_threshold=MULTIPART_THRESHOLD,
                                                  multipart_chunksize=MULTIPART_THRESHOLD),
            },
        },
    }
    # Changing STORAGES through the settings fixture resets Django's storage cache, so
    # default_storage and every FileField now write to the bucket (and back after the test).
    return bucket
