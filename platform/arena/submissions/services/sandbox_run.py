"""Running a containerised submission in the sandbox, then scoring what it wrote."""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile

from arena.challenges.models import Track
from arena.core.errors import DomainError
from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services import lifecycle
from arena.submissions.services.containers import track_image_allowlist, unpack_container_inputs
from arena.submissions.services.failure import FailureCause, submission_fail
from arena.submissions.services.lease import lease_kept
from arena.submissions.services.scoring import MISCONFIGURED_MESSAGE, submission_score_held
from arena.submissions.services.uploads import MB
from sandboxes import (
    SandboxError,
    SandboxLimits,
    engine_available,
    load_image_archive,
    pull_image,
    run_container,
    sweep_sandboxes,
    worker_gpu_ids,
)

log = logging.getLogger(__name__)

LOG_CAP = 64_000


class EngineUnavailable(Exception):
    """The worker's Docker engine does not answer: a transient problem, retried by the task."""


def sandbox_limits(track: Track) -> SandboxLimits:
    gpus = track.container_gpus
    return SandboxLimits(
        wall_seconds=float(track.container_wall_seconds), memory_mb=track.container_memory_mb,
        cpus=float(Decimal(track.container_cpus)), pids=track.container_pids, log_bytes=LOG_CAP, gpus=gpus,
        # A worker may own specific GPUs; a CPU-only track never gets any.
        gpu_device_ids=worker_gpu_ids() if gpus else (),
    )


def _image_for(submission: Submission, workdir: Path) -> str:
    track = submission.phase.track
    if submission.image_reference:
        return pull_image(submission.image_reference, allowlist=track_image_allowlist(track))
    archive = workdir / "image.tar"
    with submission.image_archive.open("rb") as source, archive.open("wb") as out:
        shutil.copyfileobj(source, out, length=MB)
    return load_image_archive(archive, max_bytes=track.max_image_mb * MB)


def submission_run_container(*, submission_id: int, token: uuid.UUID | None) -> str:
    """Claim a queued container submission with ``token``, run the model on the phase's hidden inputs and
    score its predictions. Only the message carrying the current claim token goes on, so a redelivered
    or duplicate message never starts a second run of the same model."""
    status = lifecycle.submission_status(submission_id)
    if status != SubmissionStatus.QUEUED:
        return status
    if not engine_available():
        raise EngineUnavailable("the Docker engine of this worker does not answer")
    if not lifecycle.submission_claim(submission_id=submission_id, token=token, to=SubmissionStatus.RUNNING):
        return lifecycle.submission_status(submission_id)
    submission = Submission.objects.select_related("phase__track").get(pk=submission_id)
    if submission.attempts > settings.ARENA_MAX_ATTEMPTS:
        submission_fail(submission_id=submission_id, token=token, cause=FailureCause.PLATFORM, message=(
            f"Running your model was interrupted {submission.attempts - 1} times, so it was stopped. "
            "This does not count against your limits; check its memory use and submit again."),
            detail="attempt cap reached")
        return lifecycle.submission_status(submission_id)
    with lease_kept(submission_id=submission_id, token=token):
        predictions = _run(submission, token)
    if predictions is None:
        return lifecycle.submission_status(submission_id)
    submission.file.save("predictions.csv", ContentFile(predictions), save=False)
    Submission.objects.filter(pk=submission_id, claim_token=token).update(
        file=submission.file.name, file_size=len(predictions))
    if not lifecycle.submission_mark_scoring(submission_id=submission_id, token=token):
        return lifecycle.submission_status(submission_id)
    return submission_score_held(submission_id=submission_id, token=token)


def _run(submission: Submission, token) -> bytes | None:
    """The model's predictions, or None after failing the submission with what went wrong."""
    submission_id = submission.pk
    track = submission.phase.track
    work_root = settings.ARENA_SANDBOX_WORK_DIR or None
    with tempfile.TemporaryDirectory(prefix="arena-run-", dir=work_root) as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o755)
        try:
            image = _image_for(submission, workdir)
            Submission.objects.filter(pk=submission_id).update(image_digest=image.rsplit("@", 1)[-1][:100])
        except SandboxError as exc:
            # With the engine up, a refused archive or reference is the submission's own problem;
            # the message says what to change.
            submission_fail(submission_id=submission_id, token=token, message=str(exc))
            return None
        try:
            unpack_container_inputs(submission.phase, workdir / "input")
        except DomainError as exc:  # the phase's inputs: the organisers' set-up
            submission_fail(submission_id=submission_id, token=token, message=MISCONFIGURED_MESSAGE,
                            detail=f"inputs of phase {submission.phase_id}: {exc.message}",
                            cause=FailureCause.CONFIGURATION)
            return None
        try:
            result = run_container(image, input_dir=workdir / "input", output_dir=workdir / "output",
                                   limits=sandbox_limits(track))
        except SandboxError as exc:
            submission_fail(submission_id=submission_id, token=token, message=str(exc))
            return None
        Submission.objects.filter(pk=submission_id).update(logs=result.logs[-LOG_CAP:])
        if result.failure is not None:
            submission_fail(submission_id=submission_id, token=token, message=result.failure,
                            detail=f"exit={result.exit_code} timed_out={result.timed_out} oom={result.oom_killed}")
            return None
        return (workdir / "output" / "predictions.csv").read_bytes()


def submission_fail_no_sandbox(*, submission_id: int) -> str:
    """Give up when no sandbox engine answered after every retry; the team may submit again."""
    submission_fail(
        submission_id=submission_id, cause=FailureCause.PLATFORM, detail="engine unavailable",
        sources=[SubmissionStatus.QUEUED],
        message=("No sandbox host could run your model (its container engine did not answer). This does not "
                 "count against your limits; submit again later, and tell the organisers if it persists."))
    return lifecycle.submission_status(submission_id)


def sandbox_host_sweep() -> int:
    """Remove the sandbox containers and volumes a crashed run left on this host: those older than any live
    run can be (the container task's time limit), so other workers' runs are spared."""
    if not engine_available():
        log.warning("sandbox sweep at start: no container engine answers")
        return 0
    removed = sweep_sandboxes(older_than_s=settings.ARENA_CONTAINER_TASK_SECONDS + 120)
    log.info("sandbox sweep at start: removed %d container(s) left by crashed runs", removed)
    return removed
