"""Train the MER-NOISE baseline on the demo's training set; run when its image is built.

    python3 train.py TRAIN_DIR MODEL_PATH

TRAIN_DIR holds `train.csv` (name,discrete,valence) and `train-media.tar.gz` (the clips). Seeded,
single-threaded and with deterministic algorithms: the same data gives the same weights.
"""

from __future__ import annotations

import csv
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import torch
from features import EMOTIONS, MelNet, audio_features, clip_media, video_features

SEED = 20240501
EPOCHS = 400
NOISY_COPIES = 2
SNR_RANGE = (0.0, 30.0)


def with_noise(samples: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """`samples` plus white noise at a random SNR drawn uniformly from SNR_RANGE."""
    snr_db = SNR_RANGE[0] + (SNR_RANGE[1] - SNR_RANGE[0]) * torch.rand((), generator=generator)
    noise = torch.randn(samples.shape, generator=generator)
    scale = (samples.square().mean() / (noise.square().mean() * 10 ** (snr_db / 10))).sqrt()
    return samples + scale * noise


def main(train_dir: str, model_path: str) -> int:
    started = time.monotonic()
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    folder = Path(train_dir)
    with (folder / "train.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with tempfile.TemporaryDirectory() as clips, tarfile.open(folder / "train-media.tar.gz") as archive:
        members = archive.getmembers()
        # Python 3.11.2 has no extraction filters: refuse what could leave the folder.
        if any(m.name.startswith("/") or ".." in Path(m.name).parts or not (m.isfile() or m.isdir())
               for m in members):
            raise SystemExit("the training archive holds an unsafe entry")
        archive.extractall(clips, members)
        media = [clip_media(Path(clips), row["name"]) for row in rows]
    # Each clip is seen clean and with white noise at NOISY_COPIES random SNRs in SNR_RANGE dB.
    noise = torch.Generator().manual_seed(SEED)
    x = torch.stack([
        torch.cat([audio_features(audio), video_features(frames)])
        for samples, frames in media
        for audio in (samples, *(with_noise(samples, noise) for _ in range(NOISY_COPIES)))
    ])
    copies = 1 + NOISY_COPIES
    labels = torch.tensor([EMOTIONS.index(row["discrete"]) for row in rows]).repeat_interleave(copies)
    valence = torch.tensor([float(row["valence"]) for row in rows]).repeat_interleave(copies)
    model = MelNet(x.shape[1])
    model.mean.copy_(x.mean(0))
    # A floor on the spread: a feature nearly constant in training must not blow up at test time.
    model.scale.copy_(x.std(0).clamp_min(0.3))
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    model.train()
    for _ in range(EPOCHS):
        optimiser.zero_grad()
        logits, predicted = model(x)
        loss = torch.nn.functional.cross_entropy(logits, labels) + 0.5 * (predicted - valence).square().mean()
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        logits, predicted = model(x)
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    torch.save({"n_features": x.shape[1], "state": model.state_dict()}, model_path)
    print(f"trained on {len(rows)} clips, {x.shape[1]} features, in {time.monotonic() - started:.1f} s: "
          f"training accuracy {accuracy:.3f}, loss {loss.item():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
