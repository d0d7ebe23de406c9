"""Uploaded prediction files are hostile until proven otherwise."""

import gzip
import hashlib
import io
import zipfile

import pytest

from arena.core.errors import DomainError
from arena.submissions.services.uploads import MB, prepare_prediction

CSV = b"name,discrete\ns1,happy\n"


def _prepare(data: bytes, *, limit: int = MB, allow: bool = True, name: str = "p.csv"):
    return prepare_prediction(name=name, stream=io.BytesIO(data), max_bytes=limit, allow_compressed=allow)


def _zip(members: dict[str, bytes], **kwargs) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_plain_csv_passes_through_with_its_digest():
    prepared = _prepare(CSV)
    assert prepared.data == CSV and prepared.compression == "" and prepared.uploaded_size == len(CSV)
    assert prepared.uploaded_sha256 == hashlib.sha256(CSV).hexdigest()


def test_gzip_and_zip_are_expanded():
    assert _prepare(gzip.compress(CSV)).data == CSV
    prepared = _prepare(_zip({"predictions.csv": CSV, "__MACOSX/._predictions.csv": b"x", ".DS_Store": b"y"}))
    assert (prepared.data, prepared.compression) == (CSV, "zip")


def test_too_large_upload_is_refused_with_413():
    with pytest.raises(DomainError) as err:
        _prepare(b"x" * (MB + 1))
    assert err.value.status == 413 and "limit of 1 MB" in err.value.message


def test_gzip_bomb_stops_at_the_limit():
    bomb = gzip.compress(b"\0" * (64 * MB))
    assert len(bomb) < MB
    with pytest.raises(DomainError) as err:
        _prepare(bomb)
    assert err.value.code == "file_too_large" and "decompressed file" in err.value.message


def test_zip_bomb_stops_at_the_limit_even_when_the_header_lies():
    bomb = _zip({"p.csv": b"\0" * (32 * MB)})
    with pytest.raises(DomainError, match="decompressed file"):
        _prepare(bomb)
    # Forge the declared size in the central directory: the reader still stops at the limit.
    forged = bytearray(bomb)
    central = forged.rfind(b"PK\x01\x02")
    forged[central + 24:central + 28] = (10).to_bytes(4, "little")
    with pytest.raises(DomainError):
        _prepare(bytes(forged))


@pytest.mark.parametrize("member", ["../../etc/passwd", "/abs/p.csv", "C:\\evil\\p.csv", "a/../../p.csv"])
def test_zip_member_with_unsafe_path_is_refused(member):
    with pytest.raises(DomainError, match="not a plain relative file name"):
        _prepare(_zip({member: CSV}))


def test_zip_must_hold_exactly_one_file():
    with pytest.raises(DomainError, match="holds 2 files"):
        _prepare(_zip({"a.csv": CSV, "b.csv": CSV}))
    with pytest.raises(DomainError, match="holds 0 files"):
        _prepare(_zip({}))


def test_damaged_archives_have_clear_messages():
    with pytest.raises(DomainError, match="cut short"):
        _prepare(gzip.compress(CSV * 100)[:30])
    with pytest.raises(DomainError, match="damaged"):
        _prepare(b"PK\x03\x04" + b"garbage" * 10)


def test_compression_refused_where_the_track_does_not_allow_it():
    with pytest.raises(DomainError) as err:
        _prepare(gzip.compress(CSV), allow=False)
    assert err.value.status == 415


def test_empty_file_is_refused():
    with pytest.raises(DomainError, match="empty"):
        _prepare(b"")
