"""Clip features of the MER-NOISE baseline: log-mel statistics of the voice and pooled
statistics of the face frames. torch, numpy and the standard library only.

A clip `<key>` is `<key>.wav` (16 kHz mono 16-bit PCM) and a folder `<key>/` of PNG frames
(8-bit grey or RGB, in file-name order); either may be missing, and then counts as silence or
as black frames.
"""

from __future__ import annotations

import struct
import wave
import zlib
from pathlib import Path

import numpy as np
import torch

SAMPLE_RATE = 16_000
N_FFT, HOP, N_MELS = 512, 160, 40
FRAME_SIZE, POOL = 64, 16
EMOTIONS = ("neutral", "angry", "happy", "sad", "worried", "surprise")


def read_wav(path: Path) -> torch.Tensor:
    """The samples of a mono 16-bit WAV as float32 (other rates are read as they are)."""
    with wave.open(str(path), "rb") as handle:
        data = handle.readframes(handle.getnframes())
        channels = handle.getnchannels()
    samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    return torch.from_numpy(samples.reshape(-1, channels).mean(axis=1))


def read_png(path: Path) -> np.ndarray:
    """An 8-bit grey, grey+alpha, RGB or RGBA non-interlaced PNG as a grey float array in [0, 1]."""
    data = path.read_bytes()
    offset, header, idat = 8, None, []
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data[offset + 8:offset + 21])
        elif kind == b"IDAT":
            idat.append(data[offset + 8:offset + 8 + length])
        offset += 12 + length
    width, height, depth, colour = header[:4]
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    if depth != 8:
        raise ValueError(f"{path}: only 8-bit PNG frames are read")
    stride = width * channels
    rows = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, stride + 1)
    image = np.zeros((height, stride), dtype=np.int64)
    previous = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        kind, row = int(rows[y, 0]), rows[y, 1:].astype(np.int64)
        if kind == 0:
            current = row
        elif kind == 2:
            current = (row + previous) % 256
        else:
            current = np.zeros(stride, dtype=np.int64)
            for i in range(stride):
                left = current[i - channels] if i >= channels else 0
                corner = previous[i - channels] if i >= channels else 0
                if kind == 1:
                    predictor = left
                elif kind == 3:
                    predictor = (left + previous[i]) // 2
                else:
                    p = left + previous[i] - corner
                    pa, pb, pc = abs(p - left), abs(p - previous[i]), abs(p - corner)
                    predictor = left if pa <= pb and pa <= pc else previous[i] if pb <= pc else corner
                current[i] = (row[i] + predictor) % 256
        image[y] = previous = current
    pixels = image.reshape(height, width, channels).astype(np.float32) / 255.0
    grey = pixels[:, :, 0] if channels < 3 else pixels[:, :, :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    return grey


def mel_filters() -> torch.Tensor:
    """A (N_FFT // 2 + 1, N_MELS) matrix of triangular mel filters from 50 Hz to 8 kHz."""
    def mel(hz):
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    points = 700.0 * (10 ** (np.linspace(mel(50.0), mel(SAMPLE_RATE / 2), N_MELS + 2) / 2595.0) - 1.0)
    bins = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    filters = np.zeros((bins.size, N_MELS), dtype=np.float32)
    for m in range(N_MELS):
        low, centre, high = points[m:m + 3]
        rising = (bins - low) / (centre - low)
        falling = (high - bins) / (high - centre)
        filters[:, m] = np.clip(np.minimum(rising, falling), 0.0, None)
    return torch.from_numpy(filters)


MEL = mel_filters()
WINDOW = torch.hann_window(N_FFT)


def audio_features(samples: torch.Tensor) -> torch.Tensor:
    """Mean and spread over time of the log-mel spectrogram relative to the voice's level (over
    the louder half of the frames, and the spread over all), the voice's level, and the syllable
    rhythm: the spectrum of the loudness envelope at 1-8 Hz."""
    if samples.numel() < N_FFT:
        samples = torch.nn.functional.pad(samples, (0, N_FFT - samples.numel()))
    power = torch.stft(samples, N_FFT, HOP, window=WINDOW, return_complex=True).abs().square()
    mel = power.T @ MEL  # frames x mels
    total = mel.sum(1)
    loud = total >= total.median()
    # Levels are relative to the voice, floored well below it (each band 26 dB, the pauses 13 dB):
    # bands and pauses the voice leaves empty sit at the floor, so weak noise barely moves them.
    reference = total[loud].mean() + 1e-10
    logmel = torch.log(mel + 0.1 * reference / N_MELS) - torch.log(reference)
    energy = torch.log(total + 0.05 * reference) - torch.log(reference)
    envelope = energy - energy.mean()
    t = torch.arange(envelope.numel(), dtype=torch.float32) * HOP / SAMPLE_RATE
    angle = 2 * torch.pi * torch.arange(1.0, 9.0)[:, None] * t
    rhythm = torch.stack([angle.cos() @ envelope, angle.sin() @ envelope]).norm(dim=0)
    rhythm = rhythm / (envelope.norm() * envelope.numel() ** 0.5 + 1e-6)
    return torch.cat([
        logmel[loud].mean(0), logmel[loud].std(0, unbiased=False), logmel.std(0, unbiased=False),
        torch.stack([torch.log(reference), energy.mean(), energy.std(unbiased=False)]), rhythm,
    ])


def video_features(frames: torch.Tensor) -> torch.Tensor:
    """The mean face pooled to 16x16 and its change over time pooled to 8x8, after each frame's
    brightness is standardised."""
    centred = frames - frames.mean(dim=(1, 2), keepdim=True)
    scaled = centred / (frames.std(dim=(1, 2), keepdim=True) + 0.05)
    pooled = torch.nn.functional.adaptive_avg_pool2d(scaled.unsqueeze(1), POOL).squeeze(1)
    motion = torch.nn.functional.adaptive_avg_pool2d(scaled.std(0, unbiased=False)[None, None], POOL // 2)
    return torch.cat([pooled.mean(0).flatten(), motion.flatten()])


def clip_features(folder: Path, key: str) -> torch.Tensor:
    """The features of clip `key` in `folder` (audio then video)."""
    samples, frames = clip_media(folder, key)
    return torch.cat([audio_features(samples), video_features(frames)])


def clip_media(folder: Path, key: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The samples and the grey frames (n, 64, 64) in [0, 1] of clip `key` in `folder`: 2 s of
    silence when the WAV is missing, one black frame when the frames are."""
    wav = folder / f"{key}.wav"
    samples = read_wav(wav) if wav.is_file() else torch.zeros(2 * SAMPLE_RATE)
    pngs = sorted((folder / key).glob("*.png")) if (folder / key).is_dir() else []
    if pngs:
        frames = torch.from_numpy(np.stack([read_png(path) for path in pngs]))
        if frames.shape[1:] != (FRAME_SIZE, FRAME_SIZE):
            frames = torch.nn.functional.interpolate(frames[:, None], size=(FRAME_SIZE, FRAME_SIZE),
                                                     mode="bilinear", align_corners=False)[:, 0]
    else:
        frames = torch.zeros(1, FRAME_SIZE, FRAME_SIZE)
    return samples, frames


class MelNet(torch.nn.Module):
    """Standardised features -> one hidden layer -> 6 emotion logits and a valence in [-5, 5]."""

    def __init__(self, n_features: int, hidden: int = 64) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        self.body = torch.nn.Sequential(
            torch.nn.Linear(n_features, hidden), torch.nn.ReLU(), torch.nn.Dropout(0.3),
            torch.nn.Linear(hidden, len(EMOTIONS) + 1),
        )
        # Features that never vary in training keep a zero weight, whatever they do on noisy clips.
        torch.nn.init.zeros_(self.body[0].weight)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.body((x - self.mean) / self.scale)
        return out[:, :-1], 5.0 * torch.tanh(out[:, -1] / 5.0)
