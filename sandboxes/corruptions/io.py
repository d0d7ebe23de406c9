"""Reading and writing clips with the standard library and numpy (the image has no PIL).

Audio: 16 kHz mono 16-bit PCM WAV, as float32 in [-1, 1). Frames: 8-bit grayscale or RGB
non-interlaced PNG, as uint8 arrays H x W or H x W x 3.
"""

from __future__ import annotations

import struct
import wave
import zlib
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type -> channels, for the types read here (0 grey, 2 RGB).
PNG_CHANNELS = {0: 1, 2: 3}


class ClipFormatError(ValueError):
    """A WAV or PNG file this module does not read; the message names the file and why."""


def read_wav(path: str | Path) -> np.ndarray:
    """The samples of a 16 kHz mono 16-bit WAV file as float32 (int16 / 32768)."""
    try:
        with wave.open(str(path), "rb") as handle:
            shape = (handle.getframerate(), handle.getnchannels(), handle.getsampwidth())
            if shape != (SAMPLE_RATE, 1, 2):
                raise ClipFormatError(
                    f"{path}: expected 16 kHz mono 16-bit WAV, got {shape[0]} Hz, {shape[1]} channel(s), "
                    f"{8 * shape[2]}-bit."
                )
            data = handle.readframes(handle.getnframes())
    except (wave.Error, EOFError, RuntimeError, ValueError, struct.error) as exc:
        # The standard library's reader raises several kinds for a damaged header or chunk.
        raise ClipFormatError(f"{path}: not a PCM WAV file ({str(exc) or 'it ends early'}).") from exc
    if len(data) % 2:
        raise ClipFormatError(f"{path}: the WAV data ends in the middle of a sample (cut short?).")
    return (np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0)


def write_wav(path: str | Path, samples: np.ndarray) -> None:
    """Write float samples as 16 kHz mono 16-bit WAV: clipped to [-1, 1), rounded to the nearest
    step of 1/32768."""
    scaled = np.clip(np.rint(np.asarray(samples, dtype=np.float64) * 32768.0), -32768, 32767)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes(scaled.astype("<i2").tobytes())


def read_png(path: str | Path) -> np.ndarray:
    """An 8-bit grayscale (H x W) or RGB (H x W x 3) non-interlaced PNG, any row filters."""
    data = Path(path).read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        raise ClipFormatError(f"{path}: not a PNG file.")
    offset, header, idat = len(PNG_SIGNATURE), None, []
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if len(body) != length:
            raise ClipFormatError(f"{path}: the PNG is cut short in its {kind.decode('latin-1')!r} chunk.")
        offset += 12 + length
        if kind == b"IHDR":
            if length != 13:
                raise ClipFormatError(f"{path}: PNG header chunk of {length} bytes, expected 13.")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ClipFormatError(f"{path}: PNG without IHDR.")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in PNG_CHANNELS or interlace:
        raise ClipFormatError(
            f"{path}: only 8-bit grayscale or RGB non-interlaced PNG is read "
            f"(bit depth {depth}, colour type {colour}, interlace {interlace})."
        )
    channels = PNG_CHANNELS[colour]
    stride = width * channels
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        raise ClipFormatError(f"{path}: corrupt PNG data ({exc}).") from exc
    if len(raw) != height * (stride + 1):
        raise ClipFormatError(f"{path}: PNG data has {len(raw)} bytes, expected {height * (stride + 1)}.")
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride + 1)
    image = np.empty((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        image[y] = previous = _unfilter(int(rows[y, 0]), rows[y, 1:], previous, channels, path)
    return image.reshape(height, width, channels) if channels == 3 else image.reshape(height, width)


def _unfilter(kind: int, row: np.ndarray, previous: np.ndarray, bpp: int, path) -> np.ndarray:
    if kind == 0:
        return row.copy()
    if kind == 2:
        return row + previous  # uint8 arithmetic wraps modulo 256, as PNG wants
    if kind == 1:
        # Sub: a running sum modulo 256 within each channel.
        return np.cumsum(row.reshape(-1, bpp), axis=0, dtype=np.uint8).reshape(-1)
    if kind not in (3, 4):
        raise ClipFormatError(f"{path}: unknown PNG filter type {kind}.")
    out = bytearray(row.tobytes())
    up = previous.tobytes()
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        if kind == 3:
            out[i] = (out[i] + ((left + up[i]) >> 1)) & 0xFF
        else:
            corner = up[i - bpp] if i >= bpp else 0
            p = left + up[i] - corner
            pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - corner)
            predictor = left if pa <= pb and pa <= pc else up[i] if pb <= pc else corner
            out[i] = (out[i] + predictor) & 0xFF
    return np.frombuffer(bytes(out), dtype=np.uint8)


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write a uint8 H x W (grayscale) or H x W x 3 (RGB) array as PNG (filter 0, zlib level 6),
    byte for byte the same for the same array."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        colour = 0
    elif image.ndim == 3 and image.shape[2] == 3:
        colour = 2
    else:
        raise ClipFormatError(f"{path}: frames are H x W or H x W x 3, got shape {image.shape}.")
    height, width = image.shape[:2]
    rows = np.concatenate([np.zeros((height, 1), dtype=np.uint8), image.reshape(height, -1)], axis=1)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    Path(path).write_bytes(
        PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )
