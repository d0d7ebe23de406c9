"""Apply a condition to one clip (tensors) or to a folder of clean inputs (files).

Folder layout, per clip `<key>` (either part may be absent)::

    <key>.wav          16 kHz mono 16-bit PCM
    <key>/*.png        its frames, 8-bit grayscale or RGB, in file-name order

Other top-level files (an inputs CSV, say) are copied unchanged; the output folder gets the
same layout, file names and frame count.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from . import audio, video
from .io import read_png, read_wav, write_png, write_wav
from .seeds import clip_seed
from .spec import AUDIO_KINDS, Condition


def clip_generator(seed: int, key: str, condition: Condition, step: int) -> torch.Generator:
    """A CPU generator for one step of one clip; draws are moved to the data's device, so CPU
    and CUDA runs corrupt alike."""
    generator = torch.Generator(device="cpu")
    generator.manual_seed(clip_seed(seed, key, condition.name, step))
    return generator


def apply_condition(
    condition: Condition,
    *,
    key: str,
    seed: int,
    audio_samples: torch.Tensor | None = None,
    frames: torch.Tensor | None = None,
    noise_bank: Sequence[torch.Tensor] = (),
    clips: Mapping[str, torch.Tensor] | None = None,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The corrupted (audio, frames) of clip `key`: new tensors on the inputs' devices; the
    inputs are not modified. `noise_bank` holds the loaded bank waveforms and `clips` the test
    set's audio by key (for babble). Same inputs, condition and seed give the same result."""
    out_audio = None if audio_samples is None else audio_samples.clone()
    out_frames = None if frames is None else frames.clone()
    for index, step in enumerate(condition.steps):
        if step.kind in AUDIO_KINDS:
            if out_audio is None:
                continue
            if step.kind == "mute":
                out_audio = audio.mute(out_audio)
                continue
            noise = audio.noise_for(
                step.source, key=key, length=out_audio.shape[-1], bank=noise_bank, clips=clips,
                generator=clip_generator(seed, key, condition, index),
            )
            out_audio = audio.add_noise(out_audio, noise, float(step.value))
        elif out_frames is not None:
            out_frames = _video_step(step.kind, step.value, out_frames, clip_generator(seed, key, condition, index))
    return out_audio, out_frames


def _video_step(kind: str, value, frames: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    if kind == "blur":
        return video.mer_blur(frames, int(value))
    if kind == "gauss":
        return video.gaussian_blur(frames, float(value))
    if kind == "jpeg":
        return video.jpeg(frames, int(value))
    if kind == "occlude":
        return video.occlude(frames, float(value), generator)
    if kind == "drop":
        return video.drop_frames(frames, float(value), generator)
    if kind == "blank":
        return video.blank(frames)
    raise ValueError(f"Unknown video corruption {kind!r}.")


class FolderClips(Mapping[str, torch.Tensor]):
    """The audio of the clips in a folder, by key, read when asked for (babble noise)."""

    def __init__(self, folder: Path, device: torch.device):
        self.folder, self.device = folder, device
        self.keys_ = sorted(path.stem for path in folder.glob("*.wav") if path.is_file())

    def __getitem__(self, key: str) -> torch.Tensor:
        if key not in self.keys_:
            raise KeyError(key)
        return torch.from_numpy(read_wav(self.folder / f"{key}.wav")).to(self.device)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys_)

    def __len__(self) -> int:
        return len(self.keys_)


def clip_keys(folder: Path) -> list[str]:
    """Keys of the clips in `folder`: stems of its WAV files and names of its frame folders."""
    keys = {path.stem for path in folder.glob("*.wav") if path.is_file()}
    keys |= {path.name for path in folder.iterdir() if path.is_dir()}
    return sorted(keys)


def apply_folder(
    condition: Condition, *, seed: int, input_dir: Path, output_dir: Path, device: str = "cpu"
) -> int:
    """Write the corrupted copy of the clean inputs in `input_dir` to `output_dir` (created; it
    must not hold files already) and return the number of clips."""
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    if not input_dir.is_dir():
        raise FileNotFoundError(f"No input folder {input_dir}.")
    output_dir.mkdir(parents=True, exist_ok=True)
    if any(output_dir.iterdir()):
        raise FileExistsError(f"The output folder {output_dir} is not empty.")
    target = torch.device(device)
    bank = [torch.from_numpy(read_wav(path)).to(target) for path in condition.noise_bank]
    clips = FolderClips(input_dir, target)
    keys = clip_keys(input_dir)
    for key in keys:
        wav, frame_dir = input_dir / f"{key}.wav", input_dir / key
        samples = torch.from_numpy(read_wav(wav)).to(target) if wav.is_file() else None
        names = sorted(p.name for p in frame_dir.glob("*.png")) if frame_dir.is_dir() else []
        frames = torch.from_numpy(np.stack([read_png(frame_dir / n) for n in names])).to(target) if names else None
        out_audio, out_frames = apply_condition(
            condition, key=key, seed=seed, audio_samples=samples, frames=frames, noise_bank=bank, clips=clips
        )
        if out_audio is not None:
            write_wav(output_dir / f"{key}.wav", out_audio.cpu().numpy())
        if frame_dir.is_dir():
            (output_dir / key).mkdir()
            for name, frame in zip(names, [] if out_frames is None else out_frames.cpu().numpy(), strict=True):
                write_png(output_dir / key / name, frame)
    for path in input_dir.iterdir():
        if path.is_file() and path.suffix != ".wav":
            shutil.copyfile(path, output_dir / path.name)
    return len(keys)
