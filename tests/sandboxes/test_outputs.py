"""Copying /output out of the engine's tar stream (no engine needed)."""

from __future__ import annotations

import io
import tarfile

from sandboxes.outputs import copy_output


def _stream(entries, chunk: int = 7):
    """A tar of `output/...` entries, handed over in small chunks like the engine does."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, kind, data, link in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = link
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    raw = buffer.getvalue()
    return (raw[i : i + chunk] for i in range(0, len(raw), chunk))


def test_files_and_folders_are_copied(tmp_path):
    entries = [
        ("output", tarfile.DIRTYPE, b"", ""),
        ("output/predictions.csv", tarfile.REGTYPE, b"name,x\na,1\n", ""),
        ("output/extra", tarfile.DIRTYPE, b"", ""),
        ("output/extra/notes.txt", tarfile.REGTYPE, b"n" * 5000, ""),
    ]
    copied = copy_output(_stream(entries), tmp_path / "out", max_bytes=10**6)
    assert copied.files == ["extra/notes.txt", "predictions.csv"]
    assert copied.bytes_copied == 11 + 5000
    assert copied.pages_used == 1 + 2
    assert copied.entries == 3
    assert copied.skipped == []
    assert copied.cut is False
    assert (tmp_path / "out" / "predictions.csv").read_bytes() == b"name,x\na,1\n"
    assert (tmp_path / "out" / "extra" / "notes.txt").read_bytes() == b"n" * 5000


def test_links_devices_and_escapes_are_skipped(tmp_path):
    entries = [
        ("output", tarfile.DIRTYPE, b"", ""),
        ("output/shadow", tarfile.SYMTYPE, b"", "/etc/shadow"),
        ("output/hard", tarfile.LNKTYPE, b"", "output/predictions.csv"),
        ("output/fifo", tarfile.FIFOTYPE, b"", ""),
        ("output/../../escape.txt", tarfile.REGTYPE, b"x", ""),
        ("elsewhere/file.txt", tarfile.REGTYPE, b"x", ""),
    ]
    copied = copy_output(_stream(entries), tmp_path / "out", max_bytes=10**6)
    assert copied.files == []
    assert copied.skipped == [
        "shadow", "hard", "fifo", "output/../../escape.txt", "elsewhere/file.txt"
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()


def test_the_copy_stops_at_the_byte_budget(tmp_path):
    entries = [
        ("output", tarfile.DIRTYPE, b"", ""),
        ("output/a.bin", tarfile.REGTYPE, b"a" * 600, ""),
        ("output/b.bin", tarfile.REGTYPE, b"b" * 600, ""),
    ]
    copied = copy_output(_stream(entries), tmp_path / "out", max_bytes=1000)
    assert copied.cut is True
    assert copied.bytes_copied == 1000
    assert (tmp_path / "out" / "a.bin").read_bytes() == b"a" * 600
    assert (tmp_path / "out" / "b.bin").read_bytes() == b"b" * 400
