"""Audio corruptions on float waveforms (1-D torch tensors): additive noise at an SNR, mute.

Random draws come from a CPU torch.Generator and are moved to the waveform's device, so a CUDA
run adds the same noise as a CPU run (up to float rounding in the mix).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

# How many other clips of the test set talk at once in babble noise.
BABBLE_TALKERS = 4


def white_noise(length: int, generator: torch.Generator) -> torch.Tensor:
    """Gaussian white noise, float64 on the CPU."""
    return torch.randn(length, generator=generator, dtype=torch.float64)


def pink_noise(length: int, generator: torch.Generator) -> torch.Tensor:
    """Noise with a 1/f power spectrum (white noise shaped in the frequency domain, no DC)."""
    spectrum = torch.fft.rfft(white_noise(length, generator))
    bins = torch.arange(spectrum.shape[0], dtype=torch.float64)
    bins[0] = float("inf")
    return torch.fft.irfft(spectrum / bins.sqrt(), n=length)


def segment(source: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
    """`length` samples of `source` from an offset the generator picks. A source no longer than
    that is looped, starting anywhere in it (so clips of the same length still differ by seed)."""
    source = source.detach().to("cpu", torch.float64).reshape(-1)
    if source.numel() == 0:
        raise ValueError("A noise source has no samples.")
    if source.numel() > length:
        offset = int(torch.randint(source.numel() - length + 1, (1,), generator=generator))
        return source[offset:offset + length]
    offset = int(torch.randint(source.numel(), (1,), generator=generator))
    return source.repeat(-(-(offset + length) // source.numel()))[offset:offset + length]


def babble_noise(
    key: str, length: int, clips: Mapping[str, torch.Tensor], generator: torch.Generator
) -> torch.Tensor:
    """The sum of up to BABBLE_TALKERS other clips of the test set (`clips`, by key; `key`'s own
    clip is left out), each a segment at unit power."""
    others = sorted(k for k in clips if k != key)
    if not others:
        raise ValueError("Babble noise needs other clips with audio in the test set; there are none.")
    order = torch.randperm(len(others), generator=generator)[:BABBLE_TALKERS].tolist()
    total = torch.zeros(length, dtype=torch.float64)
    for index in order:
        talker = segment(clips[others[index]], length, generator)
        power = talker.square().mean()
        if power > 0:
            total += talker / power.sqrt()
    return total


def noise_for(
    source: str,
    *,
    key: str,
    length: int,
    generator: torch.Generator,
    bank: Sequence[torch.Tensor] = (),
    clips: Mapping[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """A noise segment of `length` samples from `source` (white, pink, bank or babble)."""
    if source == "white":
        return white_noise(length, generator)
    if source == "pink":
        return pink_noise(length, generator)
    if source == "bank":
        if not bank:
            raise ValueError("noise:bank needs a noise bank, but none was loaded.")
        pick = int(torch.randint(len(bank), (1,), generator=generator))
        return segment(bank[pick], length, generator)
    if source == "babble":
        return babble_noise(key, length, clips or {}, generator)
    raise ValueError(f"Unknown noise source {source!r}.")


def add_noise(clean: torch.Tensor, noise: torch.Tensor, snr_db: float) -> torch.Tensor:
    """`clean` plus `noise` scaled so that mean(clean²) / mean(scaled noise²) is `snr_db` dB.
    A new tensor of `clean`'s dtype and device; a silent clip, or silent noise, stays as it is.

    >>> clean = torch.tensor([0.5, -0.5, 0.5, -0.5])
    >>> add_noise(clean, torch.tensor([1.0, 1.0, -1.0, -1.0]), 20.0)
    tensor([ 0.5500, -0.4500,  0.4500, -0.5500])
    """
    work = clean.to(torch.float64)
    noise = noise.to(device=work.device, dtype=torch.float64)
    clean_power, noise_power = work.square().mean(), noise.square().mean()
    if clean_power == 0 or noise_power == 0:
        return clean.clone()
    scale = torch.sqrt(clean_power / (noise_power * 10.0 ** (snr_db / 10.0)))
    return (work + scale * noise).to(clean.dtype)


def mute(clean: torch.Tensor) -> torch.Tensor:
    """Silence of the same length (modality dropout)."""
    return torch.zeros_like(clean)
