"""Large files are mapped rather than copied; a mapped file parses exactly as its bytes do."""

from __future__ import annotations

import mmap

import pytest

from scorers import SubmissionFormatError, get_scorer
from scorers.parsing import source as source_module
from scorers.parsing.source import read_source

VA_HEADER = b"image_location,valence,arousal\n"


def outcome(scorer, data, file: str = "prediction") -> tuple:
    try:
        table = scorer.parse_file(data, file=file, options=scorer.validate_options(None))
    except SubmissionFormatError as error:
        return ("error", str(error))
    return ("table", table.keys.tolist(), table.lines.tolist(),
            {name: column.tolist() for name, column in table.columns.items()})


def test_files_from_the_threshold_up_are_mapped(tmp_path):
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    small.write_bytes(b"x" * (source_module.MAP_BYTES - 1))
    large.write_bytes(b"x" * source_module.MAP_BYTES)
    assert type(read_source(small, file="prediction")) is bytes
    mapped = read_source(large, file="prediction")
    assert isinstance(mapped, mmap.mmap) and len(mapped) == source_module.MAP_BYTES
    with pytest.raises(TypeError):
        mapped[0] = 0  # read-only


@pytest.mark.parametrize(
    ("track", "data"),
    [
        ("abaw.va", VA_HEADER + b"a/1.jpg,0.5,-0.25\nb/2.jpg,0.125,1\n"),
        ("abaw.va", b"\xef\xbb\xbf" + VA_HEADER.replace(b"\n", b"\r\n") + b"a/1.jpg,0.5,-0.25"),
        ("abaw.va", VA_HEADER + b"a/1.jpg,0.5,-0.25\nb/\xe9.jpg,0.1,0.2\n"),
        ("abaw.va", VA_HEADER + b"a/1.jpg,0.5,\x00\n"),
        ("abaw.va", b" \n\n"),
        ("abaw.va", VA_HEADER + "ä/1.jpg,0.5,0.25\n".encode()),
        ("mer.ov-wheel", b'name,openset\na,"[\'happy\', \'sad\']"\nb,joy\n'),
        ("mer.ov-wheel", b'name,openset\na,"[\'happy\'\nb,joy\n'),
        ("abaw.ah", b"\n\nVideos/a.mp4,0.2,0.8,1\nVideos/b.mp4,0.9,0.1,0\n"),
        ("abaw.ah", b"Videos/a.mp4,1\nVideos/b.mp4,0"),
    ],
)
def test_a_mapped_file_reads_as_its_bytes(tmp_path, monkeypatch, track, data):
    monkeypatch.setattr(source_module, "MAP_BYTES", 1)
    path = tmp_path / "prediction.csv"
    path.write_bytes(data)
    mapped = read_source(path, file="prediction")
    assert isinstance(mapped, mmap.mmap)
    scorer = get_scorer(track)
    assert outcome(scorer, mapped) == outcome(scorer, data)
