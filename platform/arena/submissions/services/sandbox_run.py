"""Running a containerised submission in the sandbox, then scoring what it wrote."""

from __future__ import annotations

import logging
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import F

from arena.challenges.models import Track
from arena.core.errors import DomainError
from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services import lifecycle
from arena.submissions.services.containers import track_image_allowlist, unpack_container_inputs
from arena.submissions.services.scoring import submission_score
from arena.submissions.services.uploads import MB
from sandboxes import (
    SandboxError,
    SandboxLimits,
    engine_available,
    load_image_archive,
    pull_image,
    run_container,
    worker_gpu_ids,
)

log = logging.getLogger(__name__)



class EngineUnavailable(Exception):
    """The worker's Docker engine does not answer: a transient problem, retried by the task."""
LOG_CAP = 64_000


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


def submission_run_container(*, submission_id: int) -> str:
    """Run the model on the phase's hidden inputs and score its predictions. Safe to run again."""
    submission = Submission.objects.select_related("phase__track").get(pk=submission_id)
    if submission.status in (SubmissionStatus.QUEUED, SubmissionStatus.RUNNING) and not engine_available():
        raise EngineUnavailable("the Docker engine of this worker does not answer")
    if submission.status == SubmissionStatus.SCORING:  # the run finished before a crash
        return submission_score(submission_id=submission_id, count_attempt=False)
    if submission.status == SubmissionStatus.QUEUED:
        if not lifecycle.submission_mark_running(submission_id=submission_id):
            return Submission.objects.values_list("status", flat=True).get(pk=submission_id)
    elif submission.status != SubmissionStatus.RUNNING:
        return submission.status
    Submission.objects.filter(pk=submission_id).update(attempts=F("attempts") + 1)
    submission.refresh_from_db()
    if submission.attempts > settings.ARENA_MAX_ATTEMPTS:
        _fail_run(submission_id, message=(
            f"Running your model was interrupted {submission.attempts - 1} times, so it was stopped. "
            "This does not count against your limits; check its memory use and submit again."),
            detail="attempt cap reached")
        return SubmissionStatus.FAILED
    track = submission.phase.track
    work_root = settings.ARENA_SANDBOX_WORK_DIR or None
    with tempfile.TemporaryDirectory(prefix="arena-run-", dir=work_root) as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o755)
        try:
            image = _image_for(submission, workdir)
            Submission.objects.filter(pk=submission_id).update(image_digest=image.rsplit("@", 1)[-1][:100])
            unpack_container_inputs(submission.phase, workdir / "input")
            result = run_container(image, input_dir=workdir / "input", output_dir=workdir / "output",
                                   limits=sandbox_limits(track))
        except SandboxError as exc:
            # With the engine up, a refused archive or reference is the submission's own problem;
            # the message says what to change.
            _fail_run(submission_id, message=str(exc))
            return SubmissionStatus.FAILED
        except DomainError as exc:
            log.error("sandbox run of submission %s: %s", submission_id, exc.message)
            _fail_run(submission_id, message=exc.message, detail=exc.code)
            return SubmissionStatus.FAILED
        Submission.objects.filter(pk=submission_id).update(logs=result.logs[-LOG_CAP:])
        if result.failure is not None:
            _fail_run(submission_id, message=result.failure,
                      detail=f"exit={result.exit_code} timed_out={result.timed_out} oom={result.oom_killed}")
            return SubmissionStatus.FAILED
        predictions = (workdir / "output" / "predictions.csv").read_bytes()
    submission.file.save("predictions.csv", ContentFile(predictions), save=False)
    Submission.objects.filter(pk=submission_id).update(file=submission.file.name, file_size=len(predictions))
    if not lifecycle.submission_mark_scoring(submission_id=submission_id):
        return Submission.objects.values_list("status", flat=True).get(pk=submission_id)
    return submission_score(submission_id=submission_id, count_attempt=False)


def submission_fail_no_sandbox(*, submission_id: int) -> str:
    """Give up when no sandbox engine answered after every retry; the team may submit again."""
    message = ("No sandbox host could run your model (its container engine did not answer). This does not "
               "count against your limits; submit again later, and tell the organisers if it persists.")
    if lifecycle.submission_mark_failed(submission_id=submission_id, message=message, detail="engine unavailable",
                                        sources=[SubmissionStatus.QUEUED, SubmissionStatus.RUNNING]):
        from arena.submissions.services.notify import notify_team_of_result

        notify_team_of_result(submission_id=submission_id)
    return SubmissionStatus.FAILED


def _fail_run(submission_id: int, *, message: str, detail: str = "") -> None:
    if lifecycle.submission_mark_failed(submission_id=submission_id, message=message, detail=detail,
                                        sources=[SubmissionStatus.RUNNING]):
        from arena.submissions.services.notify import notify_team_of_result

        notify_team_of_result(submission_id=submission_id)
