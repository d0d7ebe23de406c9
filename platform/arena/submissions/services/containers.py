"""Containerised model submissions: accepting an image, and running it in the sandbox."""

from __future__ import annotations

import gzip
import shutil
import tarfile
import tempfile
import zipfile
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files.base import File

from arena.challenges.models import Phase, SubmissionKind
from arena.core.errors import DomainError
from arena.core.keys import safe_filename
from arena.core.uploads import UploadLimit
from arena.submissions.models import Submission
from arena.submissions.services.intake import MethodInfo, submission_insert, submission_intake
from arena.submissions.services.refusals import submission_refusals_counted
from arena.submissions.services.uploads import MB, UploadOnDisk, upload_on_disk
from sandboxes import SandboxError
from sandboxes.archives import inspect_image_archive
from sandboxes.references import is_allowed, parse_reference


def track_image_allowlist(track) -> list[str]:
    entries = [line.strip() for line in track.image_allowlist.splitlines() if line.strip()]
    return [*settings.ARENA_IMAGE_ALLOWLIST, *entries]


SAVE_HOW_TO = "Create the archive with: docker save my-model:latest | gzip > model.tar.gz"


def archive_upload_limit(track) -> UploadLimit:
    """The limit of a model archive sent to ``track``, for the request that carries it."""
    return UploadLimit(
        track.max_image_mb * MB, field="image_archive", what="model archives",
        message=f"The model archive is larger than this track's limit of {track.max_image_mb} MB. "
                "Use a slimmer base image, or leave out training data and caches.",
    )


def archive_refusal_message(exc: SandboxError) -> str:
    """What a participant reads when their model archive is refused: by the upload's check, or by the
    worker's check before loading an archive uploaded straight to storage."""
    return f"{exc.message.rstrip('.')}. {SAVE_HOW_TO}"


def _checked_archive(archive: BinaryIO, *, track, size: int | None, stack: ExitStack) -> UploadOnDisk:
    """The archive on disk, within the track's limit and laid out as `docker save` writes it: the
    check the worker makes again before loading it (``sandboxes.archives``)."""
    limit = archive_upload_limit(track)
    if size is not None and size > limit.max_bytes:
        raise limit.error()
    upload = upload_on_disk(archive, max_bytes=limit.max_bytes, too_large=limit.error, stack=stack)
    try:
        inspect_image_archive(upload.path, max_bytes=limit.max_bytes)
    except SandboxError as exc:
        raise DomainError(archive_refusal_message(exc), code="invalid_image_archive",
                          details={"field": "image_archive"}) from None
    return upload


def submission_create_container(
    *, user, phase: Phase, method: MethodInfo, archive: BinaryIO | None = None, archive_name: str = "",
    archive_size: int | None = None, image_reference: str = "", idempotency_key: str = "",
) -> tuple[Submission, bool]:
    """Accept a model as a `docker save` archive or an allowed image reference, and queue its run.

    An archive is read once, within the track's limit, and checked and stored from disk.
    """
    intake = submission_intake(user=user, phase=phase, kind=SubmissionKind.CONTAINER, method=method,
                               idempotency_key=idempotency_key)
    if intake.existing is not None:
        return intake.existing, False
    track = intake.phase.track
    if (archive is None) == (not image_reference.strip()):
        raise DomainError("Send either an image archive or an image reference, not both and not neither.",
                          code="invalid", details={"field": "image_archive"})
    row = dict(kind=SubmissionKind.CONTAINER, **method.as_fields())
    with ExitStack() as stack:
        if archive is not None:
            with submission_refusals_counted(user=user, team=intake.team, phase=intake.phase):
                upload = _checked_archive(archive, track=track, size=archive_size, stack=stack)
            name = safe_filename(archive_name or "model.tar", default="model.tar")
            handle = stack.enter_context(upload.path.open("rb"))
            row.update(image_archive=File(handle, name=name), file_name=archive_name[:255], file_size=upload.size,
                       file_sha256=upload.sha256)
            audit = {"sha256": upload.sha256, "size": upload.size}
        else:
            reference = image_reference.strip()
            try:
                parsed = parse_reference(reference)
            except SandboxError as exc:
                raise DomainError(str(exc), code="invalid_image_reference",
                                  details={"field": "image_reference"}) from None
            allowlist = track_image_allowlist(track)
            if not is_allowed(parsed, allowlist):
                allowed = ", ".join(allowlist) or "none: upload a `docker save` archive instead"
                raise DomainError(
                    f"Images from '{reference}' cannot be pulled here. Allowed registries: {allowed}.",
                    code="image_not_allowed", status=403, details={"field": "image_reference"})
            row.update(image_reference=reference[:300])
            audit = {"image_reference": reference}
        return submission_insert(user=user, intake=intake, row=row, audit=audit)


def ensure_container_inputs(phase: Phase) -> None:
    """Raise DomainError unless the phase has hidden test inputs for models."""
    if not phase.container_inputs:
        raise DomainError("This phase has no test inputs for models yet.", code="phase_not_ready", status=409)


def unpack_container_inputs(phase: Phase, destination: Path) -> None:
    """Place the phase's hidden test inputs in ``destination`` (a folder the sandbox mounts at /input)."""
    ensure_container_inputs(phase)
    destination.mkdir(parents=True, exist_ok=True)
    name = Path(phase.container_inputs.name).name
    with phase.container_inputs.open("rb") as source, tempfile.TemporaryFile() as local:
        shutil.copyfileobj(source, local, length=MB)
        local.seek(0)
        head = local.read(4)
        local.seek(0)
        if head[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(local) as archive:
                for info in archive.infolist():
                    _extract_member(info.filename, info.is_dir(), lambda i=info: archive.open(i), destination)
        elif head[:2] == b"\x1f\x8b" and name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(fileobj=gzip.GzipFile(fileobj=local), mode="r|") as archive:
                archive.extraction_filter = tarfile.data_filter
                archive.extractall(destination)
        else:
            with (destination / safe_filename(name.split("/", 1)[-1])).open("wb") as out:
                shutil.copyfileobj(local, out, length=MB)
    for path in [destination, *destination.rglob("*")]:
        # The model runs as an unprivileged user: inputs must be readable, never writable.
        path.chmod(0o755 if path.is_dir() else 0o644)


def _extract_member(name: str, is_dir: bool, opener, destination: Path) -> None:
    target = (destination / name).resolve()
    if not target.is_relative_to(destination.resolve()):
        raise DomainError(f"The phase's input archive holds an unsafe path '{name}'.", code="invalid_inputs")
    if is_dir:
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with opener() as source, target.open("wb") as out:
        shutil.copyfileobj(source, out, length=MB)
