"""Local storage's signed links: bound to one key and an expiry, with single byte ranges."""

import hashlib
import time

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from arena.core.storage import SALT, file_token, key_from_token, signed_download_url
from arena.core.views import Unsatisfiable, requested_range

DATA = bytes(range(256)) * 40  # 10,240 bytes, every offset distinguishable


@pytest.fixture
def stored():
    key = default_storage.save("datasets/0123456789abcdef0123456789abcdef/train.bin", ContentFile(DATA))
    yield key
    default_storage.delete(key)


def _get(client, url, **headers):
    response = client.get(url, headers=headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


@pytest.mark.parametrize("header,expected", [
    (None, None),
    ("bytes=0-4", (0, 4)),
    ("bytes=10-", (10, 99)),
    ("bytes=-10", (90, 99)),
    ("bytes=-1000", (0, 99)),
    ("bytes=95-1000", (95, 99)),
    ("bytes=99-99", (99, 99)),
    ("bytes=5-2", None),  # invalid range-spec: ignored
    ("bytes=0-1,5-6", None),  # several ranges: served whole
    ("items=0-4", None),
    ("bytes=-", None),
    ("bytes=a-b", None),
])
def test_requested_range(header, expected):
    assert requested_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0"])
def test_unsatisfiable_ranges(header):
    with pytest.raises(Unsatisfiable):
        requested_range(header, 100)


def test_whole_file_with_headers(client, stored):
    response, body = _get(client, default_storage.url(stored))
    assert response.status_code == 200
    assert body == DATA
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(DATA).hexdigest()
    assert response["Content-Length"] == str(len(DATA))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Disposition"] == 'attachment; filename="train.bin"'
    assert response["Cache-Control"] == "private, no-store"
    assert "Content-Range" not in response


@pytest.mark.parametrize("header,start,end", [
    ("bytes=0-99", 0, 99), ("bytes=10000-", 10000, 10239), ("bytes=-40", 10200, 10239),
    ("bytes=5000-99999", 5000, 10239),
])
def test_single_range_is_206_with_content_range(client, stored, header, start, end):
    response, body = _get(client, default_storage.url(stored), Range=header)
    assert response.status_code == 206
    assert body == DATA[start:end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response["Content-Length"] == str(end - start + 1)


def test_unsatisfiable_range_is_416(client, stored):
    response, body = _get(client, default_storage.url(stored), Range="bytes=10240-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(DATA)}"
    assert body == b""


def test_multiple_ranges_and_if_range_get_the_whole_file(client, stored):
    url = default_storage.url(stored)
    for headers in ({"Range": "bytes=0-1,4-5"}, {"Range": "bytes=0-1", "If-Range": '"etag"'}):
        response, body = _get(client, url, **headers)
        assert (response.status_code, body) == (200, DATA)


def test_head_sends_headers_only(client, stored):
    response = client.head(default_storage.url(stored), headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response["Content-Length"] == "10"
    assert b"".join(response.streaming_content) == b""


def test_post_is_refused(client, stored):
    assert client.post(default_storage.url(stored)).status_code == 405


def test_link_expires(client, stored, settings):
    url = signed_download_url(stored, seconds=1)
    token = url.rstrip("/").rsplit("/", 1)[-1]
    assert key_from_token(token) == stored
    time.sleep(1.1)
    response, body = _get(client, url)
    assert response.status_code == 403
    assert b"expired" in body
    with pytest.raises(signing.SignatureExpired):
        key_from_token(token)


def test_default_expiry_comes_from_settings(stored, settings):
    settings.ARENA_DOWNLOAD_URL_SECONDS = 120
    token = default_storage.url(stored).rstrip("/").rsplit("/", 1)[-1]
    payload = signing.loads(token, salt=SALT)
    assert payload["k"] == stored
    assert abs(payload["e"] - (time.time() + 120)) < 5


def test_token_binds_the_key_and_cannot_be_forged(client, stored):
    other = default_storage.save("references/ffffffffffffffffffffffffffffffff/private.csv",
                                 ContentFile(b"name,label\ns1,secret\n"))
    try:
        good = file_token(stored, seconds=60)
        forged_payload = signing.loads(good, salt=SALT) | {"k": other}
        forged = [
            signing.dumps(forged_payload, salt="another-salt", compress=True),
            signing.dumps(forged_payload, key="not-the-site-secret", salt=SALT, compress=True),
            good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
            signing.dumps({"k": other}, salt=SALT, compress=True),  # no expiry: refused
        ]
        for token in forged:
            response, body = _get(client, reverse("signed-file", args=[token]))
            assert response.status_code == 404, token
            assert b"secret" not in body
    finally:
        default_storage.delete(other)


def test_missing_file_is_404(client):
    response, _ = _get(client, signed_download_url("datasets/x/missing.bin", seconds=60))
    assert response.status_code == 404


def test_media_urls_serve_nothing(client, stored):
    for path in (f"/media/{stored}", f"/{stored}", f"/files/{stored}/"):
        assert client.get(path).status_code == 404, path
