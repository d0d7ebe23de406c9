"""Running a containerised submission in the sandbox, then scoring what it wrote."""

from __future__ import annotations

import logging
import tempfile
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile

from arena.challenges.models import Track
from arena.challenges.robustness import phase_protocol
from arena.core.errors import DomainError
from arena.core.storage import StoredObjectChanged, stored_copy
from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services import lifecycle
from arena.submissions.services.containers import (
    archive_refusal_message,
    track_image_allowlist,
)
from arena.submissions.services.direct_upload import MODEL_UPLOAD_PREFIX
from arena.submissions.services.failure import FailureCause, submission_fail
from arena.submissions.services.lease import lease_kept
from arena.submissions.services.robust_run import (
    PREDICTIONS_ZIP,
    clean_inputs,
    inputs_digest,
    noise_bank_files,
    run_protocol,
)
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
from sandboxes.conditions import CorruptionError

log = logging.getLogger(__name__)

LOG_CAP = 64_000
UPLOAD_CLOCK_MARGIN = timedelta(seconds=10)
ARCHIVE_REPLACED_MESSAGE = (
    "Your model archive was uploaded again after you submitted it, so it is not the model you submitted; "
    "it was not run. Submit the model again (with a new upload ticket).")


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
    key = submission.image_archive.name
    # A direct upload's ticket stays valid for a while after the submission: a model uploaded again
    # since then is not the one submitted (the margin absorbs clock differences with the storage).
    since = submission.created_at + UPLOAD_CLOCK_MARGIN if key.startswith(f"{MODEL_UPLOAD_PREFIX}/") else None
    try:
        with archive.open("wb") as out:  # streamed: an archive of several GB never sits in memory
            sha256, _ = stored_copy(key, out, unmodified_since=since)
    except StoredObjectChanged:
        raise SandboxError(ARCHIVE_REPLACED_MESSAGE) from None
    Submission.objects.filter(pk=submission.pk, file_sha256="").update(file_sha256=sha256)
    try:
        return load_image_archive(archive, max_bytes=track.max_image_mb * MB)
    except SandboxError as exc:
        raise SandboxError(archive_refusal_message(exc)) from None


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
        output = _run(submission, token)
    if output is None:
        return lifecycle.submission_status(submission_id)
    name, predictions = output
    submission.file.save(name, ContentFile(predictions), save=False)
    Submission.objects.filter(pk=submission_id, claim_token=token).update(
        file=submission.file.name, file_size=len(predictions))
    if not lifecycle.submission_mark_scoring(submission_id=submission_id, token=token):
        return lifecycle.submission_status(submission_id)
    return submission_score_held(submission_id=submission_id, token=token)


def _run(submission: Submission, token) -> tuple[str, bytes] | None:
    """The model's output to score, as (file name, bytes): its predictions.csv, or under a robustness
    protocol the ZIP of every condition's predictions; None after failing the submission with what went
    wrong."""
    submission_id = submission.pk
    phase = submission.phase
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
            with clean_inputs(phase) as input_dir:
                protocol = phase_protocol(phase)
                if protocol is None:
                    return _run_once(submission, token, image, input_dir, workdir)
                return _run_protocol(submission, token, image, protocol, input_dir, workdir)
        except DomainError as exc:  # the phase's inputs: the organisers' set-up
            _fail_misconfigured(submission, token, f"inputs of phase {submission.phase_id}: {exc.message}")
            return None
        except CorruptionError as exc:  # a condition could not be made from the organisers' inputs
            _fail_misconfigured(submission, token, f"robustness conditions of phase {submission.phase_id}: {exc}")
            return None


def _fail_misconfigured(submission: Submission, token, detail: str) -> None:
    submission_fail(submission_id=submission.pk, token=token, message=MISCONFIGURED_MESSAGE, detail=detail,
                    cause=FailureCause.CONFIGURATION)


def _run_once(submission: Submission, token, image: str, input_dir: Path, workdir: Path) -> tuple[str, bytes] | None:
    try:
        result = run_container(image, input_dir=input_dir, output_dir=workdir / "output",
                               limits=sandbox_limits(submission.phase.track))
    except SandboxError as exc:
        submission_fail(submission_id=submission.pk, token=token, message=str(exc))
        return None
    Submission.objects.filter(pk=submission.pk).update(logs=result.logs[-LOG_CAP:])
    if result.failure is not None:
        submission_fail(submission_id=submission.pk, token=token, message=result.failure,
                        detail=f"exit={result.exit_code} timed_out={result.timed_out} oom={result.oom_killed}")
        return None
    return "predictions.csv", (workdir / "output" / "predictions.csv").read_bytes()


def _run_protocol(submission: Submission, token, image: str, protocol, input_dir: Path,
                  workdir: Path) -> tuple[str, bytes] | None:
    """One run per condition; failed conditions are scored as the protocol says (robust_scoring)."""
    track = submission.phase.track
    try:
        outcome = run_protocol(image, protocol=protocol, clean_dir=input_dir, digest=inputs_digest(submission.phase),
                               workdir=workdir, limits=sandbox_limits(track), log_cap=LOG_CAP,
                               noise_bank=noise_bank_files(track, workdir / "noise-bank"))
    except CorruptionError:
        raise  # the organisers' inputs or this host: handled by _run
    except SandboxError as exc:
        submission_fail(submission_id=submission.pk, token=token, message=str(exc))
        return None
    Submission.objects.filter(pk=submission.pk).update(logs="\n".join(outcome.logs)[-LOG_CAP:])
    return PREDICTIONS_ZIP, outcome.zip_bytes(protocol)


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
