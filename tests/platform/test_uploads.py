"""Uploaded prediction files are hostile until proven otherwise."""

import gzip
import hashlib
import io
import zipfile
from dataclasses import dataclass

import pytest

from arena.core.errors import DomainError
from arena.submissions.services.uploads import MAX_ZIP_ENTRIES, MB, PreparedPrediction, prepared_prediction

CSV = b"name,discrete\ns1,happy\n"


@dataclass(frozen=True)
class Prepared:
    data: bytes
    prepared: PreparedPrediction

    def __getattr__(self, name):
        return getattr(self.prepared, name)


def _prepare(data: bytes, *, limit: int = MB, allow: bool = True, name: str = "p.csv") -> Prepared:
    """What the scorer would read; the temporary files are gone afterwards."""
    with prepared_prediction(name=name, stream=io.BytesIO(data), max_bytes=limit, allow_compressed=allow) as prepared:
        result = Prepared(data=prepared.path.read_bytes(), prepared=prepared)
    assert not prepared.path.exists()
    return result


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


@pytest.mark.parametrize("member,reason", [
    ("../../etc/passwd", "a path that climbs out of the archive with '..'"),
    ("a/../../p.csv", "a path that climbs out of the archive with '..'"),
    ("..\\..\\evil.csv", "a path that climbs out of the archive with '..'"),
    ("/abs/p.csv", "an absolute path"),
    ("C:\\evil\\p.csv", "an absolute path"),
])
def test_zip_member_with_unsafe_path_is_refused_with_what_is_wrong(member, reason):
    # '..\\..\\evil.csv' once passed for a hidden file (its name starts with a dot) and was skipped.
    with pytest.raises(DomainError) as err:
        _prepare(_zip({member: CSV, "predictions.csv": CSV}))
    assert (err.value.code, err.value.status) == ("invalid_archive", 400)
    assert err.value.message == (
        f"The .zip file names its member '{member}' with {reason}; zip the prediction file on its own, "
        "without folders: zip -j predictions.zip predictions.csv")


def test_concatenated_gzip_streams_are_refused():
    with pytest.raises(DomainError) as err:
        _prepare(gzip.compress(CSV) + gzip.compress(b"s2,sad\n"))
    assert (err.value.code, err.value.status) == ("invalid_archive", 400)
    assert err.value.message == (
        "The .gz file holds several gzip streams joined together (as `cat a.gz b.gz` makes); compress the one "
        "prediction file on its own: gzip -c predictions.csv > predictions.csv.gz")


def test_data_after_the_gzip_stream_is_refused_but_zero_padding_is_not():
    with pytest.raises(DomainError, match="^The .gz file has extra data after its end; compress"):
        _prepare(gzip.compress(CSV) + b"trailing")
    assert _prepare(gzip.compress(CSV) + b"\0" * 600).data == CSV


def test_a_zip_with_too_many_entries_is_refused_before_its_directory_is_read():
    many = _zip({f"d/{i}.txt": b"" for i in range(MAX_ZIP_ENTRIES + 1)})
    with pytest.raises(DomainError, match=f"holds more than {MAX_ZIP_ENTRIES} entries"):
        _prepare(many)


def test_a_large_gzip_is_expanded_to_disk_in_chunks():
    big = CSV + b"".join(b"s%07d,happy\n" % i for i in range(300_000))  # about 5 MB
    compressed = gzip.compress(big)
    prepared = _prepare(compressed, limit=8 * MB)
    assert prepared.data == big and prepared.compression == "gzip"
    assert prepared.uploaded_size == len(compressed)
    assert prepared.uploaded_sha256 == hashlib.sha256(compressed).hexdigest()


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
