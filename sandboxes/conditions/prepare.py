"""The trusted corruption step: a condition's inputs, made on the sandbox host from the clean ones.

`prepare_condition` returns (and pins) the folder of one condition's corrupted inputs, from the
`ConditionCache` when this host made it before, else by running `python -m sandboxes.corruptions
apply` in the platform's own image (`CORRUPT_IMAGE`) as a locked-down container: no network, a
read-only root, no capabilities, a non-root user, memory, CPU, pids and time limits. /clean (the
clean inputs) and the noise bank are bound read-only; /out, the cache's fresh temp folder, is
bound read-write: the step is platform code, so a bind mount is fine here, unlike for models.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.types import LogConfig, Mount, Ulimit

from sandboxes.conditions.cache import ConditionCache
from sandboxes.corruptions import Condition, ConditionError, parse_condition
from sandboxes.engine import docker_client
from sandboxes.errors import SandboxError
from sandboxes.limits import SandboxLimits
from sandboxes.spec import container_name, gpu_device_requests, hardening_options, new_run_id

log = logging.getLogger(__name__)

CORRUPT_REPOSITORY = "arena/sandbox-corrupt"
# The image holding `sandboxes.corruptions`; built by infra/sandbox-images/build.sh.
CORRUPT_IMAGE = os.environ.get("ARENA_SANDBOX_CORRUPT_IMAGE", f"{CORRUPT_REPOSITORY}:latest")
CORRUPT_ROLE = "corrupt"
# Every corruption container carries the cache key of what it makes.
CONDITION_LABEL = "arena.sandbox.condition"

# One CPU thread (the command line's default) keeps float sums in one order, run after run.
DEFAULT_CORRUPTION_LIMITS = SandboxLimits(
    wall_seconds=3600, memory_mb=4096, cpus=1.0, pids=128, tmpfs_mb=256, log_bytes=16_000
)
# Seconds to wait for a killed container to be reported stopped.
KILL_GRACE_S = 30
# How many lines of the container's output a CorruptionError quotes at most.
DETAIL_LINES = 5

CLEAN_TARGET = "/clean"
OUTPUT_TARGET = "/out"
BANK_TARGET = "/bank"


class CorruptionError(SandboxError):
    """The corruption step failed: a wrong condition, unreadable clean inputs, the image
    missing, a limit hit or the engine failing. The message says which, quoting the step's last
    output lines (never a stack trace)."""


def noise_bank_digest(paths: Sequence[Path]) -> str:
    """A hex digest of the noise bank's WAV files: their bytes, in order (order matters: clips
    draw from the bank by index); "" for no bank."""
    if not paths:
        return ""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


@contextlib.contextmanager
def prepare_condition(
    clean_dir: Path,
    *,
    inputs_digest: str,
    condition: str,
    seed: int,
    cache: ConditionCache,
    noise_bank: Sequence[Path] = (),
    gpu_device_ids: Sequence[str] = (),
    limits: SandboxLimits = DEFAULT_CORRUPTION_LIMITS,
    client: docker.DockerClient | None = None,
) -> Iterator[Path]:
    """Yield a folder holding `condition`'s corruption of the clean inputs in `clean_dir`,
    readable by any user (folders 0755, files 0644), to bind at /input for the model.

    Use it as ``with prepare_condition(...) as input_dir:``; the folder is not evicted until the
    block ends. "clean" yields `clean_dir` itself. Otherwise the folder comes from `cache`,
    keyed by `inputs_digest` (the caller's digest of the clean inputs), the canonical condition
    name, `seed` and the digest of the noise bank when the condition draws from it; on a miss it
    is made once per host, by one container, whatever the number of concurrent callers.
    `clean_dir` and `noise_bank` must be readable by uid 65534. With `gpu_device_ids`, the step
    runs on the first of those GPUs (`--device cuda`), else on the CPU. Raises CorruptionError.
    """
    try:
        parsed = parse_condition(condition, noise_bank=[str(path) for path in noise_bank])
    except ConditionError as exc:
        raise CorruptionError(str(exc)) from exc
    clean_dir = Path(clean_dir)
    if not clean_dir.is_dir():
        raise CorruptionError(f"the clean inputs folder {clean_dir} does not exist")
    if not parsed.steps:
        yield clean_dir
        return
    bank = tuple(Path(p) for p in noise_bank) if _uses_bank(parsed) else ()
    try:
        bank_digest = noise_bank_digest(bank)
    except OSError as exc:
        raise CorruptionError(f"cannot read the noise bank file {exc.filename}: {exc.strerror}") from exc
    key = cache.key_for(inputs_digest, parsed.name, seed, bank_digest)

    def fill(output_dir: Path) -> None:
        corrupt_inputs(
            clean_dir, output_dir, condition=parsed, seed=seed, noise_bank=bank,
            gpu_device_ids=gpu_device_ids, limits=limits, client=client,
            labels={CONDITION_LABEL: key},
        )

    description = {"inputs_digest": inputs_digest, "condition": parsed.name, "seed": int(seed),
                   "noise_bank_digest": bank_digest}
    with cache.pinned(key, fill, description=description) as folder:
        yield folder


def _uses_bank(condition: Condition) -> bool:
    return any(step.kind == "noise" and step.source == "bank" for step in condition.steps)


def corrupt_inputs(
    clean_dir: Path,
    output_dir: Path,
    *,
    condition: Condition,
    seed: int,
    noise_bank: Sequence[Path] = (),
    gpu_device_ids: Sequence[str] = (),
    limits: SandboxLimits = DEFAULT_CORRUPTION_LIMITS,
    client: docker.DockerClient | None = None,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Write `condition`'s corruption of `clean_dir` into the empty folder `output_dir`, in one
    corruption container (no cache); the container is removed on every path. Raises
    CorruptionError."""
    try:
        client = docker_client(client)
    except SandboxError as exc:
        raise CorruptionError(exc.message) from exc
    run_id = new_run_id()
    user = _step_user(limits)
    if os.geteuid() == 0:
        os.chown(output_dir, user[0], user[1])
    spec = corruption_container_spec(
        condition=condition, seed=seed, clean_dir=clean_dir, output_dir=output_dir,
        noise_bank=noise_bank, gpu_device_ids=gpu_device_ids,
        limits=replace(limits, user=f"{user[0]}:{user[1]}"), run_id=run_id, labels=labels,
    )
    try:
        _run(client, spec, limits, condition, noise_bank)
    except (DockerException, requests.exceptions.RequestException) as exc:
        raise CorruptionError(
            f"the Docker engine failed while corrupting the inputs for {condition.name!r}: {exc}"
        ) from exc
    finally:
        _remove(client, container_name(run_id, CORRUPT_ROLE))
        if os.geteuid() == 0:
            _chown_tree(output_dir, os.getuid(), os.getgid())


def _step_user(limits: SandboxLimits) -> tuple[int, int]:
    """Who the step runs as: the worker's own user, so that it owns what the step writes; a
    root worker gives it `limits.user` instead (the output folder is lent to that user)."""
    if os.geteuid() == 0:
        return limits.uid, limits.gid
    return os.getuid(), os.getgid()


def corruption_container_spec(
    *,
    condition: Condition,
    seed: int,
    clean_dir: Path,
    output_dir: Path,
    noise_bank: Sequence[Path] = (),
    gpu_device_ids: Sequence[str] = (),
    limits: SandboxLimits = DEFAULT_CORRUPTION_LIMITS,
    run_id: str | None = None,
    labels: Mapping[str, str] | None = None,
    image: str = CORRUPT_IMAGE,
) -> dict[str, object]:
    """Return the keyword arguments of `client.containers.create` for a corruption step: the
    sandbox lock-down of `sandboxes.spec` (role "corrupt", `limits.user`), `clean_dir` bound
    read-only at /clean, each noise bank file read-only under /bank, `output_dir` bound
    read-write at /out, and GPUs only when `gpu_device_ids` are given."""
    run_id = run_id or new_run_id()
    bank_targets = [f"{BANK_TARGET}/{index:03d}.wav" for index in range(len(noise_bank))]
    device = "cuda" if gpu_device_ids else "cpu"
    command = [
        "python3", "-m", "sandboxes.corruptions", "apply", "--condition", condition.name,
        "--seed", str(int(seed)), "--input", CLEAN_TARGET, "--output", OUTPUT_TARGET,
        "--device", device,
    ]
    if bank_targets:
        command += ["--noise-bank", *bank_targets]
    hardening = hardening_options(limits, run_id, CORRUPT_ROLE)
    mounts = [
        Mount(target=CLEAN_TARGET, source=str(Path(clean_dir).resolve()), type="bind", read_only=True),
        *[
            Mount(target=target, source=str(Path(path).resolve()), type="bind", read_only=True)
            for target, path in zip(bank_targets, noise_bank, strict=True)
        ],
        Mount(target=OUTPUT_TARGET, source=str(Path(output_dir).resolve()), type="bind"),
    ]
    threads = "1"
    spec: dict[str, object] = {
        "image": image,
        **hardening,
        "labels": {**hardening["labels"], **(labels or {})},  # type: ignore[dict-item]
        "command": command,
        "environment": {"HOME": "/tmp", "TMPDIR": "/tmp", "OMP_NUM_THREADS": threads,
                        "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads},
        "mem_limit": f"{limits.memory_mb}m",
        "memswap_limit": f"{limits.memory_mb}m",
        "nano_cpus": int(round(limits.cpus * 1e9)),
        "pids_limit": limits.pids,
        "ulimits": [
            Ulimit(name="nofile", soft=limits.nofile, hard=limits.nofile),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "mounts": mounts,
        "log_config": LogConfig(type="json-file", config={"max-size": "1m", "max-file": "2"}),
    }
    if gpu_device_ids:
        spec["device_requests"] = gpu_device_requests(
            replace(limits, gpus=0, gpu_device_ids=tuple(gpu_device_ids))
        )
    return spec


def _run(
    client: docker.DockerClient,
    spec: dict[str, object],
    limits: SandboxLimits,
    condition: Condition,
    noise_bank: Sequence[Path],
) -> None:
    what = f"corrupting the clean inputs for {condition.name!r}"
    try:
        container = client.containers.create(**spec)
    except ImageNotFound as exc:
        raise CorruptionError(
            f"the corruption image {spec['image']} is missing: run infra/sandbox-images/build.sh"
        ) from exc
    container.start()
    try:
        exit_code: int | None = int(container.wait(timeout=limits.wall_seconds)["StatusCode"])
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        exit_code = None
        with contextlib.suppress(APIError):  # 409: it stopped on its own just now
            container.kill()
        container.wait(timeout=KILL_GRACE_S)
    if exit_code == 0:
        return
    container.reload()
    if exit_code is None:
        raise CorruptionError(f"{what} took longer than {limits.wall_seconds:g} s and was stopped")
    if container.attrs["State"].get("OOMKilled"):
        raise CorruptionError(f"{what} ran out of memory (limit {limits.memory_mb} MB)")
    raw: bytes = container.logs(stdout=True, stderr=True)[-limits.log_bytes:]
    detail = failure_detail(raw.decode("utf-8", errors="replace"), noise_bank)
    raise CorruptionError(f"{what} failed (exit code {exit_code}): {detail}")


_EXCEPTION_NAME = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?([A-Za-z_]\w*(?:Error|Exception)): ")


def failure_detail(logs: str, noise_bank: Sequence[Path] = ()) -> str:
    """What the step's output says went wrong, in at most DETAIL_LINES lines: the exception
    line(s) of the last traceback (its frames left out), else the last lines. Container paths
    are given as the organiser knows them: a clip's name relative to the clean inputs, a noise
    bank file's own name.

    >>> failure_detail('Traceback (most recent call last):\\n  File "x.py", line 1\\n'
    ...                'sandboxes.corruptions.io.ClipFormatError: /clean/b.wav: not a PCM WAV file.\\n')
    'b.wav: not a PCM WAV file.'
    """
    lines = [line.rstrip() for line in logs.splitlines() if line.strip()]
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if starts:
        after = lines[starts[-1] + 1:]
        lines = [line for line in after if not line.startswith((" ", "\t"))] or after[-1:]
        lines = [_EXCEPTION_NAME.sub("", line) for line in lines]
    text = "\n".join(lines[-DETAIL_LINES:]) or "no output"
    for index, path in enumerate(noise_bank):
        text = text.replace(f"{BANK_TARGET}/{index:03d}.wav", f"noise bank file {Path(path).name}")
    return text.replace(f"{CLEAN_TARGET}/", "").replace(CLEAN_TARGET, "the clean inputs folder")


def _remove(client: docker.DockerClient, name: str) -> None:
    try:
        client.api.remove_container(name, force=True, v=True)
    except NotFound:
        pass
    except (DockerException, requests.exceptions.RequestException) as exc:
        log.warning("could not remove the corruption container %s: %s", name, exc)


def _chown_tree(folder: Path, uid: int, gid: int) -> None:
    """Give back to the worker what the step wrote (as `limits.user`), so that no other host
    process running as that user can change a cache entry."""
    os.lchown(folder, uid, gid)
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.lchown(os.path.join(parent, name), uid, gid)
