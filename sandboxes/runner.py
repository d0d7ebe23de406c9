"""Running a submitted model image in a sandbox and reporting what happened.

`run_container` creates the run's keeper and model containers (see `sandboxes.spec`), waits for
the model at most `wall_seconds`, kills it when it overruns, reads its capped logs, copies
/output into the host folder, and removes both containers and the output volume on every path,
exceptions and KeyboardInterrupt included.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from sandboxes import messages
from sandboxes.engine import SANDBOX_LABEL, docker_client
from sandboxes.errors import SandboxError
from sandboxes.limits import SandboxLimits
from sandboxes.outputs import PAGE_BYTES, CopiedOutput, copy_output
from sandboxes.spec import (
    KEEPER_IMAGE,
    OUTPUT_MAX_INODES,
    RUN_LABEL,
    build_container_spec,
    container_name,
    keeper_container_spec,
    new_run_id,
    output_volume_name,
)

log = logging.getLogger(__name__)

# Seconds to wait for a killed container to be reported stopped.
KILL_GRACE_S = 30


@dataclass(frozen=True)
class RunResult:
    """What a sandbox run did.

    `exit_code` is None when the model never started or was stopped at the time limit.
    `output_files` are paths relative to the output folder. `logs` holds at most `log_bytes`
    bytes (the end of the output, stdout and stderr interleaved); `logs_truncated` says that
    earlier lines were dropped. `failure` is a message for the participant, or None when the
    model exited with 0 and wrote /output/predictions.csv.
    """

    exit_code: int | None
    timed_out: bool
    oom_killed: bool
    duration_s: float
    output_files: list[str] = field(default_factory=list)
    logs: str = ""
    logs_truncated: bool = False
    output_truncated: bool = False
    failure: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.failure is None


def run_container(
    image: str,
    *,
    input_dir: Path,
    output_dir: Path,
    limits: SandboxLimits,
    client: docker.DockerClient | None = None,
    command: str | Sequence[str] | None = None,
    environment: Mapping[str, str] | None = None,
) -> RunResult:
    """Run `image` on the files of `input_dir` (mounted read-only at /input) and copy what it
    writes to /output into `output_dir` (created when missing; must be empty).

    The container is locked down as `build_container_spec` describes and always removed, with
    its keeper and output volume. `input_dir` must be readable by `limits.user`. Raises
    SandboxError when the platform cannot run the image (image or keeper image missing, engine
    failure); everything the model itself does ends in the returned RunResult.
    """
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    if not input_dir.is_dir():
        raise SandboxError(f"the input folder {input_dir} does not exist")
    output_dir.mkdir(parents=True, exist_ok=True)
    if any(output_dir.iterdir()):
        raise SandboxError(f"the output folder {output_dir} is not empty")
    client = docker_client(client)
    run_id = new_run_id()
    spec = build_container_spec(
        image,
        input_dir=input_dir,
        output_dir=output_dir,
        limits=limits,
        command=command,
        environment=environment,
        run_id=run_id,
    )
    try:
        return _run(client, spec, limits, run_id, output_dir)
    except (DockerException, requests.exceptions.RequestException) as exc:
        raise SandboxError(f"the Docker engine failed during a sandbox run: {exc}") from exc
    finally:
        remove_run(run_id, client=client)


def _run(
    client: docker.DockerClient,
    spec: dict[str, object],
    limits: SandboxLimits,
    run_id: str,
    output_dir: Path,
) -> RunResult:
    try:
        keeper = client.containers.create(**keeper_container_spec(limits, run_id))
    except ImageNotFound as exc:
        raise SandboxError(
            f"the keeper image {KEEPER_IMAGE} is missing: run infra/sandbox-images/build.sh"
        ) from exc
    # The keeper starts while the model container is created; it must run before the model
    # starts, so that the output volume outlives the model.
    refusal: APIError | None = None
    with ThreadPoolExecutor(max_workers=1) as background:
        keeper_started = background.submit(keeper.start)
        try:
            model = client.containers.create(**spec)
        except ImageNotFound as exc:
            raise SandboxError(f"the image {spec['image']} is not on this worker") from exc
        except APIError as exc:
            if not exc.is_client_error():
                raise
            refusal = exc
        finally:
            keeper_started.result()
    started = time.monotonic()
    if refusal is None:
        try:
            model.start()
        except APIError as exc:
            if not exc.is_client_error():
                raise
            refusal = exc
    if refusal is not None:
        # The engine refused the image's own configuration (no command, bad entrypoint...).
        return RunResult(
            exit_code=None,
            timed_out=False,
            oom_killed=False,
            duration_s=time.monotonic() - started,
            failure=messages.could_not_start(str(refusal.explanation or refusal)),
        )
    exit_code, timed_out, ended = _wait(model, limits.wall_seconds)
    duration = ended - started

    model.reload()
    oom_killed = bool(model.attrs["State"].get("OOMKilled"))
    logs, logs_truncated = _capped_logs(model, limits.log_bytes)
    stream, _ = keeper.get_archive("/output")
    copied = copy_output(stream, output_dir, max_bytes=limits.output_mb * 2**20)
    output_truncated = _output_full(copied, limits)
    if copied.skipped:
        log.info("run %s: skipped non-regular outputs %s", run_id, copied.skipped[:20])
    result = RunResult(
        exit_code=exit_code,
        timed_out=timed_out,
        oom_killed=oom_killed,
        duration_s=duration,
        output_files=copied.files,
        logs=logs,
        logs_truncated=logs_truncated,
        output_truncated=output_truncated,
    )
    return _with_failure(result, limits)


def _wait(model, wall_seconds: float) -> tuple[int | None, bool, float]:  # type: ignore[no-untyped-def]
    """Wait for the model; kill it at the time limit.

    Returns (exit code, timed out, when it ended on the monotonic clock)."""
    try:
        status = model.wait(timeout=wall_seconds)
        return int(status["StatusCode"]), False, time.monotonic()
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        ended = time.monotonic()
    try:
        model.kill()
    except APIError as exc:
        if exc.status_code != 409:  # 409: it stopped on its own just now
            raise
        return int(model.wait(timeout=KILL_GRACE_S)["StatusCode"]), False, ended
    model.wait(timeout=KILL_GRACE_S)
    return None, True, ended


def _capped_logs(model, log_bytes: int) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    """The last `log_bytes` bytes of the model's output (the engine keeps a bounded amount)."""
    raw: bytes = model.logs(stdout=True, stderr=True)
    truncated = len(raw) > log_bytes
    if truncated:
        raw = raw[-log_bytes:]
        # Start at a line boundary when one is near, rather than mid-line.
        newline = raw.find(b"\n", 0, 1024)
        if newline >= 0:
            raw = raw[newline + 1 :]
    return raw.decode("utf-8", errors="replace"), truncated


def _output_full(copied: CopiedOutput, limits: SandboxLimits) -> bool:
    """True when /output ran out of space or inodes (so the model got ENOSPC), or the copy
    was cut at the budget."""
    pages_total = limits.output_mb * 2**20 // PAGE_BYTES
    return (
        copied.cut
        or copied.pages_used >= pages_total - 1
        or copied.entries >= OUTPUT_MAX_INODES - 1
    )


def _with_failure(result: RunResult, limits: SandboxLimits) -> RunResult:
    failure: str | None
    if result.timed_out:
        failure = messages.timed_out(limits)
    elif result.oom_killed:
        failure = messages.out_of_memory(limits)
    elif result.output_truncated:
        failure = messages.output_too_large(limits)
    elif result.exit_code != 0:
        failure = messages.exited_with(result.exit_code or 0, limits, result.logs)
    elif messages.PREDICTIONS_FILE not in result.output_files:
        failure = messages.no_predictions(result.output_files)
    else:
        failure = None
    return replace(result, failure=failure)


def remove_run(run_id: str, *, client: docker.DockerClient | None = None) -> None:
    """Remove the containers and the output volume of run `run_id`, whatever state they are
    in; what is already gone is fine. Engine errors are logged, never raised."""
    client = docker_client(client)

    def remove(role: str) -> None:
        _quietly(lambda: client.api.remove_container(
            container_name(run_id, role), force=True, v=True))

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(remove, ("model", "keeper")))
    _quietly(lambda: client.api.remove_volume(output_volume_name(run_id), force=True))


def _quietly(action) -> None:  # type: ignore[no-untyped-def]
    try:
        action()
    except NotFound:
        pass
    except (DockerException, requests.exceptions.RequestException) as exc:
        log.warning("sandbox clean-up failed: %s", exc)


def sweep_sandboxes(
    *,
    client: docker.DockerClient | None = None,
    older_than_s: float = 0.0,
    run_id: str | None = None,
) -> int:
    """Remove sandbox containers (label `arena.sandbox=1`, or only run `run_id`'s) created
    more than `older_than_s` seconds ago, then the sandbox volumes no container uses any more;
    return how many containers went.

    For a worker's start-up, after a crash that skipped the clean-up of `run_container`: pass
    an age above the longest time limit, so that live runs of other workers are spared.
    """
    client = docker_client(client)
    label = f"{RUN_LABEL}={run_id}" if run_id else f"{SANDBOX_LABEL}=1"
    now = time.time()
    removed = 0
    for summary in client.api.containers(all=True, filters={"label": label}):
        if now - float(summary.get("Created", 0)) >= older_than_s:
            _quietly(lambda c=summary["Id"]: client.api.remove_container(c, force=True, v=True))
            removed += 1
    for volume in client.api.volumes(filters={"label": label}).get("Volumes") or []:
        try:
            client.api.remove_volume(volume["Name"])
        except APIError:
            pass  # still used by a live run
    return removed
