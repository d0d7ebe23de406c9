"""Damaged media in organisers' inputs are reported as ClipFormatError naming the file, never a crash."""

from __future__ import annotations

import numpy as np
import pytest

from sandboxes.corruptions.io import ClipFormatError, read_png, read_wav, write_png, write_wav


@pytest.fixture
def good(tmp_path):
    write_wav(tmp_path / "good.wav", np.linspace(-0.5, 0.5, 1600))
    write_png(tmp_path / "good.png", np.arange(64, dtype=np.uint8).reshape(8, 8))
    return (tmp_path / "good.wav").read_bytes(), (tmp_path / "good.png").read_bytes()


@pytest.mark.parametrize(("name", "cut", "message"), [
    ("header.wav", lambda b: b[:30], "not a PCM WAV file (it ends early)."),
    ("odd.wav", lambda b: b[:-1], "the WAV data ends in the middle of a sample (cut short?)."),
    ("junk.wav", lambda b: b"RIFF" + b"\xff" * 40, "not a PCM WAV file (not a WAVE file)."),
])
def test_damaged_wav_files(tmp_path, good, name, cut, message):
    (tmp_path / name).write_bytes(cut(good[0]))
    with pytest.raises(ClipFormatError) as refused:
        read_wav(tmp_path / name)
    assert str(refused.value) == f"{tmp_path / name}: {message}"


@pytest.mark.parametrize(("name", "cut", "message"), [
    ("header.png", lambda b: b[:20], "the PNG is cut short in its 'IHDR' chunk."),
    ("data.png", lambda b: b[:45], "the PNG is cut short in its 'IDAT' chunk."),
    ("text.png", lambda b: b"hello", "not a PNG file."),
])
def test_damaged_png_files(tmp_path, good, name, cut, message):
    (tmp_path / name).write_bytes(cut(good[1]))
    with pytest.raises(ClipFormatError) as refused:
        read_png(tmp_path / name)
    assert str(refused.value) == f"{tmp_path / name}: {message}"


def test_intact_files_read_back(tmp_path, good):
    assert read_wav(tmp_path / "good.wav").shape == (1600,)
    assert read_png(tmp_path / "good.png")[7, 7] == 63
