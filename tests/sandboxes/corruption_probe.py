"""Runs inside the torch image for tests/sandboxes/test_corruptions.py (not collected by pytest).

    python3 corruption_probe.py /work     # /work/in holds the host's arrays, results go to /work/out

Writes out/results.json (doctests, measured SNRs, untouched inputs) and out/*.npy (frames),
and runs the command line on /work/clips for seeds 7 and 8 (out/seed7, out/seed8).
"""

from __future__ import annotations

import doctest
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from sandboxes.corruptions import audio, parse_condition, video
from sandboxes.corruptions.apply import apply_condition
from sandboxes.corruptions.io import read_wav, write_wav

SNR_TARGETS = (-5.0, 0.0, 5.0, 10.0, 20.0, 30.0)
CLI_CONDITION = "noise:babble@5db+blur:2+jpeg:70+occlude:0.2+drop:0.3"


def speech_like(seconds: float, pitch: float, phase: float) -> np.ndarray:
    """A voiced tone with a syllable envelope, RMS about 0.1."""
    t = np.arange(int(16_000 * seconds)) / 16_000
    envelope = 0.5 + 0.5 * np.sin(2 * math.pi * 3 * t + phase) ** 2
    tone = sum(np.sin(2 * math.pi * pitch * k * t + phase * k) / k for k in range(1, 6))
    return (0.08 * envelope * tone).astype(np.float32)


def snr_db(clean: torch.Tensor, mixed: torch.Tensor) -> float:
    clean64, mixed64 = clean.to(torch.float64), mixed.to(torch.float64)
    return float(10 * torch.log10(clean64.square().sum() / (mixed64 - clean64).square().sum()))


def main(work: Path) -> None:
    out = work / "out"
    results: dict[str, object] = {}
    results["doctests"] = {m.__name__: list(doctest.testmod(m)) for m in (audio, video)}

    clean = torch.from_numpy(speech_like(3.0, 140.0, 0.3))
    before = clean.clone()
    clips = {f"talker{i}": torch.from_numpy(speech_like(1.0 + i, 100.0 + 30 * i, i)) for i in range(5)}
    clips["clip"] = clean
    bank_dir = Path("/tmp/bank")
    bank_dir.mkdir(exist_ok=True)
    rng = np.random.default_rng(3)
    bank_paths = []
    for i, seconds in enumerate((1.2, 5.0)):  # one shorter than the clip: it is looped
        bank_paths.append(str(bank_dir / f"noise{i}.wav"))
        write_wav(bank_paths[-1], 0.05 * rng.standard_normal(int(16_000 * seconds)))
    bank = [torch.from_numpy(read_wav(path)) for path in bank_paths]
    measured: dict[str, list[float]] = {}
    for source in ("white", "pink", "bank", "babble"):
        measured[source] = []
        for target in SNR_TARGETS:
            condition = parse_condition(f"noise:{source}@{target}db", noise_bank=bank_paths)
            mixed, _ = apply_condition(condition, key="clip", seed=11, audio_samples=clean,
                                       noise_bank=bank, clips=clips)
            measured[source].append(snr_db(clean, mixed))
    results["snr"] = {"targets": list(SNR_TARGETS), "measured": measured}

    frames = {path.stem: torch.from_numpy(np.load(path)) for path in sorted((work / "in").glob("*.npy"))}
    copies = {name: tensor.clone() for name, tensor in frames.items()}
    for name, tensor in frames.items():
        for rate in (2, 4):
            np.save(out / f"blur{rate}_{name}.npy", video.mer_blur(tensor, rate).numpy())
        for quality in (50, 90):
            np.save(out / f"jpeg{quality}_{name}.npy", video.jpeg(tensor, quality).numpy())
        np.save(out / f"gauss_{name}.npy", video.gaussian_blur(tensor, 1.5).numpy())

    occluded = parse_condition("occlude:0.25")
    _, patched = apply_condition(occluded, key="clip", seed=11, frames=frames["rgb_64x64"])
    np.save(out / "occlude_rgb_64x64.npy", patched.numpy())
    numbered = torch.arange(16, dtype=torch.uint8).mul(10).reshape(16, 1, 1).expand(16, 4, 4).contiguous()
    _, stalled = apply_condition(parse_condition("drop:0.5"), key="clip", seed=11, frames=numbered)
    results["drop_kept"] = stalled[:, 0, 0].div(10, rounding_mode="floor").tolist()
    silent, black = apply_condition(parse_condition("mute+blank"), key="clip", seed=11, audio_samples=clean,
                                    frames=frames["rgb_64x64"])
    results["dropout"] = {"muted": bool((silent == 0).all()) and silent.shape == clean.shape,
                          "blank": bool((black == 0).all()) and black.shape == frames["rgb_64x64"].shape}

    both = parse_condition("noise:white@10db+blur:2")
    mixed, blurred = apply_condition(both, key="clip", seed=11, audio_samples=clean, frames=frames["rgb_64x64"])
    results["composed_snr"] = snr_db(clean, mixed)
    np.save(out / "composed_rgb_64x64.npy", blurred.numpy())

    results["inputs_untouched"] = bool(torch.equal(clean, before)) and all(
        torch.equal(frames[name], copies[name]) for name in frames
    )
    (out / "results.json").write_text(json.dumps(results, indent=1))

    for seed in (7, 8):
        subprocess.run(
            [sys.executable, "-m", "sandboxes.corruptions", "apply", "--condition", CLI_CONDITION,
             "--seed", str(seed), "--input", str(work / "clips"), "--output", str(out / f"seed{seed}")],
            check=True,
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
