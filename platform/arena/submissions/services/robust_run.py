"""Running a model on a phase's clean hidden inputs, once for each condition of its robustness protocol.

The clean inputs are unpacked once per worker host and input digest (``input_cache``). Each corrupted
condition is made by the platform's own corruption step on this host, cached per (inputs, condition,
seed, noise bank) (``condition_cache``), and mounted read-only at /input for one run of the model with
the track's limits, exactly as an unprotected run. What the runs wrote is collected into one ZIP,
``<condition>.csv`` per condition plus ``failures.json`` for those that failed, which the scoring
service scores condition by condition (``arena.submissions.services.robust_scoring``).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from arena.challenges.models import Phase, Track
from arena.challenges.robustness import Protocol
from arena.submissions.services.containers import ensure_container_inputs, unpack_container_inputs
from arena.submissions.services.robust_scoring import FAILURES_MEMBER
from arena.submissions.services.uploads import MB
from sandboxes import SandboxLimits, run_container
from sandboxes.conditions import ConditionCache, InputCache, prepare_condition
from sandboxes.messages import PREDICTIONS_FILE

log = logging.getLogger(__name__)

PREDICTIONS_ZIP = "predictions.zip"


def _cache_root() -> Path:
    return Path(settings.ARENA_CONDITION_CACHE_DIR)


def input_cache() -> InputCache:
    return InputCache(_cache_root() / "inputs", max_bytes=settings.ARENA_INPUT_CACHE_MB * MB)


def condition_cache() -> ConditionCache:
    return ConditionCache(_cache_root() / "conditions", max_bytes=settings.ARENA_CONDITION_CACHE_MB * MB)


def inputs_digest(phase: Phase) -> str:
    """The digest the phase's inputs are cached under: the stored sha256, else computed from the file."""
    if phase.container_inputs_sha256:
        return phase.container_inputs_sha256
    digest = hashlib.sha256()
    with phase.container_inputs.open("rb") as source:
        for chunk in iter(lambda: source.read(MB), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def clean_inputs(phase: Phase) -> Iterator[Path]:
    """The phase's clean hidden inputs, unpacked on this host (once per digest) and kept while in use.
    Raises DomainError when they cannot be unpacked (the organisers' set-up)."""
    ensure_container_inputs(phase)
    with input_cache().unpacked(inputs_digest(phase), lambda folder: unpack_container_inputs(phase, folder)) as folder:
        yield folder


def noise_bank_files(track: Track, folder: Path) -> list[Path]:
    """The track's noise-bank WAV files (its assets ending in .wav), copied into ``folder`` in path order."""
    assets = sorted((a for a in track.assets.all() if a.path.lower().endswith(".wav")), key=lambda a: a.path)
    if not assets:
        return []
    folder.mkdir(mode=0o755, exist_ok=True)
    folder.chmod(0o755)
    paths = []
    for index, asset in enumerate(assets):
        target = folder / f"{index:03d}-{Path(asset.path).name}"
        with asset.file.open("rb") as source, target.open("wb") as out:
            shutil.copyfileobj(source, out, length=MB)
        target.chmod(0o644)
        paths.append(target)
    return paths


@dataclass
class ProtocolRun:
    """What the runs of one submission produced: predictions by condition, failures by condition, logs."""

    predictions: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    model_seconds: dict[str, float] = field(default_factory=dict)

    def zip_bytes(self, protocol: Protocol) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in protocol.names:
                if name in self.predictions:
                    archive.writestr(f"{name}.csv", self.predictions[name])
            archive.writestr(FAILURES_MEMBER, json.dumps(self.failures, indent=1, sort_keys=True))
        return buffer.getvalue()


def run_protocol(image: str, *, protocol: Protocol, clean_dir: Path, digest: str, workdir: Path,
                 limits: SandboxLimits, noise_bank: list[Path], log_cap: int) -> ProtocolRun:
    """Run ``image`` once per condition, in protocol order. A condition whose run fails is recorded in
    ``failures``; with ``on_failure`` "submission" the remaining conditions are not run. Raises
    CorruptionError when a condition cannot be made (the organisers' inputs or the host)."""
    outcome = ProtocolRun()
    cache = condition_cache()
    gpu_ids = limits.gpu_device_ids if limits.gpus or limits.gpu_device_ids else ()
    share = max(1_000, log_cap // max(1, len(protocol.conditions)))
    for condition in protocol.conditions:
        with prepare_condition(clean_dir, inputs_digest=digest, condition=condition.spec, seed=protocol.seed,
                               cache=cache, noise_bank=noise_bank, gpu_device_ids=gpu_ids) as input_dir:
            output_dir = workdir / "output" / condition.name
            result = run_container(image, input_dir=input_dir, output_dir=output_dir, limits=limits)
        outcome.model_seconds[condition.name] = result.duration_s
        outcome.logs.append(f"== condition {condition.name} ({condition.spec}) ==\n{result.logs[-share:]}")
        if result.failure is not None:
            outcome.failures[condition.name] = result.failure
            log.info("condition %s failed: %s", condition.name, result.failure[:200])
            if protocol.on_failure == "submission":
                break
            continue
        outcome.predictions[condition.name] = (output_dir / PREDICTIONS_FILE).read_bytes()
        shutil.rmtree(output_dir, ignore_errors=True)
    return outcome
